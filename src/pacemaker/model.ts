/**
 * The pacemaker section of a spec with every default filled: what the renderers
 * (corosync.ts, resources.ts) and the checks see. Defaults live here, never in a renderer.
 */
import type { ClusterSpec, FenceDeviceSpec } from '../cluster/types.js';

export const PCMK_DEFAULTS = {
  transport: 'knet',
  cipher: 'aes256',
  hash: 'sha256',
  /** Measured (issue 16): token 1000 brings a power-off outage from 7.5-7.9 s (token 3000) to 2.4-3.6 s. */
  token: 1000,
  /**
   * Two nodes only: consensus = 0.2 x token, 200-2000 ms (RHEL's cman rule for two-node clusters;
   * corosync.conf(5): "for two node clusters, a consensus larger than the join timeout but less
   * than token is safe"). corosync's own default, 1.2 x token, is for three or more: with two it
   * only delays noticing a dead peer (token + consensus: 2.2 s -> 1.2 s at token 1000).
   */
  twoNodeConsensus: (token: number) => Math.min(2000, Math.max(200, Math.round(token * 0.2))),
  stickiness: 100,
  /** With dc-deadtime 2s a booting pair elects its DC in seconds, not the default 20 s. */
  dcDeadtime: '2s',
  proxyId: 'haproxy',
  proxyAgent: 'lsb:haproxy',
  /**
   * Measured (bench/failover-pacemaker): with the proxy in a clone a planned move only moves the
   * VIP; in the article's group the proxy is stopped and started with it.
   */
  proxyLayout: 'clone',
  monitorInterval: '5s',
  monitorTimeout: '20s',
  fenceMonitorInterval: '60s',
} as const;

export interface PcmkNode { name: string; nodeid: number; ring: string[]; nic: string }
export interface PcmkVip { id: string; ip: string; cidrNetmask: number; nic: string }
export interface PcmkFence { id: string; agent: string; node: string; params: Array<[string, string]>; delay?: string; monitorInterval: string }

export interface PacemakerModel {
  cluster: string;
  transport: string;
  cipher: string;
  hash: string;
  token: number;
  /** corosync consensus in ms, or undefined for corosync's default (1.2 x token). */
  consensus?: number;
  twoNode: boolean;
  nodes: PcmkNode[];
  vips: PcmkVip[];
  proxy: { id: string; agent: string; layout: 'clone' | 'group'; monitorInterval: string; monitorTimeout: string };
  group: string;
  preferredNode?: string;
  stickiness: number;
  dcDeadtime: string;
  fencing: PcmkFence[];
  /** No fence device, acknowledged in the spec: stonith-enabled=false. */
  noFencing: boolean;
}

const ipOf = (cidr: string) => cidr.split('/')[0];

export function fenceId(f: FenceDeviceSpec): string {
  return f.id ?? `fence_${f.node.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The expanded model, or undefined when the cluster does not use pacemaker. */
export function expandPacemaker(spec: ClusterSpec): PacemakerModel | undefined {
  const p = spec.pacemaker;
  if (spec.ha !== 'pacemaker' || !p) return undefined;
  const nodes: PcmkNode[] = spec.nodes.map((n, i) => ({ name: n.name, nodeid: i + 1, ring: p.ring?.[n.name] ?? [ipOf(n.address)], nic: n.interface }));
  const fencing = p.fencing === 'none' ? [] : p.fencing;
  return {
    cluster: spec.cluster,
    transport: p.transport ?? PCMK_DEFAULTS.transport,
    cipher: p.crypto?.cipher ?? PCMK_DEFAULTS.cipher,
    hash: p.crypto?.hash ?? PCMK_DEFAULTS.hash,
    token: p.token ?? PCMK_DEFAULTS.token,
    consensus: nodes.length === 2 ? PCMK_DEFAULTS.twoNodeConsensus(p.token ?? PCMK_DEFAULTS.token) : undefined,
    twoNode: p.two_node ?? spec.nodes.length === 2,
    nodes,
    vips: p.vips.map((v, i) => {
      const [ip, prefix] = v.address.split('/');
      return { id: v.id ?? (p.vips.length === 1 ? 'vip' : `vip${i + 1}`), ip, cidrNetmask: Number(prefix), nic: v.nic ?? nodes[0].nic };
    }),
    proxy: {
      id: p.proxy?.id ?? PCMK_DEFAULTS.proxyId,
      agent: p.proxy?.agent ?? PCMK_DEFAULTS.proxyAgent,
      layout: p.proxy?.layout ?? PCMK_DEFAULTS.proxyLayout,
      monitorInterval: p.proxy?.monitor_interval ?? PCMK_DEFAULTS.monitorInterval,
      monitorTimeout: p.proxy?.monitor_timeout ?? PCMK_DEFAULTS.monitorTimeout,
    },
    group: `${spec.cluster.replace(/[^A-Za-z0-9_.-]/g, '_')}-lb`.replace(/^[^A-Za-z_]/, 'g'),
    preferredNode: p.preferred_node,
    stickiness: p.stickiness ?? PCMK_DEFAULTS.stickiness,
    dcDeadtime: p.dc_deadtime ?? PCMK_DEFAULTS.dcDeadtime,
    fencing: fencing.map((f) => ({
      id: fenceId(f), agent: f.agent, node: f.node,
      params: Object.entries(f.params ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, String(v)] as [string, string]),
      delay: f.delay, monitorInterval: f.monitor_interval ?? PCMK_DEFAULTS.fenceMonitorInterval,
    })),
    noFencing: p.fencing === 'none',
  };
}
