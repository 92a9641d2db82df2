/**
 * The IPVS table as a converge provider (src/converge/change.ts), for `lbctl plan/apply`.
 *
 * Ownership: lbctl records which virtual services it programmed in a namespace (records file
 * under the host-prep state dir). The plan only looks at services that are desired or recorded,
 * so a service made by hand (or by keepalived) is never touched; a recorded service that left
 * the spec is removed. A desired service is converged whole: its real servers are the spec's.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError } from '../cli/errors.js';
import type { Change, Provider } from '../converge/change.js';
import { stateDir } from '../host/state.js';
import { writeFileAtomic } from '../util/fs.js';
import { drainAndDelete } from './drain.js';
import type { IpvsDriver, Op, Timeouts } from './driver.js';
import { opToRule } from './ipvsadm.js';
import { destinationKey, serviceKey, serviceLabel, type IpvsTable } from './model.js';
import { plan as planTable, toOps, type Change as TableChange } from './plan.js';

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

export interface IpvsChange extends Change {
  kind: 'service' | 'destination' | 'timeout';
  table?: TableChange;
  timeouts?: Partial<Timeouts>;
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

const TIMEOUT_KEYS = ['tcp', 'tcpfin', 'udp'] as const;

/** One table change in the shared shape: id names the service (and real server), command is ipvsadm's. */
export function sharedChange(c: TableChange): IpvsChange {
  const op = toOps([c])[0];
  const svc = serviceLabel(c.service);
  const id = c.dest ? `${svc} -> ${destinationKey(c.dest)}` : svc;
  const reason = c.action === '-' ? 'lbctl programmed it; no longer in the spec' : c.reasons.join('; ');
  const fields = (d: unknown) => (d && typeof d === 'object' ? Object.fromEntries(Object.entries(d).filter(([k]) => k !== 'destinations' && k !== 'stats')) : d);
  return {
    action: c.action, kind: c.kind, id, reason, table: c,
    command: ['ipvsadm', ...opToRule(op).split(' ')],
    before: c.action === '+' ? undefined : fields(c.action === '~' ? c.before : c.dest ?? c.service),
    after: c.action === '-' ? undefined : fields(c.dest ?? c.service),
  };
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
    const changes = planTable(scoped, desired.table).map(sharedChange);
    const t = desired.timeouts ?? {};
    const diff = TIMEOUT_KEYS.filter((k) => t[k] && actual.timeouts && actual.timeouts[k] !== t[k]);
    if (diff.length) {
      const set = Object.fromEntries(diff.map((k) => [k, t[k]])) as Partial<Timeouts>;
      const cur = actual.timeouts!;
      changes.push({
        action: '~', kind: 'timeout', id: 'tcp tcpfin udp', timeouts: set,
        reason: diff.map((k) => `${k} ${cur[k]} -> ${t[k]}`).join('; '),
        command: ['ipvsadm', '--set', String(t.tcp || 0), String(t.tcpfin || 0), String(t.udp || 0)],
        before: { tcp: cur.tcp, tcpfin: cur.tcpfin, udp: cur.udp }, after: { ...cur, ...set },
      });
    }
    return changes;
  }

  /** Records first claim what the plan adds (a crash leaves nothing unowned), then end as the spec's. */
  async apply(changes: IpvsChange[]): Promise<IpvsReport> {
    const file = this.opts.recordsFile;
    const finalOwned = [...new Set(this.desiredKeys)].sort();
    const claim = [...new Set([...this.ownedBefore, ...this.desiredKeys])].sort();
    const same = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((x, i) => x === [...b].sort()[i]);
    if (file && !same(claim, this.ownedBefore)) await saveIpvsRecords(file, claim);
    const table = changes.filter((c) => c.table).map((c) => c.table!);
    const drained: string[] = [];
    let rest = table;
    if (this.opts.drain) {
      rest = [];
      const leaving = table.filter((c) => c.action === '-' && c.kind === 'destination');
      for (const c of table) if (!leaving.includes(c)) rest.push(c);
      // Every leaving real server goes to weight 0 first, so the waits below overlap.
      const zero: Op[] = leaving.filter((c) => c.dest!.weight !== 0).map((c) => ({ kind: 'editDest', service: c.service, dest: { ...c.dest!, weight: 0 }, previous: c.dest }));
      if (zero.length) await this.driver.apply(zero);
      for (const c of leaving) {
        await drainAndDelete(this.driver, c.service, { ...c.dest!, weight: 0 }, { timeoutMs: this.opts.drainTimeoutMs ?? 300_000, signal: this.opts.signal });
        drained.push(`${serviceLabel(c.service)} -> ${destinationKey(c.dest!)}`);
      }
    }
    if (rest.length) await this.driver.apply(toOps(rest));
    const timeouts = changes.find((c) => c.kind === 'timeout')?.timeouts;
    if (timeouts) await this.driver.setTimeouts(timeouts);
    this.owned = finalOwned;
    if (file && !same(finalOwned, claim)) await saveIpvsRecords(file, finalOwned);
    return { applied: changes.length, drained };
  }
}
