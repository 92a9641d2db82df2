/**
 * A tier director under `lbctl apply` without root (src/tier/apply.ts, src/apply/expand.ts):
 * what the example spec expands to per director in apply's terms, the gate's files and boot link,
 * and which file changes reload FRR or restart the gate (only those, only where systemd runs them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { parseSpec } from '../../src/cluster/load.js';
import { checkSpec } from '../../src/cluster/rules/index.js';
import { expandNode } from '../../src/apply/expand.js';
import type { FileChange } from '../../src/converge/files.js';
import { planHost, type HostActual } from '../../src/host/provider.js';
import { emptyState } from '../../src/host/state.js';
import { tierDaemonPlan, tierGateFiles, tierGateLink } from '../../src/tier/apply.js';
import { tierDirectorDesired, tierTable } from '../../src/tier/expand.js';

const parsed = parseSpec(await fs.readFile(path.join(lbctlRoot(), 'examples', 'tier-ecmp.yaml'), 'utf8'), 'tier-ecmp.yaml');
assert.ok(parsed.spec);
const spec = parsed.spec;
assert.deepEqual(checkSpec(spec, parsed.locator), []);

test('tier apply: a tier director expands to the director role, the tier table, VIPs on lo, DR and IPVS sysctls', () => {
  const d = expandNode(spec, 'd2')!;
  assert.deepEqual(d.roles, ['director']);
  assert.equal(d.hostTarget, 'director');
  assert.deepEqual(d.ipvs!.table, tierTable(spec.tier!));
  assert.equal(d.ipvs!.table.services[0].scheduler, 'mh');
  assert.deepEqual(d.ipvs!.table.services[0].schedFlags, ['mh-port']);
  assert.deepEqual(d.vipDevices, ['lo']);
  assert.deepEqual(d.host!.addresses.map((a) => `${a.vip.address}/${a.vip.prefix} ${a.dev}`), ['10.97.100.10/32 lo']);
  const sysctls = Object.fromEntries(d.host!.sysctls.map((s) => [s.key, s.value]));
  assert.equal(sysctls['net.ipv4.vs.sloppy_tcp'], '1');
  assert.equal(sysctls['net.ipv4.vs.expire_nodest_conn'], '1');
  assert.equal(sysctls['net.ipv4.conf.all.send_redirects'], '0');
  assert.equal(d.tier!.frr!.bgp.routerId, '10.97.1.12');
  // Every director carries the same table: what makes a moved flow reach the same real server.
  assert.deepEqual(expandNode(spec, 'd1')!.ipvs, d.ipvs);
});

test('tier apply: the host plan against an empty namespace sets the sysctls and the VIP, and is empty once they are there', () => {
  const d = expandNode(spec, 'd1')!;
  const lo = { name: 'lo', up: true, linkType: 'loopback', noArp: true, addresses: [{ address: '127.0.0.1', prefix: 8, label: 'lo', scope: 'host' }] };
  const actual = (sysctls: Map<string, string>, addrs: typeof lo.addresses, records = emptyState(1)): HostActual => ({
    links: new Map([['lo', { ...lo, addresses: [...lo.addresses, ...addrs] }]]), sysctls, modules: new Set(), records, files: new Map(),
  });
  const zero = new Map(d.host!.sysctls.map((s) => [s.key, s.key === 'net.ipv4.vs.conn_reuse_mode' ? '1' : s.key.endsWith('send_redirects') ? '1' : '0']));
  const first = planHost(actual(zero, []), d.host!);
  const ids = first.changes.map((c) => `${c.action} ${c.kind} ${c.id}`);
  assert.ok(ids.includes('~ sysctl net.ipv4.vs.sloppy_tcp'), ids.join(', '));
  assert.ok(ids.some((i) => i.startsWith('+ address 10.97.100.10/32')), ids.join(', '));
  const done = new Map(d.host!.sysctls.map((s) => [s.key, s.value]));
  const again = planHost(actual(done, [{ address: '10.97.100.10', prefix: 32, label: 'lo:0', scope: 'global' }], first.records), d.host!);
  assert.deepEqual(again.changes, [], 'a second plan is empty');
});

test('tier apply: the gate script is executable and both gate files go under --root', () => {
  const files = tierGateFiles(tierDirectorDesired(spec, 'd3'), '/run/tr-root');
  assert.deepEqual(files.map((f) => [f.path, f.mode ?? 0o644]), [
    ['/run/tr-root/usr/local/lib/lbctl/tier-gate', 0o755],
    ['/run/tr-root/etc/systemd/system/lbctl-tier-gate.service', 0o644],
  ]);
  assert.match(files[0].content, /network 10\.97\.100\.10\/32/);
});

test('tier apply: the gate unit is enabled at boot by its multi-user.target.wants link under --root, made once', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'bg-tier-'));
  try {
    const { provider, desired } = tierGateLink(root);
    const wants = path.join(root, 'etc/systemd/system/multi-user.target.wants/lbctl-tier-gate.service');
    assert.deepEqual(desired, { path: wants, target: '/etc/systemd/system/lbctl-tier-gate.service' });
    const first = provider.plan(await provider.read(), desired);
    assert.deepEqual(first.map((c) => `${c.action} ${c.kind} ${c.id}`), [`+ link ${wants}`]);
    await provider.apply(first);
    assert.equal(await fs.readlink(wants), '/etc/systemd/system/lbctl-tier-gate.service');
    assert.deepEqual(provider.plan(await provider.read(), desired), [], 'a second plan is empty');
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('tier apply: FRR is reloaded only when frr.conf changed, the gate restarted only when its files changed, each only under systemd', () => {
  const paths = { frrConf: '/r/etc/frr/frr.conf', gateScript: '/r/usr/local/lib/lbctl/tier-gate', gateUnit: '/r/etc/systemd/system/lbctl-tier-gate.service' };
  const changed = (...ids: string[]) => ids.map((id) => ({ id }) as FileChange);
  const plan = (frr: boolean, gate: boolean, ...ids: string[]) => tierDaemonPlan({ frr, gate }, changed(...ids), paths);
  const cmds = (p: ReturnType<typeof plan>) => p.changes.map((c) => c.command.join(' '));
  assert.deepEqual(cmds(plan(true, true, paths.frrConf)), ['systemctl reload frr.service']);
  assert.deepEqual(cmds(plan(true, true, paths.gateScript)), ['systemctl restart lbctl-tier-gate.service']);
  assert.deepEqual(cmds(plan(true, true, paths.gateUnit, paths.frrConf)), ['systemctl reload frr.service', 'systemctl daemon-reload', 'systemctl restart lbctl-tier-gate.service']);
  assert.deepEqual(plan(true, true, '/r/etc/lbctl/ipvs.rules'), { changes: [], notes: [] }, 'another file reloads nothing');
  assert.deepEqual(plan(true, true), { changes: [], notes: [] });
  const off = plan(false, false, paths.frrConf, paths.gateScript);
  assert.deepEqual(off.changes, []);
  assert.equal(off.notes.length, 2);
  assert.match(off.notes[0], /frr\.service is not running/);
});
