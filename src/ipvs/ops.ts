/**
 * Idempotent IPVS operations behind the service/server commands. Each reads the table, decides,
 * writes at most one batch, and reports what it did with the equivalent ipvsadm command.
 */
import { NotFoundError } from '../cli/errors.js';
import type { IpvsDriver, Op } from './driver.js';
import { destinationDiff, destinationKey, serviceDiff, serviceKey, serviceLabel, type Destination, type VirtualService } from './model.js';
import { opToRule } from './ipvsadm.js';
import type { ServiceSelector } from './rules.js';

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
  return result('updated', desired, await write(driver, [{ kind: 'editService', service: desired }], dryRun), dryRun, diff);
}

export async function deleteService(driver: IpvsDriver, sel: ServiceSelector, dryRun = false): Promise<OpResult> {
  const cur = await findService(driver, sel);
  if (!cur) return result('absent', sel, [], dryRun);
  return result('deleted', cur, await write(driver, [{ kind: 'delService', service: cur }], dryRun), dryRun);
}

export async function convergeDestination(driver: IpvsDriver, svc: VirtualService, desired: Destination, dryRun = false): Promise<OpResult> {
  const cur = svc.destinations.find((d) => destinationKey(d) === destinationKey(desired));
  if (!cur) return result('created', svc, await write(driver, [{ kind: 'addDest', service: svc, dest: desired }], dryRun), dryRun, [], desired);
  const diff = destinationDiff(cur, desired);
  if (!diff.length) return result('unchanged', svc, [], dryRun, [], desired);
  return result('updated', svc, await write(driver, [{ kind: 'editDest', service: svc, dest: desired }], dryRun), dryRun, diff, desired);
}

export function findDestination(svc: VirtualService, key: Pick<Destination, 'address' | 'port'>): Destination | undefined {
  return svc.destinations.find((d) => destinationKey(d) === destinationKey(key));
}

export async function deleteDestination(driver: IpvsDriver, svc: VirtualService, key: Destination, dryRun = false): Promise<OpResult> {
  const cur = findDestination(svc, key);
  if (!cur) return result('absent', svc, [], dryRun, [], key);
  return result('deleted', svc, await write(driver, [{ kind: 'delDest', service: svc, dest: cur }], dryRun), dryRun, [], cur);
}

export function describe(r: OpResult, what: string): string {
  const target = r.destination ? `${what} ${r.destination} in ${r.service}` : `${what} ${r.service}`;
  const verb = r.dryRun && r.commands.length ? `would be ${r.action}` : r.action;
  const lines = [`${target}: ${verb}${r.reasons.length ? ` (${r.reasons.join('; ')})` : ''}`];
  if (r.dryRun) lines.push(...r.commands.map((c) => `  ${c}`));
  return lines.join('\n');
}
