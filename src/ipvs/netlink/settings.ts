/**
 * Idempotent connection timeouts and sync daemons, behind `lbctl timeout` and `lbctl daemon`.
 * Driver-agnostic (any IpvsDriver); it lives with the netlink work that brought these commands.
 */
import { existsSync } from 'node:fs';
import { NotFoundError, UsageError } from '../../cli/errors.js';
import type { IpvsDriver, SyncDaemon, Timeouts } from '../driver.js';

/** The kernel stores timeouts as seconds * HZ in an int: INT_MAX / 1000 is safe for every HZ. */
export const MAX_TIMEOUT = Math.floor(0x7fffffff / 1000);

export function parseTimeout(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > MAX_TIMEOUT) {
    throw new UsageError(`timeout "${text}" is not valid`, { code: 'EBADTIMEOUT', where: `--${flag}`, hint: `give whole seconds, 1-${MAX_TIMEOUT}; leave the flag out to keep the current value` });
  }
  return n;
}

export interface TimeoutResult {
  changed: boolean;
  action: 'updated' | 'unchanged';
  before: Timeouts;
  after: Timeouts;
  /** Fields that differed, e.g. "tcp 900 -> 3600". */
  reasons: string[];
}

const KEYS = ['tcp', 'tcpfin', 'udp'] as const;

/** Validate before any driver is opened: at least one timeout given. */
export function checkTimeoutsWanted(want: Partial<Timeouts>): Partial<Timeouts> {
  if (!KEYS.some((k) => want[k] !== undefined)) {
    throw new UsageError('nothing to set', { code: 'EUSAGE', hint: 'give at least one of --tcp, --tcpfin, --udp (seconds)' });
  }
  return want;
}

export async function convergeTimeouts(driver: IpvsDriver, want: Partial<Timeouts>): Promise<TimeoutResult> {
  checkTimeoutsWanted(want);
  const before = await driver.getTimeouts();
  const change: Partial<Timeouts> = {};
  const reasons: string[] = [];
  for (const k of KEYS) {
    if (want[k] !== undefined && want[k] !== before[k]) { change[k] = want[k]; reasons.push(`${k} ${before[k]} -> ${want[k]}`); }
  }
  if (!reasons.length) return { changed: false, action: 'unchanged', before, after: before, reasons };
  await driver.setTimeouts(change);
  return { changed: true, action: 'updated', before, after: await driver.getTimeouts(), reasons };
}

export function formatTimeouts(t: Timeouts): string {
  // ipvsadm -L --timeout's line, so scripts that grep it keep working.
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpfin} ${t.udp}`;
}

export function checkSyncId(text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 255) throw new UsageError(`sync id "${text}" is out of range`, { code: 'EBADSYNCID', where: '--syncid', hint: 'use 0-255' });
  return n;
}

export interface DaemonResult {
  changed: boolean;
  action: 'created' | 'updated' | 'unchanged' | 'deleted' | 'absent';
  state: SyncDaemon['state'];
  daemon?: SyncDaemon;
  /** The running daemon before, when it was replaced or stopped. */
  previous?: SyncDaemon;
}

/** Validate before any driver is opened: a plausible, existing interface. */
export function checkDaemonWanted(want: SyncDaemon): SyncDaemon {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(want.mcastIfn)) {
    throw new UsageError(`"${want.mcastIfn}" is not an interface name`, { code: 'EBADIF', where: '--mcast-interface', hint: 'give an interface such as eth0 (at most 15 characters)' });
  }
  if (!existsSync(`/sys/class/net/${want.mcastIfn}`)) {
    throw new NotFoundError(`network interface "${want.mcastIfn}" does not exist`, { code: 'ENODEV', where: '--mcast-interface', hint: 'see `ip link` for the interfaces of this host' });
  }
  return want;
}

/** Start the daemon; restart it when it runs with other settings (the kernel cannot change them live). */
export async function convergeDaemon(driver: IpvsDriver, want: SyncDaemon): Promise<DaemonResult> {
  checkDaemonWanted(want);
  const cur = (await driver.getDaemons()).find((d) => d.state === want.state);
  if (cur && cur.mcastIfn === want.mcastIfn && cur.syncId === want.syncId) return { changed: false, action: 'unchanged', state: want.state, daemon: cur };
  if (cur) await driver.stopDaemon(want.state);
  await driver.startDaemon(want);
  return { changed: true, action: cur ? 'updated' : 'created', state: want.state, daemon: want, previous: cur };
}

export async function stopDaemon(driver: IpvsDriver, state: SyncDaemon['state']): Promise<DaemonResult> {
  const cur = (await driver.getDaemons()).find((d) => d.state === state);
  if (!cur) return { changed: false, action: 'absent', state };
  await driver.stopDaemon(state);
  return { changed: true, action: 'deleted', state, previous: cur };
}

export function formatDaemon(d: SyncDaemon): string {
  return `${d.state} sync daemon (mcast=${d.mcastIfn}, syncid=${d.syncId})`;
}
