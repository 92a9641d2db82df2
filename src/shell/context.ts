import os from 'node:os';
import type { Config } from '@oclif/core';
import type { IpvsDriver } from '../ipvs/driver.js';
import type { IpvsTable } from '../ipvs/model.js';
import { keepDriverOpen, openDriver, releaseSharedDrivers, type DriverName } from '../ipvs/select.js';
import { formatAddress, resolveSocket, type RuntimeAddress, type RuntimeSession } from '../haproxy/runtime.js';
import { keepSessionOpen, openRuntimeSession } from '../haproxy/runtime-ops.js';
import { parseServersState, parseShowBackend, type ServerState } from '../haproxy/stat.js';
import { LbctlError } from '../cli/errors.js';
import { treeOf, type CommandNode } from './resolve.js';

export interface ShellOptions {
  config: Config;
  /** --driver of `lbctl shell` (also LBCTL_DRIVER). */
  driver?: string;
  /** --socket of `lbctl shell` (else LBCTL_HAPROXY_SOCKET, else haproxy.cfg). */
  socket?: string;
  interactive: boolean;
  keepGoing?: boolean;
}

/**
 * What the shell holds open between commands: one IPVS driver (one netlink socket), registered
 * with select.ts so every IPVS command reuses it, and one HAProxy prompt-mode session for
 * completion, watch views and the safety checks. Live values are cached for a moment so that
 * pressing Tab repeatedly does not re-read the tables.
 */
export class ShellContext {
  readonly host = os.hostname().split('.')[0];
  readonly tree: CommandNode;
  /** The same without the shell's builtins (what `watch` can run). */
  readonly treeNoBuiltins: CommandNode;
  driver?: IpvsDriver;
  driverError?: string;
  haproxyAddress?: RuntimeAddress;
  haproxyError?: string;
  /** The session is handed to the runtime client when it can take one (see sharesSession). */
  sharesSession = false;
  private session?: RuntimeSession;
  private cache = new Map<string, { at: number; value: Promise<unknown> }>();

  private constructor(readonly opts: ShellOptions) {
    this.tree = treeOf(opts.config);
    this.treeNoBuiltins = treeOf(opts.config, false);
  }

  static async open(opts: ShellOptions): Promise<ShellContext> {
    const ctx = new ShellContext(opts);
    // Commands inside the shell see the shell's choices as their defaults.
    if (opts.driver) process.env.LBCTL_DRIVER = opts.driver;
    if (opts.socket) process.env.LBCTL_HAPROXY_SOCKET = opts.socket;
    const want = (opts.driver ?? process.env.LBCTL_DRIVER ?? 'auto') as DriverName;
    try {
      ctx.driver = await openDriver({ driver: want });
      keepDriverOpen(want, ctx.driver);
      keepDriverOpen(ctx.driver.name, ctx.driver);
    } catch (e) {
      ctx.driverError = e instanceof LbctlError ? e.code : String(e);
    }
    try {
      ctx.haproxyAddress = (await resolveSocket(opts.socket)).address;
    } catch (e) {
      ctx.haproxyError = e instanceof LbctlError ? e.code : String(e);
    }
    if (ctx.haproxyAddress) await ctx.haproxy().catch(() => undefined);
    return ctx;
  }

  /** "lbctl host [netlink] haproxy:/run/haproxy.sock" */
  promptText(): string {
    const ipvs = this.driver ? this.driver.name : 'no ipvs';
    const hp = this.haproxyAddress ? ` haproxy:${formatAddress(this.haproxyAddress)}` : '';
    return `lbctl ${this.host} [${ipvs}]${hp}`;
  }

  /** The open prompt-mode session, reopened if haproxy went away and came back. */
  async haproxy(): Promise<RuntimeSession | undefined> {
    if (!this.haproxyAddress) return undefined;
    // haproxy closes idle prompt sessions after its "stats timeout" (10 s by default).
    if (this.session && (this.session as { closed?: boolean }).closed === true) this.session = undefined;
    if (this.session) return this.session;
    this.session = (await openRuntimeSession({ socket: this.opts.socket })).session;
    // The runtime commands run in this process share this one session.
    keepSessionOpen(this.session);
    this.sharesSession = true;
    return this.session;
  }

  /** One runtime command on the shared session; on a broken session, one reconnect. */
  async haproxySend(command: string): Promise<string> {
    for (let attempt = 0; ; attempt++) {
      const s = await this.haproxy();
      if (!s) throw new Error('no haproxy socket');
      try {
        return await s.send(command);
      } catch (e) {
        // haproxy closes idle prompt sessions after its "stats timeout": reconnect once.
        this.session = undefined;
        if (attempt > 0) throw e;
      }
    }
  }

  private cached<T>(key: string, ttlMs: number, load: () => Promise<T>): Promise<T> {
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < ttlMs) return hit.value as Promise<T>;
    const value = load();
    this.cache.set(key, { at: Date.now(), value });
    value.catch(() => this.cache.delete(key));
    return value;
  }

  /** Forget cached live values (after a command ran: it may have changed them). */
  invalidate(): void { this.cache.clear(); }

  ipvsTable(): Promise<IpvsTable> {
    return this.cached('ipvs', 2000, async () => {
      if (!this.driver) return { services: [] };
      return this.driver.getTable({ stats: true });
    });
  }

  haproxyServers(): Promise<ServerState[]> {
    return this.cached('servers', 2000, async () => (this.haproxyAddress ? parseServersState(await this.haproxySend('show servers state')) : []));
  }

  haproxyBackends(): Promise<string[]> {
    return this.cached('backends', 2000, async () => (this.haproxyAddress ? parseShowBackend(await this.haproxySend('show backend')) : []));
  }

  async close(): Promise<void> {
    for (const d of releaseSharedDrivers()) await d.close().catch(() => {});
    if (this.sharesSession) keepSessionOpen(undefined);
    await this.session?.close().catch(() => {});
    this.session = undefined;
  }
}
