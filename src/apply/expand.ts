/**
 * One machine's desired state from the cluster spec (pure): which roles it has, the host
 * settings (sysctls, VIPs, routes) in host prep's terms, the IPVS table lbctl programs, and the
 * daemons' files. `lbctl plan/apply` read, plan and apply exactly this.
 */
import { directorDesired, realServerDesired } from '../host/index.js';
import type { DesiredSysctl, HostDesired } from '../host/provider.js';
import type { DirectorMode, RealServerMode } from '../host/types.js';
import { parseVip } from '../host/vip.js';
import type { Timeouts } from '../ipvs/driver.js';
import type { IpvsTable } from '../ipvs/model.js';
import { directorTable, natGateway, vipsServedBy } from '../cluster/rules/roles.js';
import type { ClusterSpec, DirectorSpec, NodeSpec, RealServerNodeSpec } from '../cluster/types.js';
import { tierNodeDesired } from '../tier/apply.js';
import type { TierDirectorDesired } from '../tier/expand.js';

export type Role = 'proxy' | 'director' | 'realserver';

export interface NodeDesired {
  node: string;
  roles: Role[];
  /** Which host-prep records the node's host settings live in (shared with `director/realserver prep`). */
  hostTarget?: 'director' | 'realserver';
  host?: HostDesired;
  /** Devices whose VIPs lbctl may take away (what the records name elsewhere is left alone). */
  vipDevices: string[];
  ipvs?: { table: IpvsTable; timeouts?: Partial<Timeouts> };
  mode?: DirectorMode | RealServerMode | 'nat';
  /** A director of an active-active tier: its FRR config, health gate and the rest (src/tier/apply.ts). */
  tier?: TierDirectorDesired;
}

export const IPVS_SYSCTLS = ['conn_reuse_mode', 'expire_nodest_conn', 'expire_quiescent_template', 'sloppy_tcp', 'conntrack'] as const;

export function isDirector(spec: ClusterSpec, node: NodeSpec): boolean {
  return spec.director !== undefined && (spec.director.nodes === undefined || spec.director.nodes.includes(node.name));
}

function directorHost(d: DirectorSpec, node: NodeSpec): { host: HostDesired; devices: string[] } {
  const dev = d.interface ?? node.interface;
  const byDev = new Map<string, ReturnType<typeof parseVip>[]>();
  for (const v of d.vips ?? []) {
    const o = typeof v === 'string' ? { address: v } : v;
    const list = byDev.get(o.device ?? dev) ?? [];
    list.push(parseVip(o.address, { hostOnly: false, flag: 'director.vips' }));
    byDev.set(o.device ?? dev, list);
  }
  if (!byDev.size) byDev.set(dev, []);
  const host: HostDesired = { sysctls: [], linksUp: [], addresses: [] };
  for (const [device, vips] of byDev) {
    const part = directorDesired(d.mode, vips, device);
    for (const s of part.sysctls) if (!host.sysctls.some((x) => x.key === s.key)) host.sysctls.push(s);
    host.addresses.push(...part.addresses);
  }
  for (const k of IPVS_SYSCTLS) {
    const v = d.sysctls?.[k];
    if (v !== undefined) host.sysctls.push({ key: `net.ipv4.vs.${k}`, value: String(v), accept: [String(v)] } satisfies DesiredSysctl);
  }
  return { host, devices: [...byDev.keys()] };
}

function realServerHost(spec: ClusterSpec, rs: RealServerNodeSpec): { host: HostDesired; devices: string[] } {
  if (rs.mode === 'nat') {
    return { host: { sysctls: [], linksUp: [], addresses: [], routes: [{ dst: 'default', via: natGateway(spec, rs)!, dev: rs.interface }] }, devices: [] };
  }
  const vips = (rs.vips ?? vipsServedBy(spec, rs.address)).map((v) => parseVip(v, { hostOnly: true, flag: 'real_servers.vips' }));
  return { host: realServerDesired(rs.mode, vips, rs.interface), devices: [rs.mode === 'tun' ? 'tunl0' : 'lo'] };
}

/** The machine named `name`, or undefined when the spec has none by that name. */
export function expandNode(spec: ClusterSpec, name: string): NodeDesired | undefined {
  const node = spec.nodes.find((n) => n.name === name);
  const rs = (spec.real_servers ?? []).find((r) => r.name === name);
  if (!node && !rs) return undefined;
  const out: NodeDesired = { node: name, roles: [], vipDevices: [] };
  if (node) {
    if (spec.haproxy || spec.vrrp || spec.lvs) out.roles.push('proxy');
    if (isDirector(spec, node)) {
      const d = spec.director!;
      out.roles.push('director');
      const { host, devices } = directorHost(d, node);
      Object.assign(out, { hostTarget: 'director', host, vipDevices: devices, mode: d.mode });
      const table = directorTable(spec, () => undefined) ?? { services: [] };
      if (table.services.length || d.timeouts) out.ipvs = { table, timeouts: d.timeouts };
    } else {
      const t = tierNodeDesired(spec, name);
      if (t) Object.assign(out, { roles: [...out.roles, 'director'], hostTarget: 'director', host: t.host, vipDevices: t.devices, mode: t.mode, ipvs: { table: t.tier.table }, tier: t.tier });
    }
  } else if (rs) {
    out.roles.push('realserver');
    const { host, devices } = realServerHost(spec, rs);
    Object.assign(out, { hostTarget: 'realserver', host, vipDevices: devices, mode: rs.mode });
  }
  return out;
}
