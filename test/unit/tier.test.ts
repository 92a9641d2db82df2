/**
 * The active-active tier (src/tier/, issue 17) without root: expansion of the example spec to
 * each director's table, sysctls and commands; the spec rules; the table digest; the readiness
 * judgement; the FRR config (FRR's own dry run, and the top-level `exit` it misses); the gate.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { parseSpec } from '../../src/cluster/load.js';
import { checkSpec } from '../../src/cluster/rules/index.js';
import { printRules } from '../../src/ipvs/rules.js';
import type { IpvsTable } from '../../src/ipvs/model.js';
import { staticRoute, tierDirectorDesired, tierRealServers } from '../../src/tier/expand.js';
import { tableDigest } from '../../src/tier/digest.js';
import { judgeTier } from '../../src/tier/readiness.js';
import { checkFrrText, renderFrr, topLevelExits } from '../../src/tier/frr.js';
import { renderGateScript } from '../../src/tier/gate.js';

const example = path.join(lbctlRoot(), 'examples', 'tier-ecmp.yaml');
const exampleText = await fs.readFile(example, 'utf8');

function load(text: string, file = 'spec.yaml') {
  const parsed = parseSpec(text, file);
  assert.ok(parsed.spec, JSON.stringify(parsed.findings[0]));
  return { spec: parsed.spec, findings: checkSpec(parsed.spec, parsed.locator) };
}

test('the example expands to the same mh -b mh-port table on every director, real servers in spec order', () => {
  const { spec, findings } = load(exampleText);
  assert.deepEqual(findings, []);
  const rules = ['d1', 'd2', 'd3'].map((d) => printRules(tierDirectorDesired(spec, d).table));
  assert.equal(rules[0], [
    '-A -t 10.97.100.10:9000 -s mh -b mh-port',
    ...[21, 22, 23, 24].map((h) => `-a -t 10.97.100.10:9000 -r 10.97.1.${h}:9000 -g -w 1`),
  ].join('\n') + '\n');
  assert.equal(rules[1], rules[0]);
  assert.equal(rules[2], rules[0]);
  const d2 = tierDirectorDesired(spec, 'd2');
  assert.deepEqual(d2.sysctls.map((s) => `${s.key}=${s.value}`), ['net.ipv4.vs.sloppy_tcp=1', 'net.ipv4.vs.conn_reuse_mode=1', 'net.ipv4.vs.expire_nodest_conn=1']);
  assert.deepEqual(d2.prep, [['director', 'prep', '--mode', 'dr', '--vip', '10.97.100.10/32', '--dev', 'lo']]);
  assert.equal(d2.frr?.bgp.routerId, '10.97.1.12');
  assert.equal(d2.frr?.bgp.asn, 65098);
  assert.deepEqual(d2.frr?.bgp.bfd, { intervalMs: 300, multiplier: 3 });
  assert.deepEqual(tierRealServers(spec.tier!).map((r) => r.prep.join(' ')), [21, 22, 23, 24].map(() => 'realserver prep --mode dr --vip 10.97.100.10'));
});

test('sh takes sh-port by default; explicit flags win; per-director ASN and router id override', () => {
  const text = exampleText.replace('scheduler: mh          # the default; mh-port is added unless flags: says otherwise', 'scheduler: sh')
    .replace('- { name: d3 }', '- { name: d3, asn: 65099, router_id: 10.97.9.9 }');
  const { spec, findings } = load(text);
  assert.deepEqual(findings, []);
  assert.deepEqual(tierDirectorDesired(spec, 'd1').table.services[0].schedFlags, ['sh-port']);
  const d3 = tierDirectorDesired(spec, 'd3');
  assert.equal(d3.frr?.bgp.asn, 65099);
  assert.equal(d3.frr?.bgp.routerId, '10.97.9.9');
});

test('rr, wlc and friends are refused in a tier with one line naming file:line', () => {
  for (const sched of ['rr', 'wlc', 'lc']) {
    const text = exampleText.replace(/scheduler: mh .*/, `scheduler: ${sched}`);
    const parsed = parseSpec(text, 'tier.yaml');
    const f = checkSpec(parsed.spec!, parsed.locator);
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.equal(f[0].rule, 'tier-consistent-scheduler');
    assert.equal(f[0].where, 'tier.yaml:19:18');
    assert.match(f[0].message, new RegExp(`^scheduler ${sched} is refused in an active-active tier: it is not a consistent hash`));
  }
});

test('scheduler flags must belong to the scheduler, and sh without sh-port is refused', () => {
  const wrong = load(exampleText.replace(/scheduler: mh .*/, 'scheduler: mh\n      flags: [sh-port]')).findings;
  assert.match(wrong[0]?.message ?? '', /flag sh-port belongs to the sh scheduler, not mh/);
  const bare = load(exampleText.replace(/scheduler: mh .*/, 'scheduler: sh\n      flags: [sh-fallback]')).findings;
  assert.ok(bare.some((f) => /sh without sh-port/.test(f.message)), JSON.stringify(bare));
});

test('static routing: no FRR config, and the route and hash settings the router needs', () => {
  const text = exampleText.replace('routing: bgp', 'routing: static').replace(/  bgp:\n(    .*\n)+/, '');
  const { spec, findings } = load(text);
  assert.deepEqual(findings, []);
  assert.equal(tierDirectorDesired(spec, 'd1').frr, undefined);
  const route = staticRoute(spec);
  assert.ok(route.includes('sysctl -w net.ipv4.fib_multipath_hash_policy=3'));
  assert.ok(route.includes('sysctl -w net.ipv4.fib_multipath_hash_fields=0x0037'));
  assert.equal(route.at(-1), 'ip route replace 10.97.100.10/32 nexthop via 10.97.1.11 nexthop via 10.97.1.12 nexthop via 10.97.1.13');
});

function table(sched: 'mh' | 'sh', order: number[], weight = 1): IpvsTable {
  return {
    services: [{
      protocol: 'tcp', family: 'inet', address: '10.97.100.10', port: 9000, scheduler: sched, persistence: 0, netmask: '255.255.255.255',
      schedFlags: [`${sched}-port`], onePacket: false,
      destinations: order.map((h) => ({ address: `10.97.1.${h}`, port: 9000, family: 'inet' as const, forward: 'droute' as const, weight, upperThreshold: 0, lowerThreshold: 0, activeConns: h })),
    }],
  };
}

test('digest: mh ignores real-server order, sh does not; weights count, counters do not', () => {
  assert.equal(tableDigest(table('mh', [21, 22, 23])), tableDigest(table('mh', [23, 22, 21])));
  assert.notEqual(tableDigest(table('sh', [21, 22, 23])), tableDigest(table('sh', [23, 22, 21])));
  assert.notEqual(tableDigest(table('mh', [21, 22, 23])), tableDigest(table('mh', [21, 22, 23], 2)));
  assert.match(tableDigest(table('mh', [21])), /^[0-9a-f]{16}$/);
});

test('readiness: rr and sloppy_tcp=0 fail, mh without mh-port and sh warn, a foreign digest fails', () => {
  const good = new Map([['net.ipv4.vs.sloppy_tcp', '1'], ['net.ipv4.vs.expire_nodest_conn', '1']]);
  assert.equal(judgeTier(table('mh', [21, 22]), good).ok, true);
  const rr = table('mh', [21]);
  rr.services[0].scheduler = 'rr';
  rr.services[0].schedFlags = [];
  const r = judgeTier(rr, good);
  assert.equal(r.ok, false);
  assert.match(r.items.find((i) => i.severity === 'fail')!.reason!, /rr is not a consistent hash/);
  assert.equal(judgeTier(table('mh', [21]), new Map([['net.ipv4.vs.sloppy_tcp', '0']])).ok, false);
  const bare = table('mh', [21]);
  bare.services[0].schedFlags = [];
  assert.equal(judgeTier(bare, good).items[0].severity, 'warn');
  assert.equal(judgeTier(table('sh', [21]), good).items[0].severity, 'warn');
  assert.equal(judgeTier(table('mh', [21]), good, tableDigest(table('mh', [21]))).ok, true);
  assert.equal(judgeTier(table('mh', [21]), good, '0000000000000000').ok, false);
  assert.equal(judgeTier({ services: [] }, good).ok, false);
});

test('frr.conf: golden, no top-level exit, accepted by vtysh --dryrun; a bad line and a top-level exit are caught', async () => {
  const { spec } = load(exampleText);
  const text = renderFrr(tierDirectorDesired(spec, 'd1').frr!);
  assert.equal(text, await fs.readFile(path.join(lbctlRoot(), 'test', 'golden', 'tier-ecmp', 'd1', 'frr.conf'), 'utf8'));
  assert.deepEqual(topLevelExits(text), []);
  assert.match(text, /^ neighbor 10\.97\.1\.1 bfd profile lbctl-tier$/m);
  assert.doesNotMatch(text, /^ *network /m, 'the gate announces, not the file');
  const ok = await checkFrrText(text);
  assert.deepEqual(ok.errors, []);
  const bad = await checkFrrText(text.replace(' timers bgp 1 3', ' timers bgp one 3'));
  assert.equal(bad.ok, false);
  assert.match(bad.errors.join('\n'), /line 15: .*timers bgp one 3/);
  const exited = await checkFrrText(text.replace('!\nbfd\n', '!\nexit\nbfd\n'));
  assert.equal(exited.ok, false);
  assert.match(exited.errors[0], /top-level "exit"/);
});

test('gate script: valid bash, announces and withdraws every VIP through bgpd, quotes check words', async () => {
  const { spec } = load(exampleText.replace('  routing: bgp', '  gate: { checks: ["/usr/bin/curl -fs http://127.0.0.1:9000/"] }\n  routing: bgp'));
  const script = renderGateScript(tierDirectorDesired(spec, 'd1').gate, 'd1');
  assert.match(script, /-c 'router bgp 65098' -c 'address-family ipv4 unicast' -c 'network 10\.97\.100\.10\/32'/);
  assert.match(script, /-c 'no network 10\.97\.100\.10\/32'/);
  assert.match(script, /live tcp 10\.97\.100\.10:9000 \|\| return 1/);
  assert.match(script, /'\/usr\/bin\/curl' '-fs' 'http:\/\/127\.0\.0\.1:9000\/' >\/dev\/null 2>&1 \|\| return 1/);
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tr-gate-'));
  try {
    await fs.writeFile(path.join(dir, 'gate'), script);
    const r = await execa('bash', ['-n', path.join(dir, 'gate')], { reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
  } finally { await fs.rm(dir, { recursive: true, force: true }); }
});

test('a check with shell metacharacters is refused by the schema', () => {
  const parsed = parseSpec(exampleText.replace('  routing: bgp', '  gate: { checks: ["/bin/true; rm -rf /"] }\n  routing: bgp'), 'x.yaml');
  assert.equal(parsed.spec, undefined);
  assert.match(parsed.findings[0].path, /tier\.gate\.checks\[0\]/);
});
