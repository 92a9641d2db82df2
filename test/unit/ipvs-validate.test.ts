/**
 * Every range of the IPVS model at its edges (the largest value accepted, the next refused),
 * through every door: flags (exit 2), rules text, YAML and JSON (exit 3, naming the place).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { LbctlError } from '../../src/cli/errors.js';
import { destinationFromFlags, serviceFromFlags } from '../../src/cli/ipvs-flags.js';
import { parseRules } from '../../src/ipvs/rules.js';
import { loadTable } from '../../src/ipvs/formats.js';
import { LIMITS } from '../../src/ipvs/validate.js';

interface DestSpec { addr?: string; port?: number | string; fwd?: 'masq' | 'droute' | 'tunnel'; weight?: number | string; x?: number | string; y?: number | string; tunType?: string; tunPort?: number | string; csum?: string }
interface Spec {
  proto?: 'tcp' | 'udp' | 'fwmark'; v6?: boolean; port?: number | string; fwmark?: number | string;
  sched?: string; persist?: number | string; netmask?: string; flags?: string[]; pe?: string; ops?: boolean; dest?: DestSpec;
}

const vip = (s: Spec) => (s.v6 ? '2001:db8::1' : '10.0.0.1');
const rip = (s: Spec) => s.dest?.addr ?? (s.v6 ? '2001:db8::5' : '10.0.1.5');
const hostPort = (a: string, p: number | string) => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);

function viaFlags(s: Spec): void {
  const proto = s.proto ?? 'tcp';
  const sel = proto === 'fwmark' ? { 'fwmark-service': String(s.fwmark), ipv6: s.v6 } : { [`${proto}-service`]: hostPort(vip(s), s.port ?? 80) };
  const svc = serviceFromFlags({
    ...sel, scheduler: s.sched, persistent: s.persist === undefined ? undefined : String(s.persist), netmask: s.netmask,
    'sched-flags': s.flags?.join(','), pe: s.pe, ops: s.ops,
  });
  if (!s.dest) return;
  const d = s.dest;
  destinationFromFlags(svc, {
    'real-server': d.port === undefined ? rip(s) : hostPort(rip(s), d.port),
    gatewaying: d.fwd === 'droute', masquerading: d.fwd === 'masq', ipip: d.fwd === 'tunnel',
    weight: d.weight === undefined ? undefined : String(d.weight), 'u-threshold': d.x === undefined ? undefined : String(d.x), 'l-threshold': d.y === undefined ? undefined : String(d.y),
    'tun-type': d.tunType, 'tun-port': d.tunPort === undefined ? undefined : String(d.tunPort),
    'tun-nocsum': d.csum === 'nocsum', 'tun-csum': d.csum === 'csum', 'tun-remcsum': d.csum === 'remcsum',
  });
}

function rulesText(s: Spec): string {
  const proto = s.proto ?? 'tcp';
  const sel = proto === 'fwmark' ? `-f ${s.fwmark}${s.v6 ? ' -6' : ''}` : `${proto === 'tcp' ? '-t' : '-u'} ${hostPort(vip(s), s.port ?? 80)}`;
  let a = `-A ${sel}`;
  if (s.sched) a += ` -s ${s.sched}`;
  if (s.persist !== undefined) a += ` -p ${s.persist}`;
  if (s.netmask !== undefined) a += ` -M ${s.netmask}`;
  if (s.flags) a += ` -b ${s.flags.join(',')}`;
  if (s.pe) a += ` --pe ${s.pe}`;
  if (s.ops) a += ' -o';
  if (!s.dest) return `${a}\n`;
  const d = s.dest;
  let r = `-a ${sel} -r ${d.port === undefined ? rip(s) : hostPort(rip(s), d.port)}`;
  r += ` ${{ masq: '-m', droute: '-g', tunnel: '-i' }[d.fwd ?? 'masq']}`;
  if (d.weight !== undefined) r += ` -w ${d.weight}`;
  if (d.x !== undefined) r += ` -x ${d.x}`;
  if (d.y !== undefined) r += ` -y ${d.y}`;
  if (d.tunType) r += ` --tun-type ${d.tunType}`;
  if (d.tunPort !== undefined) r += ` --tun-port ${d.tunPort}`;
  if (d.csum) r += ` --tun-${d.csum}`;
  return `${a}\n${r}\n`;
}

function doc(s: Spec): unknown {
  const proto = s.proto ?? 'tcp';
  const svc: Record<string, unknown> = proto === 'fwmark'
    ? { protocol: 'fwmark', fwmark: s.fwmark, ...(s.v6 ? { family: 'inet6' } : {}) }
    : { protocol: proto, address: vip(s), port: s.port ?? 80 };
  if (s.sched) svc.scheduler = s.sched;
  if (s.persist !== undefined) svc.persistence = s.persist;
  if (s.netmask !== undefined) svc.netmask = s.netmask;
  if (s.flags) svc.schedFlags = s.flags;
  if (s.pe) svc.pe = s.pe;
  if (s.ops) svc.onePacket = true;
  if (s.dest) {
    const d = s.dest;
    svc.destinations = [{
      address: rip(s), ...(d.port !== undefined ? { port: d.port } : {}), forward: d.fwd ?? 'masq',
      ...(d.weight !== undefined ? { weight: d.weight } : {}), ...(d.x !== undefined ? { upperThreshold: d.x } : {}), ...(d.y !== undefined ? { lowerThreshold: d.y } : {}),
      ...(d.tunType ? { tunType: d.tunType } : {}), ...(d.tunPort !== undefined ? { tunPort: d.tunPort } : {}), ...(d.csum ? { tunCsum: d.csum } : {}),
    }];
  }
  return { services: [svc] };
}

const DOORS: Array<[string, number, (s: Spec) => void]> = [
  ['flags', 2, viaFlags],
  ['rules', 3, (s) => { parseRules(rulesText(s), 'r.rules'); }],
  ['yaml', 3, (s) => { loadTable(YAML.stringify(doc(s)), 'r.yaml'); }],
  ['json', 3, (s) => { loadTable(JSON.stringify(doc(s), null, 1), 'r.json'); }],
];

/** [what, largest (or smallest) accepted, next refused, message of the refusal] */
const EDGES: Array<[string, Spec, Spec, RegExp]> = [
  ['service port', { port: 65535 }, { port: 65536 }, /out of range/],
  ['port 0 needs persistence', { port: 0, persist: 1 }, { port: 0 }, /port 0/],
  ['fwmark max', { proto: 'fwmark', fwmark: LIMITS.fwmark }, { proto: 'fwmark', fwmark: LIMITS.fwmark + 1 }, /firewall mark/],
  ['fwmark min', { proto: 'fwmark', fwmark: 1 }, { proto: 'fwmark', fwmark: 0 }, /firewall mark/],
  ['persistence max', { persist: LIMITS.persistence }, { persist: LIMITS.persistence + 1 }, /persistence timeout/],
  ['IPv4 netmask', { persist: 60, netmask: '255.255.255.255' }, { persist: 60, netmask: '255.255.255.256' }, /netmask/],
  ['IPv4 netmask contiguous', { persist: 60, netmask: '255.255.0.0' }, { persist: 60, netmask: '255.0.255.0' }, /netmask/],
  ['IPv4 netmask 999', { persist: 60, netmask: '0.0.0.0' }, { persist: 60, netmask: '999.0.0.0' }, /netmask/],
  ['IPv6 prefix max', { v6: true, persist: 60, netmask: '128' }, { v6: true, persist: 60, netmask: '129' }, /netmask/],
  ['IPv6 prefix min', { v6: true, persist: 60, netmask: '1' }, { v6: true, persist: 60, netmask: '0' }, /netmask/],
  ['IPv4 mask on IPv6', { v6: true, persist: 60, netmask: '64' }, { v6: true, persist: 60, netmask: '255.255.255.0' }, /netmask/],
  ['scheduler', { sched: 'mh' }, { sched: 'mhx' }, /unknown scheduler/],
  ['sh flags on sh only', { sched: 'sh', flags: ['sh-port'] }, { sched: 'rr', flags: ['sh-port'] }, /needs the sh scheduler/],
  ['mh flags on mh only', { sched: 'mh', flags: ['mh-fallback'] }, { sched: 'sh', flags: ['mh-fallback'] }, /needs the mh scheduler/],
  ['generic flags', { sched: 'rr', flags: ['flag-3'] }, { sched: 'rr', flags: ['flag-4'] }, /unknown scheduler flag/],
  ['pe name length', { persist: 60, pe: 'p'.repeat(LIMITS.peName) }, { persist: 60, pe: 'p'.repeat(LIMITS.peName + 1) }, /persistence engine/],
  ['one-packet UDP only', { proto: 'udp', ops: true }, { proto: 'tcp', ops: true }, /UDP services only/],
  ['weight max', { dest: { weight: 65535 } }, { dest: { weight: 65536 } }, /weight/],
  ['weight 0', { dest: { weight: 0 } }, { dest: { weight: -1 } }, /weight|integer/],
  ['upper threshold max', { dest: { x: LIMITS.threshold } }, { dest: { x: LIMITS.threshold + 1 } }, /upper threshold|out of range/],
  ['lower threshold max', { dest: { x: LIMITS.threshold, y: LIMITS.threshold } }, { dest: { x: LIMITS.threshold, y: LIMITS.threshold + 1 } }, /lower threshold|out of range/],
  ['lower <= upper', { dest: { x: 10, y: 10 } }, { dest: { x: 10, y: 11 } }, /lower threshold 11 is above/],
  ['lower without upper', { dest: { y: 0 } }, { dest: { y: 1 } }, /lower threshold 1 is above/],
  ['real server port', { dest: { port: 65535 } }, { dest: { port: 65536 } }, /out of range/],
  ['tunnel port max', { dest: { fwd: 'tunnel', tunType: 'gue', tunPort: 65535 } }, { dest: { fwd: 'tunnel', tunType: 'gue', tunPort: 65536 } }, /out of range|tunnel port/],
  ['tunnel port min', { dest: { fwd: 'tunnel', tunType: 'gue', tunPort: 1 } }, { dest: { fwd: 'tunnel', tunType: 'gue', tunPort: 0 } }, /GUE tunnel needs --tun-port|out of range/],
  ['tunnel type', { dest: { fwd: 'tunnel', tunType: 'gre' } }, { dest: { fwd: 'tunnel', tunType: 'bogus' } }, /tunnel type|bogus/],
  ['remcsum on gue only', { dest: { fwd: 'tunnel', tunType: 'gue', tunPort: 6080, csum: 'remcsum' } }, { dest: { fwd: 'tunnel', tunType: 'gre', csum: 'remcsum' } }, /remcsum/],
  ['tunnel options need -i', { dest: { fwd: 'tunnel', tunType: 'gre' } }, { dest: { fwd: 'masq', tunType: 'gre' } }, /tunnel forwarding/],
];

for (const [what, ok, bad, re] of EDGES) {
  for (const [door, code, run] of DOORS) {
    // oclif itself refuses an unknown --tun-type before our code runs; the flags door never sees "bogus".
    if (door === 'flags' && bad.dest?.tunType === 'bogus') continue;
    test(`edge ${what} via ${door}: accepted at the limit, exit ${code} past it`, () => {
      run(ok);
      assert.throws(() => run(bad), (e: unknown) => {
        assert.ok(e instanceof LbctlError, `${door}: not an LbctlError: ${String(e)}`);
        assert.equal(e.exitCode, code, `${door}: ${e.oneLine()}`);
        assert.match(e.oneLine(), re);
        assert.ok(!e.oneLine().includes('\n'));
        if (door !== 'flags') assert.match(e.oneLine(), new RegExp(`^r\\.${door}:\\d+`), 'names the place in the file');
        return true;
      });
    });
  }
}

// The examples of issue 12 item 4: each used to be applied with another value, dropped, or crash mid-apply.
const WRONG_TYPES: Array<[string, string, RegExp]> = [
  ['netmask: garbage', 'services:\n  - protocol: tcp\n    address: 10.0.0.1\n    port: 80\n    persistence: 60\n    netmask: garbage\n', /^x\.yaml:6:\d+: persistence netmask "garbage"/],
  ['tunType: bogus', 'services:\n  - protocol: tcp\n    address: 10.0.0.1\n    port: 80\n    destinations:\n      - address: 10.0.1.5\n        forward: tunnel\n        tunType: bogus\n', /^x\.yaml:8:\d+: tunType "bogus" is not one of ipip, gue, gre/],
  ['a string where a list belongs', 'services:\n  - protocol: tcp\n    address: 10.0.0.1\n    port: 80\n    scheduler: sh\n    schedFlags: sh-port\n', /^x\.yaml:6:\d+: schedFlags must be a list of strings/],
  ['a port as a string', 'services:\n  - protocol: tcp\n    address: 10.0.0.1\n    port: "80"\n', /^x\.yaml:4:\d+: port must be an integer/],
  ['a boolean as a string', 'services:\n  - protocol: udp\n    address: 10.0.0.1\n    port: 53\n    onePacket: "yes"\n', /^x\.yaml:5:\d+: onePacket must be true or false/],
  ['a weight as a float', 'services:\n  - protocol: tcp\n    address: 10.0.0.1\n    port: 80\n    destinations:\n      - address: 10.0.1.5\n        weight: 1.5\n', /^x\.yaml:7:\d+: weight must be an integer/],
  ['destinations as a mapping', 'services:\n  - protocol: tcp\n    address: 10.0.0.1\n    port: 80\n    destinations: {address: 10.0.1.5}\n', /^x\.yaml:5:\d+: destinations must be a list/],
  ['an unknown top-level key', 'services: []\nservice: []\n', /^x\.yaml:2:\d+: unknown key "service"/],
  ['an address with a port', 'services:\n  - protocol: tcp\n    address: 10.0.0.1:80\n    port: 80\n', /^x\.yaml:3:\d+: address must not carry a port/],
];
for (const [what, text, re] of WRONG_TYPES) {
  test(`YAML: ${what} is refused at its line, exit 3`, () => {
    assert.throws(() => loadTable(text, 'x.yaml'), (e: unknown) => e instanceof LbctlError && e.exitCode === 3 && re.test(e.oneLine()) || assert.fail(`${String(e instanceof LbctlError ? e.oneLine() : e)}`));
  });
}

test('rules file: netmask 999.0.0.0 is refused at parse time (it used to pass and crash mid-apply)', () => {
  assert.throws(() => parseRules('-A -t 10.0.0.1:80 -s rr\n-A -t 10.0.0.2:80 -s rr -p 60 -M 999.0.0.0\n', 'r'), (e: any) => e.exitCode === 3 && /^r:2: persistence netmask "999\.0\.0\.0"/.test(e.oneLine()));
});

test('flags name the flag a refused value came from', () => {
  assert.throws(() => serviceFromFlags({ 'tcp-service': '10.0.0.1:80', persistent: '60', netmask: '255.0.255.0' }), (e: any) => e.exitCode === 2 && /^--netmask: /.test(e.oneLine()));
  assert.throws(() => serviceFromFlags({ 'tcp-service': '10.0.0.1:80', persistent: '99999999999' }), (e: any) => e.exitCode === 2 && /^--persistent: /.test(e.oneLine()));
  const svc = serviceFromFlags({ 'tcp-service': '10.0.0.1:80' });
  assert.throws(() => destinationFromFlags(svc, { 'real-server': '10.0.1.5', 'l-threshold': '5' }), (e: any) => e.exitCode === 2 && /^--l-threshold: lower threshold 5/.test(e.oneLine()));
  assert.throws(() => destinationFromFlags(svc, { 'real-server': '10.0.1.5', weight: '70000' }), (e: any) => e.exitCode === 2 && /^--weight: weight 70000 is out of range/.test(e.oneLine()));
});

test('the ipvsadm driver reads what the kernel holds even when lbctl would not write it (trusted)', () => {
  const text = '-A -t 10.0.0.1:80 -s rr -p 60 -M 255.0.255.0\n';
  assert.throws(() => parseRules(text, 'r'), /netmask/);
  assert.equal(parseRules(text, 'ipvsadm -Sn', { trusted: true }).services[0].netmask, '255.0.255.0');
});

test('ipvsadm -Sn prints a fwmark above 2^31-1 as negative: the trusted reader takes it back as u32', () => {
  assert.equal(parseRules('-A -f -1 -6 -s mh -p 1 -b mh-port\n', 'ipvsadm -Sn', { trusted: true }).services[0].fwmark, 4294967295);
  assert.equal(parseRules('-A -f -2147483648 -s rr\n', 'ipvsadm -Sn', { trusted: true }).services[0].fwmark, 2147483648);
  assert.throws(() => parseRules('-A -f -1 -s rr\n', 'r'), /firewall mark "-1"/);
});
