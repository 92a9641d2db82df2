import { constants, openSync, closeSync, writeSync, readFileSync, unlinkSync, mkdirSync, lstatSync } from 'node:fs';
import path from 'node:path';
import { BusyError, LbctlError } from '../cli/errors.js';

/**
 * One lock per resource (the IPVS table of a network namespace, the host-prep records of a
 * namespace, a config root), so two operators cannot interleave their changes. A lock is a file
 * created with O_EXCL holding the holder's pid and command; a holder that has died leaves a stale
 * file that the next taker removes. Re-entrant within one process (the shell runs many commands).
 */
export interface LockHolder { pid: number; command: string; since: string }

const held = new Map<string, { fd: number; depth: number }>();

export function lockDir(): string {
  return process.env.LBCTL_LOCK_DIR ?? '/run/lbctl/locks';
}

/** A resource name as a file name: "ipvs@netns:d1" -> "ipvs@netns_d1". */
export function lockPath(resource: string): string {
  return path.join(lockDir(), `${resource.replace(/[^\w.@-]/g, '_')}.lock`);
}

function readHolder(file: string): LockHolder | undefined {
  try {
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    try { return JSON.parse(readFileSync(fd, 'utf8')); } finally { closeSync(fd); }
  } catch { return undefined; }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e: any) { return e.code === 'EPERM'; }
}

/**
 * `new Date(ms).toISOString()` for years 0-9999, by arithmetic. V8's own sets up its date cache,
 * and with it ICU's time zone, on first use: 1-2 ms on a host, about 140 ms of a whole `restore`
 * under qemu TCG (docs/DEV.md, start-up), for a UTC string that needs no time zone. Days to civil
 * date: H. Hinnant's days_from_civil inverse (proleptic Gregorian, as ECMAScript's).
 */
export function isoUtc(ms: number): string {
  const days = Math.floor(ms / 86_400_000);
  let rem = ms - days * 86_400_000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const h = Math.floor(rem / 3_600_000); rem -= h * 3_600_000;
  const mi = Math.floor(rem / 60_000); rem -= mi * 60_000;
  const s = Math.floor(rem / 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(year, 4)}-${p(month)}-${p(day)}T${p(h)}:${p(mi)}:${p(s)}.${p(rem - s * 1000, 3)}Z`;
}

function tryTake(file: string): boolean {
  try {
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    writeSync(fd, JSON.stringify({ pid: process.pid, command: ['lbctl', ...process.argv.slice(2)].join(' '), since: isoUtc(Date.now()) } satisfies LockHolder));
    held.set(file, { fd, depth: 1 });
    return true;
  } catch (e: any) {
    if (e.code !== 'EEXIST') throw e;
    let st;
    try { st = lstatSync(file); } catch { return false; } // released meanwhile: try again
    if (!st.isFile()) throw new LbctlError(`lock ${file} is not a regular file`, 5, { code: 'ELOCKPATH', hint: 'remove it: lbctl never creates anything else there' });
    const h = readHolder(file);
    // A lock without a readable holder older than 5 s, or whose holder is gone, is stale.
    if ((h && !alive(h.pid)) || (!h && Date.now() - st.mtimeMs > 5000)) {
      try { unlinkSync(file); } catch { /* another taker won */ }
    }
    return false;
  }
}

/**
 * Run `fn` holding the lock of `resource`, waiting up to `timeoutMs` for another holder; then
 * BusyError naming the holder. The lock is released when fn settles (and at process exit).
 */
export async function withLock<T>(resource: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const file = lockPath(resource);
  const mine = held.get(file);
  if (mine) {
    mine.depth++;
    try { return await fn(); } finally { mine.depth--; }
  }
  try { mkdirSync(lockDir(), { recursive: true, mode: 0o700 }); } catch (e: any) {
    if (e.code !== 'EEXIST') throw e;
  }
  const deadline = Date.now() + timeoutMs;
  while (!tryTake(file)) {
    if (Date.now() >= deadline) {
      const h = readHolder(file);
      throw new BusyError(`${resource} is locked by ${h ? `pid ${h.pid} (${h.command}, since ${h.since})` : 'another lbctl'}`, {
        code: 'ELOCKED', where: file, hint: 'wait for it to finish, or raise --lock-timeout',
      });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  try {
    return await fn();
  } finally {
    release(file);
  }
}

function release(file: string): void {
  const h = held.get(file);
  if (!h) return;
  held.delete(file);
  try { closeSync(h.fd); } catch { /* closed */ }
  try { unlinkSync(file); } catch { /* gone */ }
}

process.once('exit', () => { for (const f of [...held.keys()]) release(f); });
