/**
 * haproxy.cfg renderer: a pure function of the (validated) haproxy part of the cluster spec.
 * Sections come out in spec order: global, defaults, the lbctl health frontend, frontends,
 * backends, listens. Every token was restricted by the schema, so nothing here escapes.
 */
import type {
  AclSpec, BackendSpec, CondSpec, FrontendSpec, HaproxySpec, HttpRequestRule, ListenSpec, ProxyOptions, ServerSpec, StatsSpec,
} from '../cluster/types.js';

const I = '    ';

export interface HealthFrontend { bind: string; uri: string }

export const HEALTH_FRONTEND_NAME = 'lbctl-health';

export function renderHaproxy(spec: HaproxySpec, header: string[], health?: HealthFrontend): string {
  const out: string[] = header.map((h) => `# ${h}`.trimEnd());
  out.push('', 'global', ...renderGlobal(spec).map((l) => I + l));
  if (spec.defaults) out.push('', 'defaults', ...renderOptions(spec.defaults).map((l) => I + l));
  if (health) {
    // Loopback-only, so keepalived's check on this node asks this node's haproxy.
    out.push('', `frontend ${HEALTH_FRONTEND_NAME}`, ...[`bind ${health.bind}`, 'mode http', 'option dontlog-normal', 'timeout client 5s', `monitor-uri ${health.uri}`].map((l) => I + l));
  }
  for (const f of spec.frontends ?? []) out.push('', `frontend ${f.name}`, ...renderFrontend(f).map((l) => I + l));
  for (const b of spec.backends ?? []) out.push('', `backend ${b.name}`, ...renderBackend(b).map((l) => I + l));
  for (const l of spec.listens ?? []) out.push('', `listen ${l.name}`, ...renderListen(l).map((x) => I + x));
  return out.join('\n') + '\n';
}

function renderGlobal(spec: HaproxySpec): string[] {
  const g = spec.global ?? {};
  const out: string[] = [];
  for (const t of g.log ?? []) out.push(['log', t.address, t.facility, t.level].filter(Boolean).join(' '));
  if (g.maxconn !== undefined) out.push(`maxconn ${g.maxconn}`);
  if (g.chroot) out.push(`chroot ${g.chroot}`);
  if (g.pidfile) out.push(`pidfile ${g.pidfile}`);
  if (g.user) out.push(`user ${g.user}`);
  if (g.group) out.push(`group ${g.group}`);
  if (g.nbthread !== undefined) out.push(`nbthread ${g.nbthread}`);
  if (g.daemon) out.push('daemon');
  if (g.master_worker) out.push('master-worker');
  if (g.stats_socket) {
    const s = g.stats_socket;
    out.push(['stats socket', s.path, s.mode && `mode ${s.mode}`, s.level && `level ${s.level}`].filter(Boolean).join(' '));
  }
  out.push(...(g.extra ?? []));
  return out;
}

/** Options valid in defaults and every proxy section, in a fixed order. */
function renderOptions(o: ProxyOptions): string[] {
  const out: string[] = [];
  if (o.mode) out.push(`mode ${o.mode}`);
  if (o.log_global) out.push('log global');
  const flags: Array<[keyof ProxyOptions, string]> = [
    ['httplog', 'option httplog'], ['tcplog', 'option tcplog'], ['dontlognull', 'option dontlognull'],
    ['httpclose', 'option httpclose'], ['http_server_close', 'option http-server-close'], ['redispatch', 'option redispatch'],
  ];
  for (const [k, line] of flags) {
    if (o[k] === true) out.push(line);
    else if (o[k] === false) out.push(`no ${line}`);
  }
  if (o.forwardfor) out.push(typeof o.forwardfor === 'object' && o.forwardfor.except ? `option forwardfor except ${o.forwardfor.except}` : 'option forwardfor');
  if (o.retries !== undefined) out.push(`retries ${o.retries}`);
  for (const [k, v] of Object.entries(o.timeouts ?? {})) out.push(`timeout ${k} ${v}`);
  if (o.maxconn !== undefined) out.push(`maxconn ${o.maxconn}`);
  return out;
}

function cond(c: CondSpec): string {
  if (c.if) return ` if ${c.if}`;
  if (c.unless) return ` unless ${c.unless}`;
  return '';
}

function renderAcls(acls: AclSpec[] | undefined): string[] {
  return (acls ?? []).map((a) => ['acl', a.name, a.criterion, ...(a.flags ?? []), ...(a.values ?? [])].join(' '));
}

function renderHttpRequest(rules: HttpRequestRule[] | undefined): string[] {
  return (rules ?? []).map((r) => {
    let body: string;
    switch (r.action) {
      case 'deny': body = r.deny_status ? `deny deny_status ${r.deny_status}` : 'deny'; break;
      case 'allow': body = 'allow'; break;
      case 'redirect': {
        const target = r.location ? `location ${r.location}` : r.prefix ? `prefix ${r.prefix}` : `scheme ${r.scheme}`;
        body = `redirect ${target}${r.code ? ` code ${r.code}` : ''}`;
        break;
      }
      case 'del-header': body = `del-header ${r.header}`; break;
      default: body = `${r.action} ${r.header} ${r.value}`;
    }
    return `http-request ${body}${cond(r)}`;
  });
}

function renderStats(s: StatsSpec | undefined): string[] {
  if (!s) return [];
  const out = ['stats enable', `stats uri ${s.uri}`];
  if (s.realm) out.push(`stats realm ${s.realm}`);
  for (const a of s.auth ?? []) out.push(`stats auth ${a}`);
  if (s.refresh) out.push(`stats refresh ${s.refresh}`);
  if (s.hide_version) out.push('stats hide-version');
  if (s.admin_if) out.push(`stats admin if ${s.admin_if}`);
  return out;
}

function renderServer(s: ServerSpec): string {
  const parts = ['server', s.name, s.address];
  if (s.cookie) parts.push('cookie', s.cookie);
  if (s.weight !== undefined) parts.push('weight', String(s.weight));
  if (s.maxconn !== undefined) parts.push('maxconn', String(s.maxconn));
  if (s.check) parts.push('check');
  if (s.port !== undefined) parts.push('port', String(s.port));
  if (s.inter) parts.push('inter', s.inter);
  if (s.fall !== undefined) parts.push('fall', String(s.fall));
  if (s.rise !== undefined) parts.push('rise', String(s.rise));
  if (s.backup) parts.push('backup');
  return parts.join(' ');
}

function frontendLines(f: FrontendSpec): string[] {
  return [
    ...f.bind.map((b) => `bind ${b}`),
    ...renderOptions(f),
    ...renderAcls(f.acls),
    ...renderHttpRequest(f.http_request),
    ...renderStats(f.stats),
    ...(f.use_backend ?? []).map((u) => `use_backend ${u.backend}${cond(u)}`),
    ...(f.default_backend ? [`default_backend ${f.default_backend}`] : []),
  ];
}

function backendLines(b: BackendSpec, withCommon: boolean): string[] {
  const out = withCommon ? [...renderOptions(b), ...renderAcls(b.acls), ...renderHttpRequest(b.http_request), ...renderStats(b.stats)] : [];
  const sticky = b.sticky?.by;
  if (b.balance) out.push(`balance ${b.balance}`);
  else if (sticky === 'source') out.push('balance source');
  if (b.cookie) {
    const c = b.cookie;
    out.push(['cookie', c.name, c.mode, ...(['indirect', 'nocache', 'preserve', 'httponly', 'secure'] as const).filter((k) => c[k])].join(' '));
  } else if (sticky === 'insert') out.push(`cookie ${b.sticky!.cookie ?? 'SERVERID'} insert indirect nocache`);
  if (b.httpchk) out.push(['option httpchk', b.httpchk.method ?? (b.httpchk.path ? 'GET' : undefined), b.httpchk.path, b.httpchk.version].filter(Boolean).join(' '));
  // Route stickiness (tomcat jvmRoute): a session cookie ending in .<server name> picks that
  // server while it is up; anything else is balanced.
  if (sticky === 'route') out.push(...(b.servers ?? []).map((s) => `use-server ${s.name} if { req.cook(${b.sticky!.cookie ?? 'JSESSIONID'}) -m end .${s.name} }`));
  out.push(...(b.servers ?? []).map((s) => renderServer(sticky === 'insert' && !s.cookie ? { ...s, cookie: s.name } : s)));
  return out;
}

function renderFrontend(f: FrontendSpec): string[] {
  return [...frontendLines(f), ...(f.extra ?? [])];
}
function renderBackend(b: BackendSpec): string[] {
  return [...backendLines(b, true), ...(b.extra ?? [])];
}
function renderListen(l: ListenSpec): string[] {
  return [...frontendLines(l), ...backendLines(l, false), ...(l.extra ?? [])];
}
