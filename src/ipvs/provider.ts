/**
 * The IPVS table's read/plan/apply (src/converge/change.ts). plan.ts plans; applyPlan() below is
 * the one way a plan reaches the kernel (restore, the service/server commands, `lbctl apply`);
 * IpvsProvider composes both for `lbctl plan/apply`.
 *
 * Ownership: lbctl records which virtual services it programmed in a namespace (records file
 * under the host-prep state dir). The plan only looks at services that are desired or recorded,
 * so a service made by hand (or by keepalived) is never touched; a recorded service that left
 * the spec is removed. A desired service is converged whole: its real servers are the spec's.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { AbortedError, InputError, TimeoutError } from '../cli/errors.js';
import { Progress } from '../cli/output.js';
import type { Provider } from '../converge/change.js';
import { stateDir } from '../host/state.js';
import { writeFileAtomic } from '../util/fs.js';
import { pause } from './drain.js';
import type { IpvsDriver, Op, Timeouts } from './driver.js';
import { destinationKey, serviceKey, serviceLabel, type Destination, type IpvsTable, type VirtualService } from './model.js';
import { isTableChange, plan, planTimeouts, toOps, type IpvsChange, type IpvsTableChange } from './plan.js';
import { printDestination, printService } from './rules.js';

export type { IpvsChange } from './plan.js';

export interface IpvsDesired {
  table: IpvsTable;
  /** Only the fields given (and non-zero) are compared; 0 keeps the kernel's value, as ipvsadm --set. */
  timeouts?: Partial<Timeouts>;
}

export interface IpvsActual {
  table: IpvsTable;
  timeouts?: Timeouts;
  /** Keys (serviceKey) of the services lbctl programmed here. */
  owned: string[];
}

export interface IpvsReport { applied: number; drained: string[] }

export interface IpvsRecords { version: 1; services: string[] }

export function ipvsRecordsFile(netns?: string): string {
  return path.join(stateDir(), `ipvs-${netns ? `netns-${netns}` : 'host'}.json`);
}

export async function loadIpvsRecords(file: string): Promise<string[]> {
  let text: string;
  try { text = await fs.readFile(file, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new InputError(`lbctl's IPVS records cannot be read: ${(e as NodeJS.ErrnoException).code}`, { code: 'ERECORDS', where: file, hint: 'it must be a regular file lbctl wrote; move it away to start afresh' });
  }
  let parsed: IpvsRecords | undefined;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  if (!parsed || parsed.version !== 1 || !Array.isArray(parsed.services) || parsed.services.some((s) => typeof s !== 'string')) {
    throw new InputError('lbctl\'s IPVS records are corrupt', { code: 'ERECORDS', where: file, hint: 'move it away to start afresh (lbctl then removes none of the services)' });
  }
  return parsed.services;
}

async function saveIpvsRecords(file: string, services: string[]): Promise<void> {
  if (!services.length) { await fs.rm(file, { force: true }); return; }
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, JSON.stringify({ version: 1, services: [...services].sort() }, null, 2) + '\n', { backup: false, mode: 0o600 });
}

export interface ApplyOptions {
  /** Before deleting real servers (those of removed services too): weight 0, wait for their active connections to end. */
  drain?: boolean;
  drainTimeoutMs?: number;
  /** Aborting a drain leaves the leaving real servers at weight 0 and deletes nothing (AbortedError). */
  signal?: AbortSignal;
  /** Show the drain's progress line (a terminal, not --json). */
  progress?: boolean;
  /** Name every op by its rule in error messages (restore: the input's rules). */
  origin?: boolean;
}

/**
 * An op's origin, the rule it carries out, is read only when the op fails (or is shown): made on
 * first read, a restore of 10,000 real servers does not print 10,000 rules to throw them away.
 */
const LAZY_ORIGIN: PropertyDescriptor = {
  enumerable: true,
  configurable: true,
  get(this: Op): string {
    const origin = `rule "${this.kind.endsWith('Service') ? printService(this.service!) : printDestination(this.service!, this.dest!)}"`;
    Object.defineProperty(this, 'origin', { value: origin, enumerable: true, configurable: true, writable: true });
    return origin;
  },
  set(this: Op, value: string | undefined) {
    Object.defineProperty(this, 'origin', { value, enumerable: true, configurable: true, writable: true });
  },
};

/**
 * Apply a plan: the table changes as one all-or-nothing driver batch (a failure at change k of n
 * is rolled back by the driver), then the timeouts. An empty plan writes nothing.
 */
export async function applyPlan(driver: IpvsDriver, changes: readonly IpvsChange[], o: ApplyOptions = {}): Promise<IpvsReport> {
  const table = changes.filter(isTableChange);
  const ops = toOps(table);
  if (o.origin) for (const op of ops) if (op.origin === undefined) Object.defineProperty(op, 'origin', LAZY_ORIGIN);
  const drained = o.drain ? await drainLeaving(driver, table, o) : [];
  if (ops.length) await driver.apply(ops);
  const timeouts = changes.find((c) => c.kind === 'timeout');
  if (timeouts && timeouts.kind === 'timeout') await driver.setTimeouts(timeouts.timeouts);
  return { applied: changes.length, drained };
}

/** Weight 0 for every leaving real server, then wait for all their active connections to end (one deadline). */
async function drainLeaving(driver: IpvsDriver, changes: IpvsTableChange[], o: ApplyOptions): Promise<string[]> {
  const leaving: Array<{ svc: VirtualService; dest: Destination }> = [];
  for (const c of changes) {
    if (c.action !== '-') continue;
    if (c.kind === 'destination') leaving.push({ svc: c.service, dest: c.dest! });
    else for (const d of c.service.destinations) leaving.push({ svc: c.service, dest: d });
  }
  if (!leaving.length) return [];
  // The zeroing is its own batch and is not undone by a later failure: a server on its way out takes no new connections.
  const zero = leaving.filter((l) => l.dest.weight !== 0).map((l): Op => ({ kind: 'editDest', service: l.svc, dest: { ...l.dest, weight: 0 }, previous: l.dest }));
  if (zero.length) await driver.apply(zero);
  const progress = new Progress(Boolean(o.progress));
  const deadline = Date.now() + (o.drainTimeoutMs ?? 300_000);
  for (;;) {
    const t = await driver.getTable({ stats: true });
    let active = 0;
    for (const l of leaving) {
      const d = t.services.find((s) => serviceKey(s) === serviceKey(l.svc))?.destinations.find((x) => destinationKey(x) === destinationKey(l.dest));
      active += d?.activeConns ?? 0;
    }
    if (active === 0) { progress.done(); return leaving.map((l) => `${serviceLabel(l.svc)} -> ${destinationKey(l.dest)}`); }
    if (Date.now() >= deadline) {
      progress.done();
      throw new TimeoutError(`${leaving.length} leaving real server(s) still have ${active} active connection(s)`, { code: 'ETIMEDOUT', hint: 'their weight is left at 0 and nothing else was changed; rerun with a longer --timeout' });
    }
    progress.update(`draining ${leaving.length} real server(s): ${active} active connection(s)`);
    await pause(500, o.signal);
    if (o.signal?.aborted) throw new AbortedError('--drain interrupted: the leaving real servers are left at weight 0, nothing was deleted', { code: 'EABORTED', hint: 'rerun to finish' });
  }
}

export interface IpvsProviderOptions {
  /** Where the owned services are recorded; undefined: in memory only (tests). */
  recordsFile?: string;
  /** Before deleting real servers: weight 0, wait for their active connections to end. */
  drain?: boolean;
  drainTimeoutMs?: number;
  signal?: AbortSignal;
}

export class IpvsProvider implements Provider<IpvsActual, IpvsDesired, IpvsChange, IpvsReport> {
  private desiredKeys: string[] = [];
  private ownedBefore: string[] = [];
  constructor(private readonly driver: IpvsDriver, private readonly opts: IpvsProviderOptions = {}, private owned: string[] = []) {}

  async read(): Promise<IpvsActual> {
    if (this.opts.recordsFile) this.owned = await loadIpvsRecords(this.opts.recordsFile);
    return { table: await this.driver.getTable(), timeouts: await this.driver.getTimeouts(), owned: [...this.owned] };
  }

  /** Pure. Services neither desired nor owned are out of scope: hand-made ones stay as they are. */
  plan(actual: IpvsActual, desired: IpvsDesired): IpvsChange[] {
    const want = new Set(desired.table.services.map(serviceKey));
    const mine = new Set(actual.owned);
    const scoped = { services: actual.table.services.filter((s) => want.has(serviceKey(s)) || mine.has(serviceKey(s))) };
    this.desiredKeys = [...want];
    this.ownedBefore = actual.owned;
    return [...plan(scoped, desired.table, { removeReason: 'lbctl programmed it; no longer in the spec' }), ...planTimeouts(actual.timeouts, desired.timeouts)];
  }

  /** Records first claim what the plan adds (a crash leaves nothing unowned), then end as the spec's. */
  async apply(changes: IpvsChange[]): Promise<IpvsReport> {
    const file = this.opts.recordsFile;
    const finalOwned = [...new Set(this.desiredKeys)].sort();
    const claim = [...new Set([...this.ownedBefore, ...this.desiredKeys])].sort();
    const same = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
    if (file && !same(claim, this.ownedBefore)) await saveIpvsRecords(file, claim);
    const report = await applyPlan(this.driver, changes, { drain: this.opts.drain, drainTimeoutMs: this.opts.drainTimeoutMs, signal: this.opts.signal });
    this.owned = finalOwned;
    if (file && !same(finalOwned, claim)) await saveIpvsRecords(file, finalOwned);
    return report;
  }
}
