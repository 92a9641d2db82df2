/**
 * Graceful removal of a real server: weight 0 (the schedulers stop picking it, its existing
 * connections carry on), wait until its active connections reach 0, then delete it. On timeout
 * the weight stays 0 and a TimeoutError (exit 8) says so.
 *
 * Polls one service's destinations when the driver can (netlink: one small dump per tick),
 * else the whole table with counters. Caveat the docs repeat: with persistence, a client that
 * already has a template keeps reaching the server until the template expires, unless
 * net.ipv4.vs.expire_quiescent_template=1.
 */
import { TimeoutError } from '../cli/errors.js';
import type { IpvsDriver, ReadOptions } from './driver.js';
import { destinationKey, serviceKey, serviceLabel, type Destination, type VirtualService } from './model.js';

export interface DrainProgress {
  service: string;
  destination: string;
  activeConns: number;
  inactiveConns: number;
  elapsedMs: number;
  remainingMs: number;
}

export interface DrainOptions {
  timeoutMs: number;
  /** Poll interval (default 500 ms). */
  pollMs?: number;
  onProgress?: (p: DrainProgress) => void;
}

export interface DrainResult {
  service: string;
  destination: string;
  /** true: drained and deleted; false: it vanished while draining (someone else deleted it). */
  deleted: boolean;
  /** Whether the weight had to be set to 0 (false when it already was). */
  weightZeroed: boolean;
  waitedMs: number;
  polls: number;
}

interface DestReader { getDestinations(svc: VirtualService, opts?: ReadOptions): Promise<Destination[]> }

function hasDestReader(d: IpvsDriver): d is IpvsDriver & DestReader {
  return typeof (d as Partial<DestReader>).getDestinations === 'function';
}

async function current(driver: IpvsDriver, svc: VirtualService, dest: Destination): Promise<Destination | undefined> {
  const key = destinationKey(dest);
  if (hasDestReader(driver)) return (await driver.getDestinations(svc)).find((d) => destinationKey(d) === key);
  const t = await driver.getTable({ stats: true });
  return t.services.find((s) => serviceKey(s) === serviceKey(svc))?.destinations.find((d) => destinationKey(d) === key);
}

export async function drainAndDelete(driver: IpvsDriver, svc: VirtualService, dest: Destination, o: DrainOptions): Promise<DrainResult> {
  const start = Date.now();
  const deadline = start + o.timeoutMs;
  const name = { service: serviceLabel(svc), destination: destinationKey(dest) };
  let cur = await current(driver, svc, dest);
  if (!cur) return { ...name, deleted: false, weightZeroed: false, waitedMs: 0, polls: 1 };
  const weightZeroed = cur.weight !== 0;
  if (weightZeroed) await driver.apply([{ kind: 'editDest', service: svc, dest: { ...cur, weight: 0 } }]);
  let polls = 1;
  for (;;) {
    if (!cur) return { ...name, deleted: false, weightZeroed, waitedMs: Date.now() - start, polls };
    const active = cur.activeConns ?? 0;
    const now = Date.now();
    o.onProgress?.({ ...name, activeConns: active, inactiveConns: cur.inactiveConns ?? 0, elapsedMs: now - start, remainingMs: Math.max(0, deadline - now) });
    if (active === 0) break;
    if (now >= deadline) {
      throw new TimeoutError(`real server ${name.destination} in ${name.service} still has ${active} active connection(s) after ${Math.round(o.timeoutMs / 1000)}s`, {
        code: 'ETIMEDOUT', hint: 'its weight is left at 0 (no new connections); rerun with a longer --timeout, or delete without --drain',
      });
    }
    await new Promise((r) => setTimeout(r, Math.min(o.pollMs ?? 500, Math.max(1, deadline - now))));
    cur = await current(driver, svc, dest);
    polls++;
  }
  await driver.apply([{ kind: 'delDest', service: svc, dest: cur }]);
  return { ...name, deleted: true, weightZeroed, waitedMs: Date.now() - start, polls };
}
