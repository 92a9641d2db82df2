/**
 * Idempotent IPVS operations behind the service/server commands. Each reads the table, decides,
 * writes at most one batch, and reports what it did with the equivalent ipvsadm command.
 */
import { AbortedError, NotFoundError } from '../cli/errors.js';
import type { IpvsDriver, Op } from './driver.js';
import { destinationDiff, destinationKey, serviceDiff, serviceKey, serviceLabel, type Destination, type VirtualService } from './model.js';
import { opToRule } from './ipvsadm.js';
import { makeDestination, type ServiceSelector } from './rules.js';
import { drainAndDelete, type DrainProgress } from './drain.js';
import type { IpvsTable } from './model.js';

export type Action = 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent';

export interface OpResult {
  changed: boolean;
  action: Action;
  service: string;
  destination?: string;
  /** What differed, for updates. */
  reasons: string[];
  /** The equivalent ipvsadm command(s), also what --dry-run would run. */
  commands: string[];
  dryRun: boolean;
}

async function findService(driver: IpvsDriver, sel: ServiceSelector): Promise<VirtualService | undefined> {
  const t = await driver.getTable();
  return t.services.find((s) => serviceKey(s) === serviceKey(sel));
}

export async function requireService(driver: IpvsDriver, sel: ServiceSelector): Promise<VirtualService> {
  const s = await findService(driver, sel);
  if (!s) throw new NotFoundError(`virtual service ${serviceLabel(sel)} does not exist`, { code: 'ESRCH', hint: 'create it with `lbctl service add` first' });
  return s;
}

async function write(driver: IpvsDriver, ops: Op[], dryRun: boolean): Promise<string[]> {
  if (!dryRun) await driver.apply(ops);
  return ops.map((o) => `ipvsadm ${opToRule(o)}`);
}

function result(action: Action, svc: ServiceSelector, commands: string[], dryRun: boolean, reasons: string[] = [], dest?: Destination): OpResult {
  return { changed: !dryRun && commands.length > 0, action, service: serviceLabel(svc), destination: dest ? destinationKey(dest) : undefined, reasons, commands, dryRun };
}

/** Create, or update to match, or report unchanged. */
export async function convergeService(driver: IpvsDriver, desired: VirtualService, dryRun = false): Promise<OpResult> {
  const cur = await findService(driver, desired);
  if (!cur) return result('created', desired, await write(driver, [{ kind: 'addService', service: desired }], dryRun), dryRun);
  const diff = serviceDiff(cur, desired);
  if (!diff.length) return result('unchanged', desired, [], dryRun);
  return result('updated', desired, await write(driver, [{ kind: 'editService', service: desired, previous: cur }], dryRun), dryRun, diff);
}

export async function deleteService(driver: IpvsDriver, sel: ServiceSelector, dryRun = false): Promise<OpResult> {
  const cur = await findService(driver, sel);
  if (!cur) return result('absent', sel, [], dryRun);
  return result('deleted', cur, await write(driver, [{ kind: 'delService', service: cur, previous: cur }], dryRun), dryRun);
}

export async function convergeDestination(driver: IpvsDriver, svc: VirtualService, desired: Destination, dryRun = false): Promise<OpResult> {
  const cur = svc.destinations.find((d) => destinationKey(d) === destinationKey(desired));
  if (!cur) return result('created', svc, await write(driver, [{ kind: 'addDest', service: svc, dest: desired }], dryRun), dryRun, [], desired);
  const diff = destinationDiff(cur, desired);
  if (!diff.length) return result('unchanged', svc, [], dryRun, [], desired);
  return result('updated', svc, await write(driver, [{ kind: 'editDest', service: svc, dest: desired, previous: cur }], dryRun), dryRun, diff, desired);
}

export function findDestination(svc: VirtualService, key: Pick<Destination, 'address' | 'port'>): Destination | undefined {
  return svc.destinations.find((d) => destinationKey(d) === destinationKey(key));
}

export async function deleteDestination(driver: IpvsDriver, svc: VirtualService, key: Destination, dryRun = false): Promise<OpResult> {
  const cur = findDestination(svc, key);
  if (!cur) return result('absent', svc, [], dryRun, [], key);
  return result('deleted', svc, await write(driver, [{ kind: 'delDest', service: svc, dest: cur, previous: cur }], dryRun), dryRun, [], cur);
}

export function describe(r: OpResult, what: string): string {
  const target = r.destination ? `${what} ${r.destination} in ${r.service}` : `${what} ${r.service}`;
  const verb = r.dryRun && r.commands.length ? `would be ${r.action}` : r.action;
  const lines = [`${target}: ${verb}${r.reasons.length ? ` (${r.reasons.join('; ')})` : ''}`];
  if (r.dryRun) lines.push(...r.commands.map((c) => `  ${c}`));
  return lines.join('\n');
}

export interface ServerDeleteOptions {
  dryRun?: boolean;
  /** Weight 0, wait for active connections to reach 0, then delete. */
  drain?: boolean;
  timeoutMs?: number;
  onProgress?: (p: DrainProgress) => void;
  /** Aborting stops a drain with the server at weight 0, not deleted (AbortedError). */
  signal?: AbortSignal;
}

export interface ServerDeleteResult extends OpResult {
  drained: boolean;
  waitedMs?: number;
}

/** `server delete [--drain]`: delete a real server at once, or drain it first. */
export async function deleteServer(driver: IpvsDriver, sel: ServiceSelector, realServer: string, o: ServerDeleteOptions = {}): Promise<ServerDeleteResult> {
  const key = makeDestination(sel, realServer, { forward: 'masq' }, '--real-server');
  if (o.signal?.aborted) throw new AbortedError('server delete interrupted before it started; nothing changed', { code: 'EABORTED' });
  const svc = await requireService(driver, sel);
  const cur = findDestination(svc, key);
  if (!o.drain || o.dryRun || !cur) return { ...(await deleteDestination(driver, svc, key, o.dryRun)), drained: false };
  const d = await drainAndDelete(driver, svc, cur, { timeoutMs: o.timeoutMs ?? 300_000, onProgress: o.onProgress, signal: o.signal });
  const r = result(d.deleted ? 'deleted' : 'absent', svc, [], false, [`drained in ${(d.waitedMs / 1000).toFixed(1)}s`], cur);
  return { ...r, changed: true, drained: true, waitedMs: d.waitedMs };
}

export interface ListResult { driver: IpvsDriver['name']; services: VirtualService[] }

/** `list`: the table with counters, or one service of it (NotFoundError when it does not exist). */
export async function listServices(driver: IpvsDriver, sel?: ServiceSelector): Promise<ListResult> {
  const t = await driver.getTable({ stats: true });
  if (!sel) return { driver: driver.name, services: t.services };
  const services = t.services.filter((s) => serviceKey(s) === serviceKey(sel));
  if (!services.length) throw new NotFoundError(`virtual service ${serviceLabel(sel)} does not exist`, { code: 'ESRCH' });
  return { driver: driver.name, services };
}

export interface ClearResult { changed: boolean; services: number; connections: number }

/**
 * `clear`: flush the whole table. `confirm` is asked (with what would be cut) before anything is
 * written, and only when there is something to flush; false -> AbortedError, nothing changed.
 */
export async function clearTable(driver: IpvsDriver, confirm?: (services: number, connections: number) => Promise<boolean>): Promise<ClearResult> {
  const t = await driver.getTable({ stats: true });
  if (!t.services.length) return { changed: false, services: 0, connections: 0 };
  const connections = activeConnections(t);
  if (confirm && !(await confirm(t.services.length, connections))) throw new AbortedError('clear cancelled; nothing changed', { code: 'EABORTED' });
  await driver.apply([{ kind: 'flush' }]);
  return { changed: true, services: t.services.length, connections };
}

function activeConnections(t: IpvsTable): number {
  return t.services.reduce((n, s) => n + s.destinations.reduce((m, d) => m + (d.activeConns ?? 0), 0), 0);
}

export interface ZeroResult { changed: boolean; zeroed: string }

/** `zero`: reset the counters of one service or all; "unchanged" when they already are 0. */
export async function zeroCounters(driver: IpvsDriver, sel?: ServiceSelector): Promise<ZeroResult> {
  const svc = sel ? await requireService(driver, sel) : undefined;
  const what = svc ? serviceLabel(svc) : 'all services';
  const t = await driver.getTable({ stats: true });
  const scope = svc ? t.services.filter((s) => serviceKey(s) === serviceKey(svc)) : t.services;
  const nonzero = scope.some((s) => [s.stats, ...s.destinations.map((d) => d.stats)].some((st) => st && Object.values(st).some((v) => v !== 0)));
  if (!nonzero) return { changed: false, zeroed: what };
  await driver.apply([{ kind: 'zero', service: svc }]);
  return { changed: true, zeroed: what };
}
