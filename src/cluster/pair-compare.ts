/**
 * Cross-node comparison of the rendered keepalived models: a guard on the expansion itself,
 * run by `lbctl config check` after the spec rules (rules/) have passed.
 */
import type { KeepalivedConfig } from '../keepalived/config.js';

export interface PairFinding { message: string; hint: string; instance: string; field: string }

/**
 * Cross-node comparison of the rendered models: the fields that must be equal on every node
 * (VRID, auth, VIPs, advert_int) and the ones that must differ (priority, router_id).
 * With one spec they match by construction; this guards the expansion itself.
 */
export function comparePair(models: Array<{ node: string; config: KeepalivedConfig }>): PairFinding[] {
  const out: PairFinding[] = [];
  if (models.length < 2) return out;
  const [first, ...rest] = models;
  const ids = new Map<string, string>();
  for (const m of models) {
    const id = m.config.globalDefs.routerId;
    if (ids.has(id)) out.push({ instance: '-', field: 'router_id', message: `router_id ${id} of ${m.node} equals ${ids.get(id)}'s`, hint: 'set distinct router ids' });
    ids.set(id, m.node);
  }
  for (const inst of first.config.instances) {
    const same = (i: typeof inst) => ({
      virtual_router_id: i.virtualRouterId, authentication: JSON.stringify(i.auth ?? null),
      vips: JSON.stringify(i.vips.map((v) => v.address)), advert_int: i.advertInt,
    });
    const ref = same(inst);
    const prios = new Map<number, string>([[inst.priority, first.node]]);
    let masters = inst.state === 'MASTER' ? 1 : 0;
    for (const m of rest) {
      const other = m.config.instances.find((i) => i.name === inst.name);
      if (!other) { out.push({ instance: inst.name, field: 'instance', message: `instance ${inst.name} is missing on ${m.node}`, hint: 'define it for every node' }); continue; }
      const o = same(other);
      for (const k of Object.keys(ref) as Array<keyof typeof ref>) {
        if (ref[k] !== o[k]) out.push({ instance: inst.name, field: k, message: `${k} of ${inst.name} differs: ${first.node} ${ref[k]}, ${m.node} ${o[k]}`, hint: 'it must be the same on every node' });
      }
      if (prios.has(other.priority)) out.push({ instance: inst.name, field: 'priority', message: `priority ${other.priority} of ${inst.name} on ${m.node} equals ${prios.get(other.priority)}'s`, hint: 'priorities must differ' });
      prios.set(other.priority, m.node);
      if (other.state === 'MASTER') masters++;
    }
    if (masters > 1) out.push({ instance: inst.name, field: 'state', message: `${inst.name} has ${masters} MASTER nodes`, hint: 'exactly one node may start as MASTER' });
  }
  return out;
}
