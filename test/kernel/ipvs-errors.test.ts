/**
 * The bad-input catalogue against the real kernel: each case gives one clean line on stderr,
 * its documented exit code, and leaves the IPVS table exactly as it was.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { runLbctl } from '../../src/cli/inprocess.js';

const BASE = '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n';
const oracle = async () => (await execa('ipvsadm', ['-Sn'])).stdout.split('\n').sort().join('\n');
const OUT = process.env.LBCTL_TEST_OUT ?? 'test-results';
const file = (name: string, text: string) => { mkdirSync(OUT, { recursive: true }); const p = path.join(OUT, name); writeFileSync(p, text); return p; };

before(async () => {
  await execa('ip', ['link', 'del', 'lbe0']).catch(() => {});
  await execa('ip', ['link', 'add', 'lbe0', 'type', 'dummy']);
  await execa('ip', ['link', 'set', 'lbe0', 'up']);
  await execa('ip', ['addr', 'add', '10.0.1.1/24', 'dev', 'lbe0']);
});
after(async () => {
  await execa('ipvsadm', ['-C']).catch(() => {});
  await execa('ip', ['link', 'del', 'lbe0']).catch(() => {});
});

const S = ['-t', '10.0.0.1:80'];
const CASES: Array<[string, string[], number, RegExp, string?]> = [
  ['malformed VIP', ['service', 'add', '-t', '10.0.0.300:80'], 2, /not a valid IPv4 or IPv6 address/],
  ['VIP without port', ['service', 'add', '-t', '10.0.0.1'], 2, /has no port/],
  ['port out of range', ['service', 'add', '-t', '10.0.0.1:70000'], 2, /out of range/],
  ['port not a number', ['service', 'add', '-t', '10.0.0.1:eighty'], 2, /not a number or a known service name/],
  ['IPv6 without brackets and port', ['service', 'add', '-t', '2001:db8::1'], 2, /has no port/],
  ['unknown scheduler', ['service', 'add', ...S, '-s', 'fastest'], 2, /unknown scheduler "fastest"/],
  ['unknown scheduler flag', ['service', 'add', ...S, '-b', 'sh-nope'], 2, /unknown scheduler flag/],
  ['two service kinds', ['service', 'add', ...S, '-u', '10.0.0.1:53'], 2, /conflicting service flags/],
  ['no service', ['service', 'add', '-s', 'rr'], 2, /no virtual service given/],
  ['-6 on a TCP service', ['service', 'add', ...S, '-6'], 2, /-6 applies to firewall-mark/],
  ['bad netmask', ['service', 'add', ...S, '-p', '-M', '255.255.0'], 2, /netmask/],
  ['one-packet on TCP', ['service', 'add', ...S, '-o'], 2, /UDP services only/],
  ['fwmark 0', ['service', 'add', '-f', '0'], 2, /firewall mark "0" is not valid/],
  ['weight too big', ['server', 'add', ...S, '-r', '10.0.1.6', '-w', '70000'], 2, /weight 70000 is out of range/],
  ['weight negative', ['server', 'add', ...S, '-r', '10.0.1.6', '-w', '-1'], 2, /weight|needs a value|Expected/],
  ['weight not a number', ['server', 'add', ...S, '-r', '10.0.1.6', '-w', 'heavy'], 2, /weight "heavy" is not valid|not a non-negative integer/],
  ['conflicting forwarding', ['server', 'add', ...S, '-r', '10.0.1.6', '-g', '-m'], 2, /conflicting forwarding flags -g -m/],
  ['malformed real server', ['server', 'add', ...S, '-r', '10.0.1'], 2, /not a valid IPv4 or IPv6 address/],
  ['IPv6 real server in IPv4 service', ['server', 'add', ...S, '-r', '[2001:db8::5]:80'], 2, /is IPv6 but the service is not/],
  ['tun options without -i', ['server', 'add', ...S, '-r', '10.0.1.6', '-m', '--tun-type', 'gre'], 2, /--tun-\* options need tunnel forwarding/],
  ['gue without port', ['server', 'add', ...S, '-r', '10.0.1.6', '-i', '--tun-type', 'gue'], 2, /GUE tunnel needs --tun-port/],
  ['unknown tun type', ['server', 'add', ...S, '-r', '10.0.1.6', '-i', '--tun-type', 'vxlan'], 2, /Expected --tun-type=vxlan to be one of|vxlan/],
  ['server for a missing service', ['server', 'add', '-t', '10.0.0.9:80', '-r', '10.0.1.6'], 4, /virtual service TCP 10\.0\.0\.9:80 does not exist/],
  ['edit a missing service', ['service', 'edit', '-t', '10.0.0.9:80', '-s', 'rr'], 4, /does not exist/],
  ['edit a missing server', ['server', 'edit', ...S, '-r', '10.0.1.99', '-w', '2'], 4, /is not in/],
  ['unknown flag', ['service', 'add', ...S, '--bogus'], 2, /Nonexistent flag|bogus/],
  ['multicast real server (kernel refuses)', ['server', 'add', ...S, '-r', '224.0.0.5', '-m'], 7, /kernel refused (the )?real server.*unicast/],
  ['sh flag on rr', ['service', 'add', ...S, '-s', 'rr', '-b', 'sh-port'], 2, /needs the sh scheduler/],
  ['restore: missing file', ['restore', '/nonexistent/rules'], 4, /rules file \/nonexistent\/rules does not exist/],
  ['restore: unknown line', ['restore', 'FILE:-A -t 10.0.0.2:80 -s rr\n-Q bogus\n'], 3, /:2: unsupported rule "-Q"/],
  ['restore: bad scheduler on line 3', ['restore', 'FILE:-A -t 10.0.0.2:80 -s rr\n-a -t 10.0.0.2:80 -r 10.0.1.7 -m\n-A -t 10.0.0.3:80 -s nope\n'], 3, /:3: unknown scheduler "nope"/],
  ['restore: broken YAML', ['restore', 'YAML:services:\n  - protocol: tcp\n   address: [\n'], 3, /\.yaml:\d+:\d+: /],
  ['restore: conflicting forwarding in file', ['restore', 'FILE:-A -t 10.0.0.2:80\n-a -t 10.0.0.2:80 -r 10.0.1.7 -i -m\n'], 3, /:2: conflicting forwarding methods/],
  ['list --stats --rate', ['list', '--stats', '--rate'], 2, /cannot also be provided|--rate/],
];

test(`bad input catalogue: ${CASES.length} cases, one line, exit code, table unchanged`, async () => {
  await execa('ipvsadm', ['-C']);
  await execa('ipvsadm', ['-R'], { input: BASE });
  const before = await oracle();
  let n = 0;
  for (const [name, argv0, code, re] of CASES) {
    const argv = argv0.map((a, i) => {
      if (a.startsWith('FILE:')) return file(`bad-${i}-${n}.rules`, a.slice(5));
      if (a.startsWith('YAML:')) return file(`bad-${i}-${n}.yaml`, a.slice(5));
      return a;
    });
    for (const driver of ['ipvsadm', ...(process.env.LBCTL_TEST_DRIVERS ?? 'ipvsadm netlink').includes('netlink') ? ['netlink'] : []]) {
      const r = await runLbctl([...argv, '--driver', driver]);
      if (driver === 'netlink' && /netlink driver is not built yet/.test(r.stderr)) continue;
      const lines = r.stderr.trim().split('\n').filter((l) => !/lbctl: note:/.test(l));
      assert.equal(r.exitCode, code, `${name} [${driver}]: exit ${r.exitCode}, stderr: ${r.stderr}`);
      assert.equal(lines.length, 1, `${name} [${driver}]: not one line: ${r.stderr}`);
      assert.match(lines[0], /^(\x1b\[\d+m)?lbctl: error:/, name);
      assert.match(lines[0], re, `${name} [${driver}]: ${lines[0]}`);
      assert.ok(!/\s+at\s+\S+:\d+:\d+/.test(r.stderr), `${name}: stack trace printed`);
      assert.equal(await oracle(), before, `${name} [${driver}]: the table changed`);
      const j = await runLbctl([...argv, '--driver', driver, '--json']);
      assert.equal(j.exitCode, code, `${name} [${driver}] --json exit`);
    }
    n++;
  }
  assert.ok(n >= 25);
});

test('no root: a process without CAP_NET_ADMIN gets exit 5 and a one-line hint', async () => {
  const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', 'node', 'bin/run.js', 'service', 'add', '-t', '10.0.0.5:80', '--driver', 'ipvsadm'], { reject: false, env: { HOME: '/tmp' } });
  assert.equal(r.exitCode, 5, r.stderr);
  assert.match(r.stderr, /not permitted.*run as root/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});
