/**
 * `lbctl plan/apply` without root: the IPVS provider against an in-memory table (plan after
 * apply is empty, hand-made services are left alone, what left the spec is removed only when
 * lbctl programmed it), host routes (a NAT real server's gateway) with records, and what the
 * spec's examples expand to per machine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { parseSpec } from '../../src/cluster/load.js';
import { checkSpec } from '../../src/cluster/rules/index.js';
import { expandNode } from '../../src/apply/expand.js';
import { planHost, type HostActual } from '../../src/host/provider.js';
import { emptyState } from '../../src/host/state.js';
import type { IpvsDriver, Op, Timeouts } from '../../src/ipvs/driver.js';
import { loadTable } from '../../src/ipvs/formats.js';
import type { IpvsTable } from '../../src/ipvs/model.js';
import { IpvsProvider } from '../../src/ipvs/provider.js';
import { applyOpsToTable } from './fake-driver.js';

function fakeDriver(initial: IpvsTable, timeouts: Timeouts = { tcp: 900, tcpfin: 120, udp: 300 }) {
  const state = { table: initial, timeouts: { ...timeouts }, writes: 0 };
  const driver = {
    name: 'netlink',
    getTable: async () => state.table,
    apply: async (ops: Op[]) => { state.writes++; state.table = applyOpsToTable(state.table, ops); },
    getTimeouts: async () => ({ ...state.timeouts }),
    setTimeouts: async (t: Partial<Timeouts>) => { state.writes++; state.timeouts = { ...state.timeouts, ...t }; },
  } as unknown as IpvsDriver;
  return { driver, state };
}

const rules = (text: string) => loadTable(text, 'test.rules', 'rules');

test('IPVS provider: converge, then the plan is empty; a hand-made service is never in the plan', async () => {
  const { driver, state } = fakeDriver(rules('-A -t 10.9.9.9:22 -s rr\n-a -t 10.9.9.9:22 -r 10.0.1.9:22 -m\n'));
  const provider = new IpvsProvider(driver);
  const desired = { table: rules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1\n'), timeouts: { tcp: 600 } };
  const changes = provider.plan(await provider.read(), desired);
  assert.deepEqual(changes.map((c) => `${c.action} ${c.kind} ${c.id}`), [
    '+ service TCP 10.0.0.1:80', '+ destination TCP 10.0.0.1:80 -> 10.0.1.5:80', '+ destination TCP 10.0.0.1:80 -> 10.0.1.6:80', '~ timeout tcp tcpfin udp',
  ]);
  assert.deepEqual(changes[0].command, ['ipvsadm', '-A', '-t', '10.0.0.1:80', '-s', 'rr']);
  assert.deepEqual(changes[3].command, ['ipvsadm', '--set', '600', '0', '0']);
  await provider.apply(changes);
  assert.equal(state.timeouts.tcp, 600);
  assert.equal(state.timeouts.udp, 300, 'a timeout not in the spec keeps its value');
  const writes = state.writes;
  assert.deepEqual(provider.plan(await provider.read(), desired), [], 'plan after apply is empty');
  await provider.apply([]);
  assert.equal(state.writes, writes, 'an empty plan writes nothing');
  assert.ok(state.table.services.some((s) => s.address === '10.9.9.9'), 'the hand-made service is still there');
});

test('IPVS provider: an edited spec plans exactly the edits; a service lbctl programmed is removed when it leaves, a hand-made one is not', async () => {
  const { driver, state } = fakeDriver(rules('-A -t 10.9.9.9:22 -s rr\n'));
  const provider = new IpvsProvider(driver);
  const v1 = { table: rules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1\n-A -t 10.0.0.2:80 -s rr\n') };
  await provider.apply(provider.plan(await provider.read(), v1));
  // Drop a real server, change a weight, add a service, drop a service.
  const v2 = { table: rules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3\n-A -t 10.0.0.3:443 -s wlc\n') };
  const changes = provider.plan(await provider.read(), v2);
  assert.deepEqual(changes.map((c) => `${c.action} ${c.kind} ${c.id}`).sort(), [
    '+ service TCP 10.0.0.3:443', '- destination TCP 10.0.0.1:80 -> 10.0.1.6:80', '- service TCP 10.0.0.2:80', '~ destination TCP 10.0.0.1:80 -> 10.0.1.5:80',
  ]);
  assert.match(changes.find((c) => c.action === '~')!.reason, /weight 1 -> 3/);
  await provider.apply(changes);
  assert.deepEqual(provider.plan(await provider.read(), v2), []);
  assert.deepEqual(state.table.services.map((s) => s.address).sort(), ['10.0.0.1', '10.0.0.3', '10.9.9.9']);
});

test('host routes: a NAT real server\'s default route is set, recorded with what it replaced, and put back on removal', () => {
  const link = { name: 'eth0', up: true, linkType: 'ether', noArp: false, addresses: [{ address: '10.0.2.11', prefix: 24, label: 'eth0', scope: 'global' }] };
  const actual = (via: string, records = emptyState(1)): HostActual => ({
    links: new Map([['eth0', link]]), sysctls: new Map(), modules: new Set(), records, files: new Map(), routes: [{ dst: 'default', via, dev: 'eth0' }],
  });
  const want = { sysctls: [], linksUp: [], addresses: [], routes: [{ dst: 'default', via: '10.0.2.1', dev: 'eth0' }] };
  const first = planHost(actual('10.0.2.254'), want);
  assert.deepEqual(first.changes.map((c) => [c.action, c.kind, c.id, c.command?.join(' ')]), [['~', 'route', 'default via 10.0.2.1', 'ip route replace default via 10.0.2.1 dev eth0']]);
  assert.deepEqual(first.records.routes, [{ dst: 'default', via: '10.0.2.1', dev: 'eth0', replaced: { via: '10.0.2.254', dev: 'eth0' } }]);
  assert.deepEqual(planHost(actual('10.0.2.1', first.records), want).changes, [], 'plan after apply is empty');
  const removal = planHost(actual('10.0.2.1', first.records), { sysctls: [], linksUp: [], addresses: [], remove: { addresses: [], routes: ['default'], restoreSysctls: false, deleteCreatedLinks: false } });
  assert.deepEqual(removal.changes.map((c) => [c.action, c.command?.join(' ')]), [['-', 'ip route replace default via 10.0.2.254 dev eth0']]);
  assert.equal(removal.records.routes, undefined);
  // Someone changed it since: left alone.
  const kept = planHost(actual('10.0.2.77', first.records), { sysctls: [], linksUp: [], addresses: [], remove: { addresses: [], routes: ['default'], restoreSysctls: false, deleteCreatedLinks: false } });
  assert.deepEqual(kept.changes, []);
  assert.equal(kept.items[0].action, 'kept');
});

test('examples/lvs: complete specs; every machine expands to its role', async () => {
  const dir = path.join(lbctlRoot(), 'examples', 'lvs');
  const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(files, ['lvs-dr.yaml', 'lvs-nat.yaml']);
  const load = async (f: string) => {
    const parsed = parseSpec(await fs.readFile(path.join(dir, f), 'utf8'), f);
    assert.ok(parsed.spec, JSON.stringify(parsed.findings[0]));
    assert.deepEqual(checkSpec(parsed.spec, parsed.locator), []);
    return parsed.spec;
  };
  const dr = await load('lvs-dr.yaml');
  const director = expandNode(dr, 'test1')!;
  assert.deepEqual(director.roles, ['director']);
  assert.deepEqual(director.host!.addresses.map((a) => `${a.vip.address}/${a.vip.prefix} ${a.dev}`), ['192.168.118.100/32 ens33']);
  assert.ok(director.host!.sysctls.some((s) => s.key === 'net.ipv4.conf.all.send_redirects' && s.value === '0'));
  assert.equal(director.ipvs!.table.services[0].destinations.length, 2);
  const rs = expandNode(dr, 'nginx1')!;
  assert.deepEqual(rs.host!.addresses.map((a) => `${a.vip.address} ${a.dev}`), ['192.168.118.100 lo'], 'the VIP comes from the service that lists it');
  const nat = await load('lvs-nat.yaml');
  assert.deepEqual(expandNode(nat, 'nginx2')!.host!.routes, [{ dst: 'default', via: '192.168.118.20', dev: 'ens33' }]);
  assert.ok(expandNode(nat, 'test2')!.host!.sysctls.some((s) => s.key === 'net.ipv4.ip_forward'));
  assert.equal(expandNode(nat, 'nobody'), undefined);
});
