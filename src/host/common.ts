import { PermissionError, UsageError } from '../cli/errors.js';
import { planJson } from '../converge/change.js';
import { withLock } from '../util/lock.js';
import { defaultRouteDevs, netnsIdentity, requireIfName, requireLink, type Link } from './links.js';
import { checkRoot, checkWritable } from './precheck.js';
import { applyHost, type HostPlan } from './provider.js';
import { shellQuote } from './quote.js';
import { loadState, stateFile, type HostState } from './state.js';
import { RealHostSystem } from './system.js';
import type { CheckItem, CheckResult, HostChangeResult, Target } from './types.js';

export interface CommonOptions {
  /** Network namespace to work in (`ip netns` name); default: the current one. */
  netns?: string;
  /** Print/return what would change; change nothing. */
  dryRun?: boolean;
  /** Also write the sysctl.d file and the boot unit. */
  persist?: boolean;
  /** Write --persist files under this directory instead of / (image building, tests). */
  root?: string;
  /** How long to wait for another lbctl holding this namespace's host-prep lock (default 30 s). */
  lockTimeoutMs?: number;
}

/** Flag combinations that cannot mean anything sensible, refused before anything is read. */
export function validateCommon(opts: CommonOptions): void {
  if (opts.root !== undefined && !opts.persist) {
    throw new UsageError('--root only applies to the files --persist writes', { code: 'ECONFLICT', hint: 'add --persist or drop --root' });
  }
  if (opts.root !== undefined && !opts.root.startsWith('/')) {
    throw new UsageError(`--root "${opts.root}" must be an absolute path`, { code: 'EUSAGE' });
  }
  // Persisting a namespace's settings into the host's own /etc would change the host at its next boot.
  if (opts.persist && opts.netns && opts.root === undefined) {
    throw new UsageError('--persist with --netns would write the host\'s /etc for a namespace', { code: 'ECONFLICT', hint: 'add --root DIR (the namespace\'s or container\'s root)' });
  }
}

export function requireRoot(what: string, opts: CommonOptions): void {
  const needs = !opts.dryRun || Boolean(opts.netns);
  if (needs && typeof process.geteuid === 'function' && process.geteuid() !== 0) {
    throw new PermissionError(`${what} needs root (it ${opts.netns ? 'enters a network namespace' : 'writes /proc/sys/net and adds addresses'})`, { code: 'ENOROOT', hint: 'run it with sudo' });
  }
}

/**
 * The interface the host talks to clients and the director through: --dev, else the device of
 * the default route. Undefined when neither exists (the "all" sysctls still cover it).
 */
export async function egressDevice(links: Map<string, Link>, netns: string | undefined, dev: string | undefined, reserved: string[]): Promise<string | undefined> {
  if (dev !== undefined) {
    requireIfName(dev);
    if (reserved.includes(dev)) throw new UsageError(`--dev ${dev}: give the egress interface (the one facing clients), not ${dev}`, { code: 'EUSAGE', hint: 'e.g. --dev eth0' });
    requireLink(links, dev, netns);
    return dev;
  }
  return (await defaultRouteDevs(netns)).find((d) => !reserved.includes(d) && links.has(d));
}

/** Interfaces that answer ARP (up, not loopback/NOARP): the ones ARP flux can happen on. */
export function arpInterfaces(links: Map<string, Link>): Link[] {
  return [...links.values()].filter((l) => l.up && !l.noArp).sort((a, b) => a.name.localeCompare(b.name));
}

export function checkResult(target: Target, mode: string, netns: string | undefined, vips: string[], dev: string | undefined, items: CheckItem[], readyFor: string): CheckResult {
  const fails = items.filter((i) => i.severity === 'fail');
  const warnings = items.filter((i) => i.severity === 'warn').length;
  const verdict = fails.length === 0
    ? `OK: ready for ${readyFor}${warnings ? ` (${warnings} warning${warnings > 1 ? 's' : ''})` : ''}`
    : `FAIL: ${fails.length} problem${fails.length > 1 ? 's' : ''} would break ${readyFor}: ${fails.map((f) => f.item).join(', ')}`;
  return { target, mode, netns: netns ?? null, ok: fails.length === 0, verdict, vips, dev: dev ?? null, items, problems: fails.length, warnings };
}

export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;

/**
 * The frame of every prep/unprep: namespace and privileges checked, then, under the namespace's
 * host-prep lock (two operators cannot interleave), the records loaded fresh and `body` run.
 * A dry run takes no lock: it changes nothing.
 */
export async function hostRun<T>(target: Target, what: string, opts: CommonOptions, body: (sys: RealHostSystem, records: HostState, recordsFile: string) => Promise<T>): Promise<T> {
  const netnsId = await netnsIdentity(opts.netns);
  requireRoot(what, opts);
  if (opts.persist && opts.root !== undefined) await checkRoot(opts.root);
  const file = stateFile(target, opts.netns);
  const go = async () => body(new RealHostSystem(opts.netns), await loadState(file, netnsId), file);
  if (opts.dryRun) return go();
  return withLock(`hostprep@${opts.netns ?? 'host'}`, opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS, go);
}

/** Everything a plan will write must be writable before the first change: files and the records. */
export async function precheckPlan(plan: HostPlan, before: HostState, recordsFile: string): Promise<void> {
  for (const c of plan.changes) if (c.kind === 'file') await checkWritable(c.id);
  if (plan.changes.length > 0 || JSON.stringify(plan.records) !== JSON.stringify(before)) await checkWritable(recordsFile);
}

/** Check, then apply (unless dry run), then the result every prep/unprep returns. */
export async function finish(args: {
  target: Target; operation: 'prep' | 'unprep'; what: string; mode: string | null; opts: CommonOptions; vips: string[]; dev: string | undefined;
  plan: HostPlan; before: HostState; recordsFile: string; sys: RealHostSystem; notes: string[];
}): Promise<HostChangeResult> {
  const { plan, opts } = args;
  if (!opts.dryRun) {
    await precheckPlan(plan, args.before, args.recordsFile);
    await applyHost(args.sys, plan, args.before, { recordsFile: args.recordsFile, what: args.what });
  }
  const changed = plan.changes.length;
  return {
    target: args.target, operation: args.operation, mode: args.mode, netns: opts.netns ?? null, dryRun: Boolean(opts.dryRun), changed: changed > 0,
    vips: args.vips, dev: args.dev ?? null, items: plan.items,
    commands: plan.changes.filter((c) => c.kind !== 'file' && c.command).map((c) => shellQuote(c.command!)),
    summary: { changed, unchanged: plan.items.length - changed }, notes: [...args.notes, ...plan.notes],
    plan: planJson(plan.changes),
  };
}
