import { DEFAULTS, SCHEDULERS, type ForwardMethod, type Protocol, type Scheduler, type TunCsum, type TunType } from './constants.js';
import { formatHostPort, type Family } from '../net/address.js';

/** How a virtual service is addressed: protocol + VIP:port, or a firewall mark. */
export type ServiceProtocol = Protocol | 'fwmark';

export interface ServiceStats {
  conns: number; inpkts: number; outpkts: number; inbytes: number; outbytes: number;
  cps: number; inpps: number; outpps: number; inbps: number; outbps: number;
}

/** A real server behind a virtual service (the kernel's "destination"). */
export interface Destination {
  address: string;
  port: number;
  family: Family;
  forward: ForwardMethod;
  weight: number;
  /** Upper connection threshold (-x); 0 = none. */
  upperThreshold: number;
  /** Lower connection threshold (-y); 0 = none. */
  lowerThreshold: number;
  /** Only for forward=tunnel. */
  tunType?: TunType;
  tunPort?: number;
  tunCsum?: TunCsum;
  /** Read-only, from the kernel. */
  activeConns?: number;
  inactiveConns?: number;
  persistConns?: number;
  stats?: ServiceStats;
}

export interface VirtualService {
  protocol: ServiceProtocol;
  family: Family;
  /** VIP for tcp/udp/sctp services. */
  address?: string;
  port?: number;
  /** For protocol=fwmark. */
  fwmark?: number;
  scheduler: Scheduler;
  /** Persistence timeout in seconds; 0 = not persistent. */
  persistence: number;
  /** Persistence netmask: dotted quad for IPv4, prefix length for IPv6. */
  netmask: string;
  /** Scheduler flags by ipvsadm name (sh-fallback, sh-port, flag-3, ...), sorted. */
  schedFlags: string[];
  /** One-packet scheduling (-o), UDP only. */
  onePacket: boolean;
  /** Persistence engine, e.g. "sip". */
  pe?: string;
  destinations: Destination[];
  stats?: ServiceStats;
}

export interface IpvsTable { services: VirtualService[] }

/** Stable identity of a service: "tcp|10.0.0.1:80", "fwmark|inet|1". */
export function serviceKey(s: Pick<VirtualService, 'protocol' | 'family' | 'address' | 'port' | 'fwmark'>): string {
  return s.protocol === 'fwmark' ? `fwmark|${s.family}|${s.fwmark}` : `${s.protocol}|${formatHostPort(s.address!, s.port!)}`;
}

export function destinationKey(d: Pick<Destination, 'address' | 'port'>): string {
  return formatHostPort(d.address, d.port);
}

/** "-t 10.0.0.1:80", "-f 1" (plus " -6" for an IPv6 fwmark service), as ipvsadm names a service. */
export function serviceSelector(s: Pick<VirtualService, 'protocol' | 'family' | 'address' | 'port' | 'fwmark'>): string {
  if (s.protocol === 'fwmark') return `-f ${s.fwmark}${s.family === 'inet6' ? ' -6' : ''}`;
  const sw = s.protocol === 'tcp' ? '-t' : s.protocol === 'udp' ? '-u' : '--sctp-service';
  return `${sw} ${formatHostPort(s.address!, s.port!)}`;
}

/** The human name of a service: "TCP 10.0.0.1:80", "FWM 1 IPv6". */
export function serviceLabel(s: Pick<VirtualService, 'protocol' | 'family' | 'address' | 'port' | 'fwmark'>): string {
  if (s.protocol === 'fwmark') return `FWM ${s.fwmark}${s.family === 'inet6' ? ' IPv6' : ''}`;
  return `${s.protocol.toUpperCase()} ${formatHostPort(s.address!, s.port!)}`;
}

export function defaultNetmask(family: Family): string {
  return family === 'inet6' ? String(DEFAULTS.netmask6) : DEFAULTS.netmask4;
}

export function isScheduler(s: string): s is Scheduler {
  return (SCHEDULERS as readonly string[]).includes(s);
}

/**
 * Scheduler flags as a set: trimmed, empty items dropped, de-duplicated, sorted. Whether each
 * flag exists and fits the scheduler is validate.ts's job (validateService).
 */
export function normalizeSchedFlags(list: string[]): string[] {
  return [...new Set(list.map((f) => f.trim()).filter(Boolean))].sort();
}

/** Drop the read-only parts (counters) so two services compare on configuration only. */
export function configOf(s: VirtualService): VirtualService {
  const { stats: _s, ...rest } = s;
  return {
    ...rest,
    destinations: s.destinations.map((d) => {
      const { stats: _ds, activeConns: _a, inactiveConns: _i, persistConns: _p, ...dc } = d;
      return dc;
    }),
  };
}

/** Make a table's order canonical: services and destinations sorted as ipvsadm lists them by key. */
export function sortTable(t: IpvsTable): IpvsTable {
  const services = [...t.services].map((s) => ({ ...s, destinations: [...s.destinations].sort((a, b) => cmpKey(destinationKey(a), destinationKey(b))) }));
  services.sort((a, b) => cmpKey(serviceKey(a), serviceKey(b)));
  return { services };
}

function cmpKey(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The service-level fields that `service edit` can change (everything but identity and destinations). */
export const SERVICE_FIELDS = ['scheduler', 'persistence', 'netmask', 'schedFlags', 'onePacket', 'pe'] as const;
export const DEST_FIELDS = ['forward', 'weight', 'upperThreshold', 'lowerThreshold', 'tunType', 'tunPort', 'tunCsum'] as const;

export function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => x === b[i]);
  return (a ?? undefined) === (b ?? undefined);
}

export function serviceDiff(actual: VirtualService, desired: VirtualService): string[] {
  return SERVICE_FIELDS.filter((f) => !sameValue(actual[f], desired[f])).map((f) => `${f} ${fmt(actual[f])} -> ${fmt(desired[f])}`);
}
export function destinationDiff(actual: Destination, desired: Destination): string[] {
  return DEST_FIELDS.filter((f) => !sameValue(actual[f], desired[f])).map((f) => `${f} ${fmt(actual[f])} -> ${fmt(desired[f])}`);
}
function fmt(v: unknown): string {
  if (Array.isArray(v)) return v.length ? v.join(',') : '(none)';
  return v === undefined || v === '' ? '(none)' : String(v);
}
