/**
 * restore() against an in-memory driver: the refusal of a wipe, dry runs, what an apply writes,
 * and --drain (weight 0 first; timeout and cancel leave the servers at weight 0, not deleted).
 * Written after a mutation-testing run (StrykerJS) showed these paths untested by unit tests
 * (the kernel suite covers them end to end).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRules, printRules } from '../../src/ipvs/rules.js';
import { restore } from '../../src/ipvs/restore.js';
import { AbortedError, InputError, TimeoutError } from '../../src/cli/errors.js';
import { asDriver, driverOf } from './fake-driver.js';

const as = asDriver;

const TWO = '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n-A -t 10.0.0.2:80 -s rr\n';

test('a restore that keeps none of the kernel\'s services is refused (exit 3) and writes nothing, unless allowEmpty', async () => {
  for (const [rules, desired, n] of [[TWO, '-A -t 10.0.0.9:80 -s rr\n', 'all 2 virtual services'], ['-A -t 10.0.0.1:80 -s rr\n', '', 'all 1 virtual service:']] as const) {
    const m = driverOf(rules);
    const err = await restore(as(m), parseRules(desired)).catch((e) => e);
    assert.ok(err instanceof InputError && err.exitCode === 3 && err.code === 'EWIPE', String(err));
    assert.ok(err.message.includes(`refusing to delete ${n}`), err.message);
    assert.equal(m.batches.length, 0);
    const dry = await restore(as(m), parseRules(desired), { dryRun: true }).catch((e) => e);
    assert.ok(dry instanceof InputError && dry.code === 'EWIPE', 'a dry run is refused too');
    const ok = await restore(as(m), parseRules(desired), { allowEmpty: true });
    assert.equal(ok.changed, true);
    assert.equal(printRules(m.table), printRules(parseRules(desired)));
  }
  // Keeping one service (even while changing it and its real servers) is no wipe.
  const m = driverOf(TWO);
  const r = await restore(as(m), parseRules('-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1\n'));
  assert.equal(r.changed, true);
  // An empty kernel has nothing to lose.
  const empty = driverOf('');
  assert.equal((await restore(as(empty), parseRules(''))).changed, false);
});

test('dry run writes nothing; apply writes the plan once, with origins; a second restore writes nothing', async () => {
  const m = driverOf(TWO);
  const desired = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3\n-A -t 10.0.0.2:80 -s rr\n-A -t 10.0.0.3:80 -s sh\n');
  const dry = await restore(as(m), desired, { dryRun: true });
  assert.deepEqual([dry.changed, dry.dryRun, dry.changes.length, m.batches.length], [false, true, 2, 0]);
  const r = await restore(as(m), desired);
  assert.deepEqual([r.changed, r.dryRun, m.batches.length], [true, false, 1]);
  assert.deepEqual(m.batches[0].map((o) => [o.kind, o.origin]), [
    ['addService', 'rule "-A -t 10.0.0.3:80 -s sh"'],
    ['editDest', 'rule "-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3"'],
  ]);
  assert.equal(printRules(m.table), printRules(desired));
  const again = await restore(as(m), desired);
  assert.deepEqual([again.changed, again.changes.length, m.batches.length], [false, 0, 1]);
});

test('--drain: leaving real servers go to weight 0 first and are deleted once idle; timeout and cancel leave them at weight 0', async () => {
  const rules = '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 2\n-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1\n';
  const desired = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1\n');
  const idle = driverOf(rules);
  await restore(as(idle), desired, { drain: true });
  assert.deepEqual(idle.batches.map((b) => b.map((o) => `${o.kind} ${o.dest?.address} ${o.dest?.weight}`)), [['editDest 10.0.1.5 0'], ['delDest 10.0.1.5 2']]);
  assert.equal(printRules(idle.table), printRules(desired));

  const busy = driverOf(rules);
  busy.active.set('10.0.1.5', 3);
  const t = await restore(as(busy), desired, { drain: true, drainTimeoutMs: 1 }).catch((e) => e);
  assert.ok(t instanceof TimeoutError && t.exitCode === 8 && /3 active connection/.test(t.message), String(t));
  assert.equal(busy.table.services[0].destinations.find((d) => d.address === '10.0.1.5')?.weight, 0);

  const cancelled = driverOf(rules);
  cancelled.active.set('10.0.1.5', 1);
  const ac = new AbortController();
  const p = restore(as(cancelled), desired, { drain: true, drainTimeoutMs: 60_000, signal: ac.signal }).catch((e) => e);
  setTimeout(() => ac.abort(), 50);
  const a = await p;
  assert.ok(a instanceof AbortedError && a.exitCode === 11 && /weight 0, nothing was deleted/.test(a.message), String(a));
  assert.equal(cancelled.table.services[0].destinations.length, 2, 'nothing deleted');
  assert.equal(cancelled.table.services[0].destinations.find((d) => d.address === '10.0.1.5')?.weight, 0);
});

test('without --drain a leaving real server is deleted at once, even with active connections: no weight-0 step, no wait', async () => {
  const m = driverOf('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 2\n-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1\n');
  m.active.set('10.0.1.5', 4);
  const desired = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1\n');
  // A drain that ran anyway would time out here (4 active connections, 1 ms) instead of deleting.
  const r = await restore(as(m), desired, { drain: false, drainTimeoutMs: 1 });
  assert.equal(r.changed, true);
  assert.deepEqual(m.batches.map((b) => b.map((o) => `${o.kind} ${o.dest?.address} ${o.dest?.weight}`)), [['delDest 10.0.1.5 2']]);
  assert.equal(printRules(m.table), printRules(desired));
});

test('--merge (the boot unit\'s restore) adds and updates but never deletes: a service and a real server the input lacks stay', async () => {
  const m = driverOf('-A -t 10.0.0.9:80 -s lc\n-a -t 10.0.0.9:80 -r 10.0.1.9:80 -m -w 1\n-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.7:80 -m -w 1\n');
  const desired = parseRules('-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 2\n');
  const r = await restore(as(m), desired, { merge: true });
  assert.equal(r.changed, true);
  assert.deepEqual(r.changes.map((c) => c.action).sort(), ['+', '~']);
  assert.equal(printRules(m.table), printRules(parseRules('-A -t 10.0.0.9:80 -s lc\n-a -t 10.0.0.9:80 -r 10.0.1.9:80 -m -w 1\n-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 2\n-a -t 10.0.0.1:80 -r 10.0.1.7:80 -m -w 1\n')));
  assert.equal((await restore(as(m), desired, { merge: true })).changed, false, 'a second merge changes nothing');
});
