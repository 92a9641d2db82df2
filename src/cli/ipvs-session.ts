/**
 * One IPVS command run without oclif: its cancel signal, its driver and, for a command that
 * changes the table, the table's lock. IpvsCommand (src/cli/ipvs-command.ts) runs every IPVS
 * command through one; the fast path of `restore` (src/cli/fast.ts) uses one directly, so the
 * lock, the driver choice and Ctrl-C behave the same on both paths.
 */
import { readdirSync, statSync } from 'node:fs';
import { commandSignal } from '../util/signal.js';
import { AbortedError, PermissionError } from './errors.js';
import type { IpvsDriver } from '../ipvs/driver.js';
import { isSharedDriver, openDriver } from '../ipvs/select.js';
import { lockDir, withLock } from '../util/lock.js';
import { parseDuration } from '../util/duration.js';

/**
 * Commands that write the IPVS table (or its settings) take its lock, unless under --dry-run.
 * By oclif id, so a command needs no code of its own to be locked (restore is another file).
 */
export const MUTATING = new Set([
  'service:add', 'service:edit', 'service:delete', 'server:add', 'server:edit', 'server:delete',
  'restore', 'clear', 'zero', 'timeout:set', 'daemon:start', 'daemon:stop',
]);

/** The IPVS table is per network namespace: name the one this process is in. */
export function ipvsLockResource(): string {
  let mine: number;
  try {
    mine = statSync('/proc/self/ns/net').ino;
    if (mine === statSync('/proc/1/ns/net').ino) return 'ipvs@host';
  } catch {
    return 'ipvs@host';
  }
  try {
    for (const name of readdirSync('/run/netns')) {
      try { if (statSync(`/run/netns/${name}`).ino === mine) return `ipvs@netns:${name}`; } catch { /* gone */ }
    }
  } catch { /* no named namespaces */ }
  return `ipvs@netns:${mine}`;
}

/**
 * Run `fn` holding the lock of this namespace's IPVS table (waiting up to `lockTimeout`, a
 * duration; BusyError exit 12 naming the holder). For callers outside IpvsCommand.
 */
export async function withIpvsLock<T>(lockTimeout: string | undefined, fn: () => Promise<T>): Promise<T> {
  const ms = parseDuration(lockTimeout ?? '30s', '--lock-timeout', { min: 0 });
  let entered = false;
  try {
    return await withLock(ipvsLockResource(), ms, () => { entered = true; return fn(); });
  } catch (e) {
    // Who may not create the lock may not change the table either: say that, not "mkdir failed".
    const code = (e as NodeJS.ErrnoException).code;
    if (!entered && (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')) {
      throw new PermissionError(`not permitted to change IPVS (cannot take its lock in ${lockDir()}: ${code})`, { code: 'EPERM', hint: 'run as root (needs CAP_NET_ADMIN)' });
    }
    throw e;
  }
}

/**
 * The cancel signal of IPVS commands run inside a longer-lived process (the interactive shell
 * runs each command under `runWithSignal` from src/util/signal.ts): Ctrl-C there stops a drain.
 * A command run on its own gets SIGINT/SIGTERM wired to its signal instead.
 */
export { runWithSignal as runWithAbortSignal } from '../util/signal.js';

/**
 * Once the command is cancelled, no further IPVS read or write starts: a wait that does not
 * watch the signal itself (restore's drain) stops at its next poll instead of going on to delete.
 */
function guardDriver(driver: IpvsDriver, signal: AbortSignal): IpvsDriver {
  return new Proxy(driver, {
    get(target, prop) {
      const v = Reflect.get(target, prop, target);
      if (typeof v !== 'function' || prop === 'close') return typeof v === 'function' ? v.bind(target) : v;
      return (...args: unknown[]) => {
        if (signal.aborted) {
          return Promise.reject(new AbortedError('interrupted: no further IPVS change was made; what was already applied stays (rerun to converge)', { code: 'EABORTED' }));
        }
        return v.apply(target, args);
      };
    },
  });
}

export interface IpvsSessionFlags { driver?: string; 'dry-run'?: boolean; 'lock-timeout'?: string }

export class IpvsSession {
  private driver?: IpvsDriver;
  private guarded?: IpvsDriver;
  private lockRelease?: () => void;
  private lockHeld?: Promise<unknown>;
  private finished = false;
  private readonly controller = new AbortController();
  private onSignal?: () => void;

  /** id: the oclif command id (MUTATING says whether it takes the lock); note: prints a warning. */
  constructor(private readonly id: string | undefined, private readonly note: (msg: string) => void) {}

  /** Aborted by SIGINT/SIGTERM (a standalone run) or by the host process's signal (the shell). */
  get signal(): AbortSignal { return this.controller.signal; }

  /** Wire the cancel signal: the shell's, or this process's SIGINT/SIGTERM. */
  start(): void {
    const outer = commandSignal();
    if (outer) {
      if (outer.aborted) this.controller.abort();
      else outer.addEventListener('abort', () => this.controller.abort(), { once: true });
    } else {
      // First signal: cancel cleanly (drains stop at weight 0); a second one: leave at once.
      let count = 0;
      this.onSignal = () => { if (++count > 1) process.exit(130); this.controller.abort(); };
      process.on('SIGINT', this.onSignal);
      process.on('SIGTERM', this.onSignal);
    }
  }

  /**
   * The driver, opened once per run. Called after the flags are validated; a command that
   * changes the table (MUTATING, not --dry-run) takes the table's lock here and keeps it until
   * the command ends, so its read, plan and write see no other lbctl's changes.
   */
  async ipvs(flags: IpvsSessionFlags): Promise<IpvsDriver> {
    if (!this.lockHeld && this.id && MUTATING.has(this.id) && !flags['dry-run']) await this.takeLock(flags['lock-timeout']);
    this.driver ??= await openDriver(flags, this.note);
    this.guarded ??= guardDriver(this.driver, this.signal);
    return this.guarded;
  }

  private async takeLock(lockTimeout: string | undefined): Promise<void> {
    let acquired!: () => void;
    const got = new Promise<void>((resolve) => { acquired = resolve; });
    this.lockHeld = withIpvsLock(lockTimeout, () => {
      acquired();
      // Taken after the command gave up waiting (cancelled): let go at once.
      if (this.finished) return Promise.resolve();
      return new Promise<void>((resolve) => { this.lockRelease = resolve; });
    });
    const cancelled = new Promise<never>((_, reject) => {
      const stop = () => reject(new AbortedError('interrupted while waiting for the IPVS table lock; nothing changed', { code: 'EABORTED' }));
      if (this.signal.aborted) stop(); else this.signal.addEventListener('abort', stop, { once: true });
    });
    cancelled.catch(() => {});
    // A BusyError (or a bad --lock-timeout) rejects lockHeld before `got` resolves.
    await Promise.race([got, this.lockHeld, cancelled]);
  }

  /** Close the driver, let go of the lock, unhook the signals (the command's finally). */
  async finish(): Promise<void> {
    this.finished = true;
    if (this.driver && !isSharedDriver(this.driver)) await this.driver.close().catch(() => {});
    this.lockRelease?.();
    // Not awaited when the wait was cancelled: withLock lets go as soon as it gets the lock.
    if (this.lockRelease) await this.lockHeld?.catch(() => {});
    else this.lockHeld?.catch(() => {});
    if (this.onSignal) {
      process.off('SIGINT', this.onSignal);
      process.off('SIGTERM', this.onSignal);
    }
  }
}
