/**
 * Rules of the node roles (schema-node.ts): directors, the IPVS services lbctl programs, real
 * servers. Run with every other rule, so a bad real server among fifty stops `lbctl apply`
 * before anything changes, and is named at its file:line:col.
 */
import { LbctlError } from '../../cli/errors.js';
import { tableFromDocument } from '../../ipvs/formats.js';
import type { IpvsTable } from '../../ipvs/model.js';
import { inSubnet } from '../../net/address.js';
import type { SpecPath } from '../load.js';
import type { ClusterSpec } from '../types.js';
import { dupes, type Report, type SpecRule } from './rule.js';

/**
 * The director's services as the IPVS model, validated by the IPVS validator. On a refusal,
 * `onError` gets the spec path of the offending field and the validator's message.
 */
export function directorTable(spec: ClusterSpec, onError: (path: SpecPath, message: string, hint?: string) => void): IpvsTable | undefined {
  const services = spec.director?.services;
  if (!services) return { services: [] };
  const paths = new Map<string, SpecPath>();
  const at = (p: (string | number)[]) => {
    const token = `@${paths.size}`;
    paths.set(token, ['director', ...p]);
    return token;
  };
  try {
    return tableFromDocument({ services }, at);
  } catch (e) {
    if (!(e instanceof LbctlError)) throw e;
    onError(paths.get(e.where ?? '') ?? ['director', 'services'], e.message, e.hint);
    return undefined;
  }
}

export const ipvsServicesValid: SpecRule = {
  name: 'ipvs-services-valid',
  doc: 'director.services pass the IPVS validator (the same checks as lbctl restore)',
  check(spec, report) { directorTable(spec, report); },
};

/** VIP:port/protocol of keepalived's virtual servers and of lbctl's services. */
const lvsKey = (address: string, port: number, protocol: string) => `${protocol.toLowerCase()}|${address}:${port}`;

export const oneOwnerPerVirtualService: SpecRule = {
  name: 'one-owner-per-virtual-service',
  doc: 'a VIP:port is programmed either by lbctl (director.services) or by keepalived (lvs.virtual_servers), never both',
  check(spec, report) {
    const kept = new Set((spec.lvs?.virtual_servers ?? []).map((v) => lvsKey(v.address, v.port, v.protocol ?? 'TCP')));
    (spec.director?.services ?? []).forEach((s, i) => {
      const key = lvsKey(String(s.address), Number(s.port), String(s.protocol ?? ''));
      if (kept.has(key)) report(['director', 'services', i], `${s.address}:${s.port} is also in lvs.virtual_servers (keepalived programs it)`, 'keep it in one place: director.services (lbctl) or lvs.virtual_servers (keepalived)');
    });
  },
};

export const directorNodesExist: SpecRule = {
  name: 'director-nodes-exist',
  doc: 'director.nodes names nodes of the spec',
  check(spec, report) {
    const names = new Set(spec.nodes.map((n) => n.name));
    (spec.director?.nodes ?? []).forEach((n, i) => {
      if (!names.has(n)) report(['director', 'nodes', i], `node ${n} is not in nodes:`, `use one of: ${[...names].join(', ')}`);
    });
  },
};

export const distinctMachineNames: SpecRule = {
  name: 'distinct-machine-names',
  doc: 'every machine (nodes and real_servers) has its own name and address, so --node picks one',
  check(spec, report) {
    const rs = spec.real_servers ?? [];
    const nodes = new Set(spec.nodes.map((n) => n.name));
    rs.forEach((r, i) => { if (nodes.has(r.name)) report(['real_servers', i, 'name'], `${r.name} is already a node in nodes:`, 'give the real server its own name'); });
    for (const [a, b] of dupes(rs, (r) => r.name)) report(['real_servers', b, 'name'], `real server ${rs[b].name} is listed twice (first at real_servers[${a}])`, 'remove the duplicate');
    for (const [a, b] of dupes(rs, (r) => r.address.split('/')[0])) report(['real_servers', b, 'address'], `address ${rs[b].address} is also real_servers[${a}]'s`, 'each machine has its own address');
  },
};

/** Every VIP whose service lists this address as a real server (lbctl's and keepalived's). */
export function vipsServedBy(spec: ClusterSpec, address: string): string[] {
  const ip = address.split('/')[0];
  const out = new Set<string>();
  for (const s of spec.director?.services ?? []) {
    const dests = Array.isArray(s.destinations) ? (s.destinations as Array<Record<string, unknown>>) : [];
    if (typeof s.address === 'string' && dests.some((d) => d.address === ip)) out.add(s.address);
  }
  for (const v of spec.lvs?.virtual_servers ?? []) if (v.real_servers.some((r) => r.address === ip)) out.add(v.address);
  return [...out];
}

/** The NAT real server's gateway: given, else a director's address (a VRRP VIP, a director VIP, a node) on its subnet. */
export function natGateway(spec: ClusterSpec, rs: NonNullable<ClusterSpec['real_servers']>[number]): string | undefined {
  if (rs.gateway) return rs.gateway;
  const subnet = rs.address.includes('/') ? rs.address : `${rs.address}/24`;
  const directors = new Set(spec.director?.nodes ?? spec.nodes.map((n) => n.name));
  // A VIP keepalived moves between directors first: replies must follow the active one.
  const candidates = [
    ...(spec.vrrp?.instances ?? []).flatMap((i) => i.vips.map((v) => (typeof v === 'string' ? v : v.address).split('/')[0])),
    ...(spec.director?.vips ?? []).map((v) => (typeof v === 'string' ? v : v.address).split('/')[0]),
    ...spec.nodes.filter((n) => directors.has(n.name)).map((n) => n.address.split('/')[0]),
  ];
  return candidates.find((c) => inSubnet(c, subnet) === true && c !== rs.address.split('/')[0]);
}

export const realServerRoles: SpecRule = {
  name: 'real-server-roles',
  doc: 'a DR/TUN real server has a VIP to accept; a NAT real server has a gateway through a director',
  check(spec, report: Report) {
    (spec.real_servers ?? []).forEach((rs, i) => {
      if (rs.mode === 'nat') {
        if (rs.vips?.length) report(['real_servers', i, 'vips'], 'a NAT real server takes no VIPs (the director rewrites the destination)', 'drop vips, or use mode dr/tun');
        if (!natGateway(spec, rs)) report(['real_servers', i], `no director address is on ${rs.address}'s subnet to route replies through`, 'add gateway: <the director\'s address on this network>');
        return;
      }
      if (rs.gateway) report(['real_servers', i, 'gateway'], `a ${rs.mode.toUpperCase()} real server answers clients directly: no gateway through the director`, 'drop gateway, or use mode nat');
      if (!(rs.vips ?? vipsServedBy(spec, rs.address)).length) report(['real_servers', i], `no service lists ${rs.address.split('/')[0]} as a real server, so it has no VIP to accept`, 'add vips: [...], or add it to a service');
    });
  },
};
