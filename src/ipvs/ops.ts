/**
 * Idempotent IPVS operations behind the service/server commands. Each reads the table, plans
 * with the one planner (plan.ts), applies that plan as one batch (provider.ts applyPlan), and
 * reports what it did with the equivalent ipvsadm command.
 */
import { AbortedError, NotFoundError } from '../cli/errors.js';
import type { IpvsDriver } from './driver.js';
import { destinationKey, serviceKey, serviceLabel, type Destination, type VirtualService } from './model.js';
import { plan, type IpvsTableChange } from './plan.js';
import { applyPlan } from './provider.js';
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

/**
 * The single commands go through the one planner: the kernel's part in question (`before`) and
 * what it should become (`after`) are planned like any table, and the plan is applied unless a dry run.
 */
async function converge(driver: IpvsDriver, before: VirtualService[], after: VirtualService[], dryRun: boolean): Promise<IpvsTableChange[]> {
  const changes = plan({ services: before }, { services: after });
  if (!dryRun && changes.length) await applyPlan(driver, changes);
  return changes;
}

function result(action: Action, svc: ServiceSelector, changes: IpvsTableChange[], dryRun: boolean, dest?: Destination): OpResult {
  const reasons = changes.filter((c) => c.action === '~').flatMap((c) => c.reasons);
  const commands = changes.map((c) => c.command!.join(' '));
  return { changed: !dryRun && commands.length > 0, action, service: serviceLabel(svc), destination: dest ? destinationKey(dest) : undefined, reasons, commands, dryRun };
}

const ACTION: Record<IpvsTableChange['action'], Action> = { '+': 'created', '~': 'updated', '-': 'deleted' };
const actionOf = (changes: IpvsTableChange[], none: Action): Action => (changes.length ? ACTION[changes[0].action] : none);

/** Create, or update to match, or report unchanged. The service's real servers are not this command's business. */
export async function convergeService(driver: IpvsDriver, desired: VirtualService, dryRun = false): Promise<OpResult> {
  const cur = await findService(driver, desired);
  const changes = await converge(driver, cur ? [cur] : [], [{ ...desired, destinations: cur?.destinations ?? [] }], dryRun);
  return result(actionOf(changes, 'unchanged'), desired, changes, dryRun);
}

export async function deleteService(driver: IpvsDriver, sel: ServiceSelector, dryRun = false): Promise<OpResult> {
  const cur = await findService(driver, sel);
  if (!cur) return result('absent', sel, [], dryRun);
  return result('deleted', cur, await converge(driver, [cur], [], dryRun), dryRun);
}

const others = (svc: VirtualService, key: Pick<Destination, 'address' | 'port'>) => svc.destinations.filter((d) => destinationKey(d) !== destinationKey(key));

export async function convergeDestination(driver: IpvsDriver, svc: VirtualService, desired: Destination, dryRun = false): Promise<OpResult> {
  const changes = await converge(driver, [svc], [{ ...svc, destinations: [...others(svc, desired), desired] }], dryRun);
  return result(actionOf(changes, 'unchanged'), svc, changes, dryRun, desired);
}

export function findDestination(svc: VirtualService, key: Pick<Destination, 'address' | 'port'>): Destination | undefined {
  return svc.destinations.find((d) => destinationKey(d) === destinationKey(key));
}

export async function deleteDestination(driver: IpvsDriver, svc: VirtualService, key: Destination, dryRun = false): Promise<OpResult> {
  const cur = findDestination(svc, key);
  if (!cur) return result('absent', svc, [], dryRun, key);
  return result('deleted', svc, await converge(driver, [svc], [{ ...svc, destinations: others(svc, key) }], dryRun), dryRun, cur);
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
  /** A service that does not exist holds no real server: report `absent` instead of failing (Ansible's state=absent). */
  missingOk?: boolean;
}

export interface ServerDeleteResult extends OpResult {
  drained: boolean;
  waitedMs?: number;
}

/** `server delete [--drain]`: delete a real server at once, or drain it first. */
export async function deleteServer(driver: IpvsDriver, sel: ServiceSelector, realServer: string, o: ServerDeleteOptions = {}): Promise<ServerDeleteResult> {
  const key = makeDestination(sel, realServer, { forward: 'masq' }, '--real-server');
  if (o.signal?.aborted) throw new AbortedError('server delete interrupted before it started; nothing changed', { code: 'EABORTED' });
  if (o.missingOk && !(await findService(driver, sel))) return { ...result('absent', sel, [], Boolean(o.dryRun), key), drained: false };
  const svc = await requireService(driver, sel);
  const cur = findDestination(svc, key);
  if (!o.drain || o.dryRun || !cur) return { ...(await deleteDestination(driver, svc, key, o.dryRun)), drained: false };
  const d = await drainAndDelete(driver, svc, cur, { timeoutMs: o.timeoutMs ?? 300_000, onProgress: o.onProgress, signal: o.signal });
  const r = result(d.deleted ? 'deleted' : 'absent', svc, [], false, cur);
  return { ...r, reasons: [`drained in ${(d.waitedMs / 1000).toFixed(1)}s`], changed: true, drained: true, waitedMs: d.waitedMs };
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
