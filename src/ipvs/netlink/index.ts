// Placeholder until the netlink driver lands (owned by the netlink-driver work).
import { UnavailableError } from '../../cli/errors.js';
import type { IpvsDriver } from '../driver.js';

export async function openNetlinkDriver(): Promise<IpvsDriver> {
  throw new UnavailableError('the netlink driver is not built yet', { code: 'ENONETLINK', hint: 'use --driver ipvsadm' });
}
