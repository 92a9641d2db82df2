/**
 * Spec rules of the nginx section and of `sticky:` on both engines: what the schema cannot
 * say (names that must exist or differ, arguments a balance method needs, what nginx refuses
 * together, what a conf.d file cannot hold).
 */
import { isConfD } from '../../nginx/config.js';
import type { SpecPath } from '../load.js';
import type { ClusterSpec, NginxServerSpec } from '../types.js';
import { dupes, type Report, type SpecRule } from './rule.js';

const PREFIX_PATH = /^\/[^\s;{}#"'\\]*$/;
const REGEX_PATH = /^[^\s"'\x00-\x1f\x7f](?:[^\s"'\x00-\x1f\x7f]*[^\s"'\\\x00-\x1f\x7f])?$/;
const ROUTE = /^[A-Za-z0-9_-]{1,64}$/;

interface Group { name: string; balance?: string; hash_key?: string; consistent?: boolean; servers: NginxServerSpec[]; sticky?: { by: string; cookie?: string } }

function groups(spec: ClusterSpec): Array<{ up: Group; path: SpecPath }> {
  return [
    ...(spec.nginx?.upstreams ?? []).map((up, i) => ({ up: up as Group, path: ['nginx', 'upstreams', i] as SpecPath })),
    ...(spec.nginx?.stream?.upstreams ?? []).map((up, i) => ({ up: up as Group, path: ['nginx', 'stream', 'upstreams', i] as SpecPath })),
  ];
}

export const nginxDistinctUpstreams: SpecRule = {
  name: 'nginx-distinct-upstreams',
  doc: 'nginx upstream names are unique (http and stream apart) and do not start with lbctl- (generated names)',
  check(spec, report) {
    const lists: Array<[ReadonlyArray<{ name: string }>, SpecPath]> = [[spec.nginx?.upstreams ?? [], ['nginx', 'upstreams']], [spec.nginx?.stream?.upstreams ?? [], ['nginx', 'stream', 'upstreams']]];
    for (const [list, base] of lists) {
      for (const [a, b] of dupes(list, (u) => u.name)) report([...base, b, 'name'], `upstream name "${list[b].name}" is already used by upstreams[${a}]`, 'use distinct upstream names');
      list.forEach((u, i) => { if (u.name.startsWith('lbctl-')) report([...base, i, 'name'], 'names starting with lbctl- are reserved for generated upstreams', 'rename the upstream'); });
    }
  },
};

export const nginxUpstreamsDefined: SpecRule = {
  name: 'nginx-upstreams-defined',
  doc: 'every nginx proxy_pass names an upstream of its context (http locations: nginx.upstreams; stream servers: nginx.stream.upstreams)',
  check(spec, report) {
    const http = new Set((spec.nginx?.upstreams ?? []).map((u) => u.name));
    const stream = new Set((spec.nginx?.stream?.upstreams ?? []).map((u) => u.name));
    (spec.nginx?.servers ?? []).forEach((s, i) => (s.locations ?? []).forEach((l, j) => {
      if (l.proxy_pass && !http.has(l.proxy_pass)) report(['nginx', 'servers', i, 'locations', j, 'proxy_pass'], `upstream "${l.proxy_pass}" is not defined`, `define it under nginx.upstreams${http.size ? ` or use one of: ${[...http].join(', ')}` : ''}`);
    }));
    (spec.nginx?.stream?.servers ?? []).forEach((s, i) => {
      if (!stream.has(s.proxy_pass)) report(['nginx', 'stream', 'servers', i, 'proxy_pass'], `stream upstream "${s.proxy_pass}" is not defined`, `define it under nginx.stream.upstreams${stream.size ? ` or use one of: ${[...stream].join(', ')}` : ''}`);
    });
  },
};

export const nginxBalanceArguments: SpecRule = {
  name: 'nginx-balance-arguments',
  doc: 'balance hash has a hash_key (and only hash has one), and hash, ip_hash and random take no backup servers (nginx refuses them)',
  check(spec, report) {
    for (const { up, path } of groups(spec)) {
      const balance = up.balance ?? (up.sticky?.by === 'source' ? 'ip_hash' : 'round_robin');
      if (balance === 'hash' && !up.hash_key) report([...path, 'balance'], 'balance hash needs a hash_key', 'add hash_key: $remote_addr (or $cookie_NAME, $request_uri)');
      if (balance !== 'hash' && (up.hash_key !== undefined || up.consistent !== undefined)) report([...path, up.hash_key !== undefined ? 'hash_key' : 'consistent'], `hash_key and consistent only apply to balance: hash, not ${balance}`, 'set balance: hash or remove them');
      if (['hash', 'ip_hash', 'random', 'random_two'].includes(balance)) {
        up.servers.forEach((s, j) => { if (s.backup) report([...path, 'servers', j, 'backup'], `nginx does not allow backup servers with balance ${balance}`, 'remove backup, or use round_robin or least_conn'); });
      }
    }
  },
};

export const nginxLocationPaths: SpecRule = {
  name: 'nginx-location-paths',
  doc: 'a prefix or exact location is a path (/...) and a regex location a regex without spaces or quotes; each location proxies, serves a root or has raw lines',
  check(spec, report) {
    (spec.nginx?.servers ?? []).forEach((s, i) => (s.locations ?? []).forEach((l, j) => {
      const p: SpecPath = ['nginx', 'servers', i, 'locations', j];
      const regex = l.match === 'regex' || l.match === 'regex_i';
      if (regex && !REGEX_PATH.test(l.path)) report([...p, 'path'], 'a regex location may not hold spaces, quotes or control characters, nor end in a backslash', 'write it as a single PCRE token such as \\.jsp$');
      if (!regex && !PREFIX_PATH.test(l.path)) report([...p, 'path'], `"${l.path}" is not a path: it must start with / and hold no spaces, ; { } # quotes or backslashes`, 'for a pattern, add match: regex');
      if (!l.proxy_pass && !l.root && !(l.extra ?? []).length) report(p, 'the location neither proxies (proxy_pass), serves files (root) nor has raw lines (extra)', 'add proxy_pass: UPSTREAM or root: DIR');
    }));
  },
};

export const nginxConfDHttpOnly: SpecRule = {
  name: 'nginx-confd-http-only',
  doc: 'an nginx file that is not nginx.conf (a conf.d include) holds http blocks only: no main, events or stream settings',
  check(spec, report) {
    const n = spec.nginx;
    if (!n || !isConfD(n)) return;
    for (const k of ['main', 'stream'] as const) if (n[k]) report(['nginx', k], `${n.file} is included inside http {}: ${k} settings cannot go there`, 'install a whole nginx.conf (file: /etc/nginx/nginx.conf) or remove them');
  },
};

function checkNginxSticky(spec: ClusterSpec, report: Report): void {
  (spec.nginx?.upstreams ?? []).forEach((u, i) => {
    const s = u.sticky;
    if (!s) return;
    const p: SpecPath = ['nginx', 'upstreams', i, 'sticky'];
    if (s.by === 'insert') report([...p, 'by'], 'open-source nginx cannot insert a stickiness cookie (sticky cookie is nginx Plus only)', 'use by: route (the application\'s session cookie, e.g. tomcat jvmRoute) or by: source');
    if (s.by === 'source' && u.balance !== undefined && u.balance !== 'ip_hash') report([...p, 'by'], `stickiness by source is balance ip_hash, but the upstream says balance ${u.balance}`, 'remove balance or the sticky setting');
    if (s.by === 'source' && s.cookie) report([...p, 'cookie'], 'stickiness by source uses no cookie', 'remove cookie');
    if (s.by !== 'route') return;
    const routes = u.servers.map((x) => x.route ?? x.name);
    u.servers.forEach((x, j) => {
      if (!x.backup && routes[j] === undefined) report(['nginx', 'upstreams', i, 'servers', j], 'with stickiness by route every server needs a route (or a name, used as the route)', 'add route: tomcat1 (the jvmRoute of that tomcat)');
    });
    for (const [a, b] of dupes(u.servers, (x) => x.route ?? x.name)) report(['nginx', 'upstreams', i, 'servers', b], `route "${routes[b]}" is already used by servers[${a}]`, 'each server needs its own route');
    u.servers.forEach((x, j) => { if (x.route === undefined && x.name !== undefined && !ROUTE.test(x.name)) report(['nginx', 'upstreams', i, 'servers', j, 'name'], `server name "${x.name}" cannot be a route (letters, digits, _ - only)`, 'add route: with the jvmRoute'); });
  });
}

function checkHaproxySticky(spec: ClusterSpec, report: Report): void {
  for (const key of ['backends', 'listens'] as const) {
    (spec.haproxy?.[key] ?? []).forEach((b, i) => {
      const s = b.sticky;
      if (!s) return;
      const p: SpecPath = ['haproxy', key, i, 'sticky'];
      if (s.by === 'source' && b.balance !== undefined && b.balance !== 'source') report([...p, 'by'], `stickiness by source is balance source, but the section says balance ${b.balance}`, 'remove balance or the sticky setting');
      if (s.by === 'source' && s.cookie) report([...p, 'cookie'], 'stickiness by source uses no cookie', 'remove cookie');
      if (s.by === 'insert' && b.cookie) report([...p, 'by'], 'stickiness by insert and a cookie: setting both define the persistence cookie', 'keep one of them');
      if (s.by === 'route') {
        (b.servers ?? []).forEach((x, j) => { if (!ROUTE.test(x.name)) report(['haproxy', key, i, 'servers', j, 'name'], `server name "${x.name}" cannot be a route (letters, digits, _ - only)`, 'name each server after its jvmRoute'); });
      }
    });
  }
}

export const stickyFitsEngine: SpecRule = {
  name: 'sticky-fits-engine',
  doc: 'sticky: says what each engine can do: insert only on haproxy, source not against another balance, route with a route per server',
  check(spec, report) {
    checkNginxSticky(spec, report);
    checkHaproxySticky(spec, report);
  },
};

export const NGINX_RULES: readonly SpecRule[] = [nginxDistinctUpstreams, nginxUpstreamsDefined, nginxBalanceArguments, nginxLocationPaths, nginxConfDHttpOnly, stickyFitsEngine];
