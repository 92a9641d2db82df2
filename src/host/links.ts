import { promises as fs } from 'node:fs';
import { execa } from 'execa';
import { NotFoundError, PermissionError, UsageError } from '../cli/errors.js';
import { ipFailure } from './sysctl.js';

/** One IPv4 address as `ip -j addr` reports it. */
export interface Ipv4Address { address: string; prefix: number; label: string; scope: string }

export interface Link {
  name: string;
  up: boolean;
  /** "loopback", "ether", "ipip", ... */
  linkType: string;
  noArp: boolean;
  addresses: Ipv4Address[];
}

/** The `ip` argv for a namespace: `ip -n NAME ...` runs the request inside it. */
export function ipArgs(netns: string | undefined, args: string[]): string[] {
  return netns ? ['-n', netns, ...args] : args;
}

export async function ip(netns: string | undefined, args: string[], doing: string): Promise<string> {
  const r = await execa('ip', ipArgs(netns, args), { reject: false });
  if (r.exitCode !== 0) throw ipFailure(r.stderr, doing);
  return r.stdout;
}

export async function ipJson<T>(netns: string | undefined, args: string[], doing: string): Promise<T> {
  const out = await ip(netns, ['-j', ...args], doing);
  return (out.trim() ? JSON.parse(out) : []) as T;
}

/** Every link with its IPv4 addresses (one `ip -j addr show`). */
export async function readLinks(netns?: string): Promise<Map<string, Link>> {
  const raw = await ipJson<any[]>(netns, ['addr', 'show'], 'reading addresses');
  const links = new Map<string, Link>();
  for (const l of raw) {
    const flags: string[] = l.flags ?? [];
    links.set(l.ifname, {
      name: l.ifname,
      up: flags.includes('UP'),
      linkType: l.link_type ?? 'unknown',
      noArp: flags.includes('NOARP') || flags.includes('LOOPBACK'),
      addresses: (l.addr_info ?? []).filter((a: any) => a.family === 'inet').map((a: any) => ({
        address: a.local, prefix: a.prefixlen, label: a.label ?? l.ifname, scope: a.scope ?? 'global',
      })),
    });
  }
  return links;
}

/** Devices of the IPv4 default route(s), in order. */
export async function defaultRouteDevs(netns?: string): Promise<string[]> {
  const routes = await ipJson<any[]>(netns, ['-4', 'route', 'show', 'default'], 'reading the default route');
  return [...new Set(routes.map((r) => r.dev).filter(Boolean) as string[])];
}

/** Is there a `local` route for the address in table local (what accepts packets for it)? */
export async function hasLocalRoute(netns: string | undefined, address: string): Promise<boolean> {
  const routes = await ipJson<any[]>(netns, ['-4', 'route', 'show', 'table', 'local', 'type', 'local', 'to', `${address}/32`], 'reading table local');
  return routes.some((r) => r.dst === address || r.dst === `${address}/32`);
}

/** Linux interface names: 1-15 bytes, no '/', ':' or whitespace (dev_valid_name). */
export function validIfName(name: string): boolean {
  return /^[^\s/:]{1,15}$/.test(name) && name !== '.' && name !== '..';
}

export function requireIfName(name: string, flag = '--dev'): string {
  if (!validIfName(name)) throw new UsageError(`${flag} "${name}" is not a valid interface name`, { hint: 'up to 15 characters, no "/", ":" or spaces' });
  return name;
}

export function requireLink(links: Map<string, Link>, name: string, netns?: string, flag = '--dev'): Link {
  const link = links.get(name);
  if (!link) {
    const where = netns ? ` in netns ${netns}` : '';
    const known = [...links.keys()].join(', ');
    throw new NotFoundError(`${flag} ${name}: no such interface${where}`, { hint: `interfaces: ${known}` });
  }
  return link;
}

/**
 * Checks that a named namespace exists and returns its identity (the nsfs inode), so state
 * recorded for an earlier namespace of the same name is not mistaken for this one's.
 */
export async function netnsIdentity(netns?: string): Promise<number> {
  if (!netns) return (await fs.stat('/proc/self/ns/net')).ino;
  if (!/^[A-Za-z0-9_.-]{1,64}$/.test(netns) || netns === '.' || netns === '..') {
    throw new UsageError(`--netns "${netns}" is not a valid namespace name`, { hint: 'letters, digits, "_", "-", "."' });
  }
  try {
    return (await fs.stat(`/run/netns/${netns}`)).ino;
  } catch (e: any) {
    if (e.code === 'EACCES' || e.code === 'EPERM') throw new PermissionError(`cannot open network namespace ${netns}`, { hint: 'run as root' });
    throw new NotFoundError(`network namespace ${netns} not found`, { hint: 'ip netns list' });
  }
}

/** The first free "base:N" label on a device (lo:0, lo:1, ...), or undefined when it would exceed 15 bytes. */
export function nextLabel(link: Link, taken: Set<string> = new Set()): string | undefined {
  const used = new Set([...link.addresses.map((a) => a.label), ...taken]);
  for (let n = 0; n < 1000; n++) {
    const label = `${link.name}:${n}`;
    if (label.length > 15) return undefined;
    if (!used.has(label)) return label;
  }
  return undefined;
}
