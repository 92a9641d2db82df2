/**
 * `lbctl plan` / `lbctl apply` end to end in the kernel lab, one spec per cluster, `apply --node`
 * per machine (the director is the guest's root namespace; real servers are namespaces, applied
 * with --netns): the seed's LVS-DR cluster and its LVS-NAT cluster (the real servers' route back
 * through the director set by apply). Then: a second apply changes nothing, an edited spec plans
 * exactly its edits and `apply --drain` makes them while a long-lived connection survives, and a
 * spec with one bad real server among fifty, or a haproxy.cfg haproxy refuses, changes nothing.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { lbctlRoot, runLbctl } from '../../src/cli/inprocess.js';
import { buildScenario, clearIpvs, ECHO_PORT, ipvsadm, labSkipReason, type Scenario } from './lib/topology.js';

const skip = labSkipReason();
let tmp = '';

before(async () => {
  if (skip) return;
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ap-apply-'));
  // lbctl's records and locks in a place of this test's own.
  process.env.LBCTL_STATE_DIR = path.join(tmp, 'state');
  process.env.LBCTL_LOCK_DIR = path.join(tmp, 'locks');
});
after(async () => { if (tmp) await fs.rm(tmp, { recursive: true, force: true }); });

async function writeSpec(name: string, spec: unknown): Promise<string> {
  const file = path.join(tmp, name);
  await fs.writeFile(file, YAML.stringify(spec));
  return file;
}

/** `lbctl ARGS --json` in-process; asserts the exit code. */
async function lb(argv: string[], exitCode = 0) {
  const r = await runLbctl([...argv, '--json']);
  assert.equal(r.exitCode, exitCode, `lbctl ${argv.join(' ')}: ${r.stderr}${r.stdout}`);
  return r;
}

/** Apply one machine of the spec; real servers inside their namespace. */
const applyNode = (spec: string, node: string, ns?: string, extra: string[] = []) => lb(['apply', spec, '--node', node, ...(ns ? ['--netns', ns] : []), ...extra]);

function assertAlternates(names: string[]) {
  assert.deepEqual([...new Set(names)].sort(), ['rs1', 'rs2'], `both real servers answer: ${names.join(',')}`);
  for (let i = 1; i < names.length; i++) assert.notEqual(names[i], names[i - 1], `alternates: ${names.join(',')}`);
}

const dest = (address: string, port: number, forward: string, weight = 1) => ({ address, port, forward, weight });

function drSpec(s: Scenario, services: unknown[]) {
  return {
    cluster: 'lab-dr',
    nodes: [{ name: 'director', address: `${s.director.addr}/24`, interface: 'lbk-lan' }],
    director: { mode: 'dr', vips: [`${s.vip}/32`], services, sysctls: { expire_nodest_conn: 1 } },
    real_servers: [
      { name: 'rs1', address: `${s.rs1.addr}/24`, interface: 'eth0', mode: 'dr' },
      { name: 'rs2', address: `${s.rs2.addr}/24`, interface: 'eth0', mode: 'dr' },
    ],
  };
}

const drServices = (s: Scenario) => [
  { protocol: 'tcp', address: s.vip, port: 80, scheduler: 'rr', destinations: [dest(s.rs1.addr, 80, 'droute'), dest(s.rs2.addr, 80, 'droute')] },
  { protocol: 'tcp', address: s.vip, port: ECHO_PORT, scheduler: 'rr', destinations: [dest(s.rs1.addr, ECHO_PORT, 'droute'), dest(s.rs2.addr, ECHO_PORT, 'droute')] },
];

/**
 * Boot (issue 13 item 4): apply wrote the rules file and an enabled unit; flush the table and run
 * what the unit runs at boot (its ExecStart, parsed from the file, with `lbctl` on PATH): the
 * table is back, equal to what apply programmed.
 */
async function assertBootRestores() {
  const unit = await fs.readFile('/etc/systemd/system/lbctl-ipvs.service', 'utf8');
  assert.equal(await fs.readlink('/etc/systemd/system/multi-user.target.wants/lbctl-ipvs.service'), '/etc/systemd/system/lbctl-ipvs.service', 'the unit is enabled');
  const start = unit.split('\n').find((l) => l.startsWith('ExecStart='));
  assert.ok(start, unit);
  const argv = start.slice('ExecStart='.length).split(/\s+/).filter(Boolean);
  assert.ok(argv.includes('restore') && argv.includes('--merge'), `restores without a flush: ${start}`);
  const bin = path.join(tmp, 'bin');
  await fs.mkdir(bin, { recursive: true });
  await fs.symlink(path.join(lbctlRoot(), 'bin', 'run.js'), path.join(bin, 'lbctl')).catch(() => undefined);
  const programmed = await ipvsadm(['-Sn']);
  await ipvsadm(['-C']);
  assert.equal(await ipvsadm(['-Sn']), '', 'flushed');
  const env = { PATH: `${bin}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${path.dirname(process.execPath)}` };
  const r = await execa(argv[0], argv.slice(1), { reject: false, env, timeout: 180_000 });
  assert.equal(r.exitCode, 0, `${r.stderr}${r.stdout}`);
  assert.equal(await ipvsadm(['-Sn']), programmed, 'the boot unit put the table back');
}

/** Every machine says "No changes." and plan --exit-code exits 0. */
async function assertConverged(spec: string, machines: Array<[string, string | undefined]>) {
  for (const [node, ns] of machines) {
    const again = await applyNode(spec, node, ns);
    assert.equal(again.json.changed, false, `${node}: second apply: ${JSON.stringify(again.json.plan.changes)}`);
    assert.equal(again.json.plan.summary, 'No changes.');
    const human = await runLbctl(['plan', spec, '--node', node, ...(ns ? ['--netns', ns] : []), '--exit-code']);
    assert.equal(human.exitCode, 0, human.stderr);
    assert.match(human.stdout, /^No changes\.$/m);
  }
}

test('LVS-DR from one spec: apply per node, traffic alternates, second apply "No changes.", edits planned exactly and applied with --drain under a live connection, bad specs change nothing', { skip }, async () => {
  const s = await buildScenario('dr', { realServerPrep: false });
  try {
    await clearIpvs();
    const spec = await writeSpec('dr.yaml', drSpec(s, drServices(s)));
    const machines: Array<[string, string | undefined]> = [['director', undefined], ['rs1', s.rs1.ns], ['rs2', s.rs2.ns]];

    const planned = await runLbctl(['plan', spec, '--node', 'director', '--exit-code']);
    assert.equal(planned.exitCode, 10, planned.stderr);
    assert.match(planned.stdout, /\+ service TCP 10\.77\.0\.10:80/);
    for (const [node, ns] of machines) assert.equal((await applyNode(spec, node, ns)).json.changed, true, node);
    assert.match(await ipvsadm(['-Sn']), /-a -t 10\.77\.0\.10:80 -r 10\.77\.0\.11:80 -g -w 1/);
    const lo = (await execa('ip', ['-n', s.rs1.ns, '-4', 'addr', 'show', 'dev', 'lo'])).stdout;
    assert.match(lo, /10\.77\.0\.10\/32 .*lo:0/, 'the VIP on the real server\'s lo, derived from the services');
    assertAlternates(await s.fetch(4));
    await assertConverged(spec, machines);
    await assertBootRestores();

    // A long-lived connection; the edit drops the other real server of its service.
    const conn = await s.connect();
    const listed = (await lb(['list', '-t', `${s.vip}:${ECHO_PORT}`])).json.services[0].destinations;
    const serving = listed.find((d: any) => d.activeConns > 0)?.address;
    assert.ok(serving, `a destination holds the connection: ${JSON.stringify(listed)}`);
    const other = serving === s.rs1.addr ? s.rs2.addr : s.rs1.addr;
    const v2 = drServices(s);
    (v2[0].destinations[0] as any).weight = 3;
    v2[1].destinations = v2[1].destinations.filter((d) => d.address !== other);
    v2.push({ protocol: 'tcp', address: s.vip, port: 443, scheduler: 'wlc', destinations: [dest(s.rs1.addr, 443, 'droute')] });
    const spec2 = await writeSpec('dr-v2.yaml', drSpec(s, v2));
    const p2 = (await lb(['plan', spec2, '--node', 'director'])).json;
    assert.deepEqual(p2.plan.changes.map((c: any) => `${c.action} ${c.kind} ${c.id}`).sort(), [
      `+ destination TCP ${s.vip}:443 -> ${s.rs1.addr}:443`,
      `+ service TCP ${s.vip}:443`,
      `- destination TCP ${s.vip}:${ECHO_PORT} -> ${other}:${ECHO_PORT}`,
      `~ destination TCP ${s.vip}:80 -> ${s.rs1.addr}:80`,
      '~ file /etc/lbctl/ipvs.rules', // the boot rules follow the table
    ]);
    const applied = await applyNode(spec2, 'director', undefined, ['--drain', '--timeout', '20s']);
    assert.equal(applied.json.applied.ipvs, 4);
    assert.equal((await conn.check()).alive, true, `the connection to ${serving} survived the apply`);
    const saved = await ipvsadm(['-Sn']);
    assert.ok(!saved.includes(`-r ${other}:${ECHO_PORT}`), saved);
    assert.match(saved, new RegExp(`-a -t ${s.vip}:80 -r ${s.rs1.addr}:80 -g -w 3`));
    await assertConverged(spec2, [['director', undefined]]);

    // One bad real server among fifty: exit 3 naming the spec's line; nothing changes.
    const fifty = drServices(s);
    fifty.push({ protocol: 'tcp', address: s.vip, port: 8080, scheduler: 'rr', destinations: Array.from({ length: 50 }, (_, i) => dest(`10.77.3.${i + 1}`, 8080, 'droute', i === 37 ? 70000 : 1)) });
    const bad = await writeSpec('dr-bad.yaml', drSpec(s, fifty));
    const r = await runLbctl(['apply', bad, '--node', 'director']);
    assert.equal(r.exitCode, 3, r.stderr);
    const badLine = (await fs.readFile(bad, 'utf8')).split('\n').findIndex((l) => l.includes('70000')) + 1;
    assert.match(r.stderr, new RegExp(`dr-bad\\.yaml:${badLine}:\\d+: .*weight`), r.stderr);
    assert.equal(await ipvsadm(['-Sn']), saved, 'the table is as before');

    // A haproxy.cfg haproxy refuses: exit 9 naming the file and line; nothing changes.
    const withProxy = { ...drSpec(s, v2), haproxy: { global: { extra: ['no-such-keyword-here 1'] }, listens: [{ name: 'web', bind: ['127.0.0.1:19180'], servers: [{ name: 'a', address: '127.0.0.1:19181' }] }] } };
    const badCfg = await writeSpec('dr-haproxy.yaml', withProxy);
    const root = path.join(tmp, 'root');
    await fs.mkdir(root);
    const h = await runLbctl(['apply', badCfg, '--node', 'director', '--root', root]);
    assert.equal(h.exitCode, 9, h.stderr);
    assert.match(h.stderr, /haproxy\.cfg:\d+/, h.stderr);
    assert.equal(await ipvsadm(['-Sn']), saved);
    assert.deepEqual(await fs.readdir(root), [], 'no file written');
    await conn.close();
  } finally {
    await clearIpvs();
    await s.cleanup();
  }
});

test('LVS-NAT from one spec: the real servers\' default route through the director is set by apply; traffic alternates; second apply "No changes."', { skip }, async () => {
  const s = await buildScenario('nat');
  try {
    await clearIpvs();
    // The topology gives the real servers their route as a fixture: take it away, apply sets it.
    for (const rs of s.realServers) await execa('ip', ['-n', rs.ns, '-4', 'route', 'del', 'default']);
    const spec = await writeSpec('nat.yaml', {
      cluster: 'lab-nat',
      nodes: [{ name: 'director', address: '10.77.2.1/24', interface: 'lbk-back' }],
      director: {
        mode: 'nat', timeouts: { tcp: 600 },
        services: [{ protocol: 'tcp', address: s.vip, port: 80, scheduler: 'rr', destinations: [dest(s.rs1.addr, 80, 'masq'), dest(s.rs2.addr, 80, 'masq')] }],
      },
      real_servers: [
        { name: 'rs1', address: `${s.rs1.addr}/24`, interface: 'eth0', mode: 'nat' },
        { name: 'rs2', address: `${s.rs2.addr}/24`, interface: 'eth0', mode: 'nat' },
      ],
    });
    const machines: Array<[string, string | undefined]> = [['director', undefined], ['rs1', s.rs1.ns], ['rs2', s.rs2.ns]];
    for (const [node, ns] of machines) await applyNode(spec, node, ns);
    for (const rs of s.realServers) {
      assert.match((await execa('ip', ['-n', rs.ns, '-4', 'route', 'show', 'default'])).stdout, /default via 10\.77\.2\.1 dev eth0/);
    }
    assert.match(await ipvsadm(['-L', '--timeout']), /Timeout \(tcp tcpfin udp\): 600 /);
    assertAlternates(await s.fetch(4));
    await assertConverged(spec, machines);
  } finally {
    await clearIpvs();
    await s.cleanup();
  }
});
