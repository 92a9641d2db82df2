import { Flags, Parser, type Command, type Config } from '@oclif/core';
import { confirm } from '@inquirer/prompts';
import { AbortedError } from '../cli/errors.js';
import { ipvsadmArgv, selectorFromFlags } from '../cli/ipvs-flags.js';
import { serviceKey, serviceLabel } from '../ipvs/model.js';
import { openDriver, isSharedDriver } from '../ipvs/select.js';
import { openRuntimeSession, resolveTargets } from '../haproxy/runtime-ops.js';
import { formatAddress, resolveSocket } from '../haproxy/runtime.js';
import { socketTimeoutMs } from '../cli/haproxy-command.js';
import { parseServersState, parseShowBackend, type ServerState } from '../haproxy/stat.js';
import type { ShellContext } from './context.js';

/**
 * Confirmations the interactive shell asks before a destructive command runs, keyed by
 * command id. Each one reads the live state, and asks only when something would be lost:
 * a service that still has connections, a backend's last UP server. `--yes` skips the
 * question (and is taken off the argv when the command itself has no such flag).
 * `clear` asks by itself (commands/clear.ts).
 */
export type Guard = (ctx: ShellContext, flags: Record<string, any>, argv: string[]) => Promise<string | undefined>;

const serviceDelete: Guard = async (ctx, flags) => {
  if (flags['dry-run']) return undefined;
  const sel = selectorFromFlags(flags);
  const driver = await openDriver({ driver: flags.driver });
  try {
    const t = await driver.getTable({ stats: true });
    const svc = t.services.find((s) => serviceKey(s) === serviceKey(sel));
    if (!svc) return undefined;
    const active = svc.destinations.reduce((n, d) => n + (d.activeConns ?? 0), 0);
    const inactive = svc.destinations.reduce((n, d) => n + (d.inactiveConns ?? 0), 0);
    if (active === 0) return undefined;
    return `Delete virtual service ${serviceLabel(svc)} and its ${svc.destinations.length} real server(s)? ${active} active connection(s) will be cut (${inactive} inactive).`;
  } finally {
    if (!isSharedDriver(driver)) await driver.close().catch(() => {});
  }
};

function isUp(s: ServerState): boolean {
  return s.opState === 'running' && !s.maint && !s.drain;
}

const lastUpServer: Guard = async (ctx, flags, argv) => {
  const { address } = await resolveSocket(flags.socket);
  const shared = ctx.haproxyAddress && formatAddress(ctx.haproxyAddress) === formatAddress(address);
  const own = shared ? undefined : (await openRuntimeSession({ socket: flags.socket, timeoutMs: socketTimeoutMs(flags['socket-timeout']) })).session;
  const send = (c: string) => (own ? own.send(c) : ctx.haproxySend(c));
  try {
    const servers = parseServersState(await send('show servers state'));
    const backends = parseShowBackend(await send('show backend'));
    const targets = resolveTargets({ refs: argv, allIn: flags['all-in'], except: flags.except }, servers, backends, formatAddress(address));
    const lost: string[] = [];
    for (const b of new Set(targets.map((t) => t.backend))) {
      const mine = targets.filter((t) => t.backend === b);
      const upLeft = servers.filter((s) => s.backend === b && isUp(s) && !mine.includes(s));
      const upHit = mine.filter(isUp);
      if (upHit.length && !upLeft.length) lost.push(`backend ${b} loses its last UP server${upHit.length > 1 ? 's' : ''} (${upHit.map((s) => s.server).join(', ')})`);
    }
    if (!lost.length) return undefined;
    return `${lost.join('; ')}: it will have no server to send traffic to. Continue?`;
  } finally {
    await own?.close();
  }
};

export const GUARDS: Record<string, Guard> = {
  'service:delete': serviceDelete,
  'haproxy:server:disable': lastUpServer,
  'haproxy:server:maint': lastUpServer,
};

/**
 * Run the guard for `id`, if any. Returns the argv to run (without a --yes the command does
 * not know). Throws AbortedError when the user says no; a guard that cannot read the state
 * stays silent and lets the command report the problem itself.
 */
export async function confirmDestructive(ctx: ShellContext, config: Config, id: string, args: string[]): Promise<string[]> {
  const guard = GUARDS[id];
  if (!guard) return args;
  const C = (await config.findCommand(id)!.load()) as unknown as Command.Class & { flags?: Record<string, any>; baseFlags?: Record<string, any>; args?: Record<string, any> };
  const hasYes = Boolean(C.flags?.yes);
  const dash = args.indexOf('--');
  const head = dash < 0 ? args : args.slice(0, dash);
  const yes = head.includes('--yes') || (!hasYes && head.includes('-y'));
  const argv = hasYes ? args : args.filter((a, i) => !((a === '--yes' || a === '-y') && (dash < 0 || i < dash)));
  if (yes) return argv;
  let question: string | undefined;
  try {
    const parsed = await Parser.parse(id.startsWith('haproxy') ? argv : ipvsadmArgv(argv), {
      flags: { ...C.baseFlags, ...C.flags, json: Flags.boolean() },
      args: C.args ?? {},
      strict: false,
    });
    question = await guard(ctx, parsed.flags as Record<string, any>, (parsed.argv as string[]) ?? []);
  } catch {
    return argv;
  }
  if (!question) return argv;
  let ok = false;
  try {
    ok = await confirm({ message: question, default: false });
  } catch {
    ok = false; // Ctrl-C or Esc at the question is a "no"
  }
  if (!ok) throw new AbortedError(`${id.split(':').join(' ')} cancelled; nothing changed`, { code: 'EABORTED', hint: 'add --yes to skip the question' });
  return argv;
}
