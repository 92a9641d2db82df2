/**
 * The roles of a cluster's machines beyond the proxies (schema.ts): LVS directors whose IPVS
 * table lbctl programs, and the real servers behind them. `lbctl plan/apply --node N` brings
 * one machine to what these say (src/apply/). Imports only typebox: the build transpiles this
 * file on its own (scripts/build-validator.mjs).
 *
 * IPVS services are written as `lbctl save --format yaml` writes them; their fields are checked
 * by the IPVS validator (rule ipvs-services-valid), so a refusal reads the same as restore's.
 */
import { Type } from '@sinclair/typebox';

const IPV4 = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}';
const IPV4_ADDR = Type.String({ pattern: `^${IPV4}$`, description: 'an IPv4 address such as 192.168.1.10' });
const IPV4_CIDR = Type.String({ pattern: `^${IPV4}(/([0-9]|[12][0-9]|3[0-2]))?$`, description: 'an IPv4 address with optional prefix, such as 192.168.1.10/24' });
const IFNAME = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,15}$', description: 'a Linux interface name (1-15 characters: letters, digits, _ . -)' });
const NAME = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$', description: 'a name: letters, digits, _ . : - (no spaces, newlines, # or quotes), at most 64 characters' });
const FLAG = (description: string) => Type.Integer({ minimum: 0, maximum: 2, description });
const SECONDS = (description: string) => Type.Integer({ minimum: 0, maximum: 2_147_483, description });
const opt = Type.Optional;

const directorVipObject = Type.Object({ address: IPV4_CIDR, device: opt(IFNAME) }, { additionalProperties: false });
const directorVip = Type.Unsafe<string | { address: string; device?: string }>({
  type: ['string', 'object'],
  pattern: `^${IPV4}(/([0-9]|[12][0-9]|3[0-2]))?$`,
  description: 'a VIP lbctl puts on the director: "10.0.0.10/24" or {address, device}',
  additionalProperties: false,
  required: ['address'],
  properties: directorVipObject.properties,
});

/** The IPVS document's services (src/ipvs/formats.ts): checked field by field by the rule, not here. */
const ipvsService = Type.Unsafe<Record<string, unknown>>({ type: 'object', description: 'a virtual service as `lbctl save --format yaml` writes it {protocol, address, port, scheduler, persistence, destinations: [{address, port, forward, weight}]}' });

export const director = Type.Object({
  nodes: opt(Type.Array(NAME, { description: 'the nodes (names in nodes:) that are directors; default: every node' })),
  mode: Type.Unsafe<'nat' | 'dr' | 'tun'>({ enum: ['nat', 'dr', 'tun'], description: 'the forwarding mode the director is prepared for: nat, dr or tun' }),
  interface: opt(IFNAME),
  vips: opt(Type.Array(directorVip, { description: 'VIPs lbctl adds on the director (leave out VIPs that keepalived\'s vrrp instances move)' })),
  services: opt(Type.Array(ipvsService, { description: 'IPVS virtual services lbctl programs (never also in lvs.virtual_servers)' })),
  sysctls: opt(Type.Object({
    conn_reuse_mode: opt(FLAG('net.ipv4.vs.conn_reuse_mode 0-2')),
    expire_nodest_conn: opt(FLAG('net.ipv4.vs.expire_nodest_conn 0-1')),
    expire_quiescent_template: opt(FLAG('net.ipv4.vs.expire_quiescent_template 0-1')),
    sloppy_tcp: opt(FLAG('net.ipv4.vs.sloppy_tcp 0-1')),
    conntrack: opt(FLAG('net.ipv4.vs.conntrack 0-1')),
  }, { additionalProperties: false, description: 'IPVS sysctls (net.ipv4.vs.*) {conn_reuse_mode, expire_nodest_conn, expire_quiescent_template, sloppy_tcp, conntrack}' })),
  timeouts: opt(Type.Object({
    tcp: opt(SECONDS('seconds, as ipvsadm --set')), tcpfin: opt(SECONDS('seconds, as ipvsadm --set')), udp: opt(SECONDS('seconds, as ipvsadm --set')),
  }, { additionalProperties: false, description: 'IPVS connection timeouts {tcp, tcpfin, udp} in seconds (ipvsadm --set); 0 keeps the current value' })),
}, { additionalProperties: false, description: 'the LVS directors: mode, VIPs, the IPVS services lbctl programs, IPVS sysctls and timeouts' });

export const realServerNode = Type.Object({
  name: NAME,
  address: IPV4_CIDR,
  interface: IFNAME,
  mode: Type.Unsafe<'nat' | 'dr' | 'tun'>({ enum: ['nat', 'dr', 'tun'], description: 'how the director reaches it: nat, dr or tun' }),
  vips: opt(Type.Array(IPV4_ADDR, { description: 'DR/TUN: the VIPs it accepts (default: every VIP whose service lists its address)' })),
  gateway: opt(IPV4_ADDR),
}, { additionalProperties: false, description: 'a real server {name, address, interface, mode, vips (dr/tun), gateway (nat)}' });

export const realServers = Type.Array(realServerNode, { description: 'the real servers, each a machine lbctl apply --node prepares' });
