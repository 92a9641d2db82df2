import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRules, printRules } from '../../src/ipvs/rules.js';
import { loadTable, formatTable } from '../../src/ipvs/formats.js';
import { parseHostPort } from '../../src/net/address.js';
import { LbctlError } from '../../src/cli/errors.js';

// A file as `ipvsadm-save` (without -n) writes it, with names, and one as /etc/sysconfig/ipvsadm holds it.
const SAVED_WITH_NAMES = `-A -t 192.168.0.100:http -s rr
-a -t 192.168.0.100:http -r 192.168.0.11:http -g -w 1
-a -t 192.168.0.100:http -r 192.168.0.12:http -g -w 1
`;

test('ipvsadm-save output with service names loads unchanged and prints canonically', () => {
  const t = parseRules(SAVED_WITH_NAMES, 'saved');
  assert.equal(t.services.length, 1);
  assert.equal(t.services[0].port, 80);
  assert.equal(t.services[0].destinations[1].address, '192.168.0.12');
  assert.equal(printRules(t), SAVED_WITH_NAMES.replace(/:http/g, ':80'));
});

test('round trip print(parse(x)) == canonical(x) across protocols, families and options', () => {
  const canonical = [
    '-A -t 10.0.0.1:80 -s rr -p 300',
    '-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3',
    '-a -t 10.0.0.1:80 -r 10.0.1.6:8080 -m -w 0 -x 100 -y 10',
    '-A -u 10.0.0.1:53 -s sh -o -b sh-fallback,sh-port',
    '-a -u 10.0.0.1:53 -r 10.0.2.1:53 -i -w 1 --tun-type ipip',
    '-A -t [2001:db8::1]:443 -s mh -p 600 -M 64',
    '-a -t [2001:db8::1]:443 -r [2001:db8:1::5]:443 -g -w 5',
    '-A -f 7 -s wlc',
    '-a -f 7 -r 10.0.3.3:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum',
    '-a -f 7 -r 10.0.3.4:0 -i -w 1 --tun-type gre --tun-csum',
    '-A -f 9 -6 -s lblcr -p 30 -M 96',
    '-A --sctp-service 10.0.0.1:3868 -s rr -p 300 -M 255.255.255.0 --pe sip',
  ];
  const text = canonical.join('\n') + '\n';
  const t = parseRules(text);
  // printRules sorts; every canonical line must come back byte-identical.
  const printed = printRules(t).trim().split('\n');
  assert.deepEqual([...printed].sort(), [...canonical].sort());
  assert.equal(printRules(parseRules(printRules(t))), printRules(t));
});

test('defaults are filled: scheduler wlc, weight 1, -g, virtual port', () => {
  const t = parseRules('-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.5\n');
  assert.equal(t.services[0].scheduler, 'wlc');
  assert.deepEqual(
    { f: t.services[0].destinations[0].forward, w: t.services[0].destinations[0].weight, p: t.services[0].destinations[0].port },
    { f: 'droute', w: 1, p: 80 });
  assert.equal(printRules(t), '-A -t 10.0.0.1:80 -s wlc\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -g -w 1\n');
});

test('long options, comments and -C lines are accepted', () => {
  const t = parseRules('# saved\n-C\n--add-service --tcp-service 10.0.0.1:80 --scheduler rr --persistent\n--add-server -t 10.0.0.1:80 --real-server 10.0.1.5:80 --masquerading --weight 2\n');
  assert.equal(t.services[0].persistence, 300);
  assert.equal(t.services[0].destinations[0].forward, 'masq');
});

const BAD: Array<[string, RegExp, number]> = [
  ['-A -t 10.0.0.1:80 -s bogus\n', /f:1: unknown scheduler "bogus"/, 3],
  ['-A -t 10.0.0.999:80\n', /f:1: .*not a valid IPv4 or IPv6 address/, 3],
  ['-A -t 10.0.0.1:99999\n', /f:1: .*out of range/, 3],
  ['-A -t 10.0.0.1\n', /f:1: .*has no port/, 3],
  ['-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.5 -g -m\n', /f:2: conflicting forwarding methods -g -m/, 3],
  ['-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.5 -w 70000\n', /f:2: weight 70000 is out of range/, 3],
  ['-A -t 10.0.0.1:80\n-a -t 10.0.0.2:80 -r 10.0.1.5\n', /f:2: real server for undefined service/, 3],
  ['-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n', /f:2: service -t 10.0.0.1:80 is defined twice/, 3],
  ['-X -t 10.0.0.1:80\n', /f:1: unsupported rule "-X"/, 3],
  ['-A -t 10.0.0.1:80 --bogus\n', /f:1: unknown option "--bogus"/, 3],
  ['-A -t 10.0.0.1:80 -r 10.0.1.5\n', /f:1: real-server options on a service line/, 3],
  ['-A -t [2001:db8::1]:80\n-a -t [2001:db8::1]:80 -r 10.0.0.1\n', /f:2: real server 10.0.0.1 is IPv4/, 3],
  ['-A -f 0\n', /f:1: firewall mark "0" is not valid/, 3],
  ['-A -t 10.0.0.1:80 -o\n', /f:1: one-packet scheduling/, 3],
  ['-A -t 10.0.0.1:80 -s sh -b sh-bogus\n', /f:1: unknown scheduler flag/, 3],
  ['-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.5 -m --tun-type gue\n', /f:2: --tun-\* options need tunnel forwarding/, 3],
  ['-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.1.5 -i --tun-type gue\n', /f:2: a GUE tunnel needs --tun-port/, 3],
  ['-A -t 10.0.0.1:80 -p 0\n', /f:1: persistence timeout must be at least 1/, 3],
];
for (const [text, re, code] of BAD) {
  test(`bad rules file: ${re.source}`, () => {
    assert.throws(() => parseRules(text, 'f'), (e: unknown) => {
      assert.ok(e instanceof LbctlError, 'an LbctlError');
      assert.match(e.oneLine(), re);
      assert.equal(e.exitCode, code);
      assert.ok(!e.oneLine().includes('\n'));
      return true;
    });
  });
}

test('YAML and JSON forms round-trip to the same rules', () => {
  const t = parseRules('-A -t 10.0.0.1:80 -s rr -p 300\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3\n-A -f 7 -6 -s wlc\n');
  const yaml = formatTable(t, 'yaml');
  const json = formatTable(t, 'json');
  assert.equal(printRules(loadTable(yaml, 'x.yaml')), printRules(t));
  assert.equal(printRules(loadTable(json, 'x.json')), printRules(t));
});

test('YAML errors name file:line:col', () => {
  const bad = 'services:\n  - protocol: tcp\n    address: 10.0.0.1\n    port: 80\n    scheduler: nope\n';
  assert.throws(() => loadTable(bad, 'r.yaml'), (e: any) => /^r\.yaml:5:\d+: unknown scheduler "nope"/.test(e.oneLine()));
  assert.throws(() => loadTable('services:\n  - protocol: tcp\n    adress: 10.0.0.1\n', 'r.yaml'), (e: any) => /^r\.yaml:3:\d+: unknown key "adress"/.test(e.oneLine()));
  assert.throws(() => loadTable('services: [\n', 'r.yaml'), (e: any) => /^r\.yaml:\d+:\d+: /.test(e.oneLine()) && e.exitCode === 3);
});

test('addresses: IPv6 canonical form, brackets, names', () => {
  assert.deepEqual(parseHostPort('[2001:DB8:0::1]:80'), { address: '2001:db8::1', port: 80, family: 'inet6' });
  assert.deepEqual(parseHostPort('2001:db8::5'), { address: '2001:db8::5', port: undefined, family: 'inet6' });
  assert.equal(parseHostPort('localhost:https').port, 443);
  assert.throws(() => parseHostPort('10.0.0.1:'), /empty port/);
  assert.throws(() => parseHostPort('1.2.3:80'), /not a valid/);
});
