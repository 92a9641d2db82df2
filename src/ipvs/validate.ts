/**
 * The one validation of the IPVS model. Every door (flags, rules text, YAML/JSON, restore) builds
 * a VirtualService/Destination and runs it through here before anything is planned or written,
 * so a value is accepted or refused the same way whatever door it came through and whichever
 * driver will carry it.
 *
 * Limits are the kernel's field widths (include/uapi/linux/ip_vs.h, ip_vs_ctl.c), narrowed to
 * what ipvsadm can also express where it is narrower: an input must mean the same thing on the
 * netlink and the ipvsadm driver, so a value only one of them could write is refused for both.
 */
import { UsageError } from '../cli/errors.js';
import { canonicalIp, familyOf, netmaskPrefix } from '../net/address.js';
import { SCHEDULERS, SCHED_FLAG_BITS, TUN_TYPES } from './constants.js';
import type { Destination, IpvsTable, VirtualService } from './model.js';

export const LIMITS = {
  /** Ports are be16 on the wire. */
  port: 65535,
  /** The kernel takes an int >= 0; ipvsadm refuses above 65535 ("illegal weight"). */
  weight: 65535,
  /** u32 in the kernel; ipvsadm parses -x/-y as 0..INT_MAX. */
  threshold: 2147483647,
  /** Seconds; u32 in the kernel, but ipvsadm's -p takes 1..31 days (MAX_TIMEOUT). */
  persistence: 86400 * 31,
  /** u32, and 0 means "no mark". */
  fwmark: 0xffffffff,
  /** IP_VS_PENAME_MAXLEN is 16 bytes with the NUL. */
  peName: 15,
  /** The kernel refuses an IPv6 persistence prefix outside 1..128 (EINVAL). */
  ipv6PrefixMin: 1,
  ipv6PrefixMax: 128,
} as const;

/** Which model field a validation error is about, so each door can name it its own way (flag, file:line, YAML path). */
export type ServiceField = 'protocol' | 'family' | 'address' | 'port' | 'fwmark' | 'scheduler' | 'persistence' | 'netmask' | 'schedFlags' | 'onePacket' | 'pe' | 'destinations';
export type DestField = 'address' | 'port' | 'forward' | 'weight' | 'upperThreshold' | 'lowerThreshold' | 'tunType' | 'tunPort' | 'tunCsum';

/** A refused value. Exit 2 (usage); file doors turn it into exit 3 with the place in the file. */
export class FieldError extends UsageError {
  readonly field: string;
  readonly target: 'service' | 'destination';
  constructor(target: 'service' | 'destination', field: string, message: string, code: string, hint?: string) {
    super(message, { code, hint });
    this.field = field;
    this.target = target;
  }
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

function intIn(target: 'service' | 'destination', field: string, what: string, v: unknown, min: number, max: number, code = 'EBADNUM'): void {
  if (!isInt(v) || v < min || v > max) {
    throw new FieldError(target, field, `${what} ${typeof v === 'number' ? v : JSON.stringify(v)} is out of range`, code, `use an integer ${min}-${max}`);
  }
}

function checkAddress(target: 'service' | 'destination', what: string, v: unknown, family: unknown): void {
  if (typeof v !== 'string' || canonicalIp(v) !== v) {
    throw new FieldError(target, 'address', `${what} ${JSON.stringify(v)} is not a valid IPv4 or IPv6 address`, 'EBADADDR');
  }
  if (familyOf(v) !== family) throw new FieldError(target, 'address', `${what} ${v} is not ${family === 'inet6' ? 'IPv6' : 'IPv4'}`, 'EBADADDR');
}

/** Throws FieldError on the first field that does not fit; returns the service unchanged. */
export function validateService(s: VirtualService): VirtualService {
  const svc = 'service';
  const p = s.protocol;
  if (p !== 'tcp' && p !== 'udp' && p !== 'sctp' && p !== 'fwmark') throw new FieldError(svc, 'protocol', `protocol ${JSON.stringify(s.protocol)} is not tcp, udp, sctp or fwmark`, 'EBADPROTO');
  if (s.family !== 'inet' && s.family !== 'inet6') throw new FieldError(svc, 'family', `family ${JSON.stringify(s.family)} is not inet or inet6`, 'EBADFAMILY');
  if (!isInt(s.persistence) || s.persistence < 0 || s.persistence > LIMITS.persistence) {
    throw new FieldError(svc, 'persistence', `persistence timeout ${s.persistence} is out of range`, 'EBADNUM', `use 1-${LIMITS.persistence} seconds (31 days), or 0 for none`);
  }
  if (s.protocol === 'fwmark') {
    intIn(svc, 'fwmark', 'firewall mark', s.fwmark, 1, LIMITS.fwmark, 'EBADMARK');
  } else {
    checkAddress(svc, 'virtual address', s.address, s.family);
    intIn(svc, 'port', 'port', s.port, 0, LIMITS.port, 'EBADPORT');
    // ipvsadm: "Zero port specified for non-persistent service"; port 0 means every port, which only persistence makes sense of.
    if (s.port === 0 && s.persistence === 0) throw new FieldError(svc, 'port', 'port 0 (every port) needs a persistent service', 'EBADPORT', 'add -p, or give a port');
  }
  if (!(SCHEDULERS as readonly string[]).includes(s.scheduler)) {
    throw new FieldError(svc, 'scheduler', `unknown scheduler ${JSON.stringify(s.scheduler)}`, 'EBADSCHED', `use one of ${SCHEDULERS.join(' ')}`);
  }
  if (typeof s.netmask !== 'string') throw new FieldError(svc, 'netmask', `persistence netmask ${JSON.stringify(s.netmask)} is not valid`, 'EBADMASK');
  if (s.family === 'inet') {
    if (netmaskPrefix(s.netmask) === undefined) {
      throw new FieldError(svc, 'netmask', `persistence netmask "${s.netmask}" is not a valid IPv4 netmask`, 'EBADMASK', 'use a contiguous dotted mask such as 255.255.255.0');
    }
  } else if (!/^\d{1,3}$/.test(s.netmask) || Number(s.netmask) < LIMITS.ipv6PrefixMin || Number(s.netmask) > LIMITS.ipv6PrefixMax) {
    throw new FieldError(svc, 'netmask', `persistence netmask "${s.netmask}" is not a valid IPv6 prefix length`, 'EBADMASK', `use ${LIMITS.ipv6PrefixMin}-${LIMITS.ipv6PrefixMax}`);
  }
  if (!Array.isArray(s.schedFlags)) throw new FieldError(svc, 'schedFlags', 'scheduler flags must be a list', 'EBADFLAG');
  for (const f of s.schedFlags) {
    if (typeof f !== 'string' || !(f in SCHED_FLAG_BITS)) {
      throw new FieldError(svc, 'schedFlags', `unknown scheduler flag ${JSON.stringify(f)}`, 'EBADFLAG', `use ${Object.keys(SCHED_FLAG_BITS).join(', ')}`);
    }
    // As ipvsadm does: sh-* flags belong to the sh scheduler, mh-* to mh; flag-N to any.
    const owner = f.startsWith('sh-') ? 'sh' : f.startsWith('mh-') ? 'mh' : undefined;
    if (owner && s.scheduler !== owner) {
      throw new FieldError(svc, 'schedFlags', `scheduler flag "${f}" needs the ${owner} scheduler, not ${s.scheduler}`, 'EBADFLAG', `use -s ${owner}, or flag-1/flag-2/flag-3`);
    }
  }
  if (typeof s.onePacket !== 'boolean') throw new FieldError(svc, 'onePacket', 'onePacket must be true or false', 'EBADBOOL');
  if (s.onePacket && s.protocol !== 'udp' && s.protocol !== 'fwmark') throw new FieldError(svc, 'onePacket', 'one-packet scheduling (-o) is for UDP services only', 'ECONFLICT');
  if (s.pe !== undefined && (typeof s.pe !== 'string' || !/^[a-z0-9_]+$/i.test(s.pe) || s.pe.length > LIMITS.peName)) {
    throw new FieldError(svc, 'pe', `persistence engine ${JSON.stringify(s.pe)} is not a valid name`, 'EBADPE', `letters, digits and _ only, at most ${LIMITS.peName} characters, e.g. sip`);
  }
  return s;
}

/** Throws FieldError on the first field of `d` that does not fit in service `s`; returns `d` unchanged. */
export function validateDestination(s: Pick<VirtualService, 'protocol' | 'family'>, d: Destination): Destination {
  const dst = 'destination';
  if (d.family !== 'inet' && d.family !== 'inet6') throw new FieldError(dst, 'address', `real server family ${JSON.stringify(d.family)} is not inet or inet6`, 'EBADFAMILY');
  checkAddress(dst, 'real server', d.address, d.family);
  if (s.protocol !== 'fwmark' && d.family !== s.family) {
    throw new FieldError(dst, 'address', `real server ${d.address} is ${d.family === 'inet6' ? 'IPv6' : 'IPv4'} but the service is not`, 'EBADADDR', 'use the same address family as the virtual service');
  }
  intIn(dst, 'port', 'real server port', d.port, 0, LIMITS.port, 'EBADPORT');
  if (d.forward !== 'masq' && d.forward !== 'droute' && d.forward !== 'tunnel') throw new FieldError(dst, 'forward', `forwarding method ${JSON.stringify(d.forward)} is not masq, droute or tunnel`, 'EBADFWD');
  intIn(dst, 'weight', 'weight', d.weight, 0, LIMITS.weight, 'EBADWEIGHT');
  intIn(dst, 'upperThreshold', 'upper threshold', d.upperThreshold, 0, LIMITS.threshold);
  intIn(dst, 'lowerThreshold', 'lower threshold', d.lowerThreshold, 0, LIMITS.threshold);
  // ip_vs_ctl.c refuses l_threshold > u_threshold with ERANGE, even when the upper is 0 (none).
  if (d.lowerThreshold > d.upperThreshold) {
    throw new FieldError(dst, 'lowerThreshold', `lower threshold ${d.lowerThreshold} is above the upper threshold ${d.upperThreshold}`, 'EBADNUM', 'the kernel needs -y <= -x; set -x too');
  }
  if (d.forward !== 'tunnel') {
    const f = d.tunType !== undefined ? 'tunType' : d.tunPort !== undefined ? 'tunPort' : d.tunCsum !== undefined ? 'tunCsum' : undefined;
    if (f) throw new FieldError(dst, f, '--tun-* options need tunnel forwarding (-i)', 'EBADTUN', 'add -i or drop the --tun-* options');
    return d;
  }
  if (d.tunType !== undefined && !(TUN_TYPES as readonly string[]).includes(d.tunType)) {
    throw new FieldError(dst, 'tunType', `unknown tunnel type ${JSON.stringify(d.tunType)}`, 'EBADTUN', `use ${TUN_TYPES.join(', ')}`);
  }
  const type = d.tunType ?? 'ipip';
  if (type === 'gue') {
    if (d.tunPort === undefined || d.tunPort === 0) throw new FieldError(dst, 'tunPort', 'a GUE tunnel needs --tun-port', 'EBADTUN', 'add --tun-port PORT');
    intIn(dst, 'tunPort', 'tunnel port', d.tunPort, 1, LIMITS.port, 'EBADTUN');
  } else if (d.tunPort !== undefined) {
    throw new FieldError(dst, 'tunPort', '--tun-port applies to --tun-type gue only', 'EBADTUN');
  }
  if (d.tunCsum !== undefined) {
    if (!['nocsum', 'csum', 'remcsum'].includes(d.tunCsum)) throw new FieldError(dst, 'tunCsum', `tunnel checksum mode ${JSON.stringify(d.tunCsum)} is not nocsum, csum or remcsum`, 'EBADTUN');
    if (type === 'ipip') throw new FieldError(dst, 'tunCsum', '--tun-*csum applies to gue and gre tunnels only', 'EBADTUN');
    if (d.tunCsum === 'remcsum' && type !== 'gue') throw new FieldError(dst, 'tunCsum', '--tun-remcsum applies to gue tunnels only (as ipvsadm and the kernel require)', 'EBADTUN');
  }
  return d;
}

const checked = new WeakSet<IpvsTable>();

/**
 * For a parser that has made every check of validateTable on a table it has just built (the rules
 * parser, line by line): restore's validateTable of it is then free. Only for a table nobody
 * else has had the chance to change.
 */
export function markValidated(t: IpvsTable): IpvsTable {
  checked.add(t);
  return t;
}

/**
 * The whole table: every service and destination, no duplicates. `onError` may rethrow the
 * FieldError with its place in the input (restore names file and line or YAML path).
 */
export function validateTable(t: IpvsTable, onError?: (e: FieldError, service: number, dest?: number) => never): IpvsTable {
  if (checked.has(t)) return t;
  const seen = new Set<string>();
  const services = t.services;
  for (let i = 0; i < services.length; i++) {
    const s = services[i];
    try { validateService(s); } catch (e) { if (e instanceof FieldError && onError) onError(e, i); throw e; }
    const key = s.protocol === 'fwmark' ? `fwmark|${s.family}|${s.fwmark}` : `${s.protocol}|${s.address}|${s.port}`;
    if (seen.has(key)) {
      const e = new FieldError('service', 'address', 'service is defined twice', 'EDUPSVC');
      if (onError) onError(e, i);
      throw e;
    }
    seen.add(key);
    const dests = new Set<string>();
    const list = s.destinations;
    for (let j = 0; j < list.length; j++) {
      const d = list[j];
      try { validateDestination(s, d); } catch (e) { if (e instanceof FieldError && onError) onError(e, i, j); throw e; }
      const dk = `${d.address}|${d.port}`;
      if (dests.has(dk)) {
        const e = new FieldError('destination', 'address', `real server ${d.address} port ${d.port} is listed twice`, 'EDUPDEST');
        if (onError) onError(e, i, j);
        throw e;
      }
      dests.add(dk);
    }
  }
  return t;
}
