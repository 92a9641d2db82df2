/**
 * The table digest every tier director prints (`lbctl director check --tier`), so peers can be
 * compared at a glance: equal digests mean every director schedules every flow alike.
 *
 * Only what scheduling depends on goes in: services with scheduler and flags, real servers with
 * address, port, forwarding method and weight (not counters). Real servers stay in kernel order
 * for `sh` and every other scheduler but `mh`: sh's hash ring follows the order they were added
 * (a director with the reverse order disagreed on 500 of 500 flows in the lab) and `ipvsadm -Sn`
 * sorts that away. mh's lookup table does not depend on it, so mh's list is sorted.
 */
import { createHash } from 'node:crypto';
import { destinationKey, serviceKey, type IpvsTable } from '../ipvs/model.js';

export function canonicalTable(t: IpvsTable): string {
  const lines: string[] = [];
  for (const s of [...t.services].sort((a, b) => (serviceKey(a) < serviceKey(b) ? -1 : serviceKey(a) > serviceKey(b) ? 1 : 0))) {
    lines.push(`S ${serviceKey(s)} ${s.scheduler} ${[...s.schedFlags].sort().join(',') || '-'} p${s.persistence}`);
    const dests = s.scheduler === 'mh' ? [...s.destinations].sort((a, b) => (destinationKey(a) < destinationKey(b) ? -1 : 1)) : s.destinations;
    for (const d of dests) lines.push(`D ${destinationKey(d)} ${d.forward} w${d.weight}`);
  }
  return lines.join('\n');
}

/** sha256 of the canonical table, first 16 hex digits (enough to tell peers apart by eye). */
export function tableDigest(t: IpvsTable): string {
  return createHash('sha256').update(canonicalTable(t)).digest('hex').slice(0, 16);
}
