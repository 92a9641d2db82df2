import { LbctlError, UnavailableError } from '../cli/errors.js';
import type { IpvsDriver } from './driver.js';
import { IpvsadmDriver } from './ipvsadm.js';

export type DriverName = 'auto' | 'netlink' | 'ipvsadm';
/** The drivers --driver (and LBCTL_DRIVER) names. */
export const DRIVER_NAMES: readonly DriverName[] = ['auto', 'netlink', 'ipvsadm'];


/**
 * Drivers kept open across commands by a long-lived host process (the interactive shell): while
 * one is registered for a driver name, openDriver returns it and commands do not close it.
 */
const shared = new Map<DriverName, IpvsDriver>();
export function keepDriverOpen(name: DriverName, driver: IpvsDriver): void { shared.set(name, driver); }
export function isSharedDriver(driver: IpvsDriver): boolean { return [...shared.values()].includes(driver); }
export function releaseSharedDrivers(): IpvsDriver[] { const all = [...shared.values()]; shared.clear(); return all; }

/**
 * Open the requested driver. auto = netlink, falling back to ipvsadm (with a note on stderr)
 * when the native netlink module cannot load or the socket cannot be opened.
 */
export async function openDriver(flags: { driver?: string }, note: (msg: string) => void = () => {}): Promise<IpvsDriver> {
  const want = (flags.driver ?? 'auto') as DriverName;
  const kept = shared.get(want);
  if (kept) return kept;
  if (want === 'ipvsadm') return new IpvsadmDriver();
  const { openNetlinkDriver } = await import('./netlink/index.js');
  try {
    return await openNetlinkDriver();
  } catch (e) {
    if (want === 'netlink') throw e;
    // Only fall back when netlink itself is what failed; a permission or no-IPVS error is the answer.
    if (e instanceof LbctlError && !(e instanceof UnavailableError)) throw e;
    const why = e instanceof LbctlError ? e.message : String(e);
    if ((e as LbctlError).code === 'ENOIPVS') throw e;
    note(`netlink driver unavailable (${why}); using the ipvsadm driver`);
    return new IpvsadmDriver();
  }
}
