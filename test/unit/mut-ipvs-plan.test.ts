/**
 * The pure IPVS plan (src/ipvs/plan.ts) and restore's guards around it (src/ipvs/restore.ts
 * restore, refuseWipe, loadDesired), pinned tightly enough that Stryker's mutants of them fail
 * (stryker/modules.mjs `ipvs-plan`): every change's action, kind, id, reason, argv, before/after
 * and what a rollback re-adds; the apply order; and each refusal (a plan deleting every service,
 * no input) refused before the kernel is read or written.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LbctlError } from '../../src/cli/errors.js';
import { parseRules, printRules } from '../../src/ipvs/rules.js';
import { plan, planJson, planTimeouts, renderPlan, summarize, toOps, isTableChange, ruleOf, type IpvsTableChange } from '../../src/ipvs/plan.js';
import { loadDesired, restore } from '../../src/ipvs/restore.js';
import type { IpvsDriver, Op } from '../../src/ipvs/driver.js';
import type { IpvsTable } from '../../src/ipvs/model.js';
import { applyOpsToTable } from './fake-driver.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'm2-plan-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ACTUAL = `-A -t 10.0.0.1:80 -s rr
-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1
-A -t 10.0.0.2:80 -s wlc
-a -t 10.0.0.2:80 -r 10.0.2.1:80 -g -w 2
`;
// Services and real servers deliberately out of key order: the plan sorts services, keeps real servers as given.
const DESIRED = `-A -t 10.0.0.4:443 -s sh
-a -t 10.0.0.4:443 -r 10.0.1.9:443 -g
-a -t 10.0.0.4:443 -r 10.0.1.3:443 -g
-A -t 10.0.0.1:80 -s wrr
-a -t 10.0.0.1:80 -r 10.0.1.7:80 -m -w 1
-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3
`;

/** One change in one line: everything a person or a rollback reads from it. */
const line = (c: IpvsTableChange) => [
  c.action, c.kind, c.id, c.reason, c.command!.join(' '),
  `svc=${c.service.scheduler}`, `before=${c.before === undefined ? '-' : Object.keys(c.before as object).join(',')}`,
  `after=${c.after === undefined ? '-' : JSON.stringify((c.after as { weight?: number; scheduler?: string }).weight ?? (c.after as { scheduler?: string }).scheduler)}`,
  `prev=${c.previous ? ('weight' in c.previous ? c.previous.weight : c.previous.scheduler) : '-'}`,
  `dest=${c.dest ? c.dest.address : '-'}`,
].join(' | ');

test('plan: each change\'s action, kind, id, reason, argv, before/after and previous, in apply order per service', () => {
  const cs = plan(parseRules(ACTUAL), parseRules(DESIRED));
  const SVC = 'protocol,family,address,port,scheduler,persistence,netmask,schedFlags,onePacket';
  const DST = 'address,port,family,forward,weight,upperThreshold,lowerThreshold';
  assert.deepEqual(cs.map(line), [
    `~ | service | TCP 10.0.0.1:80 | scheduler rr -> wrr | ipvsadm -E -t 10.0.0.1:80 -s wrr | svc=wrr | before=${SVC} | after="wrr" | prev=rr | dest=-`,
    `- | destination | TCP 10.0.0.1:80 -> 10.0.1.6:80 | not in the desired state | ipvsadm -d -t 10.0.0.1:80 -r 10.0.1.6:80 | svc=rr | before=${DST} | after=- | prev=1 | dest=10.0.1.6`,
    `~ | destination | TCP 10.0.0.1:80 -> 10.0.1.5:80 | weight 1 -> 3 | ipvsadm -e -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3 | svc=wrr | before=${DST} | after=3 | prev=1 | dest=10.0.1.5`,
    `+ | destination | TCP 10.0.0.1:80 -> 10.0.1.7:80 | new real server | ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.7:80 -m -w 1 | svc=wrr | before=- | after=1 | prev=- | dest=10.0.1.7`,
    `- | service | TCP 10.0.0.2:80 | not in the desired state | ipvsadm -D -t 10.0.0.2:80 | svc=wlc | before=${SVC} | after=- | prev=wlc | dest=-`,
    `+ | service | TCP 10.0.0.4:443 | new service | ipvsadm -A -t 10.0.0.4:443 -s sh | svc=sh | before=- | after="sh" | prev=- | dest=-`,
    `+ | destination | TCP 10.0.0.4:443 -> 10.0.1.9:443 | new real server | ipvsadm -a -t 10.0.0.4:443 -r 10.0.1.9:443 -g -w 1 | svc=sh | before=- | after=1 | prev=- | dest=10.0.1.9`,
    `+ | destination | TCP 10.0.0.4:443 -> 10.0.1.3:443 | new real server | ipvsadm -a -t 10.0.0.4:443 -r 10.0.1.3:443 -g -w 1 | svc=sh | before=- | after=1 | prev=- | dest=10.0.1.3`,
  ]);
  // What a rollback re-adds for a removed service: the kernel's service with its real servers.
  const gone = cs.find((c) => c.action === '-' && c.kind === 'service')!;
  assert.deepEqual((gone.previous as { destinations: unknown[] }).destinations.length, 1);
  assert.equal(gone.service.destinations.length, 1);
  // JSON sees the shared Change's fields and the typed ones.
  const j = JSON.parse(JSON.stringify(cs[1]));
  assert.deepEqual(Object.keys(j).sort(), ['action', 'before', 'command', 'dest', 'id', 'kind', 'previous', 'reason', 'reasons', 'service'].sort());
  assert.equal(j.reason, 'not in the desired state');
  assert.deepEqual(j.command, ['ipvsadm', '-d', '-t', '10.0.0.1:80', '-r', '10.0.1.6:80']);
  assert.equal(j.id, 'TCP 10.0.0.1:80 -> 10.0.1.6:80');
  assert.equal(j.kind, 'destination');
  assert.equal(j.action, '-');
});

test('plan: several differing fields are joined with "; "; merge keeps every deletion out; a removal reason is used as given', () => {
  const cs = plan(parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n'),
    parseRules('-A -t 10.0.0.1:80 -s wrr -p 30\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -g -w 2\n'));
  assert.equal(cs.length, 2);
  assert.match(cs[0].reason, /^scheduler rr -> wrr; /);
  assert.equal(cs[0].reason, cs[0].reasons.join('; '));
  assert.ok(cs[1].reasons.length >= 2 && cs[1].reason === cs[1].reasons.join('; '), cs[1].reason);
  const merged = plan(parseRules(ACTUAL), parseRules(DESIRED), { merge: true });
  assert.deepEqual(merged.map((c) => `${c.action}${c.kind[0]} ${c.id}`), [
    '~s TCP 10.0.0.1:80', '~d TCP 10.0.0.1:80 -> 10.0.1.5:80', '+d TCP 10.0.0.1:80 -> 10.0.1.7:80',
    '+s TCP 10.0.0.4:443', '+d TCP 10.0.0.4:443 -> 10.0.1.9:443', '+d TCP 10.0.0.4:443 -> 10.0.1.3:443',
  ]);
  const why = plan(parseRules(ACTUAL), parseRules(DESIRED), { removeReason: 'not owned here' }).filter((c) => c.action === '-');
  assert.equal(why.length, 2);
  for (const c of why) assert.deepEqual(c.reasons, ['not owned here']);
  assert.deepEqual(plan(parseRules(ACTUAL), parseRules(ACTUAL)), []);
});

test('before/after leave out counters as well as real servers; a change of several fields renders them joined; many new real servers keep their order', () => {
  const a = parseRules('-A -t 10.0.0.1:80 -s rr\n');
  (a.services[0] as unknown as { stats: unknown }).stats = { conns: 5 };
  const cs = plan(a, parseRules('-A -t 10.0.0.1:80 -s wrr -p 30\n'));
  assert.equal(cs.length, 1);
  assert.ok(!Object.keys(cs[0].before as object).includes('stats'), Object.keys(cs[0].before as object).join(','));
  assert.equal(renderPlan(cs).replace(/\x1b\[[0-9;]*m/g, '').split('\n')[0], `~ -A -t 10.0.0.1:80 -s wrr -p 30  (${cs[0].reasons.join('; ')})`);
  assert.ok(cs[0].reasons.length >= 2);
  const many = [9, 3, 7, 1, 8, 2, 6, 4, 5].map((n) => `-a -t 10.0.0.1:80 -r 10.0.1.${n}:80 -m -w 1`).join('\n');
  const got = plan(parseRules('-A -t 10.0.0.1:80 -s rr\n'), parseRules(`-A -t 10.0.0.1:80 -s rr\n${many}\n`));
  assert.deepEqual(got.map((c) => c.dest!.address.split('.')[3]), ['9', '3', '7', '1', '8', '2', '6', '4', '5']);
});

test('toOps: every service add before any real server, removals of services last; previous rides along only for ~ and -', () => {
  const cs = plan(parseRules(ACTUAL), parseRules(DESIRED));
  const ops = toOps(cs);
  assert.deepEqual(ops.map((o) => `${o.kind} ${o.dest ? o.dest.address : o.service!.address}${'previous' in o ? ' prev' : ''}`), [
    'addService 10.0.0.4',
    'editService 10.0.0.1 prev',
    'delDest 10.0.1.6 prev',
    'editDest 10.0.1.5 prev',
    'addDest 10.0.1.7',
    'addDest 10.0.1.9',
    'addDest 10.0.1.3',
    'delService 10.0.0.2 prev',
  ]);
  // A timeout change is not a table change and never an op.
  const t = planTimeouts({ tcp: 900, tcpfin: 120, udp: 300 }, { tcp: 60 });
  assert.equal(isTableChange(t[0]), false);
  assert.equal(isTableChange(cs[0]), true);
  assert.equal(toOps([...t, ...cs]).length, ops.length);
  // Applying the ops gives the desired table.
  assert.equal(printRules(applyOpsToTable(parseRules(ACTUAL), ops)), printRules(parseRules(DESIRED)));
});

test('planTimeouts: only given, non-zero, differing fields; nothing when either side is missing', () => {
  const cur = { tcp: 900, tcpfin: 120, udp: 300 };
  assert.deepEqual(planTimeouts(cur, undefined), []);
  assert.deepEqual(planTimeouts(undefined, { tcp: 60 }), []);
  assert.deepEqual(planTimeouts(cur, { tcp: 900, tcpfin: 0 }), []);
  assert.deepEqual(planTimeouts(cur, { tcp: 60, tcpfin: 0, udp: 30 }), [{
    action: '~', kind: 'timeout', id: 'tcp tcpfin udp', timeouts: { tcp: 60, udp: 30 },
    reason: 'tcp 900 -> 60; udp 300 -> 30',
    command: ['ipvsadm', '--set', '60', '0', '30'],
    before: { tcp: 900, tcpfin: 120, udp: 300 }, after: { tcp: 60, tcpfin: 120, udp: 30 },
  }]);
  assert.deepEqual(planTimeouts(cur, { tcpfin: 5 })[0].command, ['ipvsadm', '--set', '0', '5', '0']);
});

test('renderPlan, planJson, summarize, ruleOf: the rules-file view', () => {
  const cs = plan(parseRules(ACTUAL), parseRules(DESIRED));
  assert.equal(renderPlan([]), 'No changes.');
  assert.equal(renderPlan(cs).replace(/\x1b\[[0-9;]*m/g, ''), [
    '~ -A -t 10.0.0.1:80 -s wrr  (scheduler rr -> wrr)',
    '- -a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1',
    '~ -a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3  (weight 1 -> 3)',
    '+ -a -t 10.0.0.1:80 -r 10.0.1.7:80 -m -w 1',
    '- -A -t 10.0.0.2:80 -s wlc',
    '+ -A -t 10.0.0.4:443 -s sh',
    '+ -a -t 10.0.0.4:443 -r 10.0.1.9:443 -g -w 1',
    '+ -a -t 10.0.0.4:443 -r 10.0.1.3:443 -g -w 1',
    'Plan: 4 to add, 2 to change, 2 to delete.',
  ].join('\n'));
  assert.deepEqual(summarize(cs), { add: 4, change: 2, destroy: 2 });
  assert.deepEqual(summarize([]), { add: 0, change: 0, destroy: 0 });
  const j = planJson(cs);
  assert.deepEqual(j.summary, { add: 4, change: 2, destroy: 2 });
  assert.deepEqual(j.changes[0], { action: '~', kind: 'service', service: 'TCP 10.0.0.1:80', destination: undefined, rule: '-A -t 10.0.0.1:80 -s wrr', reasons: ['scheduler rr -> wrr'] });
  assert.deepEqual(j.changes[1], { action: '-', kind: 'destination', service: 'TCP 10.0.0.1:80', destination: '10.0.1.6:80', rule: '-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1', reasons: ['not in the desired state'] });
  assert.equal(ruleOf(cs[4]), '-A -t 10.0.0.2:80 -s wlc');
});

// ---------------------------------------------------------------- restore's guards

function fakeDriver(initial: IpvsTable): IpvsDriver & { table: IpvsTable; writes: number; reads: number } {
  const d = {
    name: 'netlink' as const, table: initial, writes: 0, reads: 0,
    async getTable() { d.reads++; return d.table; },
    async apply(ops: Op[]) { d.writes += ops.length; d.table = applyOpsToTable(d.table, ops); },
  };
  return d as unknown as IpvsDriver & { table: IpvsTable; writes: number; reads: number };
}

async function refused(p: Promise<unknown>, code: string, re: RegExp): Promise<LbctlError> {
  try { await p; } catch (e) {
    assert.ok(e instanceof LbctlError, `not an LbctlError: ${String(e)}`);
    assert.equal(e.code, code, e.oneLine());
    assert.equal(e.exitCode, 3, e.oneLine());
    assert.match(e.oneLine(), re);
    return e;
  }
  assert.fail('expected a refusal');
}

test('restore refuses deleting every service, worded by count, before any write; editing or trimming the only service is not a wipe', async () => {
  const one = '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1\n';
  const d = fakeDriver(parseRules(one));
  await refused(restore(d, parseRules('')), 'EWIPE', /^refusing to delete all 1 virtual service: the input keeps none of them \(check the input; add --allow-empty if that is really meant, or use lbctl clear to flush\)$/);
  await refused(restore(d, parseRules('-A -t 10.0.0.9:80 -s rr\n'), { dryRun: true }), 'EWIPE', /all 1 virtual service:/);
  assert.equal(d.writes, 0);
  // A changed scheduler ('~' service) and a dropped real server ('-' destination) keep the service.
  const edited = await restore(d, parseRules('-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n'));
  assert.equal(edited.changed, true);
  assert.deepEqual(edited.plan.summary, { add: 0, change: 1, destroy: 1 });
  assert.equal(printRules(d.table), printRules(parseRules('-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n')));
  // Two services: "services".
  const two = fakeDriver(parseRules(ACTUAL));
  await refused(restore(two, parseRules('-A -t 10.0.0.9:80 -s rr\n')), 'EWIPE', /^refusing to delete all 2 virtual services: /);
  assert.equal(two.writes, 0);
  // allowEmpty lets the wipe through and says it changed.
  const r = await restore(two, { services: [] }, { allowEmpty: true });
  assert.equal(r.changed, true);
  assert.equal(r.dryRun, false);
  assert.equal(two.table.services.length, 0);
  assert.deepEqual(r.plan.summary, { add: 0, change: 0, destroy: 2 });
  // An empty kernel has nothing to lose: an empty input is no wipe there.
  const none = await restore(fakeDriver({ services: [] }), { services: [] });
  assert.deepEqual([none.changed, none.changes.length], [false, 0]);
  const fresh = fakeDriver({ services: [] });
  assert.equal((await restore(fresh, parseRules(DESIRED))).changed, true);
  assert.equal(fresh.writes, 6);
});

test('restore: a dry run reads and plans but writes nothing and says changed:false; merge reaches the planner; an invalid table is refused before the kernel is read', async () => {
  const d = fakeDriver(parseRules(ACTUAL));
  const dry = await restore(d, parseRules(DESIRED), { dryRun: true });
  assert.equal(dry.dryRun, true);
  assert.equal(dry.changed, false);
  assert.equal(dry.changes.length, 8);
  assert.deepEqual(dry.plan, planJson(dry.changes));
  assert.equal(d.writes, 0);
  const merged = await restore(d, parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n'), { merge: true });
  assert.equal(merged.changed, false, 'merge: the missing service and real server are not deleted');
  assert.equal(merged.dryRun, false);
  assert.equal(d.writes, 0);
  const applied = await restore(d, parseRules(DESIRED));
  assert.equal(applied.changed, true);
  assert.equal(d.writes, 8);
  assert.equal(printRules(d.table), printRules(parseRules(DESIRED)));
  const again = await restore(d, parseRules(DESIRED));
  assert.equal(again.changed, false);
  assert.equal(d.writes, 8);

  const bad = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m\n');
  bad.services[0].destinations[0].weight = -1;
  const e = fakeDriver(parseRules(ACTUAL));
  const err = await refused(restore(e, bad), 'EBADWEIGHT', /TCP 10\.0\.0\.1:80/);
  assert.ok(err.oneLine().startsWith('TCP 10.0.0.1:80: '), err.oneLine());
  assert.equal(e.reads, 0, 'refused before the kernel is read');
  assert.equal(e.writes, 0);
});

test('loadDesired: no input refused, naming the file; --allow-empty gives the empty table; text is parsed', async () => {
  const file = (name: string, text: string) => { const p = path.join(dir, name); writeFileSync(p, text); return p; };
  const empty = file('empty.rules', '\n  \n');
  const e = await refused(loadDesired(empty), 'ENOINPUT', /no input: the rules are empty/);
  assert.ok(e.oneLine().includes(empty), e.oneLine());
  assert.match(e.oneLine(), /--allow-empty/);
  assert.deepEqual(await loadDesired(empty, undefined, { allowEmpty: true }), { services: [] });
  const t = await loadDesired(file('one.rules', '-A -t 10.0.0.1:80 -s rr\n'));
  assert.equal(t.services.length, 1);
  // A single non-space character is input (parsed, and refused by the parser, not as "no input").
  await assert.rejects(loadDesired(file('x.rules', 'x')), (err: unknown) => err instanceof LbctlError && err.code !== 'ENOINPUT');
});
