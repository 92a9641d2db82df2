/**
 * Rules of the `ha: pacemaker` section: the section and the engine agree, every name it uses
 * is a node of the spec, every node can be fenced (or running without fencing is
 * acknowledged), and resource ids are distinct.
 */
import type { SpecPath } from '../load.js';
import { fenceId } from '../../pacemaker/model.js';
import { dupes, type SpecRule } from './rule.js';

export const pacemakerSectionMatchesHa: SpecRule = {
  name: 'pacemaker-section-matches-ha',
  doc: 'ha: pacemaker comes with a pacemaker section and no vrrp section, and a pacemaker section only with ha: pacemaker',
  check(spec, report) {
    if (spec.ha === 'pacemaker' && !spec.pacemaker) report(['ha'], 'ha: pacemaker needs a pacemaker section', 'add pacemaker: {vips, fencing, ...}');
    if (spec.ha === 'pacemaker' && spec.vrrp) report(['vrrp'], 'a pacemaker cluster has no vrrp section (pacemaker moves the VIPs)', 'drop vrrp, or use ha: vrrp');
    if (spec.ha !== 'pacemaker' && spec.pacemaker) report(['pacemaker'], 'a pacemaker section is only read with ha: pacemaker', 'add ha: pacemaker');
  },
};

export const pacemakerKnownNodes: SpecRule = {
  name: 'pacemaker-known-nodes',
  doc: 'preferred_node, fence devices\' node and ring keys name nodes of the spec',
  check(spec, report) {
    const p = spec.pacemaker;
    if (!p) return;
    const names = spec.nodes.map((n) => n.name);
    const hint = `use one of: ${names.join(', ')}`;
    if (p.preferred_node !== undefined && !names.includes(p.preferred_node)) report(['pacemaker', 'preferred_node'], `unknown node "${p.preferred_node}"`, hint);
    if (Array.isArray(p.fencing)) p.fencing.forEach((f, i) => { if (!names.includes(f.node)) report(['pacemaker', 'fencing', i, 'node'], `unknown node "${f.node}"`, hint); });
    for (const k of Object.keys(p.ring ?? {})) if (!names.includes(k)) report(['pacemaker', 'ring', k], `unknown node "${k}"`, hint);
  },
};

export const pacemakerFencing: SpecRule = {
  name: 'pacemaker-fencing',
  doc: 'every node has a fence device, or fencing: none is acknowledged with acknowledge_no_fencing: true',
  check(spec, report) {
    const p = spec.pacemaker;
    if (!p) return;
    if (p.fencing === 'none') {
      if (p.acknowledge_no_fencing !== true) report(['pacemaker', 'fencing'], 'fencing: none without acknowledge_no_fencing: true', 'without fencing both nodes can hold the VIP after a split; add fence devices, or acknowledge_no_fencing: true');
      return;
    }
    for (const n of spec.nodes) {
      if (!p.fencing.some((f) => f.node === n.name)) report(['pacemaker', 'fencing'], `no fence device for node ${n.name}`, `add {agent: fence_..., node: ${n.name}, params: {...}}`);
    }
  },
};

export const pacemakerDistinctIds: SpecRule = {
  name: 'pacemaker-distinct-ids',
  doc: 'VIP, proxy and fence device ids are distinct (they are pacemaker resource ids)',
  check(spec, report) {
    const p = spec.pacemaker;
    if (!p) return;
    const ids: Array<{ id: string; path: SpecPath }> = [
      ...p.vips.map((v, i) => ({ id: v.id ?? (p.vips.length === 1 ? 'vip' : `vip${i + 1}`), path: ['pacemaker', 'vips', i] as SpecPath })),
      { id: p.proxy?.id ?? 'haproxy', path: ['pacemaker', 'proxy'] },
      ...(Array.isArray(p.fencing) ? p.fencing.map((f, i) => ({ id: fenceId(f), path: ['pacemaker', 'fencing', i] as SpecPath })) : []),
    ];
    for (const [a, b] of dupes(ids, (x) => x.id)) report(ids[b].path, `resource id "${ids[b].id}" is already used at ${ids[a].path.join('.')}`, 'give every VIP, proxy and fence device its own id');
  },
};
