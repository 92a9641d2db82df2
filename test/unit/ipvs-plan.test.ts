import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRules, printRules } from '../../src/ipvs/rules.js';
import { plan, renderPlan, toOps, planJson } from '../../src/ipvs/plan.js';
import { SCHEDULERS } from '../../src/ipvs/constants.js';
import { applyOpsToTable } from './fake-driver.js';

const ACTUAL = `-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1
-A -t 10.0.0.2:80 -s wlc
-A -u 10.0.0.3:53 -s rr
`;
const DESIRED = `-A -t 10.0.0.1:80 -s wrr
-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3
-a -t 10.0.0.1:80 -r 10.0.1.7:80 -m -w 1
-A -u 10.0.0.3:53 -s rr
-A -t 10.0.0.4:443 -s sh
`;

test('plan gives +, ~ and - with reasons, sorted, and a summary', () => {
  const cs = plan(parseRules(ACTUAL), parseRules(DESIRED));
  const text = renderPlan(cs).replace(/\x1b\[[0-9;]*m/g, '');
  assert.equal(text, [
    '~ -A -t 10.0.0.1:80 -s wrr  (scheduler rr -> wrr)',
    '- -a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1',
    '~ -a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3  (weight 1 -> 3)',
    '+ -a -t 10.0.0.1:80 -r 10.0.1.7:80 -m -w 1',
    '- -A -t 10.0.0.2:80 -s wlc',
    '+ -A -t 10.0.0.4:443 -s sh',
    'Plan: 2 to add, 2 to change, 2 to delete.',
  ].join('\n'));
  assert.deepEqual(planJson(cs).summary, { add: 2, change: 2, destroy: 2 });
});

test('no changes says so; merge never deletes', () => {
  assert.equal(renderPlan(plan(parseRules(ACTUAL), parseRules(ACTUAL))), 'No changes.');
  const merged = plan(parseRules(ACTUAL), parseRules(DESIRED), { merge: true });
  assert.ok(merged.length > 0 && merged.every((c) => c.action !== '-'));
});

test('ops apply services before their destinations and removals of services last', () => {
  const ops = toOps(plan(parseRules(ACTUAL), parseRules(DESIRED)));
  const kinds = ops.map((o) => o.kind);
  assert.ok(kinds.indexOf('addService') < kinds.indexOf('addDest'));
  assert.equal(kinds[kinds.length - 1], 'delService');
});

// Property: applying the plan's ops to the actual table gives the desired table, and a second plan is empty.
const addr = fc.integer({ min: 1, max: 4 }).map((n) => `10.0.0.${n}`);
const svcLine = fc.record({ proto: fc.constantFrom('-t', '-u'), vip: addr, port: fc.constantFrom(80, 443), sched: fc.constantFrom(...SCHEDULERS), p: fc.option(fc.integer({ min: 1, max: 900 }), { nil: undefined }) });
const destLine = fc.record({ rip: fc.integer({ min: 1, max: 5 }).map((n) => `10.1.0.${n}`), fwd: fc.constantFrom('-m', '-g', '-i'), w: fc.integer({ min: 0, max: 10 }) });
const tableArb = fc.array(fc.record({ s: svcLine, d: fc.array(destLine, { maxLength: 4 }) }), { maxLength: 5 }).map((list) => {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const { s, d } of list) {
    const sel = `${s.proto} ${s.vip}:${s.port}`;
    if (seen.has(sel)) continue;
    seen.add(sel);
    lines.push(`-A ${sel} -s ${s.sched}${s.p ? ` -p ${s.p}` : ''}`);
    const rs = new Set<string>();
    for (const x of d) { if (rs.has(x.rip)) continue; rs.add(x.rip); lines.push(`-a ${sel} -r ${x.rip}:${s.port} ${x.fwd} -w ${x.w}`); }
  }
  return parseRules(lines.join('\n'));
});

test('property: apply(plan(a, d)) == d, then plan is empty', () => {
  fc.assert(fc.property(tableArb, tableArb, (a, d) => {
    const after = applyOpsToTable(a, toOps(plan(a, d)));
    assert.equal(printRules(after), printRules(d));
    assert.equal(plan(after, d).length, 0);
  }), { numRuns: 300 });
});

// Written after a mutation-testing run (StrykerJS) showed these parts of plan/toOps untested:
// the reasons of + and - changes, the op kinds of each action, what each op says it replaces
// (the rollback of a failed batch depends on it), the order of ties, and the JSON view's fields.
test('every change says why; toOps gives each action its op and what it replaces', () => {
  const actual = parseRules(ACTUAL);
  const cs = plan(actual, parseRules(DESIRED + '-a -t 10.0.0.4:443 -r 10.0.1.9:443 -g\n-a -t 10.0.0.4:443 -r 10.0.1.8:443 -g\n'));
  const why = cs.map((c) => `${c.action}${c.kind}:${c.reasons.join(',')}`);
  assert.deepEqual(why, [
    '~service:scheduler rr -> wrr',
    '-destination:not in the desired state',
    '~destination:weight 1 -> 3',
    '+destination:new real server',
    '-service:not in the desired state',
    '+service:new service',
    // ties keep the file's order: .9 was written before .8
    '+destination:new real server',
    '+destination:new real server',
  ]);
  assert.deepEqual(cs.slice(-2).map((c) => c.dest!.address), ['10.0.1.9', '10.0.1.8']);
  const ops = toOps(cs);
  assert.deepEqual(ops.map((o) => o.kind), ['addService', 'editService', 'delDest', 'editDest', 'addDest', 'addDest', 'addDest', 'delService']);
  const svc1 = actual.services.find((s) => s.address === '10.0.0.1')!;
  const byKind = (k: string) => ops.filter((o) => o.kind === k);
  assert.deepEqual(byKind('editService')[0].previous, svc1);
  assert.deepEqual(byKind('editDest')[0].previous, svc1.destinations.find((d) => d.address === '10.0.1.5'));
  assert.deepEqual(byKind('delDest')[0].previous, svc1.destinations.find((d) => d.address === '10.0.1.6'));
  assert.equal((byKind('delService')[0].previous as { address: string }).address, '10.0.0.2');
  for (const o of [...byKind('addService'), ...byKind('addDest')]) assert.equal('previous' in o, false, `${o.kind} replaces nothing`);
  const json = planJson(cs).changes;
  assert.deepEqual(json[1], { action: '-', kind: 'destination', service: 'TCP 10.0.0.1:80', destination: json[1].destination, rule: '-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1', reasons: ['not in the desired state'] });
  assert.ok(json[1].destination && json[1].destination.includes('10.0.1.6'));
  assert.equal(json[4].rule, '-A -t 10.0.0.2:80 -s wlc');
});
