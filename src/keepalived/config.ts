/**
 * keepalived.conf model for one node, and its renderer. The model is filled by
 * src/cluster/expand.ts (all defaults resolved); rendering is a pure function of it, so the
 * same model always gives the same bytes.
 */
import type { VirtualServerSpec } from '../cluster/types.js';

export interface KeepalivedScript {
  name: string;
  command: string;
  interval?: number;
  timeout?: number;
  weight?: number;
  fall?: number;
  rise?: number;
  extra: string[];
}

export interface KeepalivedVip { address: string; broadcast?: string; device?: string; label?: string }

export interface KeepalivedInstance {
  name: string;
  state: 'MASTER' | 'BACKUP';
  interface: string;
  virtualRouterId: number;
  priority: number;
  advertInt: number;
  auth?: { type: 'PASS' | 'AH'; pass: string };
  vips: KeepalivedVip[];
  unicastSrcIp?: string;
  unicastPeers: string[];
  nopreempt: boolean;
  preemptDelay?: number;
  trackScript: string[];
  trackInterface: string[];
  notify: { master?: string; backup?: string; fault?: string; stop?: string };
  extra: string[];
}

export interface KeepalivedGlobalDefs {
  routerId: string;
  notificationEmail: string[];
  notificationEmailFrom?: string;
  smtpServer?: string;
  smtpConnectTimeout?: number;
  vrrpSkipCheckAdvAddr: boolean;
  vrrpStrict: boolean;
  vrrpGarpInterval?: number;
  vrrpGnaInterval?: number;
  vrrpIptables: boolean;
  nftables: boolean;
  scriptUser?: string;
  enableScriptSecurity: boolean;
  extra: string[];
}

export interface KeepalivedConfig {
  header: string[];
  globalDefs: KeepalivedGlobalDefs;
  scripts: KeepalivedScript[];
  instances: KeepalivedInstance[];
  virtualServers: VirtualServerSpec[];
}

const I1 = '    ';
const I2 = I1 + I1;
const I3 = I2 + I1;

/** keepalived reads the whole quoted string as one argument; the schema keeps '"' out. */
const quote = (s: string) => `"${s}"`;

export function renderKeepalived(cfg: KeepalivedConfig): string {
  const out: string[] = cfg.header.map((h) => `! ${h}`.trimEnd());
  out.push('');
  const g = cfg.globalDefs;
  out.push('global_defs {');
  if (g.notificationEmail.length) {
    out.push(`${I1}notification_email {`, ...g.notificationEmail.map((m) => `${I2}${m}`), `${I1}}`);
  }
  if (g.notificationEmailFrom) out.push(`${I1}notification_email_from ${g.notificationEmailFrom}`);
  if (g.smtpServer) out.push(`${I1}smtp_server ${g.smtpServer}`);
  if (g.smtpConnectTimeout !== undefined) out.push(`${I1}smtp_connect_timeout ${g.smtpConnectTimeout}`);
  out.push(`${I1}router_id ${g.routerId}`);
  if (g.vrrpSkipCheckAdvAddr) out.push(`${I1}vrrp_skip_check_adv_addr`);
  if (g.vrrpStrict) out.push(`${I1}vrrp_strict`);
  if (g.vrrpGarpInterval !== undefined) out.push(`${I1}vrrp_garp_interval ${g.vrrpGarpInterval}`);
  if (g.vrrpGnaInterval !== undefined) out.push(`${I1}vrrp_gna_interval ${g.vrrpGnaInterval}`);
  if (g.vrrpIptables) out.push(`${I1}vrrp_iptables`);
  if (g.nftables) out.push(`${I1}nftables`);
  if (g.scriptUser) out.push(`${I1}script_user ${g.scriptUser}`);
  if (g.enableScriptSecurity) out.push(`${I1}enable_script_security`);
  out.push(...g.extra.map((l) => `${I1}${l}`), '}');

  for (const s of cfg.scripts) {
    out.push('', `vrrp_script ${s.name} {`, `${I1}script ${quote(s.command)}`);
    for (const k of ['interval', 'timeout', 'weight', 'fall', 'rise'] as const) {
      if (s[k] !== undefined) out.push(`${I1}${k} ${s[k]}`);
    }
    out.push(...s.extra.map((l) => `${I1}${l}`), '}');
  }

  for (const vi of cfg.instances) {
    out.push('', `vrrp_instance ${vi.name} {`);
    out.push(`${I1}state ${vi.state}`, `${I1}interface ${vi.interface}`, `${I1}virtual_router_id ${vi.virtualRouterId}`);
    out.push(`${I1}priority ${vi.priority}`, `${I1}advert_int ${vi.advertInt}`);
    if (vi.nopreempt) out.push(`${I1}nopreempt`);
    if (vi.preemptDelay !== undefined) out.push(`${I1}preempt_delay ${vi.preemptDelay}`);
    if (vi.auth) out.push(`${I1}authentication {`, `${I2}auth_type ${vi.auth.type}`, `${I2}auth_pass ${vi.auth.pass}`, `${I1}}`);
    if (vi.unicastSrcIp) {
      out.push(`${I1}unicast_src_ip ${vi.unicastSrcIp}`, `${I1}unicast_peer {`, ...vi.unicastPeers.map((p) => `${I2}${p}`), `${I1}}`);
    }
    out.push(`${I1}virtual_ipaddress {`);
    for (const v of vi.vips) {
      const parts = [v.address];
      if (v.broadcast) parts.push('brd', v.broadcast);
      if (v.device) parts.push('dev', v.device);
      if (v.label) parts.push('label', v.label);
      out.push(`${I2}${parts.join(' ')}`);
    }
    out.push(`${I1}}`);
    if (vi.trackInterface.length) out.push(`${I1}track_interface {`, ...vi.trackInterface.map((t) => `${I2}${t}`), `${I1}}`);
    if (vi.trackScript.length) out.push(`${I1}track_script {`, ...vi.trackScript.map((t) => `${I2}${t}`), `${I1}}`);
    for (const k of ['master', 'backup', 'fault', 'stop'] as const) {
      if (vi.notify[k]) out.push(`${I1}notify_${k} ${quote(vi.notify[k]!)}`);
    }
    out.push(...vi.extra.map((l) => `${I1}${l}`), '}');
  }

  for (const vs of cfg.virtualServers) out.push('', ...renderVirtualServer(vs));
  return out.join('\n') + '\n';
}

function renderVirtualServer(vs: VirtualServerSpec): string[] {
  const out = [`virtual_server ${vs.address} ${vs.port} {`];
  if (vs.delay_loop !== undefined) out.push(`${I1}delay_loop ${vs.delay_loop}`);
  out.push(`${I1}lb_algo ${vs.lb_algo ?? 'rr'}`, `${I1}lb_kind ${vs.lb_kind ?? 'NAT'}`);
  if (vs.persistence_timeout !== undefined) out.push(`${I1}persistence_timeout ${vs.persistence_timeout}`);
  out.push(`${I1}protocol ${vs.protocol ?? 'TCP'}`);
  if (vs.sorry_server) out.push(`${I1}sorry_server ${vs.sorry_server.address} ${vs.sorry_server.port}`);
  out.push(...(vs.extra ?? []).map((l) => `${I1}${l}`));
  for (const rs of vs.real_servers) {
    out.push('', `${I1}real_server ${rs.address} ${rs.port} {`, `${I2}weight ${rs.weight ?? 1}`);
    const c = rs.check;
    if (c) {
      out.push(`${I2}${c.type} {`);
      for (const u of c.urls ?? []) {
        out.push(`${I3}url {`, `${I3}${I1}path ${u.path}`);
        if (u.digest) out.push(`${I3}${I1}digest ${u.digest}`);
        if (u.status_code !== undefined) out.push(`${I3}${I1}status_code ${u.status_code}`);
        out.push(`${I3}}`);
      }
      if (c.connect_port !== undefined) out.push(`${I3}connect_port ${c.connect_port}`);
      if (c.connect_timeout !== undefined) out.push(`${I3}connect_timeout ${c.connect_timeout}`);
      // keepalived 2.x renamed nb_get_retry to retry.
      if (c.retries !== undefined) out.push(`${I3}retry ${c.retries}`);
      if (c.delay_before_retry !== undefined) out.push(`${I3}delay_before_retry ${c.delay_before_retry}`);
      out.push(`${I2}}`);
    }
    out.push(`${I1}}`);
  }
  out.push('}');
  return out;
}

/** Interfaces a rendered config names (for running keepalived's check where they exist). */
export function keepalivedInterfaces(cfg: KeepalivedConfig): string[] {
  const set = new Set<string>();
  for (const vi of cfg.instances) {
    set.add(vi.interface);
    for (const v of vi.vips) if (v.device) set.add(v.device);
    for (const t of vi.trackInterface) set.add(t);
  }
  return [...set].sort();
}
