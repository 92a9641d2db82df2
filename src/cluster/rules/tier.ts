/**
 * Rules of the `tier:` section (an active-active IPVS tier behind ECMP, src/tier/). The one
 * that matters most: every service uses a consistent-hash scheduler, because a flow that ECMP
 * moves to another director must reach the same real server there or it is reset (measured in
 * the lab: rr lost 18-24 of 100 connections when one of three directors left, mh none).
 */
import type { SpecFinding, SpecLocator } from '../load.js';
import type { ClusterSpec } from '../types.js';
import { dupes, type SpecRule } from './rule.js';

const CONSISTENT = new Set(['mh', 'sh']);

export const tierConsistentScheduler: SpecRule = {
  name: 'tier-consistent-scheduler',
  doc: 'every tier service uses mh (default) or sh, with flags of that scheduler only, and sh only with sh-port',
  check(spec, report) {
    (spec.tier?.services ?? []).forEach((s, i) => {
      const sched = s.scheduler ?? 'mh';
      if (!CONSISTENT.has(sched)) {
        report(['tier', 'services', i, 'scheduler'], `scheduler ${sched} is refused in an active-active tier: it is not a consistent hash, so a flow that moves to another director reaches another real server and is reset`, 'use scheduler: mh (with mh-port, the default)');
        return;
      }
      (s.flags ?? []).forEach((f, k) => {
        if (!f.startsWith(`${sched}-`)) report(['tier', 'services', i, 'flags', k], `flag ${f} belongs to the ${f.split('-')[0]} scheduler, not ${sched}`, `use ${sched}-port`);
      });
      if (sched === 'sh' && s.flags !== undefined && !s.flags.includes('sh-port')) {
        report(['tier', 'services', i, 'flags'], 'sh without sh-port hashes the client address only: few clients spread badly over the real servers', 'add sh-port, or use scheduler: mh');
      }
    });
  },
};

export const tierDirectorsAreNodes: SpecRule = {
  name: 'tier-directors-are-nodes',
  doc: 'every tier director is a node of the spec, listed once, with a distinct router id',
  check(spec, report) {
    const t = spec.tier;
    if (!t) return;
    const names = new Set(spec.nodes.map((n) => n.name));
    t.directors.forEach((d, i) => {
      if (!names.has(d.name)) report(['tier', 'directors', i, 'name'], `director ${d.name} is not a node`, `add it to nodes: (with its address and interface), or use one of: ${[...names].join(', ')}`);
    });
    for (const [a, b] of dupes(t.directors, (d) => d.name)) report(['tier', 'directors', b, 'name'], `director ${t.directors[b].name} is listed twice (first at directors[${a}])`, 'remove the duplicate');
    const rid = (d: (typeof t.directors)[number]) => d.router_id ?? spec.nodes.find((n) => n.name === d.name)?.address.split('/')[0];
    for (const [a, b] of dupes(t.directors, rid)) report(['tier', 'directors', b], `router id ${rid(t.directors[b])} is also director ${t.directors[a].name}'s`, 'give each director its own router_id');
  },
};

export const tierRouting: SpecRule = {
  name: 'tier-routing',
  doc: 'bgp routing has a bgp section and an ASN for every director; static routing has no bgp section',
  check(spec, report) {
    const t = spec.tier;
    if (!t) return;
    const routing = t.routing ?? 'bgp';
    if (routing === 'static') {
      if (t.bgp) report(['tier', 'bgp'], 'bgp settings are ignored with routing: static', 'remove bgp:, or set routing: bgp');
      return;
    }
    if (!t.bgp) { report(['tier'], 'routing bgp needs a bgp section with the routers to peer with', 'add bgp: {neighbors: [{address: ROUTER, asn: ASN}]}, or set routing: static'); return; }
    t.directors.forEach((d, i) => {
      if (d.asn === undefined && t.asn === undefined) report(['tier', 'directors', i], `director ${d.name} has no ASN`, 'set tier.asn (all directors) or asn on the director');
    });
    const addresses = new Set(spec.nodes.map((n) => n.address.split('/')[0]));
    t.bgp.neighbors.forEach((n, i) => {
      if (addresses.has(n.address)) report(['tier', 'bgp', 'neighbors', i, 'address'], `neighbour ${n.address} is a node's own address`, 'peer with the routers, not with the directors');
    });
    for (const [a, b] of dupes(t.bgp.neighbors, (n) => n.address)) report(['tier', 'bgp', 'neighbors', b], `neighbour ${t.bgp.neighbors[b].address} is listed twice (first at neighbors[${a}])`, 'remove the duplicate');
    if (t.bgp.keepalive !== undefined && t.bgp.hold !== undefined && t.bgp.hold < 3 * t.bgp.keepalive) report(['tier', 'bgp', 'hold'], `hold ${t.bgp.hold} is under 3 x keepalive ${t.bgp.keepalive}`, 'hold is usually 3 x keepalive');
  },
};

export const tierServicesDistinct: SpecRule = {
  name: 'tier-services-distinct',
  doc: 'a tier service vip:port/protocol appears once, each real server once per service, and no VIP is a node address',
  check(spec, report) {
    const t = spec.tier;
    if (!t) return;
    for (const [a, b] of dupes(t.services, (s) => `${s.vip}:${s.port}/${s.protocol ?? 'tcp'}`)) report(['tier', 'services', b], `service ${t.services[b].vip}:${t.services[b].port} is listed twice (first at services[${a}])`, 'remove the duplicate');
    const nodes = new Set(spec.nodes.map((n) => n.address.split('/')[0]));
    t.services.forEach((s, i) => {
      if (nodes.has(s.vip)) report(['tier', 'services', i, 'vip'], `VIP ${s.vip} is a node's own address`, 'use an address no host owns: every director carries it on lo');
      for (const [a, b] of dupes(s.real_servers, (r) => `${r.address}:${r.port ?? s.port}`)) report(['tier', 'services', i, 'real_servers', b], `real server ${s.real_servers[b].address} is listed twice (first at real_servers[${a}])`, 'remove the duplicate');
    });
  },
};

/** Not errors: what `config check` prints beside its findings. */
export function tierWarnings(spec: ClusterSpec, loc: SpecLocator): SpecFinding[] {
  const out: SpecFinding[] = [];
  (spec.tier?.services ?? []).forEach((s, i) => {
    if (s.scheduler === 'sh') {
      out.push(loc.finding(['tier', 'services', i, 'scheduler'], 'sh agrees across directors only while every director added the real servers in the same order (lbctl adds them in one order; a manual ipvsadm -a breaks it, and ipvsadm -Sn hides it)', 'prefer mh; compare lbctl director check --tier digests after every change'));
    }
  });
  return out;
}

export const TIER_RULES: readonly SpecRule[] = [tierDirectorsAreNodes, tierRouting, tierConsistentScheduler, tierServicesDistinct];
