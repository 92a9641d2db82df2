/**
 * The `tier:` section of the cluster spec: an active-active IPVS tier behind the routers' ECMP
 * (issue 17). Every director serves the same VIPs with the same IPVS table and no connection
 * sync; a consistent-hash scheduler plus sloppy_tcp lets any director carry any flow.
 *
 * This file imports only TypeBox: scripts/build-validator.mjs transpiles it beside schema.ts.
 * Relations the schema cannot express (directors are nodes, schedulers, ASNs) are spec rules
 * in src/cluster/rules/tier.ts.
 */
import { Type, type Static, type TObject, type TOptional, type TProperties, type TSchema } from '@sinclair/typebox';

type WithOptional<P extends TProperties, R extends keyof P> = { [K in keyof P]: K extends R ? P[K] : TOptional<P[K]> };
function obj<P extends TProperties, const R extends keyof P & string = never>(properties: P, required: readonly R[] = [], description?: string): TObject<WithOptional<P, R>> {
  const props = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, (required as readonly string[]).includes(k) ? v : Type.Optional(v)]));
  return Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) }) as unknown as TObject<WithOptional<P, R>>;
}
const list = <T extends TSchema>(items: T, description: string, minItems = 0) => Type.Array(items, { description, ...(minItems ? { minItems } : {}) });
const Enum = <const T extends readonly (string | number)[]>(values: T, description: string) => Type.Unsafe<T[number]>({ enum: [...values], description });

const IPV4 = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}';
const IPV4_ADDR = Type.String({ pattern: `^${IPV4}$`, description: 'an IPv4 address such as 192.168.1.10' });
const NAME = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$', description: 'a name: letters, digits, _ . : - (no spaces, newlines, # or quotes), at most 64 characters' });
const ASN = Type.Integer({ minimum: 1, maximum: 4_294_967_295, description: 'a BGP AS number 1-4294967295' });
const PORT = Type.Integer({ minimum: 1, maximum: 65535, description: 'a TCP/UDP port 1-65535' });
/** Rendered into a generated shell script as one argv word each: no quotes, $, backquotes or control characters. */
const CHECK = Type.String({ pattern: '^/[^\\x00-\\x1f\\x7f"\'\\x60$\\\\;&|<>]*$', minLength: 2, description: 'an absolute command path with arguments separated by spaces, without quotes, $, `, ;, &, |, <, > or backslashes' });

/** Every IPVS scheduler the kernel has: the rule says which an active-active tier accepts, and why. */
export const TIER_SCHEDULERS = ['mh', 'sh', 'rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sed', 'nq', 'fo', 'ovf'] as const;

export const tierDirector = obj({
  name: NAME,
  asn: ASN,
  router_id: IPV4_ADDR,
}, ['name'], 'a tier director {name (a node), asn, router_id}');

export const tierService = obj({
  vip: IPV4_ADDR,
  port: PORT,
  protocol: Enum(['tcp', 'udp'], 'tcp or udp'),
  scheduler: Enum(TIER_SCHEDULERS, 'an IPVS scheduler; an active-active tier needs mh (default) or sh'),
  flags: list(Enum(['mh-port', 'mh-fallback', 'sh-port', 'sh-fallback'], 'mh-port, mh-fallback, sh-port or sh-fallback'), 'scheduler flags (default: mh-port for mh, sh-port for sh)'),
  forward: Enum(['dr', 'tun'], 'dr or tun (NAT needs the replies back through the same director, which ECMP does not promise)'),
  real_servers: list(obj({
    address: IPV4_ADDR,
    port: PORT,
    weight: Type.Integer({ minimum: 0, maximum: 65535, description: 'a weight 0-65535' }),
  }, ['address'], 'a real server {address, port, weight}'), 'the real servers (at least one)', 1),
}, ['vip', 'port', 'real_servers'], 'an IPVS service every director carries {vip, port, protocol, scheduler, flags, forward, real_servers}');

const bfdObject = obj({
  interval_ms: Type.Integer({ minimum: 10, maximum: 60000, description: 'BFD transmit and receive interval in ms, 10-60000' }),
  multiplier: Type.Integer({ minimum: 2, maximum: 255, description: 'missed BFD packets before the peer is down, 2-255' }),
}, [], 'BFD timers {interval_ms, multiplier}');

export const tierBgp = obj({
  neighbors: list(obj({ address: IPV4_ADDR, asn: ASN }, ['address', 'asn'], 'a BGP neighbour {address, asn}'), 'the routers each director peers with (at least one)', 1),
  bfd: Type.Unsafe<boolean | { interval_ms?: number; multiplier?: number }>({
    type: ['boolean', 'object'], additionalProperties: false, properties: bfdObject.properties,
    description: 'BFD on every session for sub-second withdrawal: true (default; 300 ms x 3), false, or {interval_ms, multiplier}',
  }),
  keepalive: Type.Integer({ minimum: 1, maximum: 65535, description: 'BGP keepalive seconds (default 1)' }),
  hold: Type.Integer({ minimum: 3, maximum: 65535, description: 'BGP hold seconds, at least 3 (default 3)' }),
}, ['neighbors'], 'BGP with FRR {neighbors, bfd, keepalive, hold}');

export const tier = obj({
  asn: ASN,
  directors: list(tierDirector, 'the directors (at least two): each a node of the spec', 2),
  services: list(tierService, 'the IPVS services every director carries (at least one)', 1),
  sysctls: obj({
    sloppy_tcp: Type.Boolean({ description: 'net.ipv4.vs.sloppy_tcp: pick up a flow from any TCP packet, not only a SYN (default true; the tier loses moved flows without it)' }),
    conn_reuse_mode: Type.Integer({ minimum: 0, maximum: 2, description: 'net.ipv4.vs.conn_reuse_mode 0-2 (default 1)' }),
    expire_nodest_conn: Type.Boolean({ description: 'net.ipv4.vs.expire_nodest_conn: expire a flow whose real server was removed, so its next packet is scheduled again (default true)' }),
  }, [], 'IPVS sysctls set on every director'),
  routing: Enum(['bgp', 'static'], 'bgp (FRR on every director, default) or static (lbctl prints the route the router needs)'),
  bgp: tierBgp,
  gate: obj({
    interval: Type.Integer({ minimum: 1, maximum: 60, description: 'seconds between health-gate runs, 1-60 (default 1)' }),
    checks: list(CHECK, 'extra commands that must exit 0 for the director to announce'),
  }, [], 'the health gate: a director announces the VIPs only while each service has a real server with weight > 0 and these checks pass'),
}, ['directors', 'services'], 'an active-active IPVS tier behind ECMP');

export type TierStatic = Static<typeof tier>;
