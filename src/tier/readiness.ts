/**
 * `lbctl director check --tier`: is this director fit to be one member of an active-active
 * tier? Every service needs a consistent-hash scheduler (mh; sh with a warning), the IPVS
 * sysctls must let it carry flows another director started (sloppy_tcp), and its table must
 * equal its peers': the digest it prints is compared across directors (and with --expect-digest
 * against a value, such as what the spec expands to).
 */
import { UsageError } from '../cli/errors.js';
import { Sysctls } from '../host/sysctl.js';
import type { IpvsTable, VirtualService } from '../ipvs/model.js';
import { serviceLabel } from '../ipvs/model.js';
import { isSharedDriver, openDriver } from '../ipvs/select.js';
import { canonicalTable, tableDigest } from './digest.js';

export type TierSeverity = 'ok' | 'warn' | 'fail';
export interface TierItem { item: string; expected: string; actual: string | number | null; severity: TierSeverity; reason?: string }
export interface TierReadiness { ok: boolean; digest: string; services: number; items: TierItem[] }

const SYSCTLS = ['net.ipv4.vs.sloppy_tcp', 'net.ipv4.vs.expire_nodest_conn', 'net.ipv4.vs.conn_reuse_mode'] as const;

/** Judge a table and the IPVS sysctls (pure). */
export function judgeTier(table: IpvsTable, sysctls: Map<string, string>, expectDigest?: string): TierReadiness {
  const items: TierItem[] = [];
  if (!table.services.length) items.push({ item: 'IPVS services', expected: 'at least one', actual: 0, severity: 'fail', reason: 'the director carries no service' });
  for (const s of table.services) items.push(schedulerItem(s));
  const sloppy = sysctls.get('net.ipv4.vs.sloppy_tcp');
  items.push({ item: 'net.ipv4.vs.sloppy_tcp', expected: '1', actual: sloppy === undefined ? null : Number(sloppy), severity: sloppy === '1' ? 'ok' : 'fail', reason: 'without it a flow ECMP moves to this director is reset (it only picks up SYNs)' });
  const expire = sysctls.get('net.ipv4.vs.expire_nodest_conn');
  items.push({ item: 'net.ipv4.vs.expire_nodest_conn', expected: '1', actual: expire === undefined ? null : Number(expire), severity: expire === '1' ? 'ok' : 'warn', reason: 'flows to a removed real server hang until they time out instead of being scheduled again' });
  const digest = tableDigest(table);
  if (expectDigest !== undefined) {
    items.push({ item: 'table digest', expected: expectDigest, actual: digest, severity: digest === expectDigest ? 'ok' : 'fail', reason: 'this director\'s table differs from its peers\': flows that move here may reach another real server' });
  }
  return { ok: !items.some((i) => i.severity === 'fail'), digest, services: table.services.length, items };
}

function schedulerItem(s: VirtualService): TierItem {
  const item = `${serviceLabel(s)} scheduler`;
  const actual = `${s.scheduler}${s.schedFlags.length ? ` -b ${s.schedFlags.join(',')}` : ''}`;
  if (s.scheduler === 'mh') {
    const port = s.schedFlags.includes('mh-port');
    return { item, expected: 'mh -b mh-port', actual, severity: port ? 'ok' : 'warn', reason: 'mh without mh-port hashes the client address only: few clients spread badly' };
  }
  if (s.scheduler === 'sh') {
    return { item, expected: 'mh -b mh-port', actual, severity: 'warn', reason: 'sh agrees across directors only if every director added the real servers in the same order (the digest keeps that order)' };
  }
  return { item, expected: 'mh -b mh-port', actual, severity: 'fail', reason: `${s.scheduler} is not a consistent hash: a flow that moves to another director reaches another real server and is reset` };
}

/** Read this namespace's IPVS table and sysctls and judge them. */
export async function checkTierReadiness(opts: { driver?: string; expectDigest?: string; netns?: string } = {}): Promise<TierReadiness & { canonical: string }> {
  // The IPVS drivers talk to the namespace lbctl runs in.
  if (opts.netns) throw new UsageError('director check --tier reads the IPVS table of the namespace lbctl runs in, not --netns', { code: 'ECONFLICT', hint: `run: ip netns exec ${opts.netns} lbctl director check --tier ...` });
  if (opts.expectDigest !== undefined && !/^[0-9a-f]{16}$/.test(opts.expectDigest)) throw new UsageError(`--expect-digest ${opts.expectDigest}: a digest is 16 hex digits`, { code: 'EBADDIGEST', hint: 'copy it from a peer\'s lbctl director check --tier' });
  const driver = await openDriver({ driver: opts.driver });
  let table: IpvsTable;
  try { table = await driver.getTable(); } finally { if (!isSharedDriver(driver)) await driver.close(); }
  const sysctls = await new Sysctls().read([...SYSCTLS]);
  return { ...judgeTier(table, sysctls, opts.expectDigest), canonical: canonicalTable(table) };
}

export function renderTier(t: TierReadiness): string {
  const mark = { ok: 'ok', warn: 'warn', fail: 'FAIL' } as const;
  const rows = t.items.map((i) => `${mark[i.severity].padEnd(5)}${i.item}: ${i.actual ?? '-'} (want ${i.expected})${i.severity === 'ok' ? '' : `: ${i.reason}`}`);
  return ['tier member', ...rows, `table digest ${t.digest} (${t.services} service${t.services === 1 ? '' : 's'}): compare with every peer`, t.ok ? 'ready for an active-active tier' : 'NOT ready for an active-active tier'].join('\n');
}
