import { UsageError } from '../cli/errors.js';
import { parseCidr } from '../net/address.js';

export interface Vip { address: string; prefix: number }

/**
 * Parse a VIP: "10.0.0.100" or "10.0.0.100/32". IPv4 only: DR/TUN preparation is about ARP,
 * which IPv6 does not use (IPv6 real servers need NDP settings instead).
 * Real servers take /32 only: a wider prefix on lo (the article's NETMASK=255.255.255.0 on
 * lo:0) makes the whole subnet local, so the host can no longer reach its neighbours.
 */
export function parseVip(text: string, opts: { hostOnly: boolean; flag?: string }): Vip {
  const flag = opts.flag ?? '--vip';
  const m = /^([^/]+)(?:\/(\d{1,2}))?$/.exec(text.trim());
  const bare = m ? parseCidr(m[1]) : undefined;
  if (!m || !bare || bare.family !== 'inet') {
    const v6 = bare?.family === 'inet6' ? ' (IPv6 VIPs are not supported: DR/TUN prep is about ARP)' : '';
    throw new UsageError(`${flag} "${text}" is not an IPv4 address${v6}`, { code: 'EBADVIP', hint: 'e.g. --vip 192.168.118.100' });
  }
  const address = bare.address;
  // Range-checked here, not by parseCidr, so /0 and /33 get the prefix message rather than "not an address".
  const prefix = m[2] === undefined ? 32 : Number(m[2]);
  if (prefix < 1 || prefix > 32) throw new UsageError(`${flag} "${text}": prefix /${prefix} is out of range`, { code: 'EBADVIP', hint: 'use /1-/32, usually /32' });
  if (opts.hostOnly && prefix !== 32) {
    throw new UsageError(`${flag} "${text}": a real server's VIP must be /32`, { code: 'EBADVIP', hint: 'a wider prefix on lo makes the whole subnet local; drop the prefix' });
  }
  const first = Number(address.split('.')[0]);
  if (address === '0.0.0.0' || address === '255.255.255.255' || first === 127 || first >= 224) {
    throw new UsageError(`${flag} "${text}" is not a usable unicast VIP`, { code: 'EBADVIP', hint: 'loopback, multicast and broadcast addresses cannot be VIPs' });
  }
  return { address, prefix };
}

/** Parse and de-duplicate a --vip list (repeated flags and/or comma-separated). */
export function parseVips(texts: string[] | undefined, opts: { hostOnly: boolean }): Vip[] {
  const out = new Map<string, Vip>();
  for (const t of (texts ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const v = parseVip(t, opts);
    const prev = out.get(v.address);
    if (prev && prev.prefix !== v.prefix) throw new UsageError(`--vip ${v.address} is given twice with different prefixes`, { code: 'EBADVIP' });
    out.set(v.address, v);
  }
  return [...out.values()];
}
