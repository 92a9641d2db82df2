/**
 * Graceful removal: weight 0 (no new connections are scheduled to the server), then wait until
 * its active connections reach 0. Works over any driver (polled with one table read per tick).
 */
import { TimeoutError } from '../cli/errors.js';
import { Progress } from '../cli/output.js';
import type { IpvsDriver } from './driver.js';
import { destinationKey, serviceKey, serviceLabel, type Destination, type VirtualService } from './model.js';

export interface DrainOptions { timeoutMs: number; pollMs?: number; progress?: boolean }

export async function drainDestination(driver: IpvsDriver, svc: VirtualService, dest: Destination, o: DrainOptions): Promise<void> {
  if (dest.weight !== 0) await driver.apply([{ kind: 'editDest', service: svc, dest: { ...dest, weight: 0 } }]);
  const progress = new Progress(Boolean(o.progress));
  const deadline = Date.now() + o.timeoutMs;
  const name = `${destinationKey(dest)} in ${serviceLabel(svc)}`;
  for (;;) {
    const t = await driver.getTable({ stats: true });
    const d = t.services.find((s) => serviceKey(s) === serviceKey(svc))?.destinations.find((x) => destinationKey(x) === destinationKey(dest));
    const active = d?.activeConns ?? 0;
    if (!d || active === 0) { progress.done(); return; }
    const left = deadline - Date.now();
    if (left <= 0) {
      progress.done();
      throw new TimeoutError(`real server ${name} still has ${active} active connection(s) after ${Math.round(o.timeoutMs / 1000)}s`, { code: 'ETIMEDOUT', hint: 'its weight is left at 0; rerun with a longer --timeout or delete without --drain' });
    }
    progress.update(`draining ${name}: ${active} active connection(s), ${Math.ceil(left / 1000)}s left`);
    await new Promise((r) => setTimeout(r, Math.min(o.pollMs ?? 500, left)));
  }
}
