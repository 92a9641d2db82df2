/**
 * The one IPVS converge pattern: plan.ts's plan is the shared Change (src/converge/change.ts) that
 * `lbctl plan/apply` renders, and restore, the service/server commands and the provider all plan
 * with it and apply through applyPlan(). In-memory driver, no root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planJson as sharedPlanJson, renderPlan as sharedRenderPlan } from '../../src/converge/change.js';
import { convergeDestination, convergeService, deleteDestination, deleteService, requireService } from '../../src/ipvs/ops.js';
import { plan, planTimeouts, toOps } from '../../src/ipvs/plan.js';
import { applyPlan, IpvsProvider } from '../../src/ipvs/provider.js';
import { makeDestination, parseRules, printRules } from '../../src/ipvs/rules.js';
import { asDriver, driverOf } from './fake-driver.js';

const as = asDriver;

const ACTUAL = '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1\n-A -t 10.0.0.2:80 -s wlc\n';
const DESIRED = '-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3\n-a -t 10.0.0.1:80 -r 10.0.1.7:80 -m -w 1\n-A -t 10.0.0.4:443 -s sh\n';

test('the IPVS plan is the shared Change: id, one-line reason, ipvsadm argv, before/after without real-server lists', () => {
  const cs = plan(parseRules(ACTUAL), parseRules(DESIRED));
  assert.deepEqual(cs.map((c) => [c.action, c.kind, c.id, c.reason, c.command!.join(' ')]), [
    ['~', 'service', 'TCP 10.0.0.1:80', 'scheduler rr -> wrr', 'ipvsadm -E -t 10.0.0.1:80 -s wrr'],
    ['-', 'destination', 'TCP 10.0.0.1:80 -> 10.0.1.6:80', 'not in the desired state', 'ipvsadm -d -t 10.0.0.1:80 -r 10.0.1.6:80'],
    ['~', 'destination', 'TCP 10.0.0.1:80 -> 10.0.1.5:80', 'weight 1 -> 3', 'ipvsadm -e -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3'],
    ['+', 'destination', 'TCP 10.0.0.1:80 -> 10.0.1.7:80', 'new real server', 'ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.7:80 -m -w 1'],
    ['-', 'service', 'TCP 10.0.0.2:80', 'not in the desired state', 'ipvsadm -D -t 10.0.0.2:80'],
    ['+', 'service', 'TCP 10.0.0.4:443', 'new service', 'ipvsadm -A -t 10.0.0.4:443 -s sh'],
  ]);
  // argv words, never one shell string
  assert.deepEqual(cs[5].command, ['ipvsadm', '-A', '-t', '10.0.0.4:443', '-s', 'sh']);
  const [svcEdit, destDel, destEdit, destAdd, svcDel] = cs;
  assert.equal((svcEdit.before as { scheduler: string }).scheduler, 'rr');
  assert.equal((svcEdit.after as { scheduler: string }).scheduler, 'wrr');
  assert.equal('destinations' in (svcEdit.before as object), false, 'before shows the service, not its real servers');
  assert.equal('destinations' in (svcDel.before as object), false);
  assert.deepEqual([(destEdit.before as { weight: number }).weight, (destEdit.after as { weight: number }).weight], [1, 3]);
  assert.deepEqual([destAdd.before, (destDel.before as { address: string }).address, destDel.after, svcDel.after], [undefined, '10.0.1.6', undefined, undefined]);
  // The rollback of a deleted service needs its real servers: they ride on `previous`, not on `before`.
  assert.equal((svcDel.previous as { destinations: unknown[] }).destinations.length, 0);
  const withDests = plan(parseRules(ACTUAL), parseRules('-A -t 10.0.0.2:80 -s wlc\n'));
  const del = withDests.find((c) => c.action === '-' && c.kind === 'service')!;
  assert.equal((toOps([del])[0].previous as { destinations: unknown[] }).destinations.length, 2);
  // The shared views take it as it is.
  const text = sharedRenderPlan(cs, { commands: true });
  assert.match(text, /^~ service TCP 10\.0\.0\.1:80  \(scheduler rr -> wrr\)\n {4}\$ ipvsadm -E -t 10\.0\.0\.1:80 -s wrr$/m);
  assert.match(text, /^Plan: 2 to add, 2 to change, 2 to remove\.$/m);
  const j = sharedPlanJson(cs);
  assert.deepEqual([j.changed, j.counts], [true, { add: 2, change: 2, remove: 2 }]);
  assert.equal(sharedRenderPlan(plan(parseRules(DESIRED), parseRules(DESIRED))), 'No changes.');
});

test('timeouts plan as a shared change too: only the fields given, 0 keeps the kernel value', () => {
  const cur = { tcp: 900, tcpfin: 120, udp: 300 };
  assert.deepEqual(planTimeouts(cur, { tcp: 900 }), []);
  assert.deepEqual(planTimeouts(cur, undefined), []);
  assert.deepEqual(planTimeouts(cur, { tcp: 0, udp: 300 }), []);
  const [c] = planTimeouts(cur, { udp: 60 });
  assert.deepEqual([c.action, c.kind, c.reason, c.command, c.timeouts, c.after], ['~', 'timeout', 'udp 300 -> 60', ['ipvsadm', '--set', '0', '0', '60'], { udp: 60 }, { tcp: 900, tcpfin: 120, udp: 60 }]);
  assert.deepEqual(toOps([c]), [], 'a timeout change is no table op');
});

test('service/server commands plan with the same planner: their commands are the plan\'s argv, a dry run writes nothing, a rerun is "unchanged"', async () => {
  const m = driverOf(ACTUAL);
  const want = parseRules('-A -t 10.0.0.1:80 -s wrr -p 60\n').services[0];
  const dry = await convergeService(as(m), want, true);
  assert.deepEqual([dry.action, dry.changed, dry.dryRun, dry.reasons, dry.commands, m.batches.length],
    ['updated', false, true, ['scheduler rr -> wrr', 'persistence 0 -> 60'], ['ipvsadm -E -t 10.0.0.1:80 -s wrr -p 60'], 0]);
  const r = await convergeService(as(m), want);
  assert.deepEqual([r.action, r.changed, m.batches.length], ['updated', true, 1]);
  assert.deepEqual(m.batches[0].map((o) => o.kind), ['editService'], 'the service edit leaves its real servers alone');
  assert.equal(m.table.services[0].destinations.length, 2);
  assert.deepEqual((m.batches[0][0].previous as { scheduler: string }).scheduler, 'rr', 'what a failed batch goes back to');
  const again = await convergeService(as(m), want);
  assert.deepEqual([again.action, again.changed, again.commands, m.batches.length], ['unchanged', false, [], 1]);

  const created = await convergeService(as(m), parseRules('-A -u 10.0.0.3:53 -s rr\n').services[0]);
  assert.deepEqual([created.action, created.reasons, created.commands], ['created', [], ['ipvsadm -A -u 10.0.0.3:53 -s rr']]);

  const svc = await requireService(as(m), want);
  const d = await convergeDestination(as(m), svc, makeDestination(svc, '10.0.1.8', { forward: 'droute', weight: 2 }, '-r'));
  assert.deepEqual([d.action, d.destination, d.commands], ['created', '10.0.1.8:80', ['ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.8:80 -g -w 2']]);
  const svc2 = await requireService(as(m), want);
  const e = await convergeDestination(as(m), svc2, { ...svc2.destinations.find((x) => x.address === '10.0.1.5')!, weight: 5 });
  assert.deepEqual([e.action, e.reasons, e.commands], ['updated', ['weight 1 -> 5'], ['ipvsadm -e -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 5']]);
  const gone = await deleteDestination(as(m), await requireService(as(m), want), makeDestination(want, '10.0.1.6', { forward: 'masq' }, '-r'));
  assert.deepEqual([gone.action, gone.commands], ['deleted', ['ipvsadm -d -t 10.0.0.1:80 -r 10.0.1.6:80']]);
  const absent = await deleteDestination(as(m), await requireService(as(m), want), makeDestination(want, '10.0.1.6', { forward: 'masq' }, '-r'));
  assert.deepEqual([absent.action, absent.changed, absent.commands], ['absent', false, []]);

  const writes = m.batches.length;
  const ds = await deleteService(as(m), want, true);
  assert.deepEqual([ds.action, ds.commands, m.batches.length], ['deleted', ['ipvsadm -D -t 10.0.0.1:80'], writes]);
  await deleteService(as(m), want);
  const last = m.batches[m.batches.length - 1];
  assert.deepEqual(last.map((o) => o.kind), ['delService'], 'one delete, no real-server deletes before it');
  assert.equal((last[0].previous as { destinations: unknown[] }).destinations.length, 2, 'its real servers (.5 and .8) ride along for a rollback');
  assert.equal((await deleteService(as(m), want)).action, 'absent');
});

test('applyPlan: an empty plan writes nothing; table then timeouts; --drain also drains the real servers of a removed service', async () => {
  const m = driverOf(ACTUAL);
  assert.deepEqual(await applyPlan(as(m), []), { applied: 0, drained: [] });
  assert.deepEqual([m.batches.length, m.timeoutWrites], [0, 0]);

  const cs = [...plan(parseRules(ACTUAL), parseRules('-A -t 10.0.0.2:80 -s wlc\n')), ...planTimeouts(m.timeouts, { tcp: 60 })];
  m.active.set('10.0.1.5', 2);
  const ac = new AbortController();
  const p = applyPlan(as(m), cs, { drain: true, drainTimeoutMs: 60_000, signal: ac.signal });
  setTimeout(() => m.active.set('10.0.1.5', 0), 50);
  const r = await p;
  assert.deepEqual(r, { applied: 2, drained: ['TCP 10.0.0.1:80 -> 10.0.1.5:80', 'TCP 10.0.0.1:80 -> 10.0.1.6:80'] });
  assert.deepEqual(m.batches.map((b) => b.map((o) => `${o.kind} ${o.dest?.address ?? ''} ${o.dest?.weight ?? ''}`.trim())), [
    ['editDest 10.0.1.5 0', 'editDest 10.0.1.6 0'],
    ['delService'],
  ]);
  assert.equal(m.timeouts.tcp, 60);
  assert.equal(printRules(m.table), printRules(parseRules('-A -t 10.0.0.2:80 -s wlc\n')));
});

test('the provider plans with the same planner, scoped to what lbctl owns, and says why it removes', async () => {
  const m = driverOf(ACTUAL);
  const p2 = new IpvsProvider(as(m));
  const desired = { table: parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n') };
  const cs = p2.plan(await p2.read(), desired);
  assert.deepEqual(cs.map((c) => `${c.action} ${c.id}: ${c.reason}`), ['- TCP 10.0.0.1:80 -> 10.0.1.6:80: lbctl programmed it; no longer in the spec'],
    'the hand-made 10.0.0.2 is out of scope; the desired service is converged whole');
  await p2.apply(cs);
  assert.deepEqual(p2.plan(await p2.read(), desired), []);
  assert.deepEqual(m.table.services.map((s) => s.address).sort(), ['10.0.0.1', '10.0.0.2']);
});
