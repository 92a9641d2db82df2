/**
 * Graceful removal against real connections (inside the kernel lab, NAT scenario): a real
 * server carrying a long-lived TCP connection is drained over netlink. The connection gets no
 * reset, new connections all go to the other server meanwhile (seen in the kernel's
 * connection table, `ipvsadm -Lnc`), and the server is deleted only once the connection
 * closes. A drain that times out leaves the server at weight 0.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { labSkipReason, natScenario, waitFor, type Scenario } from './lib/topology.js';
import { openNetlinkDriver, type NetlinkDriver } from '../../src/ipvs/netlink/index.js';
import { drainAndDelete, type DrainProgress } from '../../src/ipvs/drain.js';
import { parseRules } from '../../src/ipvs/rules.js';
import { plan, toOps } from '../../src/ipvs/plan.js';
import { TimeoutError } from '../../src/cli/errors.js';
import type { VirtualService } from '../../src/ipvs/model.js';

const skip = labSkipReason() ?? false;
let s: Scenario;
let d: NetlinkDriver;
const ipvsadm = async (...args: string[]) => (await execa('ipvsadm', args)).stdout;

before(async () => {
  if (skip) return;
  await ipvsadm('-C');
  s = await natScenario();
  d = await openNetlinkDriver();
});
after(async () => {
  if (skip) return;
  await d?.close();
  await ipvsadm('-C').catch(() => {});
  await s?.cleanup();
});

async function echoService(): Promise<VirtualService> {
  const rules = [`-A -t ${s.vip}:${s.echoPort} -s rr`, ...s.realServers.map((r) => `-a -t ${s.vip}:${s.echoPort} -r ${r.addr}:${s.echoPort} -m -w 1`)].join('\n');
  const desired = parseRules(rules, 'drain.rules');
  await d.apply(toOps(plan(await d.getTable(), desired)));
  return desired.services[0];
}

/** Connection-table entries (ipvsadm -Lnc: pro expire state source virtual destination) to addr:port. */
async function connEntries(addr: string, port: number): Promise<string[]> {
  return (await ipvsadm('-Lnc')).split('\n').filter((l) => l.trim().split(/\s+/)[5] === `${addr}:${port}`);
}

test('drain: no reset, no new connections to the draining server, deleted once the connection closes', { skip, timeout: 120_000 }, async () => {
  const svc = await echoService();
  const conn = await s.connect();
  assert.ok((await conn.check()).alive);
  const t = await d.getTable();
  const busy = t.services[0].destinations.find((x) => (x.activeConns ?? 0) > 0);
  assert.ok(busy, 'the long-lived connection is active on one real server');
  const other = t.services[0].destinations.find((x) => x !== busy)!;

  const progress: DrainProgress[] = [];
  let settled = false;
  const drain = drainAndDelete(d, svc, busy, { timeoutMs: 90_000, pollMs: 200, onProgress: (p) => progress.push(p) }).finally(() => { settled = true; });
  try {
    const zero = await waitFor(async () => (await ipvsadm('-Sn')).includes(`-r ${busy.address}:${busy.port} -m -w 0`), { timeoutMs: 10_000 });
    assert.ok(zero, 'weight 0 in ipvsadm -Sn');
    const before = (await connEntries(busy.address, busy.port)).length;
    for (let i = 0; i < 4; i++) {
      const c = await s.connect();
      assert.ok((await c.check()).alive, `new connection ${i} works`);
      await c.close();
    }
    assert.equal((await connEntries(busy.address, busy.port)).length, before, 'no new connection scheduled to the draining server');
    assert.ok((await connEntries(other.address, other.port)).length >= 4, 'the other server took them');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(settled, false, 'not deleted while its connection is open');
    assert.ok((await ipvsadm('-Sn')).includes(`${busy.address}:${busy.port}`));
    const alive = await conn.check();
    assert.ok(alive.alive, `long-lived connection still alive: ${alive.error}`);
    assert.equal(conn.closedWith, undefined, 'no reset');
    assert.ok(progress.some((p) => p.activeConns === 1));
  } finally {
    // On failure too: end the connection so the drain finishes before the next test.
    await conn.close();
    await drain.catch(() => undefined);
  }
  const r = await drain;
  assert.equal(r.deleted, true);
  assert.ok(!(await ipvsadm('-Sn')).includes(`${busy.address}:${busy.port}`), 'deleted after the connection closed');
  assert.ok((await ipvsadm('-Sn')).includes(`${other.address}:${other.port}`));
  assert.equal(progress[progress.length - 1].activeConns, 0);
});

test('drain timeout: TimeoutError, the server stays at weight 0, its connection untouched', { skip, timeout: 60_000 }, async () => {
  await ipvsadm('-C');
  const svc = await echoService();
  const conn = await s.connect();
  const busy = (await d.getTable()).services[0].destinations.find((x) => (x.activeConns ?? 0) > 0)!;
  const err = await drainAndDelete(d, svc, busy, { timeoutMs: 1500, pollMs: 200 }).catch((e) => e);
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(err.exitCode, 8);
  assert.ok((await ipvsadm('-Sn')).includes(`-r ${busy.address}:${busy.port} -m -w 0`));
  assert.ok((await conn.check()).alive);
  await conn.close();
});
