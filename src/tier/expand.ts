/**
 * What an active-active tier spec means on each director: `tierDirectorDesired(spec, name)` is
 * the one function `lbctl apply` (issue 13) and the kernel-lab test both call. It returns every
 * default resolved: the IPVS table (identical on every director), the IPVS sysctls, the host
 * settings `lbctl director prep` makes, the FRR model (bgp routing) and the health gate; the real
 * servers' prep comes from `tierRealServers`, the router's side in static mode from `staticRoute`.
 * Pure: no I/O. The spec rules (src/cluster/rules/tier.ts) have passed before this runs.
 */
import type { Destination, IpvsTable, VirtualService } from '../ipvs/model.js';
import type { ClusterSpec, NodeSpec } from '../cluster/types.js';
import type { FrrConfig } from './frr.js';

export type TierSpec = NonNullable<ClusterSpec['tier']>;
export type TierServiceSpec = TierSpec['services'][number];
export type TierDirectorSpec = TierSpec['directors'][number];

export const TIER_DEFAULTS = {
  scheduler: 'mh' as const,
  /** Plain mh and sh hash the source address only: few clients spread badly (80/60/0/60 in the lab). */
  flags: { mh: ['mh-port'], sh: ['sh-port'] } as Record<string, string[]>,
  forward: 'dr' as const,
  protocol: 'tcp' as const,
  weight: 1,
  sysctls: { sloppy_tcp: true, conn_reuse_mode: 1, expire_nodest_conn: true },
  routing: 'bgp' as const,
  keepalive: 1,
  hold: 3,
  /** 300 ms x 3: the router drops a dead director in under 1 s (0.86 s measured in the lab). */
  bfd: { interval_ms: 300, multiplier: 3 },
  gate: { interval: 1 },
  /** Where the VIPs live on a director: lo, so the director never answers ARP for them on the link. */
  vipDevice: 'lo',
};

/** The schedulers an active-active tier accepts: every director must pick the same real server for a flow. */
export const CONSISTENT_SCHEDULERS = ['mh', 'sh'] as const;

export interface TierSysctl { key: string; value: string; why: string }

export interface TierBgp {
  asn: number;
  routerId: string;
  neighbors: Array<{ address: string; asn: number }>;
  bfd?: { intervalMs: number; multiplier: number };
  keepalive: number;
  hold: number;
}

export interface TierGate {
  interval: number;
  /** VIP:port (and protocol) of every service the gate watches; announcing needs one live real server each. */
  services: Array<{ protocol: 'tcp' | 'udp'; vip: string; port: number }>;
  checks: string[][];
  vips: string[];
  /** Present in bgp mode: how the gate announces and withdraws. */
  bgp?: { asn: number };
}

export interface TierDirectorDesired {
  director: string;
  /** The address the director peers and forwards from (its node address, no prefix). */
  address: string;
  vips: string[];
  /** The same on every director; `lbctl restore` takes printRules(table). */
  table: IpvsTable;
  sysctls: TierSysctl[];
  /** argv after `lbctl`: the host settings of a DR/TUN director with its VIPs on lo. */
  prep: string[][];
  routing: 'bgp' | 'static';
  frr?: FrrConfig;
  gate: TierGate;
}

export const ipOf = (cidr: string) => cidr.split('/')[0];

export function tierOf(spec: ClusterSpec): TierSpec | undefined {
  return spec.tier;
}

export function serviceScheduler(s: TierServiceSpec): string {
  return s.scheduler ?? TIER_DEFAULTS.scheduler;
}

export function serviceFlags(s: TierServiceSpec): string[] {
  return [...new Set(s.flags ?? TIER_DEFAULTS.flags[serviceScheduler(s)] ?? [])].sort();
}

/** The IPVS table every director of the tier carries, real servers in spec order. */
export function tierTable(t: TierSpec): IpvsTable {
  const services: VirtualService[] = t.services.map((s) => {
    const forward = (s.forward ?? TIER_DEFAULTS.forward) === 'tun' ? 'tunnel' as const : 'droute' as const;
    const destinations: Destination[] = s.real_servers.map((r) => ({
      address: r.address, port: r.port ?? s.port, family: 'inet', forward, weight: r.weight ?? TIER_DEFAULTS.weight,
      upperThreshold: 0, lowerThreshold: 0, ...(forward === 'tunnel' ? { tunType: 'ipip' as const } : {}),
    }));
    return {
      protocol: s.protocol ?? TIER_DEFAULTS.protocol, family: 'inet', address: s.vip, port: s.port,
      scheduler: serviceScheduler(s) as VirtualService['scheduler'], persistence: 0, netmask: '255.255.255.255',
      schedFlags: serviceFlags(s), onePacket: false, destinations,
    };
  });
  return { services };
}

export function tierVips(t: TierSpec): string[] {
  return [...new Set(t.services.map((s) => s.vip))];
}

export function tierSysctls(t: TierSpec): TierSysctl[] {
  const s = { ...TIER_DEFAULTS.sysctls, ...(t.sysctls ?? {}) };
  return [
    { key: 'net.ipv4.vs.sloppy_tcp', value: s.sloppy_tcp ? '1' : '0', why: 'take over a flow from any TCP packet, not only a SYN: a director that ECMP moves a flow to carries it on' },
    { key: 'net.ipv4.vs.conn_reuse_mode', value: String(s.conn_reuse_mode), why: 'how a reused client port is scheduled; the consistent hash picks the same real server again' },
    { key: 'net.ipv4.vs.expire_nodest_conn', value: s.expire_nodest_conn ? '1' : '0', why: 'a flow whose real server is gone is expired and scheduled again, the same way on every director' },
  ];
}

function bgpOf(t: TierSpec, d: TierDirectorSpec, node: NodeSpec): TierBgp | undefined {
  if ((t.routing ?? TIER_DEFAULTS.routing) !== 'bgp' || !t.bgp) return undefined;
  const bfd = t.bgp.bfd ?? true;
  return {
    asn: d.asn ?? t.asn!,
    routerId: d.router_id ?? ipOf(node.address),
    neighbors: t.bgp.neighbors.map((n) => ({ address: n.address, asn: n.asn })),
    bfd: bfd === false ? undefined : { intervalMs: (bfd === true ? undefined : bfd.interval_ms) ?? TIER_DEFAULTS.bfd.interval_ms, multiplier: (bfd === true ? undefined : bfd.multiplier) ?? TIER_DEFAULTS.bfd.multiplier },
    keepalive: t.bgp.keepalive ?? TIER_DEFAULTS.keepalive,
    hold: t.bgp.hold ?? TIER_DEFAULTS.hold,
  };
}

/** Each director's desired state; throws on a director that is not in the tier (callers check the name first). */
export function tierDirectorDesired(spec: ClusterSpec, director: string): TierDirectorDesired {
  const t = spec.tier;
  if (!t) throw new Error('tierDirectorDesired: the spec has no tier section');
  const d = t.directors.find((x) => x.name === director);
  const node = spec.nodes.find((n) => n.name === director);
  if (!d || !node) throw new Error(`tierDirectorDesired: ${director} is not a tier director`);
  const vips = tierVips(t);
  const table = tierTable(t);
  const modes = [...new Set(t.services.map((s) => s.forward ?? TIER_DEFAULTS.forward))];
  const bgp = bgpOf(t, d, node);
  const routing = t.routing ?? TIER_DEFAULTS.routing;
  return {
    director,
    address: ipOf(node.address),
    vips,
    table,
    sysctls: tierSysctls(t),
    prep: modes.map((m) => ['director', 'prep', '--mode', m, '--vip', vips.map((v) => `${v}/32`).join(','), '--dev', TIER_DEFAULTS.vipDevice]),
    routing,
    frr: bgp ? { hostname: director, bgp, vips, header: [`frr.conf for director ${director} of cluster ${spec.cluster}, generated by lbctl.`, 'The VIPs are announced by the health gate (lbctl-tier-gate), not by this file: a restarted bgpd announces nothing until the gate finds the director healthy.'] } : undefined,
    gate: {
      interval: t.gate?.interval ?? TIER_DEFAULTS.gate.interval,
      services: t.services.map((s) => ({ protocol: s.protocol ?? TIER_DEFAULTS.protocol, vip: s.vip, port: s.port })),
      checks: (t.gate?.checks ?? []).map((c) => c.split(/ +/).filter(Boolean)),
      vips,
      bgp: bgp ? { asn: bgp.asn } : undefined,
    },
  };
}

/** argv after `lbctl` that prepares each real server of the tier (VIPs on lo, ARP quiet). */
export function tierRealServers(t: TierSpec): Array<{ address: string; prep: string[] }> {
  const byAddress = new Map<string, { modes: Set<string>; vips: Set<string> }>();
  for (const s of t.services) {
    for (const r of s.real_servers) {
      const e = byAddress.get(r.address) ?? { modes: new Set(), vips: new Set() };
      e.modes.add(s.forward ?? TIER_DEFAULTS.forward);
      e.vips.add(s.vip);
      byAddress.set(r.address, e);
    }
  }
  return [...byAddress].map(([address, e]) => ({
    address,
    prep: ['realserver', 'prep', '--mode', [...e.modes][0], '--vip', [...e.vips].join(',')],
  }));
}

/** Static-ECMP mode: what the router needs (lbctl does not configure routers it does not own). */
export function staticRoute(spec: ClusterSpec): string[] {
  const t = spec.tier!;
  const hops = t.directors.map((d) => ipOf(spec.nodes.find((n) => n.name === d.name)!.address));
  return [
    // Policy 1 over veth reuses the sender's socket hash and TCP rehashes on retransmit, which
    // split single flows across directors in the lab: hash the 5-tuple (fields 0x0037) instead.
    'sysctl -w net.ipv4.fib_multipath_hash_policy=3',
    'sysctl -w net.ipv4.fib_multipath_hash_fields=0x0037',
    // Skip a director whose neighbour entry failed (about 6 s with base_reachable_time_ms=2000).
    'sysctl -w net.ipv4.fib_multipath_use_neigh=1',
    ...tierVips(t).map((v) => `ip route replace ${v}/32 ${hops.map((h) => `nexthop via ${h}`).join(' ')}`),
  ];
}
