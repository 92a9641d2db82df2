/**
 * The netlink driver's entry point. Throws UnavailableError when the native module cannot
 * load or the socket cannot open (code ENONETLINK: the caller may fall back to ipvsadm), or
 * when the kernel has no IPVS (code ENOIPVS: no driver can help).
 */
import type { IpvsDriver } from '../driver.js';
import { NlConnection } from './conn.js';
import { NetlinkDriver, openFamily, type NetlinkDriverOptions } from './driver.js';
import { openSocketTransport } from './socket.js';

export { NetlinkDriver } from './driver.js';

export async function openNetlinkDriver(opts: NetlinkDriverOptions = {}): Promise<NetlinkDriver & IpvsDriver> {
  const conn = new NlConnection(openSocketTransport());
  try {
    const family = await openFamily(conn, opts);
    return new NetlinkDriver(conn, family, { extraTransports: openSocketTransport, ...opts });
  } catch (e) {
    conn.close();
    throw e;
  }
}
