/**
 * nginx.conf renderer: a pure function of the (validated) nginx part of the cluster spec.
 * A whole nginx.conf (main, events, http, stream) by default; with `file:` naming a conf.d
 * file, only the http-context blocks that file holds. Every token was restricted by the
 * schema (src/cluster/schema-nginx.ts); only a regex location can need quoting.
 */
import type {
  NginxHttpServerSpec, NginxLocationSpec, NginxServerSpec, NginxSpec, NginxUpstreamSpec,
} from '../cluster/types.js';

const I = '    ';

/** An http or stream upstream: stream ones have no keepalive, sticky or ip_hash. */
type UpstreamLike = Omit<NginxUpstreamSpec, 'balance' | 'keepalive' | 'sticky'> & { balance?: string; keepalive?: number; sticky?: NginxUpstreamSpec['sticky'] };

export interface NginxHealth { listen: string; uri: string }

export const NGINX_DEFAULTS = {
  file: '/etc/nginx/nginx.conf',
  health: { listen: '127.0.0.1:8406', uri: '/lbctl-health' } satisfies NginxHealth,
  workerProcesses: 'auto',
  workerConnections: 1024,
  mimeTypes: '/etc/nginx/mime.types',
} as const;

/** True when the spec's nginx file is a conf.d include (http blocks only), not nginx.conf. */
export function isConfD(spec: NginxSpec): boolean {
  return (spec.file ?? NGINX_DEFAULTS.file).split('/').pop() !== 'nginx.conf';
}

/** The upstream a route-pinned request goes to: '.' cannot occur in a route, so names stay unique. */
export const routeUpstreamName = (upstream: string, route: string) => `lbctl-route.${upstream}.${route}`;
const routeVariable = (index: number) => `$lbctl_route_${index}`;

/** Route of a server under route stickiness: its route, else its name. */
export const serverRoute = (s: NginxServerSpec): string | undefined => s.route ?? s.name;

function block(head: string, body: string[]): string[] {
  return [`${head} {`, ...body.map((l) => (l ? I + l : l)), '}'];
}

function serverLine(s: NginxServerSpec, backup = s.backup): string {
  const parts = ['server', s.address];
  if (s.weight !== undefined) parts.push(`weight=${s.weight}`);
  if (s.max_fails !== undefined) parts.push(`max_fails=${s.max_fails}`);
  if (s.fail_timeout !== undefined) parts.push(`fail_timeout=${s.fail_timeout}`);
  if (s.max_conns !== undefined) parts.push(`max_conns=${s.max_conns}`);
  if (backup) parts.push('backup');
  if (s.down) parts.push('down');
  return `${parts.join(' ')};${s.name ? ` # ${s.name}` : ''}`;
}

function balanceLine(u: UpstreamLike): string | undefined {
  const balance = u.balance ?? (u.sticky?.by === 'source' ? 'ip_hash' : 'round_robin');
  switch (balance) {
    case 'round_robin': return undefined;
    case 'hash': return `hash ${u.hash_key}${u.consistent ? ' consistent' : ''};`;
    case 'random_two': return 'random two;';
    default: return `${balance};`;
  }
}

function upstreamBlock(u: UpstreamLike): string[] {
  const bal = balanceLine(u);
  return block(`upstream ${u.name}`, [
    ...(bal ? [bal] : []),
    ...u.servers.map((s) => serverLine(s)),
    ...(u.keepalive !== undefined ? [`keepalive ${u.keepalive};`] : []),
    ...(u.extra ?? []),
  ]);
}

/**
 * Route stickiness with open-source nginx: a map from the session cookie's ".route" suffix to
 * an upstream that holds that route's server first and the others as backups (so a dead
 * server's sessions still get an answer, as with jvm_route), and the balanced upstream when
 * there is no cookie or no known route.
 */
function routeBlocks(u: NginxUpstreamSpec, index: number): { map: string[]; upstreams: string[] } {
  const cookie = u.sticky!.cookie ?? 'JSESSIONID';
  const routed = u.servers.filter((s) => serverRoute(s) !== undefined && !s.backup);
  const map = block(`map $cookie_${cookie} ${routeVariable(index)}`, [
    `default ${u.name};`,
    ...routed.map((s) => `~\\.${serverRoute(s)}$ ${routeUpstreamName(u.name, serverRoute(s)!)};`),
  ]);
  const upstreams = routed.flatMap((s) => ['', ...block(`upstream ${routeUpstreamName(u.name, serverRoute(s)!)}`, [
    serverLine(s, false),
    ...u.servers.filter((o) => o !== s).map((o) => serverLine(o, true)),
    ...(u.keepalive !== undefined ? [`keepalive ${u.keepalive};`] : []),
  ])]);
  return { map, upstreams };
}

function quoteRegex(re: string): string {
  // nginx unescapes \\, \" and \' in every token: double a backslash before a backslash so the
  // regex arrives as written; quote when ; { } or a leading # would end or open something.
  const body = re.replace(/\\\\/g, '\\\\\\\\');
  return /[;{}]/.test(body) || body.startsWith('#') ? `"${body}"` : body;
}

function locationHead(l: NginxLocationSpec): string {
  switch (l.match ?? 'prefix') {
    case 'exact': return `location = ${l.path}`;
    case 'regex': return `location ~ ${quoteRegex(l.path)}`;
    case 'regex_i': return `location ~* ${quoteRegex(l.path)}`;
    default: return `location ${l.path}`;
  }
}

function locationBlock(l: NginxLocationSpec, upstreams: Map<string, { index: number; spec: NginxUpstreamSpec }>): string[] {
  const body: string[] = [];
  if (l.proxy_pass) {
    const up = upstreams.get(l.proxy_pass);
    body.push(`proxy_pass http://${up?.spec.sticky?.by === 'route' ? routeVariable(up.index) : l.proxy_pass};`);
    if (up?.spec.keepalive !== undefined) body.push('proxy_http_version 1.1;', 'proxy_set_header Connection "";');
    if (l.proxy_headers !== false) {
      body.push('proxy_set_header Host $host;', 'proxy_set_header X-Real-IP $remote_addr;', 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;');
    }
    for (const h of l.set_headers ?? []) body.push(`proxy_set_header ${h.name} ${h.value};`);
    const t = l.timeouts ?? {};
    if (t.connect) body.push(`proxy_connect_timeout ${t.connect};`);
    if (t.send) body.push(`proxy_send_timeout ${t.send};`);
    if (t.read) body.push(`proxy_read_timeout ${t.read};`);
    if (l.next_upstream?.length) body.push(`proxy_next_upstream ${l.next_upstream.join(' ')};`);
    if (l.next_upstream_tries !== undefined) body.push(`proxy_next_upstream_tries ${l.next_upstream_tries};`);
  }
  if (l.root) body.push(`root ${l.root};`);
  if (l.index?.length) body.push(`index ${l.index.join(' ')};`);
  if (l.client_max_body_size) body.push(`client_max_body_size ${l.client_max_body_size};`);
  body.push(...(l.extra ?? []));
  return block(locationHead(l), body);
}

function serverBlock(s: NginxHttpServerSpec, upstreams: Map<string, { index: number; spec: NginxUpstreamSpec }>): string[] {
  return block('server', [
    ...s.listen.map((l) => `listen ${l};`),
    ...(s.server_name?.length ? [`server_name ${s.server_name.join(' ')};`] : []),
    ...(s.locations ?? []).flatMap((l) => ['', ...locationBlock(l, upstreams)]),
    ...(s.extra ?? []),
  ]);
}

function healthBlock(h: NginxHealth): string[] {
  // Loopback only, so keepalived's check on this node asks this node's nginx.
  return block('server', [
    `listen ${h.listen};`,
    'access_log off;',
    ...block(`location = ${h.uri}`, ['default_type text/plain;', 'return 200 "ok\\n";']),
    ...block('location /', ['return 404;']),
  ]);
}

/** The http-context blocks: maps, upstreams, the health server, servers. */
function httpBody(spec: NginxSpec, health: NginxHealth | undefined): string[] {
  const ups = spec.upstreams ?? [];
  const byName = new Map(ups.map((u, index) => [u.name, { index, spec: u }]));
  const out: string[] = [];
  ups.forEach((u, i) => {
    if (u.sticky?.by !== 'route') return;
    out.push('', ...routeBlocks(u, i).map);
  });
  for (const u of ups) {
    out.push('', ...upstreamBlock(u));
    if (u.sticky?.by === 'route') out.push(...routeBlocks(u, byName.get(u.name)!.index).upstreams);
  }
  if (health) out.push('', ...healthBlock(health));
  for (const s of spec.servers ?? []) out.push('', ...serverBlock(s, byName));
  return out;
}

export function renderNginx(spec: NginxSpec, header: string[], health?: NginxHealth): string {
  const out: string[] = header.map((h) => `# ${h}`.trimEnd());
  if (isConfD(spec)) {
    out.push(...(spec.http?.extra ?? []), ...httpBody(spec, health));
    return out.join('\n') + '\n';
  }
  const m = spec.main ?? {};
  out.push('');
  if (m.user) out.push(`user ${m.user};`);
  out.push(`worker_processes ${m.worker_processes ?? NGINX_DEFAULTS.workerProcesses};`, ...(m.extra ?? []));
  out.push('', ...block('events', [`worker_connections ${m.worker_connections ?? NGINX_DEFAULTS.workerConnections};`]));
  const h = spec.http ?? {};
  const httpHead = [
    ...(h.mime_types === false ? [] : [`include ${NGINX_DEFAULTS.mimeTypes};`]),
    'default_type application/octet-stream;',
    ...(h.keepalive_timeout ? [`keepalive_timeout ${h.keepalive_timeout};`] : []),
    ...(h.access_log === false ? ['access_log off;'] : h.access_log ? [`access_log ${h.access_log};`] : []),
    ...(h.extra ?? []),
  ];
  out.push('', ...block('http', [...httpHead, ...httpBody(spec, health)]));
  const st = spec.stream;
  if (st && ((st.upstreams?.length ?? 0) + (st.servers?.length ?? 0) + (st.extra?.length ?? 0)) > 0) {
    const body: string[] = [...(st.extra ?? [])];
    for (const u of st.upstreams ?? []) body.push('', ...upstreamBlock(u));
    for (const s of st.servers ?? []) {
      body.push('', ...block('server', [
        ...s.listen.map((l) => `listen ${l};`),
        `proxy_pass ${s.proxy_pass};`,
        ...(s.proxy_connect_timeout ? [`proxy_connect_timeout ${s.proxy_connect_timeout};`] : []),
        ...(s.proxy_timeout ? [`proxy_timeout ${s.proxy_timeout};`] : []),
        ...(s.extra ?? []),
      ]));
    }
    out.push('', ...block('stream', body.filter((l, i) => !(i === 0 && l === ''))));
  }
  return out.join('\n') + '\n';
}
