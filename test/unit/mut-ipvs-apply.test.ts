/**
 * src/ipvs/driver.ts: the all-or-nothing batch (applyAllOrNothing), its preflight refusals and
 * its compensating changes, over an in-memory BatchWriter whose table and failures the test
 * controls exactly (which op fails, which later ops a pipelined kernel still applied, which
 * undo ops fail). Mutants survived here under the netlink tests alone: docs/DEV.md "Mutation testing".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAllOrNothing, compensation, injectedFault, preflight, type BatchFailure, type BatchWriter, type Op } from '../../src/ipvs/driver.js';
import { destinationKey, serviceKey, type Destination, type IpvsTable, type VirtualService } from '../../src/ipvs/model.js';
import { NotFoundError, RejectedError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

const svc = (n: number, dests: number[] = []): VirtualService => ({
  protocol: 'tcp', family: 'inet', address: `10.94.0.${n}`, port: 80, scheduler: 'rr', persistence: 0, netmask: '255.255.255.255',
  schedFlags: [], onePacket: false, destinations: dests.map((d) => dest(d)),
});
const dest = (n: number, weight = 1): Destination => ({ address: `10.94.1.${n}`, port: 80, family: 'inet', forward: 'masq', weight, upperThreshold: 0, lowerThreshold: 0 });

/** A kernel in memory: applies ops, fails the ones `refuse` names, and logs every batch. */
class Kernel implements BatchWriter {
  table: IpvsTable;
  batches: Op[][] = [];
  reads = 0;
  /** (batch number, index within it) -> refused. */
  refuse: (batch: number, i: number, op: Op) => boolean = () => false;
  /** A pipelined kernel goes on after an error within a window: apply the rest of the batch too. */
  goOn = false;
  /** Make the undo batch itself throw (a transport error, not a refusal). */
  throwOnBatch?: number;
  faults: Array<number | undefined> = [];

  constructor(services: VirtualService[]) { this.table = { services: structuredClone(services) }; }

  async readTable(): Promise<IpvsTable> { this.reads++; return structuredClone(this.table); }

  async write(ops: Op[], fault?: number): Promise<BatchFailure | undefined> {
    const b = this.batches.length;
    this.batches.push(ops);
    this.faults.push(fault);
    if (this.throwOnBatch === b) throw new Error('socket closed');
    let fail: BatchFailure | undefined;
    const applied: number[] = [];
    for (const [i, op] of ops.entries()) {
      if (fail && !this.goOn) break;
      if (i === fault || this.refuse(b, i, op)) {
        if (!fail) fail = { index: i, error: new RejectedError(`refused ${op.kind}`, { code: 'EINVAL' }), applied };
        continue;
      }
      this.run(op);
      applied.push(i);
    }
    return fail;
  }

  private run(op: Op): void {
    const key = op.service ? serviceKey(op.service) : '';
    const s = this.table.services.find((x) => serviceKey(x) === key);
    switch (op.kind) {
      case 'addService': this.table.services.push({ ...structuredClone(op.service!), destinations: [] }); break;
      case 'editService': Object.assign(s!, { ...structuredClone(op.service!), destinations: s!.destinations }); break;
      case 'delService': this.table.services = this.table.services.filter((x) => x !== s); break;
      case 'addDest': s!.destinations.push(structuredClone(op.dest!)); break;
      case 'editDest': s!.destinations = s!.destinations.map((d) => (destinationKey(d) === destinationKey(op.dest!) ? structuredClone(op.dest!) : d)); break;
      case 'delDest': s!.destinations = s!.destinations.filter((d) => destinationKey(d) !== destinationKey(op.dest!)); break;
      case 'flush': this.table.services = []; break;
      case 'zero': break;
    }
  }
}

const norm = (t: IpvsTable) => JSON.stringify([...t.services].sort((a, b) => serviceKey(a).localeCompare(serviceKey(b))).map((s) => ({ ...s, destinations: [...s.destinations].sort((a, b) => destinationKey(a).localeCompare(destinationKey(b))) })));

async function failure(p: Promise<unknown>): Promise<Error> {
  try { await p; } catch (e) { return e as Error; }
  assert.fail('expected a rejection');
}

/** A mixed batch over svc 1 (dests 1,2) and svc 2: every kind of change, ops without `previous`. */
function mixed(): Op[] {
  return [
    { kind: 'editService', service: { ...svc(1), scheduler: 'wrr' } },
    { kind: 'editDest', service: svc(1), dest: dest(1, 9) },
    { kind: 'delDest', service: svc(1), dest: dest(2) },
    { kind: 'addDest', service: svc(1), dest: dest(3) },
    { kind: 'addService', service: svc(3) },
    { kind: 'addDest', service: svc(3), dest: dest(4) },
    { kind: 'delService', service: svc(2) },
  ];
}

test('a failure at every change k of n is rolled back to exactly the table before; the message says how much', async () => {
  const ops0 = mixed();
  for (let k = 0; k < ops0.length; k++) {
    const kern = new Kernel([svc(1, [1, 2]), svc(2, [5, 6])]);
    const before = norm(kern.table);
    kern.refuse = (b, i) => b === 0 && i === k;
    const e = await failure(applyAllOrNothing(kern, mixed()));
    assert.ok(e instanceof RejectedError, 'the original error class (and so exit code) is kept');
    assert.equal((e as RejectedError).code, 'EINVAL');
    assert.equal(kern.reads, 1, 'the table is read once, for the missing previous values');
    assert.equal(norm(kern.table), before, `k=${k + 1}: table as before`);
    if (k === 0) {
      assert.equal(e.message, `change 1 of 7 failed: refused editService; nothing was applied: table as before`);
      assert.equal(kern.batches.length, 1, 'nothing to undo: no second batch');
    } else {
      assert.equal(e.message, `change ${k + 1} of 7 failed: refused ${ops0[k].kind}; rolled back ${k} change(s): table as before`);
      // The undo runs in reverse order of the applied ops.
      const undoKinds = kern.batches[1].map((o) => o.kind);
      const expected = ops0.slice(0, k).reverse().flatMap((o) => compensation({ ...o, previous: o.kind === 'editService' ? svc(1, [1, 2]) : o.kind === 'delService' ? svc(2, [5, 6]) : dest(o.kind === 'delDest' ? 2 : 1) }).map((c) => c.kind));
      assert.deepEqual(undoKinds, expected);
    }
  }
});

test('a pipelined kernel applied ops after the failing one: those are undone too, in reverse order', async () => {
  const kern = new Kernel([svc(1, [1, 2])]);
  const before = norm(kern.table);
  kern.goOn = true;
  kern.refuse = (b, i) => b === 0 && i === 1;
  const ops: Op[] = [
    { kind: 'addDest', service: svc(1), dest: dest(7) },
    { kind: 'addDest', service: svc(1), dest: dest(8) },
    { kind: 'addDest', service: svc(1), dest: dest(9) },
    { kind: 'zero', service: svc(1) },
  ];
  const e = await failure(applyAllOrNothing(kern, ops));
  assert.equal(e.message, 'change 2 of 4 failed: refused addDest; rolled back 2 change(s): table as before');
  assert.deepEqual(kern.batches[1].map((o) => o.dest!.address), ['10.94.1.9', '10.94.1.7'], 'zero is not undone; 9 before 7');
  assert.equal(norm(kern.table), before);
  assert.equal(kern.reads, 0, 'add ops need no previous: no read');
});

test('only zero/flush applied before the failure: nothing to undo, "nothing was applied"', async () => {
  const kern = new Kernel([svc(1, [1])]);
  kern.refuse = (b, i) => b === 0 && i === 1;
  const e = await failure(applyAllOrNothing(kern, [{ kind: 'zero', service: svc(1) }, { kind: 'addDest', service: svc(1), dest: dest(2) }]));
  assert.equal(e.message, 'change 2 of 2 failed: refused addDest; nothing was applied: table as before');
  assert.equal(kern.batches.length, 1);
});

test('a single op: its own message, unchanged', async () => {
  const kern = new Kernel([]);
  kern.refuse = () => true;
  const e = await failure(applyAllOrNothing(kern, [{ kind: 'addService', service: svc(1) }]));
  assert.equal(e.message, 'refused addService');
  kern.refuse = () => false;
  await applyAllOrNothing(kern, [{ kind: 'addService', service: svc(1) }]);
  assert.equal(kern.table.services.length, 1);
});

/** A new service with a real server, then an edit and an add in an existing one (fails at op 4 in these tests). */
const newServiceThenEdits = (): Op[] => [
  { kind: 'addService', service: svc(5) },
  { kind: 'addDest', service: svc(5), dest: dest(1) },
  { kind: 'editDest', service: svc(1), dest: dest(1, 4), previous: dest(1) },
  { kind: 'addDest', service: svc(1), dest: dest(2) },
];

test('the undo fails too: the error lists exactly what remains applied', async () => {
  const kern = new Kernel([svc(1, [1])]);
  kern.refuse = (b, i) => (b === 0 && i === 3) || (b === 1 && i === 0);
  kern.goOn = false;
  const ops = newServiceThenEdits();
  // Undo batch: [editDest back (refused: first undo op), delDest 10.94.1.1 in svc 5, delService 5]; not going on: nothing undone.
  const e = await failure(applyAllOrNothing(kern, ops));
  assert.equal(e.message, 'change 4 of 4 failed: refused addDest; rollback failed too (refused editDest): 3 change(s) remain applied: '
    + 'add service TCP 10.94.0.5:80, add real server 10.94.1.1:80 in TCP 10.94.0.5:80, edit real server 10.94.1.1:80 in TCP 10.94.0.1:80');
  assert.ok(e instanceof RejectedError);
});

test('undo partly done: a real server of a service whose own undo succeeded is not listed as remaining', async () => {
  const kern = new Kernel([svc(1, [1])]);
  kern.goOn = true;
  // Batch 0 fails at op 3; undo batch = [editDest back, delDest in svc 5, delService 5]: the editDest undo fails, the rest apply.
  kern.refuse = (b, i) => (b === 0 && i === 3) || (b === 1 && i === 0);
  const ops = newServiceThenEdits();
  const e = await failure(applyAllOrNothing(kern, ops));
  assert.equal(e.message, 'change 4 of 4 failed: refused addDest; rollback failed too (refused editDest): 1 change(s) remain applied: edit real server 10.94.1.1:80 in TCP 10.94.0.1:80');

  // Only the delService undo fails: the service remains (its real server's undo worked).
  const k2 = new Kernel([svc(1, [1])]);
  k2.goOn = true;
  k2.refuse = (b, i) => (b === 0 && i === 3) || (b === 1 && i === 2);
  const e2 = await failure(applyAllOrNothing(k2, ops.map((o) => ({ ...o }))));
  assert.match(e2.message, /rollback failed too \(refused delService\): 1 change\(s\) remain applied: add service TCP 10.94.0.5:80$/);

  // Only the real server's undo fails, but its service's undo took it away: nothing remains.
  const k3 = new Kernel([svc(1, [1])]);
  const before3 = norm(k3.table);
  k3.goOn = true;
  k3.refuse = (b, i) => (b === 0 && i === 3) || (b === 1 && i === 1);
  const e3 = await failure(applyAllOrNothing(k3, ops.map((o) => ({ ...o }))));
  assert.equal(e3.message, 'change 4 of 4 failed: refused addDest; rolled back 3 change(s): table as before');
  assert.equal(norm(k3.table), before3);
});

test('the undo batch throws (socket gone): every applied change is listed as remaining, at most 5 by name', async () => {
  const kern = new Kernel([svc(1)]);
  kern.throwOnBatch = 1;
  const ops: Op[] = [1, 2, 3, 4, 5, 6, 7].map((n) => ({ kind: 'addDest', service: svc(1), dest: dest(n) }));
  kern.refuse = (b, i) => b === 0 && i === 6;
  const e = await failure(applyAllOrNothing(kern, ops));
  assert.equal(e.message, 'change 7 of 7 failed: refused addDest; rollback failed too (socket closed): 6 change(s) remain applied: '
    + 'add real server 10.94.1.1:80 in TCP 10.94.0.1:80, add real server 10.94.1.2:80 in TCP 10.94.0.1:80, add real server 10.94.1.3:80 in TCP 10.94.0.1:80, '
    + 'add real server 10.94.1.4:80 in TCP 10.94.0.1:80, add real server 10.94.1.5:80 in TCP 10.94.0.1:80 and 1 more');
});

test('empty batch writes nothing; a flush must be alone; ops with previous need no read', async () => {
  const kern = new Kernel([svc(1, [1])]);
  await applyAllOrNothing(kern, []);
  assert.equal(kern.batches.length, 0);
  await assert.rejects(applyAllOrNothing(kern, [{ kind: 'flush' }, { kind: 'addService', service: svc(2) }]), /a flush must be a batch of its own/);
  assert.equal(kern.batches.length, 0);
  await applyAllOrNothing(kern, [{ kind: 'flush' }]);
  assert.equal(kern.table.services.length, 0);
  const k2 = new Kernel([svc(1, [1])]);
  await applyAllOrNothing(k2, [{ kind: 'editDest', service: svc(1), dest: dest(1, 3), previous: dest(1) }, { kind: 'delService', service: svc(1), previous: svc(1, [1]) }]);
  assert.equal(k2.reads, 0);
});

test('LBCTL_FAULT_IPVS: k (1-based) reaches the writer as index k-1 only for batches of at least k changes', async () => {
  const ops: Op[] = [{ kind: 'addService', service: svc(1) }, { kind: 'addService', service: svc(2) }];
  const cases: Array<[string | undefined, number | undefined]> = [[undefined, undefined], ['0', undefined], ['x', undefined], ['01', undefined], ['1', 0], ['2', 1], ['3', undefined], ['12', undefined]];
  for (const [v, want] of cases) {
    if (v === undefined) delete process.env.LBCTL_FAULT_IPVS; else process.env.LBCTL_FAULT_IPVS = v;
    try {
      const kern = new Kernel([]);
      await applyAllOrNothing(kern, ops.map((o) => ({ ...o }))).catch(() => undefined);
      assert.equal(kern.faults[0], want, `LBCTL_FAULT_IPVS=${v}`);
    } finally { delete process.env.LBCTL_FAULT_IPVS; }
  }
  process.env.LBCTL_FAULT_IPVS = '7';
  try { assert.equal(injectedFault(), 6); } finally { delete process.env.LBCTL_FAULT_IPVS; }
});

test('preflight refuses, before any write, what the kernel would refuse; fills previous', () => {
  const before: IpvsTable = { services: [svc(1, [1, 2])] };
  const cases: Array<[Op[], new (...a: any[]) => Error, string, RegExp]> = [
    [[{ kind: 'addService', service: svc(1), origin: 'r:1' }], RejectedError, 'EEXIST', /virtual service TCP 10.94.0.1:80 already exists/],
    [[{ kind: 'editService', service: svc(2), origin: 'r:2' }], NotFoundError, 'ESRCH', /virtual service TCP 10.94.0.2:80 does not exist/],
    [[{ kind: 'addDest', service: svc(1), dest: dest(2), origin: 'r:3' }], RejectedError, 'EEXIST', /real server 10.94.1.2:80 in TCP 10.94.0.1:80 already exists/],
    [[{ kind: 'delDest', service: svc(1), dest: dest(3), origin: 'r:4' }], NotFoundError, 'ENOENT', /real server 10.94.1.3:80 in TCP 10.94.0.1:80 does not exist/],
    [[{ kind: 'delService', service: svc(1) }, { kind: 'addDest', service: svc(1), dest: dest(5), origin: 'r:5' }], NotFoundError, 'ESRCH', /does not exist/],
    [[{ kind: 'delDest', service: svc(1), dest: dest(1) }, { kind: 'editDest', service: svc(1), dest: dest(1), origin: 'r:6' }], NotFoundError, 'ENOENT', /10.94.1.1:80 .* does not exist/],
    [[{ kind: 'addService', service: svc(3) }, { kind: 'addService', service: svc(3), origin: 'r:7' }], RejectedError, 'EEXIST', /already exists/],
    [[{ kind: 'addDest', service: svc(1), dest: dest(9) }, { kind: 'addDest', service: svc(1), dest: dest(9), origin: 'r:8' }], RejectedError, 'EEXIST', /already exists/],
  ];
  for (const [ops, cls, code, msg] of cases) {
    const e = (() => { try { preflight(before, ops); } catch (x) { return x as Error & { code?: string; where?: string }; } assert.fail(`refused: ${JSON.stringify(ops)}`); })();
    assert.ok(e instanceof cls, `${code}: ${e.constructor.name}`);
    assert.equal(e.code, code);
    assert.equal(e.where, ops.at(-1)!.origin);
    assert.match(e.message, msg);
  }
  assert.equal(before.services[0].destinations.length, 2, 'the table read is not changed by preflight');
  // Accepted, with previous filled from the table (or from what earlier ops did to it).
  const ops: Op[] = [
    { kind: 'editDest', service: svc(1), dest: dest(1, 7) },
    { kind: 'editDest', service: svc(1), dest: dest(1, 8) },
    { kind: 'editService', service: { ...svc(1), scheduler: 'wlc' } },
    { kind: 'zero', service: svc(1) },
    { kind: 'delService', service: svc(1) },
    { kind: 'addService', service: svc(1) },
    { kind: 'addDest', service: svc(1), dest: dest(1) },
  ];
  preflight(before, ops);
  assert.equal((ops[0].previous as Destination).weight, 1);
  assert.equal((ops[1].previous as Destination).weight, 7, 'what the earlier op left');
  assert.equal((ops[2].previous as VirtualService).scheduler, 'rr');
  assert.equal((ops[4].previous as VirtualService).scheduler, 'wlc');
  assert.deepEqual((ops[4].previous as VirtualService).destinations.map((d) => [d.address, d.weight]), [['10.94.1.1', 8], ['10.94.1.2', 1]]);
  assert.equal(ops[5].previous, undefined);
  // A previous already given is kept.
  const given: Op = { kind: 'delDest', service: svc(1), dest: dest(2), previous: dest(2, 42) };
  preflight(before, [given]);
  assert.equal((given.previous as Destination).weight, 42);
  // A flush empties the table: adding afterwards is fine, editing is not.
  preflight(before, [{ kind: 'flush' }, { kind: 'addService', service: svc(1) }]);
  assert.throws(() => preflight(before, [{ kind: 'flush' }, { kind: 'zero', service: svc(1) }]), NotFoundError);
  preflight(before, [{ kind: 'zero' }]);
});

test('compensation: the exact inverse of each kind', () => {
  const s = svc(1);
  assert.deepEqual(compensation({ kind: 'addService', service: s }), [{ kind: 'delService', service: s }]);
  assert.deepEqual(compensation({ kind: 'editService', service: s, previous: svc(9) }), [{ kind: 'editService', service: svc(9) }]);
  const prev = svc(1, [1, 2]);
  assert.deepEqual(compensation({ kind: 'delService', service: s, previous: prev }), [
    { kind: 'addService', service: prev }, { kind: 'addDest', service: prev, dest: prev.destinations[0] }, { kind: 'addDest', service: prev, dest: prev.destinations[1] },
  ]);
  assert.deepEqual(compensation({ kind: 'addDest', service: s, dest: dest(1) }), [{ kind: 'delDest', service: s, dest: dest(1) }]);
  assert.deepEqual(compensation({ kind: 'editDest', service: s, dest: dest(1, 5), previous: dest(1) }), [{ kind: 'editDest', service: s, dest: dest(1) }]);
  assert.deepEqual(compensation({ kind: 'delDest', service: s, dest: dest(1), previous: dest(1, 3) }), [{ kind: 'addDest', service: s, dest: dest(1, 3) }]);
  assert.deepEqual(compensation({ kind: 'zero', service: s }), []);
  assert.deepEqual(compensation({ kind: 'flush' }), []);
});

test('exit codes survive the rewording', async () => {
  const kern = new Kernel([]);
  kern.refuse = (b, i) => b === 0 && i === 1;
  const e = await failure(applyAllOrNothing(kern, [{ kind: 'addService', service: svc(1) }, { kind: 'addService', service: svc(2) }]));
  assert.equal((e as RejectedError).exitCode, ExitCode.Rejected);
  assert.match((e as RejectedError).oneLine(), /rolled back 1 change\(s\): table as before/);
});

test('the undo follows the applied set in index order, whatever order the writer reports it in', async () => {
  const kern = new Kernel([svc(1)]);
  const ops: Op[] = [1, 2, 3].map((n) => ({ kind: 'addDest', service: svc(1), dest: dest(n) }));
  const real = kern.write.bind(kern);
  kern.write = async (o: Op[], fault?: number) => {
    const r = await real(o, fault);
    return kern.batches.length === 1 ? { index: 1, error: new RejectedError('refused addDest'), applied: [2, 0] } : r;
  };
  const e = await failure(applyAllOrNothing(kern, ops));
  assert.equal(e.message, 'change 2 of 3 failed: refused addDest; rolled back 2 change(s): table as before');
  assert.deepEqual(kern.batches[1].map((o) => o.dest!.address), ['10.94.1.3', '10.94.1.1']);
});

test('a real server whose undo failed stays listed when its service was not created by the batch', async () => {
  const kern = new Kernel([svc(1)]);
  kern.goOn = true;
  const ops: Op[] = [
    { kind: 'addDest', service: svc(1), dest: dest(1) },
    { kind: 'addDest', service: svc(1), dest: dest(2) },
    { kind: 'addService', service: svc(2) },
  ];
  // Batch 0 fails at op 2; undo = [delDest 2, delDest 1]: the second (dest 1) fails.
  kern.refuse = (b, i) => (b === 0 && i === 2) || (b === 1 && i === 1);
  const e = await failure(applyAllOrNothing(kern, ops));
  assert.equal(e.message, 'change 3 of 3 failed: refused addService; rollback failed too (refused delDest): 1 change(s) remain applied: add real server 10.94.1.1:80 in TCP 10.94.0.1:80');
});

test('exactly five remaining are all named, with no "and 0 more"', async () => {
  const kern = new Kernel([svc(1)]);
  kern.throwOnBatch = 1;
  const ops: Op[] = [1, 2, 3, 4, 5, 6].map((n) => ({ kind: 'addDest', service: svc(1), dest: dest(n) }));
  kern.refuse = (b, i) => b === 0 && i === 5;
  const e = await failure(applyAllOrNothing(kern, ops));
  assert.match(e.message, /5 change\(s\) remain applied: (add real server [^,]+, ){4}add real server 10\.94\.1\.5:80 in TCP 10\.94\.0\.1:80$/);
});

test('preflight: hints, a duplicate at index 0, a service created in the batch has no real servers, a delete keeps the others', () => {
  const before: IpvsTable = { services: [svc(1, [1, 2])] };
  const hintOf = (ops: Op[]) => { try { preflight(before, ops); } catch (e) { return (e as RejectedError).hint; } return undefined; };
  assert.equal(hintOf([{ kind: 'addService', service: svc(1) }]), 'edit it, or use `lbctl restore`, which converges');
  assert.equal(hintOf([{ kind: 'editService', service: svc(7) }]), 'add the service first');
  assert.equal(hintOf([{ kind: 'addDest', service: svc(1), dest: dest(1) }]), 'edit it instead, or use `lbctl restore`, which converges', 'the first real server is a duplicate too');
  const created: Op[] = [{ kind: 'addService', service: svc(5) }, { kind: 'delService', service: svc(5) }];
  preflight(before, created);
  assert.deepEqual((created[1].previous as VirtualService).destinations, []);
  const after: Op[] = [{ kind: 'delDest', service: svc(1), dest: dest(1) }, { kind: 'editDest', service: svc(1), dest: dest(2, 4) }, { kind: 'delService', service: svc(1) }];
  preflight(before, after);
  assert.deepEqual((after[2].previous as VirtualService).destinations.map((d) => [d.address, d.weight]), [['10.94.1.2', 4]]);
});
