/**
 * The `ip -ts monitor` reader the tier lab times failovers with (test/kernel/lib/tier-monitor.ts),
 * on output captured from iproute2 on this machine (multipath, single hop, nhid, deletion, link).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstLink, firstRoute, parseMonitor, routeHops } from '../kernel/lib/tier-monitor.js';

const VIP = '10.97.100.10';
const captured = [
  'Deleted 10.97.100.10 proto bgp metric 20 (before the first stamp: dropped)',
  '[2026-11-30T19:28:20.275294] 10.97.100.10 proto bgp metric 20 ',
  '\tnexthop via 10.97.1.11 dev eth0 weight 1 ',
  '\tnexthop via 10.97.1.12 dev eth0 weight 1 ',
  '\tnexthop via 10.97.1.13 dev eth0 weight 1 ',
  '[2026-11-30T19:28:20.390800] 2: eth0@if9: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue state DOWN group default ',
  '    link/ether 36:98:6f:d0:e1:04 brd ff:ff:ff:ff:ff:ff',
  '[2026-11-30T19:28:20.391782] Deleted fe80::/64 dev eth0 proto kernel metric 256 pref medium',
  '[2026-11-30T19:28:21.100000] Deleted 10.97.100.10 nhid 7 proto bgp metric 20 ',
  '\tnexthop via 10.97.1.11 dev eth0 weight 1 ',
  '[2026-11-30T19:28:21.250000] 10.97.100.10 nhid 9 proto bgp metric 20 ',
  '\tnexthop via 10.97.1.13 dev eth0 weight 1 ',
  '\tnexthop via 10.97.1.11 dev eth0 weight 1 ',
  '[2026-11-30T19:28:22.000000] 10.97.100.10 via 10.97.1.13 dev eth0 proto bgp metric 20 ',
  '[2026-11-30T19:28:23.500000] 2: eth0@if9: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default ',
  '[2026-11-30T19:28:24.000000] 10.97.100.101 via 10.97.1.12 dev eth0 ',
  '',
].join('\n');

test('tier monitor: events carry the stamp as epoch ms (UTC, microseconds kept) and their continuation lines', () => {
  const ev = parseMonitor(captured);
  assert.equal(ev.length, 8);
  assert.equal(ev[0].t, Date.UTC(2026, 10, 30, 19, 28, 20) + 275.294);
  assert.equal(ev[0].more.length, 3);
  assert.equal(ev[1].more.length, 1, 'the link/ether line belongs to the link event');
});

test('tier monitor: next hops of the VIP route: multipath, nhid expanded, single hop, deletion, other routes ignored', () => {
  const ev = parseMonitor(captured);
  assert.deepEqual(routeHops(ev[0], VIP), ['10.97.1.11', '10.97.1.12', '10.97.1.13']);
  assert.equal(routeHops(ev[1], VIP), undefined);
  assert.equal(routeHops(ev[2], VIP), undefined, 'another route is not the VIP');
  assert.deepEqual(routeHops(ev[3], VIP), []);
  assert.deepEqual(routeHops(ev[4], VIP), ['10.97.1.11', '10.97.1.13']);
  assert.deepEqual(routeHops(ev[5], VIP), ['10.97.1.13']);
  assert.equal(routeHops(ev[7], VIP), undefined, '10.97.100.101 is not 10.97.100.10');
});

test('tier monitor: the drop is the first route event after the link went down that leaves exactly the other directors', () => {
  const ev = parseMonitor(captured);
  const down = firstLink(ev, 'eth0', 0, false)!;
  assert.equal(down.t, Date.UTC(2026, 10, 30, 19, 28, 20) + 390.8);
  const drop = firstRoute(ev, VIP, down.t, (h) => h.length === 2 && !h.includes('10.97.1.12'))!;
  assert.equal(Math.round(drop.t - down.t), 859);
  assert.equal(firstRoute(ev, VIP, drop.t + 1, (h) => h.length === 3), undefined);
  const up = firstLink(ev, 'eth0', down.t, true)!;
  assert.equal(up.t, Date.UTC(2026, 10, 30, 19, 28, 23) + 500);
  assert.equal(firstLink(ev, 'eth1', 0, false), undefined);
});

test('tier lab: the no-BFD frr.conf is the generated one without its BFD lines, and nothing else', async () => {
  const { withoutBfd } = await import('../kernel/lib/tier-lab.js');
  const { parseSpec } = await import('../../src/cluster/load.js');
  const { tierDirectorDesired } = await import('../../src/tier/expand.js');
  const { renderFrr } = await import('../../src/tier/frr.js');
  const { lbctlRoot } = await import('../../src/cli/inprocess.js');
  const { readFile } = await import('node:fs/promises');
  const spec = parseSpec(await readFile(`${lbctlRoot()}/examples/tier-ecmp.yaml`, 'utf8'), 'tier-ecmp.yaml').spec!;
  const conf = renderFrr(tierDirectorDesired(spec, 'd1').frr!);
  const stripped = withoutBfd(conf);
  assert.doesNotMatch(stripped, /bfd|transmit-interval|detect-multiplier/);
  const removed = conf.split('\n').filter((l) => !stripped.split('\n').includes(l));
  assert.deepEqual(removed, [' neighbor 10.97.1.1 bfd profile lbctl-tier', 'bfd', ' profile lbctl-tier', '  transmit-interval 300', '  receive-interval 300', '  detect-multiplier 3']);
  assert.match(stripped, /timers bgp 1 3\n/);
  assert.match(stripped, /!\nline vty\n/);
});
