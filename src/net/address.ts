import net from 'node:net';
import { readFileSync } from 'node:fs';
import { UsageError } from '../cli/errors.js';

export type Family = 'inet' | 'inet6';

export interface HostPort { address: string; port?: number; family: Family }

/**
 * A dotted quad exactly as net.isIPv4 accepts it (four decimal octets 0-255, no leading zeros,
 * nothing else), checked by a char loop. net's regexps cost little on a JIT, but under qemu TCG
 * each compiled regexp is translated again, and restore checks every address several times.
 */
export function isIPv4(s: string): boolean {
  const n = s.length;
  if (n < 7 || n > 15) return false;
  let dots = 0;
  let digits = 0;
  let val = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return false;
      digits = 0;
      val = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && val === 0) return false; // "01": refused, as net.isIPv4 does
      val = val * 10 + c - 48;
      if (val > 255) return false;
      digits++;
    } else return false;
  }
  return dots === 3 && digits > 0;
}

/** net.isIPv6, skipping its regexp for text without a colon (every IPv6 text has one). */
function isIPv6(s: string): boolean {
  return s.indexOf(':') >= 0 && net.isIPv6(s);
}

/** Canonical text of an IP address: dotted quad, or RFC 5952 compressed lower-case IPv6. */
export function canonicalIp(addr: string): string | undefined {
  // An accepted dotted quad has no leading zeros, so it is its own canonical form.
  if (isIPv4(addr)) return addr;
  if (isIPv6(addr)) {
    try { return new URL(`http://[${addr}]/`).hostname.slice(1, -1); } catch { return undefined; }
  }
  return undefined;
}

export function familyOf(addr: string): Family {
  return isIPv6(addr) ? 'inet6' : 'inet';
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

const isDigits = (s: string): boolean => {
  if (!s.length) return false;
  for (let i = 0; i < s.length; i++) { const c = s.charCodeAt(i); if (c < 48 || c > 57) return false; }
  return true;
};

export function parsePort(text: string, what = 'port'): number {
  if (isDigits(text)) {
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
  return hostPort(text, opts.what ?? 'address', Boolean(opts.portRequired));
}

/** parseHostPort without the options object: the rules parser calls it once per line. */
export function hostPort(text: string, what: string, portRequired: boolean): HostPort {
  const s = text.trim();
  if (!s) throw new UsageError(`${what} is empty`, { code: 'EBADADDR', hint: 'give ADDRESS:PORT, e.g. 10.0.0.1:80' });
  let host: string;
  let portText: string | undefined;
  const br = s.charCodeAt(0) === 91 /* [ */ ? /^\[([^\]]+)\](?::(.*))?$/.exec(s) : null;
  const colon = s.indexOf(':');
  if (br) {
    host = br[1];
    portText = br[2];
    if (portText === '') throw new UsageError(`${what} "${text}" has an empty port`, { code: 'EBADPORT', hint: 'e.g. [2001:db8::1]:80' });
  } else if (colon >= 0 && s.indexOf(':', colon + 1) >= 0) {
    host = s; // bare IPv6, no port
  } else {
    if (colon >= 0) { host = s.slice(0, colon); portText = s.slice(colon + 1); } else host = s;
    if (portText === '') throw new UsageError(`${what} "${text}" has an empty port`, { code: 'EBADPORT', hint: 'e.g. 10.0.0.1:80' });
  }
  const address = parseHost(host, what);
  if (portText === undefined && portRequired) {
    throw new UsageError(`${what} "${text}" has no port`, { code: 'EBADPORT', hint: 'give ADDRESS:PORT, e.g. 10.0.0.1:80 or [2001:db8::1]:80' });
  }
  const port = portText === undefined ? undefined : parsePort(portText, `port in ${what} "${text}"`);
  // address is canonical: IPv6 text always has a colon, a dotted quad never.
  return { address, port, family: address.indexOf(':') >= 0 ? 'inet6' : 'inet' };
}

/** "10.0.0.1:80" / "[2001:db8::1]:80" */
export function formatHostPort(address: string, port: number): string {
  return isIPv6(address) ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * An address as the kernel's 16-byte union nf_inet_addr (IPv4 in the first 4 bytes, network
 * order). Throws on text that is not an IP address: callers validate first.
 */
export function ipToBytes(address: string): Buffer {
  const b = Buffer.alloc(16);
  if (isIPv4(address)) {
    let k = 0;
    for (let i = 0; i < address.length; i++) {
      const c = address.charCodeAt(i);
      if (c === 46) k++; else b[k] = b[k] * 10 + c - 48;
    }
    return b;
  }
  if (!isIPv6(address)) throw new TypeError(`not an IP address: ${address}`);
  // Expand "::" and an embedded IPv4 tail into 8 groups.
  let text = address.replace(/%.*$/, '');
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = v4[1].split('.').map(Number);
    text = text.slice(0, -v4[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}

/** The inverse of ipToBytes, in canonical text. */
export function bytesToIp(b: Buffer, family: Family): string {
  if (family === 'inet') return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(b.readUInt16BE(i).toString(16));
  return canonicalIp(groups.join(':'))!;
}

export interface Cidr { address: string; prefix: number; family: Family }

/**
 * "10.0.0.0/24", "2001:db8::/64"; a bare address is a host route (/32, /128) unless
 * `prefixRequired`. Returns undefined for anything else: callers raise their own error with
 * the flag or file:line it came from.
 */
export function parseCidr(text: string, opts: { prefixRequired?: boolean } = {}): Cidr | undefined {
  const m = /^([^/\s]+)(?:\/(\d{1,3}))?$/.exec(text.trim());
  if (!m) return undefined;
  const address = canonicalIp(m[1]);
  if (!address) return undefined;
  const family = familyOf(address);
  const max = family === 'inet' ? 32 : 128;
  if (m[2] === undefined) return opts.prefixRequired ? undefined : { address, prefix: max, family };
  const prefix = Number(m[2]);
  return prefix <= max ? { address, prefix, family } : undefined;
}

/** Is `ip` inside `cidr`? False across families; undefined when cidr does not parse or has no prefix. */
export function inSubnet(ip: string, cidr: string): boolean | undefined {
  const c = parseCidr(cidr, { prefixRequired: true });
  const a = canonicalIp(ip);
  if (!c || !a) return undefined;
  if (familyOf(a) !== c.family) return false;
  const list = new net.BlockList();
  list.addSubnet(c.address, c.prefix, c.family === 'inet' ? 'ipv4' : 'ipv6');
  return list.check(a, c.family === 'inet' ? 'ipv4' : 'ipv6');
}

const maskCache = new Map<string, number | undefined>();

/** A dotted IPv4 netmask's prefix length; undefined when it is not a valid contiguous mask. */
export function netmaskPrefix(mask: string): number | undefined {
  // A table holds a handful of distinct masks, repeated on every service line.
  if (maskCache.has(mask)) return maskCache.get(mask);
  const prefix = maskPrefixOf(mask);
  if (maskCache.size < 1024) maskCache.set(mask, prefix);
  return prefix;
}

/** Four dot-separated groups of 1-3 digits, each at most 255, whose 32 bits are ones then zeros. */
function maskPrefixOf(mask: string): number | undefined {
  let n = 0;
  let octet = 0;
  let digits = 0;
  let groups = 0;
  for (let i = 0; i <= mask.length; i++) {
    const c = i < mask.length ? mask.charCodeAt(i) : 46;
    if (c === 46) {
      if (digits === 0 || octet > 255 || ++groups > 4) return undefined;
      n = n * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      octet = octet * 10 + c - 48;
      digits++;
    } else return undefined;
  }
  if (groups !== 4) return undefined;
  // Contiguous: the inverted mask plus one is a power of two (or the mask is 0).
  const inv = (~n >>> 0);
  if ((inv & (inv + 1)) !== 0) return undefined;
  let prefix = 0;
  for (let b = 31; b >= 0 && ((n >>> b) & 1) === 1; b--) prefix++;
  return prefix;
}

/** The dotted netmask of a prefix length (0-32). */
export function prefixNetmask(prefix: number): string {
  const n = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}
