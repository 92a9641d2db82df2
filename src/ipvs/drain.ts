/**
 * Graceful removal of a real server: weight 0 (the schedulers stop picking it, its existing
 * connections carry on), wait until its active connections reach 0, then delete it. On timeout
 * the weight stays 0 and a TimeoutError (exit 8) says so.
 *
 * Polls one service's destinations when the driver can (netlink: one small dump per tick),
 * else the whole table with counters. Caveat the docs repeat: with persistence, a client that
 * already has a template keeps reaching the server until the template expires, unless
 * net.ipv4.vs.expire_quiescent_template=1.
 *
 * Cancellable: an aborted `signal` (Ctrl-C in the CLI or the shell) stops the wait at once and
 * throws AbortedError (exit 11); the server is left at weight 0, not deleted, and nothing more
 * is written.
 */
import { AbortedError, TimeoutError } from '../cli/errors.js';
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
  /** Aborting it stops the drain: weight left at 0, not deleted, AbortedError. */
  signal?: AbortSignal;
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

/** Sleep `ms`, or until `signal` aborts (resolves either way: the caller checks the signal). */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => { clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); };
    const t = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

export async function drainAndDelete(driver: IpvsDriver, svc: VirtualService, dest: Destination, o: DrainOptions): Promise<DrainResult> {
  const start = Date.now();
  const deadline = start + o.timeoutMs;
  const name = { service: serviceLabel(svc), destination: destinationKey(dest) };
  const where = `real server ${name.destination} in ${name.service}`;
  if (o.signal?.aborted) throw new AbortedError(`drain of ${where} interrupted before it started; nothing changed`, { code: 'EABORTED' });
  let cur = await current(driver, svc, dest);
  if (!cur) return { ...name, deleted: false, weightZeroed: false, waitedMs: 0, polls: 1 };
  const weightZeroed = cur.weight !== 0;
  if (weightZeroed) await driver.apply([{ kind: 'editDest', service: svc, dest: { ...cur, weight: 0 }, previous: cur }]);
  const aborted = () => new AbortedError(`drain of ${where} interrupted: left at weight 0 (no new connections), not deleted`, {
    code: 'EABORTED', hint: 'rerun `server delete --drain` to finish, or `server edit -w N` to put it back',
  });
  let polls = 1;
  for (;;) {
    if (o.signal?.aborted) throw aborted();
    if (!cur) return { ...name, deleted: false, weightZeroed, waitedMs: Date.now() - start, polls };
    const active = cur.activeConns ?? 0;
    const now = Date.now();
    o.onProgress?.({ ...name, activeConns: active, inactiveConns: cur.inactiveConns ?? 0, elapsedMs: now - start, remainingMs: Math.max(0, deadline - now) });
    if (active === 0) break;
    if (now >= deadline) {
      throw new TimeoutError(`${where} still has ${active} active connection(s) after ${Math.round(o.timeoutMs / 1000)}s`, {
        code: 'ETIMEDOUT', hint: 'its weight is left at 0 (no new connections); rerun with a longer --timeout, or delete without --drain',
      });
    }
    await pause(Math.min(o.pollMs ?? 500, Math.max(1, deadline - now)), o.signal);
    if (o.signal?.aborted) throw aborted();
    cur = await current(driver, svc, dest);
    polls++;
  }
  // The last look before the write: an abort that came with the final poll still wins.
  if (o.signal?.aborted) throw aborted();
  await driver.apply([{ kind: 'delDest', service: svc, dest: cur, previous: cur }]);
  return { ...name, deleted: true, weightZeroed, waitedMs: Date.now() - start, polls };
}
