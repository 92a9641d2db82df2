/**
 * Checks the schema cannot express: relations between fields and across the nodes of a pair.
 * Every finding names the spec path and its file:line:col. These run before anything is
 * generated or written, so a spec that fails them changes nothing.
 */
import type { KeepalivedConfig } from '../keepalived/config.js';
import { instanceRoles, ipOf, vrrpScripts } from './expand.js';
import type { SpecFinding, SpecLocator, SpecPath } from './load.js';
import type { AclSpec, ClusterSpec, CondSpec, HttpRequestRule } from './types.js';

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** Is `ip` inside the subnet of `cidr` (address/prefix)? undefined when cidr has no prefix. */
export function inSubnet(ip: string, cidr: string): boolean | undefined {
  const [net, bits] = cidr.split('/');
  if (bits === undefined) return undefined;
  const n = Number(bits);
  if (n === 0) return true;
  const mask = n === 32 ? 0xffffffff : (~((1 << (32 - n)) - 1)) >>> 0;
  return ((ipToInt(ip) & mask) >>> 0) === ((ipToInt(net) & mask) >>> 0);
}

/** Quotes a raw line leaves open would swallow what follows it. */
function unbalancedQuotes(line: string): boolean {
  let dq = 0;
  let sq = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') { i++; continue; }
    if (line[i] === '"' && sq % 2 === 0) dq++;
    else if (line[i] === "'" && dq % 2 === 0) sq++;
  }
  return dq % 2 === 1 || sq % 2 === 1;
}

function dupes<T>(items: T[], key: (t: T) => string | undefined): Array<[number, number]> {
  const first = new Map<string, number>();
  const out: Array<[number, number]> = [];
  items.forEach((it, i) => {
    const k = key(it);
    if (k === undefined) return;
    if (first.has(k)) out.push([first.get(k)!, i]);
    else first.set(k, i);
  });
  return out;
}

// ACL names haproxy predefines.
const PREDEFINED_ACLS = new Set(['FALSE', 'HTTP', 'HTTP_1.0', 'HTTP_1.1', 'HTTP_2.0', 'HTTP_CONTENT', 'HTTP_URL_ABS', 'HTTP_URL_SLASH', 'HTTP_URL_STAR', 'LOCALHOST', 'METH_CONNECT', 'METH_DELETE', 'METH_GET', 'METH_HEAD', 'METH_OPTIONS', 'METH_POST', 'METH_PUT', 'METH_TRACE', 'RDP_COOKIE', 'REQ_CONTENT', 'TRUE', 'WAIT_END']);

export function checkSpec(spec: ClusterSpec, loc: SpecLocator): SpecFinding[] {
  const f: SpecFinding[] = [];
  const add = (p: SpecPath, message: string, hint?: string) => f.push(loc.finding(p, message, hint));

  // ---- nodes
  for (const [a, b] of dupes(spec.nodes, (n) => n.name)) add(['nodes', b, 'name'], `node name "${spec.nodes[b].name}" is already used by nodes[${a}]`, 'give every node a distinct name');
  for (const [a, b] of dupes(spec.nodes, (n) => n.router_id ?? n.name)) add(['nodes', b, spec.nodes[b].router_id ? 'router_id' : 'name'], `router_id "${spec.nodes[b].router_id ?? spec.nodes[b].name}" is the same as nodes[${a}]'s`, 'every node needs a distinct router_id');
  for (const [a, b] of dupes(spec.nodes, (n) => ipOf(n.address))) add(['nodes', b, 'address'], `address ${ipOf(spec.nodes[b].address)} is the same as nodes[${a}]'s`, 'every node needs its own address');
  const masters = spec.nodes.map((n, i) => [n, i] as const).filter(([n]) => n.state === 'MASTER');
  if (masters.length > 1) add(['nodes', masters[1][1], 'state'], `second MASTER: nodes[${masters[0][1]}] is already MASTER`, 'exactly one node may start as MASTER; make the others BACKUP or drop state to derive it');

  // ---- vrrp
  const vrrp = spec.vrrp;
  if (vrrp) {
    const scriptNames = new Set(vrrpScripts(spec).map((s) => s.name));
    (vrrp.scripts ?? []).forEach((s, i) => {
      if ((s.script === undefined) === (s.http_get === undefined)) add(['vrrp', 'scripts', i], `script "${s.name}" needs exactly one of script or http_get`, 'give a command line (script) or a URL (http_get)');
      for (const [j, l] of (s.extra ?? []).entries()) if (unbalancedQuotes(l)) add(['vrrp', 'scripts', i, 'extra', j], 'unbalanced quotes in a raw line', 'close the quote');
    });
    for (const [a, b] of dupes(vrrp.scripts ?? [], (s) => s.name)) add(['vrrp', 'scripts', b, 'name'], `script name "${vrrp.scripts![b].name}" is already used by scripts[${a}]`, 'use distinct names');
    for (const [a, b] of dupes(vrrp.instances, (i) => i.name)) add(['vrrp', 'instances', b, 'name'], `instance name "${vrrp.instances[b].name}" is already used by instances[${a}]`, 'use distinct names');
    for (const [a, b] of dupes(vrrp.instances, (i) => `${i.interface ?? ''}/${i.virtual_router_id}`)) add(['vrrp', 'instances', b, 'virtual_router_id'], `VRID ${vrrp.instances[b].virtual_router_id} is already used by instances[${a}] on the same interface`, 'each instance on a segment needs its own virtual_router_id');
    const gd = vrrp.global_defs ?? {};
    for (const [j, l] of (gd.extra ?? []).entries()) if (unbalancedQuotes(l)) add(['vrrp', 'global_defs', 'extra', j], 'unbalanced quotes in a raw line', 'close the quote');

    const allVips = new Map<string, string>();
    vrrp.instances.forEach((inst, ii) => {
      const ip: SpecPath = ['vrrp', 'instances', ii];
      if (inst.master !== undefined && !spec.nodes.some((n) => n.name === inst.master)) add([...ip, 'master'], `master "${inst.master}" is not a node`, `use one of: ${spec.nodes.map((n) => n.name).join(', ')}`);
      const roles = instanceRoles(spec, inst);
      const byPrio = new Map<number, string>();
      spec.nodes.forEach((n, ni) => {
        const r = roles.get(n.name)!;
        if (byPrio.has(r.priority)) add(n.priority !== undefined ? ['nodes', ni, 'priority'] : ip, `priority ${r.priority} of node ${n.name} in ${inst.name} equals node ${byPrio.get(r.priority)}'s`, 'give every node a distinct priority; the MASTER gets the highest');
        else byPrio.set(r.priority, n.name);
      });
      const top = Math.max(...[...roles.values()].map((r) => r.priority));
      const masterNodes = spec.nodes.filter((n) => roles.get(n.name)!.state === 'MASTER');
      if (masterNodes.length === 0 && spec.nodes.length > 0) add(ip, `no node is MASTER for ${inst.name}`, 'make one node MASTER (or drop state to derive it)');
      for (const m of masterNodes) {
        if (roles.get(m.name)!.priority !== top) add(['nodes', spec.nodes.indexOf(m), 'state'], `node ${m.name} is MASTER of ${inst.name} but its priority ${roles.get(m.name)!.priority} is not the highest (${top})`, 'the MASTER must have the highest priority');
      }
      if (inst.unicast && spec.nodes.length < 2) add([...ip, 'unicast'], 'unicast needs at least two nodes', 'add the peer node or drop unicast');
      if (inst.unicast && gd.vrrp_strict) add([...ip, 'unicast'], 'vrrp_strict does not allow unicast peers', 'drop vrrp_strict or unicast');
      if (inst.authentication && gd.vrrp_strict) add([...ip, 'authentication'], 'vrrp_strict does not allow authentication (keepalived ignores it)', 'drop vrrp_strict or authentication');
      for (const [j, t] of (inst.track_script ?? []).entries()) {
        if (!scriptNames.has(t)) add([...ip, 'track_script', j], `script "${t}" is not defined`, `define it under vrrp.scripts${scriptNames.size ? ` or use one of: ${[...scriptNames].join(', ')}` : ''}`);
      }
      for (const [j, l] of (inst.extra ?? []).entries()) if (unbalancedQuotes(l)) add([...ip, 'extra', j], 'unbalanced quotes in a raw line', 'close the quote');
      inst.vips.forEach((v, vi) => {
        const vip = typeof v === 'string' ? { address: v } : v;
        const vp: SpecPath = [...ip, 'vips', vi];
        const addr = ipOf(vip.address);
        if (allVips.has(addr)) add(vp, `VIP ${addr} is already used by ${allVips.get(addr)}`, 'a VIP belongs to one instance');
        else allVips.set(addr, inst.name);
        spec.nodes.forEach((n) => {
          const dev = vip.device ?? inst.interface ?? n.interface;
          if (vip.label && !vip.label.startsWith(`${dev}:`)) add([...vp, 'label'], `label ${vip.label} does not start with device ${dev}: on node ${n.name}`, `use ${dev}:<suffix>`);
          if (dev === n.interface && inSubnet(addr, n.address) === false) add(vp, `VIP ${addr} is outside node ${n.name}'s subnet ${n.address} on ${dev}`, 'use an address in the interface\'s subnet, or give the VIP its own device');
        });
      });
      // The proxy check only moves the VIP if a failing MASTER drops below a healthy BACKUP.
      if (spec.nodes.length > 1) {
        const scripts = vrrpScripts(spec).filter((s) => (inst.track_script ?? [...scriptNames]).includes(s.name));
        const master = masterNodes[0];
        for (const s of scripts) {
          const w = s.weight ?? 0;
          if (w === 0 || !master) continue;
          const failed = roles.get(master.name)!.priority + Math.min(w, 0);
          const best = Math.max(...spec.nodes.filter((n) => n !== master).map((n) => roles.get(n.name)!.priority + Math.max(w, 0)));
          if (failed >= best) {
            const sp: SpecPath = s.name === 'chk_haproxy' && !(vrrp.scripts ?? []).some((x) => x.name === s.name) ? ['vrrp', 'proxy_check'] : ['vrrp', 'scripts', (vrrp.scripts ?? []).findIndex((x) => x.name === s.name), 'weight'];
            add(sp, `a failing ${s.name} on MASTER ${master.name} leaves it at priority ${failed}, not below the best BACKUP's ${best}: the VIP would not move`, 'make the weight larger than the priority gap');
          }
        }
      }
    });
  }

  // ---- haproxy
  const hp = spec.haproxy;
  if (hp) {
    for (const [j, l] of (hp.global?.extra ?? []).entries()) if (unbalancedQuotes(l)) add(['haproxy', 'global', 'extra', j], 'unbalanced quotes in a raw line', 'close the quote');
    for (const [j, l] of (hp.defaults?.extra ?? []).entries()) if (unbalancedQuotes(l)) add(['haproxy', 'defaults', 'extra', j], 'unbalanced quotes in a raw line', 'close the quote');
    const fronts = [...(hp.frontends ?? []).map((x, i) => ({ x, p: ['haproxy', 'frontends', i] as SpecPath })), ...(hp.listens ?? []).map((x, i) => ({ x, p: ['haproxy', 'listens', i] as SpecPath }))];
    const backs = [...(hp.backends ?? []).map((x, i) => ({ x, p: ['haproxy', 'backends', i] as SpecPath })), ...(hp.listens ?? []).map((x, i) => ({ x, p: ['haproxy', 'listens', i] as SpecPath }))];
    for (const group of [fronts, backs] as Array<Array<{ x: { name: string }; p: SpecPath }>>) {
      for (const [a, b] of dupes(group, (g) => g.x.name)) add([...group[b].p, 'name'], `proxy name "${group[b].x.name}" is already used by ${group[a].p.slice(1).join('[').replace(/\[(\d+)$/, '[$1]')}`, 'use distinct names');
    }
    if (fronts.some((g) => g.x.name === 'lbctl-health')) add(fronts.find((g) => g.x.name === 'lbctl-health')!.p, 'the name lbctl-health is reserved for the generated health frontend', 'rename the section');
    const backendNames = new Set(backs.map((b) => b.x.name));
    const sections = [...fronts, ...(hp.backends ?? []).map((x, i) => ({ x, p: ['haproxy', 'backends', i] as SpecPath }))];
    for (const { x, p } of sections) {
      const sec = x as { acls?: AclSpec[]; http_request?: HttpRequestRule[]; use_backend?: Array<CondSpec & { backend: string }>; default_backend?: string; stats?: { admin_if?: string }; servers?: Array<{ name: string; cookie?: string }>; cookie?: unknown; extra?: string[] };
      const acls = new Set((sec.acls ?? []).map((a) => a.name));
      const checkCond = (c: CondSpec, cp: SpecPath) => {
        if (c.if !== undefined && c.unless !== undefined) add(cp, 'both if and unless given', 'use one of them');
        for (const field of ['if', 'unless'] as const) {
          const expr = c[field];
          if (!expr) continue;
          for (const tok of expr.split(/\s+/)) {
            const name = tok.replace(/^!/, '');
            if (tok === '||' || tok === 'or' || PREDEFINED_ACLS.has(name) || acls.has(name)) continue;
            add([...cp, field], `ACL "${name}" is not defined in this section`, acls.size ? `define it under acls or use one of: ${[...acls].join(', ')}` : 'define it under acls');
          }
        }
      };
      (sec.http_request ?? []).forEach((r, i) => {
        const rp: SpecPath = [...p, 'http_request', i];
        checkCond(r, rp);
        if (r.action === 'redirect' && [r.location, r.prefix, r.scheme].filter((v) => v !== undefined).length !== 1) add(rp, 'a redirect needs exactly one of location, prefix or scheme', 'add location: http://host/path');
        if ((r.action === 'set-header' || r.action === 'add-header') && (!r.header || r.value === undefined)) add(rp, `${r.action} needs header and value`, 'add header: X-Name and value: word');
        if (r.action === 'del-header' && !r.header) add(rp, 'del-header needs header', 'add header: X-Name');
      });
      (sec.use_backend ?? []).forEach((u, i) => {
        checkCond(u, [...p, 'use_backend', i]);
        if (!backendNames.has(u.backend)) add([...p, 'use_backend', i, 'backend'], `backend "${u.backend}" is not defined`, `define it under haproxy.backends${backendNames.size ? ` or use one of: ${[...backendNames].join(', ')}` : ''}`);
      });
      if (sec.stats?.admin_if) checkCond({ if: sec.stats.admin_if }, [...p, 'stats', 'admin_if']);
      if (sec.default_backend && !backendNames.has(sec.default_backend)) add([...p, 'default_backend'], `backend "${sec.default_backend}" is not defined`, `define it under haproxy.backends${backendNames.size ? ` or use one of: ${[...backendNames].join(', ')}` : ''}`);
      for (const [a, b] of dupes(sec.servers ?? [], (s) => s.name)) add([...p, 'servers', b, 'name'], `server name "${sec.servers![b].name}" is already used by servers[${a}]`, 'use distinct server names');
      if (sec.cookie) {
        for (const [a, b] of dupes(sec.servers ?? [], (s) => s.cookie)) add([...p, 'servers', b, 'cookie'], `cookie value "${sec.servers![b].cookie}" is already used by servers[${a}]`, 'each server needs its own cookie value');
      }
      for (const [j, l] of (sec.extra ?? []).entries()) if (unbalancedQuotes(l)) add([...p, 'extra', j], 'unbalanced quotes in a raw line', 'close the quote');
    }
  }

  // ---- lvs
  (spec.lvs?.virtual_servers ?? []).forEach((vs, i) => {
    const vp: SpecPath = ['lvs', 'virtual_servers', i];
    vs.real_servers.forEach((rs, j) => {
      const c = rs.check;
      if (!c) return;
      const cp: SpecPath = [...vp, 'real_servers', j, 'check'];
      if ((c.type === 'HTTP_GET' || c.type === 'SSL_GET') && !(c.urls ?? []).length) add(cp, `${c.type} needs at least one url`, 'add urls: [{path: /, status_code: 200}]');
      if (c.type === 'TCP_CHECK' && c.urls?.length) add([...cp, 'urls'], 'TCP_CHECK takes no urls', 'use HTTP_GET or SSL_GET, or drop urls');
      (c.urls ?? []).forEach((u, k) => {
        if (u.digest === undefined && u.status_code === undefined) add([...cp, 'urls', k], 'a url needs digest or status_code', 'add status_code: 200');
      });
    });
    for (const [a, b] of dupes(vs.real_servers, (r) => `${r.address}:${r.port}`)) add([...vp, 'real_servers', b], `real server ${vs.real_servers[b].address}:${vs.real_servers[b].port} is listed twice (first at real_servers[${a}])`, 'remove the duplicate');
    for (const [j, l] of (vs.extra ?? []).entries()) if (unbalancedQuotes(l)) add([...vp, 'extra', j], 'unbalanced quotes in a raw line', 'close the quote');
  });
  for (const [a, b] of dupes(spec.lvs?.virtual_servers ?? [], (v) => `${v.address}:${v.port}/${v.protocol ?? 'TCP'}`)) add(['lvs', 'virtual_servers', b], `virtual server is listed twice (first at virtual_servers[${a}])`, 'remove the duplicate');

  f.sort((a, b) => a.line - b.line || a.col - b.col);
  return f;
}

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
