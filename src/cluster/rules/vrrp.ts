import { inSubnet } from '../../net/address.js';
import { instanceRoles, ipOf, vrrpScripts } from '../expand.js';
import type { SpecPath } from '../load.js';
import type { ClusterSpec, InstanceSpec } from '../types.js';
import { dupes, type SpecRule } from './rule.js';

/** Runs `fn` for every VRRP instance with its spec path. */
function eachInstance(spec: ClusterSpec, fn: (inst: InstanceSpec, path: SpecPath) => void): void {
  spec.vrrp?.instances.forEach((inst, i) => fn(inst, ['vrrp', 'instances', i]));
}

export const scriptSource: SpecRule = {
  name: 'script-source',
  doc: 'every vrrp script has exactly one of script (a command) or http_get (a URL)',
  check(spec, report) {
    (spec.vrrp?.scripts ?? []).forEach((s, i) => {
      if ((s.script === undefined) === (s.http_get === undefined)) report(['vrrp', 'scripts', i], `script "${s.name}" needs exactly one of script or http_get`, 'give a command line (script) or a URL (http_get)');
    });
  },
};

export const distinctScriptNames: SpecRule = {
  name: 'distinct-script-names',
  doc: 'vrrp script names are unique',
  check(spec, report) {
    const scripts = spec.vrrp?.scripts ?? [];
    for (const [a, b] of dupes(scripts, (s) => s.name)) report(['vrrp', 'scripts', b, 'name'], `script name "${scripts[b].name}" is already used by scripts[${a}]`, 'use distinct names');
  },
};

export const distinctInstanceNames: SpecRule = {
  name: 'distinct-instance-names',
  doc: 'VRRP instance names are unique',
  check(spec, report) {
    const instances = spec.vrrp?.instances ?? [];
    for (const [a, b] of dupes(instances, (i) => i.name)) report(['vrrp', 'instances', b, 'name'], `instance name "${instances[b].name}" is already used by instances[${a}]`, 'use distinct names');
  },
};

export const distinctVrids: SpecRule = {
  name: 'distinct-vrids',
  doc: 'no two instances share a virtual_router_id on the same interface',
  check(spec, report) {
    const instances = spec.vrrp?.instances ?? [];
    for (const [a, b] of dupes(instances, (i) => `${i.interface ?? ''}/${i.virtual_router_id}`)) report(['vrrp', 'instances', b, 'virtual_router_id'], `VRID ${instances[b].virtual_router_id} is already used by instances[${a}] on the same interface`, 'each instance on a segment needs its own virtual_router_id');
  },
};

export const instanceMasterIsNode: SpecRule = {
  name: 'instance-master-is-node',
  doc: 'an instance\'s master names a node of the spec',
  check(spec, report) {
    eachInstance(spec, (inst, ip) => {
      if (inst.master !== undefined && !spec.nodes.some((n) => n.name === inst.master)) report([...ip, 'master'], `master "${inst.master}" is not a node`, `use one of: ${spec.nodes.map((n) => n.name).join(', ')}`);
    });
  },
};

export const distinctPriorities: SpecRule = {
  name: 'distinct-priorities',
  doc: 'in every instance, the nodes\' priorities (explicit or derived) differ',
  check(spec, report) {
    eachInstance(spec, (inst, ip) => {
      const roles = instanceRoles(spec, inst);
      const byPriority = new Map<number, string>();
      spec.nodes.forEach((n, ni) => {
        const { priority } = roles.get(n.name)!;
        const holder = byPriority.get(priority);
        if (holder !== undefined) report(n.priority !== undefined ? ['nodes', ni, 'priority'] : ip, `priority ${priority} of node ${n.name} in ${inst.name} equals node ${holder}'s`, 'give every node a distinct priority; the MASTER gets the highest');
        else byPriority.set(priority, n.name);
      });
    });
  },
};

export const masterHasTopPriority: SpecRule = {
  name: 'master-has-top-priority',
  doc: 'every instance has a MASTER, and the MASTER has the highest priority',
  check(spec, report) {
    eachInstance(spec, (inst, ip) => {
      const roles = instanceRoles(spec, inst);
      const top = Math.max(...[...roles.values()].map((r) => r.priority));
      const masters = spec.nodes.filter((n) => roles.get(n.name)!.state === 'MASTER');
      if (masters.length === 0 && spec.nodes.length > 0) report(ip, `no node is MASTER for ${inst.name}`, 'make one node MASTER (or drop state to derive it)');
      for (const m of masters) {
        const { priority } = roles.get(m.name)!;
        if (priority !== top) report(['nodes', spec.nodes.indexOf(m), 'state'], `node ${m.name} is MASTER of ${inst.name} but its priority ${priority} is not the highest (${top})`, 'the MASTER must have the highest priority');
      }
    });
  },
};

export const unicastPeers: SpecRule = {
  name: 'unicast-peers',
  doc: 'unicast instances have a peer to send to, and are not combined with vrrp_strict',
  check(spec, report) {
    const strict = spec.vrrp?.global_defs?.vrrp_strict;
    eachInstance(spec, (inst, ip) => {
      if (inst.unicast && spec.nodes.length < 2) report([...ip, 'unicast'], 'unicast needs at least two nodes', 'add the peer node or drop unicast');
      if (inst.unicast && strict) report([...ip, 'unicast'], 'vrrp_strict does not allow unicast peers', 'drop vrrp_strict or unicast');
    });
  },
};

export const strictWithoutAuth: SpecRule = {
  name: 'strict-without-auth',
  doc: 'vrrp_strict instances carry no authentication (keepalived would ignore it)',
  check(spec, report) {
    if (!spec.vrrp?.global_defs?.vrrp_strict) return;
    eachInstance(spec, (inst, ip) => {
      if (inst.authentication) report([...ip, 'authentication'], 'vrrp_strict does not allow authentication (keepalived ignores it)', 'drop vrrp_strict or authentication');
    });
  },
};

export const trackedScriptsDefined: SpecRule = {
  name: 'tracked-scripts-defined',
  doc: 'every track_script names a defined vrrp script (or the default chk_haproxy)',
  check(spec, report) {
    const names = new Set(vrrpScripts(spec).map((s) => s.name));
    eachInstance(spec, (inst, ip) => {
      for (const [j, t] of (inst.track_script ?? []).entries()) {
        if (!names.has(t)) report([...ip, 'track_script', j], `script "${t}" is not defined`, `define it under vrrp.scripts${names.size ? ` or use one of: ${[...names].join(', ')}` : ''}`);
      }
    });
  },
};

/** Every VIP of every instance, as {address, device, label} with its spec path. */
function eachVip(spec: ClusterSpec, fn: (vip: { address: string; device?: string; label?: string }, path: SpecPath, inst: InstanceSpec) => void): void {
  eachInstance(spec, (inst, ip) => inst.vips.forEach((v, vi) => fn(typeof v === 'string' ? { address: v } : v, [...ip, 'vips', vi], inst)));
}

export const vipsUnique: SpecRule = {
  name: 'vips-unique',
  doc: 'a VIP belongs to one instance only',
  check(spec, report) {
    const owner = new Map<string, string>();
    eachVip(spec, (vip, vp, inst) => {
      const addr = ipOf(vip.address);
      const first = owner.get(addr);
      if (first !== undefined) report(vp, `VIP ${addr} is already used by ${first}`, 'a VIP belongs to one instance');
      else owner.set(addr, inst.name);
    });
  },
};

export const vipLabelMatchesDevice: SpecRule = {
  name: 'vip-label-matches-device',
  doc: 'a VIP label starts with the device the VIP goes on, on every node',
  check(spec, report) {
    eachVip(spec, (vip, vp, inst) => {
      if (!vip.label) return;
      for (const n of spec.nodes) {
        const dev = vip.device ?? inst.interface ?? n.interface;
        if (!vip.label.startsWith(`${dev}:`)) report([...vp, 'label'], `label ${vip.label} does not start with device ${dev}: on node ${n.name}`, `use ${dev}:<suffix>`);
      }
    });
  },
};

export const vipInNodeSubnet: SpecRule = {
  name: 'vip-in-node-subnet',
  doc: 'a VIP on a node\'s own interface lies inside that node\'s subnet (when the node address has a prefix)',
  check(spec, report) {
    eachVip(spec, (vip, vp, inst) => {
      const addr = ipOf(vip.address);
      for (const n of spec.nodes) {
        const dev = vip.device ?? inst.interface ?? n.interface;
        if (dev === n.interface && inSubnet(addr, n.address) === false) report(vp, `VIP ${addr} is outside node ${n.name}'s subnet ${n.address} on ${dev}`, 'use an address in the interface\'s subnet, or give the VIP its own device');
      }
    });
  },
};

export const failingCheckMovesVip: SpecRule = {
  name: 'failing-check-moves-vip',
  doc: 'a weighted check failing on the MASTER drops it below the best BACKUP, so the VIP moves',
  check(spec, report) {
    const vrrp = spec.vrrp;
    if (!vrrp || spec.nodes.length < 2) return;
    const all = vrrpScripts(spec);
    const declared = vrrp.scripts ?? [];
    eachInstance(spec, (inst) => {
      const roles = instanceRoles(spec, inst);
      const master = spec.nodes.find((n) => roles.get(n.name)!.state === 'MASTER');
      if (!master) return;
      const tracked = inst.track_script ?? all.map((s) => s.name);
      for (const s of all.filter((x) => tracked.includes(x.name))) {
        const w = s.weight ?? 0;
        if (w === 0) continue;
        const failed = roles.get(master.name)!.priority + Math.min(w, 0);
        const best = Math.max(...spec.nodes.filter((n) => n !== master).map((n) => roles.get(n.name)!.priority + Math.max(w, 0)));
        if (failed < best) continue;
        const index = declared.findIndex((x) => x.name === s.name);
        report(index < 0 ? ['vrrp', 'proxy_check'] : ['vrrp', 'scripts', index, 'weight'], `a failing ${s.name} on MASTER ${master.name} leaves it at priority ${failed}, not below the best BACKUP's ${best}: the VIP would not move`, 'make the weight larger than the priority gap');
      }
    });
  },
};

