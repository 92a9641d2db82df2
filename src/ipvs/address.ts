import net from 'node:net';
import { readFileSync } from 'node:fs';
import { UsageError } from '../cli/errors.js';

export type Family = 'inet' | 'inet6';

export interface HostPort { address: string; port?: number; family: Family }

/** Canonical text of an IP address: dotted quad, or RFC 5952 compressed lower-case IPv6. */
export function canonicalIp(addr: string): string | undefined {
  if (net.isIPv4(addr)) return addr.split('.').map((o) => String(Number(o))).join('.');
  if (net.isIPv6(addr)) {
    try { return new URL(`http://[${addr}]/`).hostname.slice(1, -1); } catch { return undefined; }
  }
  return undefined;
}

export function familyOf(addr: string): Family {
  return net.isIPv6(addr) ? 'inet6' : 'inet';
}

let servicesCache: Map<string, number> | undefined;
/** Port names from /etc/services, as ipvsadm-save without -n prints them ("http"). */
function serviceNames(): Map<string, number> {
  if (servicesCache) return servicesCache;
  servicesCache = new Map();
  try {
    for (const line of readFileSync('/etc/services', 'utf8').split('\n')) {
      const m = /^([A-Za-z0-9][\w.+-]*)\s+(\d+)\/(tcp|udp|sctp)(.*)$/.exec(line.replace(/#.*/, '').trim());
      if (!m) continue;
      const port = Number(m[2]);
      for (const name of [m[1], ...m[4].trim().split(/\s+/).filter(Boolean)]) if (!servicesCache.has(name)) servicesCache.set(name, port);
    }
  } catch { /* no /etc/services: numeric ports only */ }
  return servicesCache;
}

let hostsCache: Map<string, string> | undefined;
/** Host names from /etc/hosts, as ipvsadm-save without -n may print them. No DNS: rules must not depend on it. */
function hostNames(): Map<string, string> {
  if (hostsCache) return hostsCache;
  hostsCache = new Map();
  try {
    for (const line of readFileSync('/etc/hosts', 'utf8').split('\n')) {
      const parts = line.replace(/#.*/, '').trim().split(/\s+/);
      if (parts.length < 2 || !canonicalIp(parts[0])) continue;
      for (const name of parts.slice(1)) if (!hostsCache.has(name)) hostsCache.set(name, canonicalIp(parts[0])!);
    }
  } catch { /* none */ }
  return hostsCache;
}

export function parsePort(text: string, what = 'port'): number {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n >= 0 && n <= 65535) return n;
    throw new UsageError(`${what} ${text} is out of range`, { code: 'EBADPORT', hint: 'use 0-65535' });
  }
  const named = serviceNames().get(text);
  if (named !== undefined) return named;
  throw new UsageError(`${what} "${text}" is not a number or a known service name`, { code: 'EBADPORT', hint: 'use a numeric port such as 80' });
}

function parseHost(text: string, what: string): string {
  const ip = canonicalIp(text);
  if (ip) return ip;
  const named = hostNames().get(text);
  if (named) return named;
  throw new UsageError(`${what} "${text}" is not a valid IPv4 or IPv6 address`, { code: 'EBADADDR', hint: 'write IPv6 with brackets and a port: [2001:db8::1]:80' });
}

/**
 * Parse "10.0.0.1:80", "[2001:db8::1]:80", "10.0.0.1" (when the port is optional),
 * "2001:db8::5" (bare IPv6, no port) or "host:http" (names from /etc/hosts and /etc/services).
 */
export function parseHostPort(text: string, opts: { what?: string; portRequired?: boolean } = {}): HostPort {
  const what = opts.what ?? 'address';
  const s = text.trim();
  if (!s) throw new UsageError(`${what} is empty`, { code: 'EBADADDR', hint: 'give ADDRESS:PORT, e.g. 10.0.0.1:80' });
  let host: string;
  let portText: string | undefined;
  const br = /^\[([^\]]+)\](?::(.*))?$/.exec(s);
  if (br) {
    host = br[1];
    portText = br[2];
    if (portText === '') throw new UsageError(`${what} "${text}" has an empty port`, { code: 'EBADPORT', hint: 'e.g. [2001:db8::1]:80' });
  } else if ((s.match(/:/g) ?? []).length > 1) {
    host = s; // bare IPv6, no port
  } else {
    const i = s.lastIndexOf(':');
    if (i >= 0) { host = s.slice(0, i); portText = s.slice(i + 1); } else host = s;
    if (portText === '') throw new UsageError(`${what} "${text}" has an empty port`, { code: 'EBADPORT', hint: 'e.g. 10.0.0.1:80' });
  }
  const address = parseHost(host, what);
  if (portText === undefined && opts.portRequired) {
    throw new UsageError(`${what} "${text}" has no port`, { code: 'EBADPORT', hint: 'give ADDRESS:PORT, e.g. 10.0.0.1:80 or [2001:db8::1]:80' });
  }
  const port = portText === undefined ? undefined : parsePort(portText, `port in ${what} "${text}"`);
  return { address, port, family: familyOf(address) };
}

/** "10.0.0.1:80" / "[2001:db8::1]:80" */
export function formatHostPort(address: string, port: number): string {
  return net.isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}
