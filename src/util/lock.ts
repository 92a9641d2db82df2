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

function tryTake(file: string): boolean {
  try {
    const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    writeSync(fd, JSON.stringify({ pid: process.pid, command: ['lbctl', ...process.argv.slice(2)].join(' '), since: new Date().toISOString() } satisfies LockHolder));
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
