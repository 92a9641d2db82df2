/**
 * drainAndDelete() over the netlink driver and the fake kernel (the real-connection version is
 * test/kernel/drain-netlink.test.ts): weight 0 first, delete only at 0 active connections,
 * timeout leaves weight 0 and exits 8.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NlConnection } from '../../src/ipvs/netlink/conn.js';
import { NetlinkDriver } from '../../src/ipvs/netlink/driver.js';
import { drainAndDelete, type DrainProgress } from '../../src/ipvs/drain.js';
import { parseRules, printRules } from '../../src/ipvs/rules.js';
import { plan, toOps } from '../../src/ipvs/plan.js';
import { TimeoutError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { FakeKernel, FAKE_FAMILY } from './netlink-fake.js';

const RULES = '-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 5\n-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 5';

async function setup() {
  const k = new FakeKernel();
  const d = new NetlinkDriver(new NlConnection(k), FAKE_FAMILY);
  const t = parseRules(RULES);
  await d.apply(toOps(plan({ services: [] }, t)));
  const svc = [...k.services.values()][0];
  const destAttrs = [...svc.dests.values()][0];
  return { k, d, svc: t.services[0], dest: t.services[0].destinations[0], destAttrs };
}

test('sets weight 0 at once, waits for active connections to reach 0, then deletes', async () => {
  const { d, svc, dest, destAttrs } = await setup();
  destAttrs.activeConns = 2;
  const seen: DrainProgress[] = [];
  const weights: number[] = [];
  // The connections close as the polls go by (two polls each at 2 and 1), not on wall-clock
  // timers: a loaded machine could otherwise skip a state between two polls.
  const onProgress = (x: DrainProgress) => {
    seen.push(x);
    weights.push(destAttrs.weight as number);
    const polls = seen.filter((y) => y.activeConns === x.activeConns).length;
    if (polls >= 2 && x.activeConns > 0) destAttrs.activeConns = x.activeConns - 1;
  };
  const r = await drainAndDelete(d, svc, dest, { timeoutMs: 5000, pollMs: 20, onProgress });
  assert.equal(r.deleted, true);
  assert.equal(r.weightZeroed, true);
  assert.ok(weights.every((w) => w === 0), 'weight 0 while waiting');
  assert.deepEqual([...new Set(seen.map((x) => x.activeConns))], [2, 1, 0]);
  // Four polls with a connection open, 20 ms apart.
  assert.ok(r.waitedMs >= 60, `waited ${r.waitedMs} ms`);
  assert.equal(printRules(await d.getTable()), printRules(parseRules('-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 5')));
});

test('timeout: TimeoutError (exit 8), the server stays with weight 0', async () => {
  const { d, svc, dest, destAttrs } = await setup();
  destAttrs.activeConns = 1;
  const err = await drainAndDelete(d, svc, dest, { timeoutMs: 120, pollMs: 30 }).catch((e) => e);
  assert.ok(err instanceof TimeoutError, String(err));
  assert.equal(err.exitCode, ExitCode.Timeout);
  assert.match(err.oneLine(), /10\.0\.1\.1:80 in TCP 10\.0\.0\.1:80 still has 1 active connection.*weight is left at 0/);
  const t = await d.getTable();
  assert.equal(t.services[0].destinations.find((x) => x.address === '10.0.1.1')?.weight, 0);
});

test('already idle: deleted at once; vanished meanwhile: reported, not an error', async () => {
  const { d, svc, dest, k } = await setup();
  const r = await drainAndDelete(d, svc, dest, { timeoutMs: 1000, pollMs: 10 });
  assert.equal(r.deleted, true);
  assert.equal(r.polls, 1);
  const other = svc.destinations[1];
  const a = [...[...k.services.values()][0].dests.values()][0];
  a.activeConns = 3;
  setTimeout(() => { [...k.services.values()][0].dests.clear(); }, 50);
  const r2 = await drainAndDelete(d, svc, other, { timeoutMs: 2000, pollMs: 10 });
  assert.equal(r2.deleted, false);
});
