import { PermissionError, UsageError } from '../cli/errors.js';
import { defaultRouteDevs, requireIfName, requireLink, type Link } from './links.js';
import type { CheckItem, CheckResult, Target } from './types.js';

export interface CommonOptions {
  /** Network namespace to work in (`ip netns` name); default: the current one. */
  netns?: string;
  /** Print/return what would change; change nothing. */
  dryRun?: boolean;
  /** Also write the sysctl.d file and the boot unit. */
  persist?: boolean;
  /** Write --persist files under this directory instead of / (image building, tests). */
  root?: string;
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
