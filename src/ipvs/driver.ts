/**
 * The driver interface, shaped like moby/ipvs's Handle. Two implementations: ipvsadm.ts
 * (the ipvsadm binary, one `ipvsadm -R` process per batch) and netlink/ (generic netlink
 * "IPVS" family, pipelined). Everything above this line is driver-agnostic.
 *
 * Both drivers apply a batch all-or-nothing through applyAllOrNothing() below: the kernel has
 * no transactions, so a batch that fails at change k of n is undone by compensating changes.
 */
import { LbctlError, NotFoundError, RejectedError } from '../cli/errors.js';
import { configOf, destinationKey, serviceKey, serviceLabel, type Destination, type IpvsTable, type VirtualService } from './model.js';

export type OpKind = 'addService' | 'editService' | 'delService' | 'addDest' | 'editDest' | 'delDest' | 'flush' | 'zero';

/** One kernel write. `service` carries the full desired service (destinations ignored). */
export interface Op {
  kind: OpKind;
  service?: VirtualService;
  dest?: Destination;
  /** Where this op came from, for error messages (e.g. "rules.txt:12"). */
  origin?: string;
  /**
   * What the op replaces, so a failed batch can be undone without reading the table again:
   * editService/delService: the service as it was (delService: with its destinations);
   * editDest/delDest: the destination as it was. Filled by toOps() and ops.ts; when missing,
   * the batch reads the table once before writing.
   */
  previous?: VirtualService | Destination;
}

export interface ReadOptions {
  /** Fill stats (64-bit counters) and rates on services and destinations. */
  stats?: boolean;
}

export interface Timeouts { tcp: number; tcpfin: number; udp: number }

export interface SyncDaemon { state: 'master' | 'backup'; mcastIfn: string; syncId: number }

export interface IpvsInfo { version: string; connTableSize: number }

export interface IpvsDriver {
  readonly name: 'netlink' | 'ipvsadm';
  /** The whole table in one call (services with their destinations). */
  getTable(opts?: ReadOptions): Promise<IpvsTable>;
  /**
   * Apply a batch of writes, all or nothing: on a failure at change k of n the changes already
   * applied are undone, and the error says so (or, if undoing failed, which changes remain).
   */
  apply(ops: Op[]): Promise<void>;
  getInfo(): Promise<IpvsInfo>;
  getTimeouts(): Promise<Timeouts>;
  setTimeouts(t: Partial<Timeouts>): Promise<void>;
  getDaemons(): Promise<SyncDaemon[]>;
  startDaemon(d: SyncDaemon): Promise<void>;
  stopDaemon(state: SyncDaemon['state']): Promise<void>;
  close(): Promise<void>;
}

/** A driver's raw batch failed partway: which op failed first, and exactly which took effect. */
export interface BatchFailure {
  index: number;
  error: Error;
  /** Indexes of ops that took effect (a pipelined kernel goes on after an error within a window). */
  applied: number[];
}

/** What applyAllOrNothing needs from a driver. */
export interface BatchWriter {
  /** Write ops in order; `fault` (0-based) must make that op fail in the kernel (test-only switch). */
  write(ops: Op[], fault?: number): Promise<BatchFailure | undefined>;
  readTable(): Promise<IpvsTable>;
}

/**
 * TEST ONLY: LBCTL_FAULT_IPVS=k makes change k (1-based) of every IPVS batch of at least k changes
 * fail in the kernel, to test rollback. Read here and nowhere else; never set it in production.
 */
export function injectedFault(): number | undefined {
  const v = process.env.LBCTL_FAULT_IPVS;
  if (!v || !/^[1-9]\d*$/.test(v)) return undefined;
  return Number(v) - 1;
}

export function injectedFaultError(index: number, where: string): RejectedError {
  return new RejectedError(`injected fault at change ${index + 1} (LBCTL_FAULT_IPVS, a test-only switch)`, { code: 'EFAULTINJECTED', where });
}

const needsPrevious = (op: Op) => op.kind === 'editService' || op.kind === 'delService' || op.kind === 'editDest' || op.kind === 'delDest';

function opName(op: Op): string {
  const svc = op.service ? serviceLabel(op.service) : 'IPVS';
  const verb = { addService: 'add', editService: 'edit', delService: 'delete', addDest: 'add', editDest: 'edit', delDest: 'delete', flush: 'flush', zero: 'zero' }[op.kind];
  return op.dest ? `${verb} real server ${destinationKey(op.dest)} in ${svc}` : `${verb} ${op.kind === 'flush' || op.kind === 'zero' ? svc : `service ${svc}`}`;
}

/**
 * Walk the ops over a copy of `before`: fill each op's `previous` and refuse, before anything is
 * written, an op the kernel would refuse for the table's state (the checkable part of a batch).
 */
export function preflight(before: IpvsTable, ops: Op[]): void {
  const services = new Map(before.services.map((s) => [serviceKey(s), { ...configOf(s) }]));
  for (const op of ops) {
    if (op.kind === 'flush') { services.clear(); continue; }
    if (!op.service) continue;
    const key = serviceKey(op.service);
    const cur = services.get(key);
    const where = op.origin;
    const svcName = serviceLabel(op.service);
    if (op.kind === 'addService') {
      if (cur) throw new RejectedError(`virtual service ${svcName} already exists`, { code: 'EEXIST', where, hint: 'edit it, or use `lbctl restore`, which converges' });
      services.set(key, { ...configOf(op.service), destinations: [] });
      continue;
    }
    if (!cur) throw new NotFoundError(`virtual service ${svcName} does not exist`, { code: 'ESRCH', where, hint: 'add the service first' });
    if (op.kind === 'zero') continue;
    if (op.kind === 'editService') { op.previous ??= cur; services.set(key, { ...configOf(op.service), destinations: cur.destinations }); continue; }
    if (op.kind === 'delService') { op.previous ??= cur; services.delete(key); continue; }
    const dk = destinationKey(op.dest!);
    const i = cur.destinations.findIndex((d) => destinationKey(d) === dk);
    const destName = `real server ${dk} in ${svcName}`;
    if (op.kind === 'addDest') {
      if (i >= 0) throw new RejectedError(`${destName} already exists`, { code: 'EEXIST', where, hint: 'edit it instead, or use `lbctl restore`, which converges' });
      cur.destinations = [...cur.destinations, op.dest!];
      continue;
    }
    if (i < 0) throw new NotFoundError(`${destName} does not exist`, { code: 'ENOENT', where });
    op.previous ??= cur.destinations[i];
    cur.destinations = op.kind === 'delDest' ? cur.destinations.filter((_, j) => j !== i) : cur.destinations.map((d, j) => (j === i ? op.dest! : d));
  }
}

/** The changes that undo one applied op (empty for zero: counters cannot be given back). */
export function compensation(op: Op): Op[] {
  const prevSvc = op.previous as VirtualService | undefined;
  const prevDest = op.previous as Destination | undefined;
  switch (op.kind) {
    case 'addService': return [{ kind: 'delService', service: op.service }];
    case 'editService': return [{ kind: 'editService', service: prevSvc }];
    case 'delService': return [{ kind: 'addService', service: prevSvc }, ...prevSvc!.destinations.map((d): Op => ({ kind: 'addDest', service: prevSvc, dest: d }))];
    case 'addDest': return [{ kind: 'delDest', service: op.service, dest: op.dest }];
    case 'editDest': return [{ kind: 'editDest', service: op.service, dest: prevDest }];
    case 'delDest': return [{ kind: 'addDest', service: op.service, dest: prevDest }];
    default: return [];
  }
}

function listOps(ops: Op[], limit = 5): string {
  const shown = ops.slice(0, limit).map(opName).join(', ');
  return ops.length > limit ? `${shown} and ${ops.length - limit} more` : shown;
}

/** Rewrite the failure's one line in place: its class, exit code, errno and hint stay. */
function restate(e: Error, message: string): Error {
  e.message = message;
  return e;
}

/**
 * Apply `ops` all or nothing. Ops that replace something must know what (`previous`); if any
 * does not, the table is read once first, which also checks every op against it before writing.
 * On a failure at change k of n, the applied changes are undone in reverse order and the error
 * (the original class, so the original exit code) says "change k of n failed: ...; rolled back m
 * change(s): table as before", or which changes remain applied if undoing failed too.
 */
export async function applyAllOrNothing(w: BatchWriter, ops: Op[]): Promise<void> {
  if (!ops.length) return;
  if (ops.some((op) => op.kind === 'flush') && ops.length > 1) throw new Error('a flush must be a batch of its own');
  if (ops.some((op) => needsPrevious(op) && !op.previous)) preflight(await w.readTable(), ops);
  const fault = injectedFault();
  const fail = await w.write(ops, fault !== undefined && fault < ops.length ? fault : undefined);
  if (!fail) return;
  const n = ops.length;
  const head = n > 1 ? `change ${fail.index + 1} of ${n} failed: ` : '';
  const applied = [...fail.applied].sort((a, b) => a - b).filter((i) => ops[i].kind !== 'zero' && ops[i].kind !== 'flush');
  if (!applied.length) {
    throw restate(fail.error, n > 1 ? `${head}${fail.error.message}; nothing was applied: table as before` : fail.error.message);
  }
  // Undo in reverse order, remembering which original op each compensating op belongs to.
  const undo: Op[] = [];
  const owner: number[] = [];
  for (const i of [...applied].reverse()) for (const c of compensation(ops[i])) { undo.push(c); owner.push(i); }
  let rb: BatchFailure | undefined;
  try {
    rb = await w.write(undo);
  } catch (e) {
    rb = { index: 0, error: e as Error, applied: [] };
  }
  if (!rb) {
    throw restate(fail.error, `${head}${fail.error.message}; rolled back ${applied.length} change(s): table as before`);
  }
  const undone = new Set<number>(rb.applied);
  const failedUndo = (i: number) => owner.some((o, j) => o === i && !undone.has(j));
  // A real server of a service this batch created went away with that service's undo.
  const removedServices = new Set(applied.filter((i) => ops[i].kind === 'addService' && !failedUndo(i)).map((i) => serviceKey(ops[i].service!)));
  const remaining = applied.filter((i) => failedUndo(i) && !(ops[i].dest && removedServices.has(serviceKey(ops[i].service!))));
  if (!remaining.length) {
    throw restate(fail.error, `${head}${fail.error.message}; rolled back ${applied.length} change(s): table as before`);
  }
  const why = rb.error instanceof LbctlError ? rb.error.message : String(rb.error.message ?? rb.error);
  throw restate(fail.error, `${head}${fail.error.message}; rollback failed too (${why}): ${remaining.length} change(s) remain applied: ${listOps(remaining.map((i) => ops[i]))}`);
}
