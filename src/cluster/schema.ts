/**
 * JSON Schema (draft 7) of the cluster spec, built with TypeBox: it is the one contract.
 * types.ts derives the TypeScript types from it (Static<...>), and scripts/build-validator.mjs
 * compiles it into the ajv standalone validator load.ts runs. Every field, type, range and
 * allowed character set lives here, and each `description` is what the user is told is
 * allowed when a value is rejected (src/cluster/load.ts).
 *
 * Strings that land in generated files are restricted by pattern so that none can break out
 * of its line: no control characters (newline), and no '#', quotes or backslashes in
 * tokens. Free text lines (`extra:`) only exclude control characters; the quote balance of
 * those is a spec rule (src/cluster/rules/raw-lines.ts) and the daemon judges the rest.
 */
import { Type, type Static, type TObject, type TOptional, type TProperties, type TSchema } from '@sinclair/typebox';
import { nginx, sticky } from './schema-nginx.js';
import { pacemakerSection } from './schema-pacemaker.js';
import { tier, type TierStatic } from './schema-tier.js';
import { director, realServers } from './schema-node.js';

/** A string with a pattern; `extra` adds length limits. */
const Str = (pattern: string, description: string, extra: { minLength?: number; maxLength?: number } = {}) => Type.String({ pattern, ...extra, description });
/** One of fixed values: ajv's `enum` keyword, so a refusal lists the allowed values. */
const Enum = <const T extends readonly (string | number)[]>(values: T, description: string) => Type.Unsafe<T[number]>({ enum: [...values], description });

const NAME = Str('^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$', 'a name: letters, digits, _ . : - (no spaces, newlines, # or quotes), at most 64 characters');
const TOKEN = Str('^[^\\s#"\'\\\\]+$', 'one word without spaces, newlines, #, quotes or backslashes', { minLength: 1 });
/** Rendered inside double quotes by keepalived; keepalived reads '#' and '!' as comments. */
const COMMAND = Type.String({ pattern: '^/[^\\x00-\\x1f\\x7f"#!\\\\]*$|^[a-z][^\\x00-\\x1f\\x7f"#!\\\\]*$', minLength: 1, description: 'a command line without newlines, double quotes, #, ! or backslashes' });
const EXTRA = Type.Array(Type.String({ pattern: '^[^\\x00-\\x1f\\x7f]*$', description: 'one raw config line (no newline)' }), { description: 'raw lines added to this section verbatim; the daemon\'s own check judges them' });
const IPV4 = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}';
const IPV4_ADDR = Type.String({ pattern: `^${IPV4}$`, description: 'an IPv4 address such as 192.168.1.10' });
const IPV4_CIDR = Type.String({ pattern: `^${IPV4}(/([0-9]|[12][0-9]|3[0-2]))?$`, description: 'an IPv4 address with optional prefix, such as 192.168.1.10/24' });
const IFNAME = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,15}$', description: 'a Linux interface name (1-15 characters: letters, digits, _ . -)' });
const LABEL = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,15}:[A-Za-z0-9_.-]+$', description: 'an address label <device>:<suffix>, such as eth0:ha (15 characters at most in total)' });
const PORT = Type.Integer({ minimum: 1, maximum: 65535, description: 'a TCP/UDP port 1-65535' });
const DURATION = Type.String({ pattern: '^[0-9]+(us|ms|s|m|h|d)?$', description: 'a HAProxy time: a number with optional unit us, ms, s, m, h, d (bare numbers are milliseconds)' });
const COUNT = (min: number, max: number, description: string) => Type.Integer({ minimum: min, maximum: max, description });
const BOOL = (description: string) => Type.Boolean({ description });

/** Properties not named in `required` are optional, in the schema and in the derived type alike. */
type WithOptional<P extends TProperties, R extends keyof P> = { [K in keyof P]: K extends R ? P[K] : TOptional<P[K]> };
/** A closed object: unknown keys are refused. */
function obj<P extends TProperties, const R extends keyof P & string = never>(properties: P, required: readonly R[] = [], description?: string): TObject<WithOptional<P, R>> {
  const props = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, (required as readonly string[]).includes(k) ? v : Type.Optional(v)]));
  return Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) }) as unknown as TObject<WithOptional<P, R>>;
}
const list = <T extends TSchema>(items: T, description: string, minItems = 0) => Type.Array(items, { description, ...(minItems ? { minItems } : {}) });

const SCRIPT_TUNING = {
  interval: COUNT(1, 3600, 'seconds between runs of the check, 1-3600'),
  timeout: COUNT(1, 3600, 'seconds a run may take before it counts as failed, 1-3600'),
  weight: COUNT(-253, 253, 'priority change while the check fails (negative) or succeeds (positive), -253..253'),
  fall: COUNT(1, 255, 'failed runs before the check counts as down, 1-255'),
  rise: COUNT(1, 255, 'successful runs before the check counts as up, 1-255'),
};

export const globalDefs = obj({
  notification_email: list(Type.String({ pattern: '^[^\\s#"\'\\\\@]+@[^\\s#"\'\\\\@]+$', description: 'an e-mail address' }), 'addresses keepalived mails on state changes'),
  notification_email_from: Type.String({ pattern: '^[^\\s#"\'\\\\@]+@[^\\s#"\'\\\\@]+$', description: 'an e-mail address' }),
  smtp_server: IPV4_ADDR,
  smtp_connect_timeout: COUNT(1, 3600, 'seconds, 1-3600'),
  vrrp_strict: BOOL('strict RFC VRRP (no unicast, adds iptables rules)'),
  vrrp_skip_check_adv_addr: BOOL('skip checking addresses in adverts from the same master'),
  vrrp_garp_interval: Type.Number({ exclusiveMinimum: 0, maximum: 4294, description: 'seconds between gratuitous ARPs per interface, above 0 (keepalived 2.2 rejects 0; leave it out for no delay)' }),
  vrrp_gna_interval: Type.Number({ exclusiveMinimum: 0, maximum: 4294, description: 'seconds between unsolicited NAs per interface, above 0 (keepalived 2.2 rejects 0; leave it out for no delay)' }),
  vrrp_iptables: BOOL('let keepalived add iptables rules (keepalived built with iptables support only; Debian 12 uses nftables)'),
  nftables: BOOL('let keepalived add nftables rules (what vrrp_iptables became)'),
  script_user: NAME,
  enable_script_security: BOOL('refuse scripts writable by non-root users (default true)'),
  extra: EXTRA,
}, [], 'keepalived global_defs');

export const vipObject = obj({ address: IPV4_CIDR, device: IFNAME, label: LABEL, broadcast: IPV4_ADDR }, ['address']);
// One schema with two JSON types rather than anyOf, so a refusal names one problem, not two.
const vip = Type.Unsafe<string | Static<typeof vipObject>>({
  type: ['string', 'object'],
  pattern: `^${IPV4}(/([0-9]|[12][0-9]|3[0-2]))?$`,
  description: 'a virtual IP: "192.168.1.1/24" or {address, device, label, broadcast}',
  additionalProperties: false,
  required: ['address'],
  properties: vipObject.properties,
});

export const instance = obj({
  name: NAME,
  virtual_router_id: COUNT(1, 255, 'the VRRP router id (VRID) 1-255, the same on every node and unique on the network segment'),
  interface: IFNAME,
  master: NAME,
  advert_int: Type.Number({ minimum: 0.01, maximum: 255, description: 'seconds between adverts, 0.01-255' }),
  authentication: obj({
    type: Enum(['PASS', 'AH'], 'PASS or AH'),
    pass: Type.String({ minLength: 1, maxLength: 8, pattern: '^[^\\s#!"\'\\\\]+$', description: 'a password of 1-8 characters (keepalived silently truncates longer ones), no spaces, #, ! or quotes' }),
  }, ['pass'], 'VRRP authentication {type, pass}'),
  vips: list(vip, 'the virtual IP addresses (at least one)', 1),
  unicast: BOOL('send adverts by unicast to the other nodes\' addresses instead of multicast'),
  preempt: BOOL('a higher-priority node takes the VIP back (default true); false renders nopreempt'),
  preempt_delay: COUNT(0, 1000, 'seconds to wait before preempting, 0-1000'),
  track_script: list(NAME, 'names of vrrp scripts to track'),
  track_interface: list(IFNAME, 'interfaces whose failure puts the instance in FAULT'),
  notify: obj({ master: COMMAND, backup: COMMAND, fault: COMMAND, stop: COMMAND }, [], 'notify scripts {master, backup, fault, stop}'),
  extra: EXTRA,
}, ['name', 'virtual_router_id', 'vips'], 'a VRRP instance');

export const script = obj({ name: NAME, script: COMMAND, http_get: Type.String({ pattern: '^https?://[^\\s#"\'\\\\!]+$', description: 'an http(s) URL without spaces, #, ! or quotes' }), ...SCRIPT_TUNING, extra: EXTRA }, ['name'], 'a vrrp_script');
export const proxyCheckTuning = obj(SCRIPT_TUNING);

export const vrrp = obj({
  global_defs: globalDefs,
  proxy_check: Type.Unsafe<Static<typeof proxyCheckTuning> | false>({ type: ['object', 'boolean'], not: { const: true }, additionalProperties: false, properties: proxyCheckTuning.properties, description: 'tuning of the default chk_haproxy script {interval, timeout, weight, fall, rise}, or false for none' }),
  scripts: list(script, 'vrrp_script checks {name, script | http_get, interval, timeout, weight, fall, rise}'),
  instances: list(instance, 'VRRP instances (at least one)', 1),
}, ['instances'], 'VRRP (keepalived) settings');

const CONDITION = Type.String({ pattern: '^!?[A-Za-z0-9_.-]+( +(\\|\\||or) +!?[A-Za-z0-9_.-]+| +!?[A-Za-z0-9_.-]+)*$', description: 'ACL names joined by spaces (and), "||" or "or", each optionally negated with !' });
const cond = { if: CONDITION, unless: CONDITION };

const TIMEOUT_NAMES = ['connect', 'client', 'server', 'queue', 'check', 'tunnel', 'http-request', 'http-keep-alive', 'client-fin', 'server-fin'] as const;
const forwardforObject = obj({ except: IPV4_CIDR });
const proxyOptions = {
  mode: Enum(['http', 'tcp'], 'http or tcp'),
  log_global: BOOL('log global'),
  httplog: BOOL('option httplog'),
  tcplog: BOOL('option tcplog'),
  dontlognull: BOOL('option dontlognull'),
  httpclose: BOOL('option httpclose'),
  http_server_close: BOOL('option http-server-close'),
  forwardfor: Type.Unsafe<boolean | Static<typeof forwardforObject>>({ type: ['boolean', 'object'], additionalProperties: false, properties: forwardforObject.properties, description: 'true, or {except: CIDR}' }),
  redispatch: BOOL('option redispatch'),
  retries: COUNT(0, 100, 'connection retries, 0-100'),
  maxconn: COUNT(1, 10_000_000, 'a connection limit'),
  timeouts: obj(
    Object.fromEntries(TIMEOUT_NAMES.map((k) => [k, DURATION])) as Record<(typeof TIMEOUT_NAMES)[number], typeof DURATION>,
    [], 'timeouts by name: connect, client, server, queue, check, tunnel, http-request, http-keep-alive, client-fin, server-fin',
  ),
  extra: EXTRA,
};

export const acl = obj({
  name: Str('^[A-Za-z0-9_.-]{1,64}$', 'an ACL name: letters, digits, _ . -'),
  criterion: Type.String({ pattern: '^(path|path_beg|path_end|path_sub|path_reg|path_dir|url|url_beg|url_end|url_sub|url_param\\([A-Za-z0-9_-]+\\)|src|dst|dst_port|src_port|method|base|base_beg|base_end|hdr(_beg|_end|_sub|_reg|_dom|_cnt|_ip)?\\([A-Za-z0-9_-]+\\)|req\\.hdr\\([A-Za-z0-9_-]+\\)|ssl_fc|always_true|always_false)$', description: 'a fetch such as path_beg, path_end, path, url_beg, src, dst_port, method, hdr(host), hdr_beg(host)' }),
  flags: list(Enum(['-i', '-m beg', '-m end', '-m sub', '-m str', '-m reg', '-m found', '-n'], 'an ACL flag such as -i'), 'ACL flags'),
  values: list(TOKEN, 'values to match (words without spaces, #, quotes)'),
}, ['name', 'criterion'], 'an ACL {name, criterion, flags, values}');

export const httpRequest = obj({
  action: Enum(['deny', 'allow', 'redirect', 'set-header', 'add-header', 'del-header'], 'deny, allow, redirect, set-header, add-header or del-header'),
  deny_status: COUNT(200, 599, 'an HTTP status code'),
  location: TOKEN, prefix: TOKEN, scheme: Enum(['http', 'https'], 'http or https'),
  code: Enum([301, 302, 303, 307, 308], '301, 302, 303, 307 or 308'),
  header: Type.String({ pattern: '^[A-Za-z0-9-]+$', description: 'a header name' }),
  value: TOKEN,
  ...cond,
}, ['action'], 'an http-request rule');

export const stats = obj({
  uri: Type.String({ pattern: '^/[^\\s#"\'\\\\]*$', description: 'a path such as /haproxy?stats' }),
  realm: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', description: 'a realm word (letters, digits, _ . -)' }),
  auth: list(Type.String({ pattern: '^[^\\s:#"\'\\\\]+:[^\\s#"\'\\\\]+$', description: 'user:password (no spaces, #, quotes)' }), 'user:password pairs'),
  refresh: DURATION,
  hide_version: BOOL('hide the HAProxy version'),
  admin_if: CONDITION,
}, ['uri'], 'a stats page {uri, realm, auth, refresh}');

const BALANCE = Type.String({ pattern: '^(roundrobin|static-rr|leastconn|first|source|random(\\([0-9]+\\))?|uri( (whole|path-only|len [0-9]+|depth [0-9]+))*|url_param [A-Za-z0-9_.-]+( check_post)?|hdr\\([A-Za-z0-9_-]+\\)( use_domain_only)?|rdp-cookie(\\([A-Za-z0-9_-]+\\))?)$', description: 'a balance algorithm: roundrobin, static-rr, leastconn, first, source, random, uri, url_param <name>, hdr(<name>), rdp-cookie' });

export const server = obj({
  name: NAME,
  address: Type.String({ pattern: '^([A-Za-z0-9_.-]+|\\[[0-9A-Fa-f:.]+\\])(:[0-9]{1,5})?$', description: 'host or IPv4 with optional :port, such as 192.168.1.11:80' }),
  weight: COUNT(0, 256, 'a weight 0-256'),
  check: BOOL('health-check this server'),
  inter: DURATION, fall: COUNT(1, 1000, 'failed checks before down'), rise: COUNT(1, 1000, 'good checks before up'),
  port: PORT,
  cookie: { ...TOKEN, description: 'the cookie value that selects this server (one word)' },
  backup: BOOL('only used when all non-backup servers are down'),
  maxconn: COUNT(1, 10_000_000, 'a connection limit'),
}, ['name', 'address'], 'a server {name, address, weight, check, inter, fall, rise, cookie, backup}');

export const cookie = obj({
  name: Type.String({ pattern: '^[A-Za-z0-9_.-]+$', description: 'a cookie name' }),
  mode: Enum(['insert', 'prefix', 'rewrite'], 'insert, prefix or rewrite'),
  indirect: BOOL('indirect'), nocache: BOOL('nocache'), preserve: BOOL('preserve'), httponly: BOOL('httponly'), secure: BOOL('secure'),
}, ['name', 'mode'], 'cookie persistence {name, mode}');

export const httpchk = obj({
  method: Enum(['GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'], 'GET, HEAD, OPTIONS, POST or PUT'),
  path: Type.String({ pattern: '^/[^\\s#"\'\\\\]*$', description: 'a path such as /index.html' }),
  version: Enum(['HTTP/1.0', 'HTTP/1.1'], 'HTTP/1.0 or HTTP/1.1'),
}, [], 'option httpchk {method, path, version}');

const BIND = Type.String({ pattern: '^(\\*|[A-Za-z0-9_.:-]*|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}( [a-z][a-z0-9-]*( [^\\s#"\'\\\\]+)?)*$', description: 'an address:port such as *:80 or 0.0.0.0:443' });
const frontendProps = {
  name: NAME,
  bind: list(BIND, 'listen addresses', 1),
  acls: list(acl, 'ACLs'),
  http_request: list(httpRequest, 'http-request rules'),
  use_backend: list(obj({ backend: NAME, ...cond }, ['backend'], 'a use_backend rule {backend, if|unless}'), 'use_backend rules'),
  default_backend: NAME,
  stats,
};
const backendProps = {
  name: NAME,
  balance: BALANCE,
  cookie, httpchk,
  acls: list(acl, 'ACLs'),
  http_request: list(httpRequest, 'http-request rules'),
  stats,
  servers: list(server, 'servers'),
  sticky,
};

const healthObject = obj({ bind: Type.String({ pattern: BIND.pattern, description: 'a loopback address:port such as 127.0.0.1:8405' }), uri: Type.String({ pattern: '^/[A-Za-z0-9_./-]*$', description: 'a path' }) });
export const haproxy = obj({
  health: Type.Unsafe<Static<typeof healthObject> | false>({ type: ['object', 'boolean'], not: { const: true }, additionalProperties: false, properties: healthObject.properties, description: 'the monitor frontend the default proxy check asks {bind, uri}, or false' }),
  global: obj({
    maxconn: COUNT(1, 10_000_000, 'a connection limit'),
    log: list(obj({ address: Type.String({ pattern: '^(/[^\\s#"\'\\\\]+|[A-Za-z0-9_.:-]+)$', description: 'a syslog address: /dev/log or host[:port]' }), facility: Type.String({ pattern: '^(local[0-7]|kern|user|mail|daemon|auth|syslog|lpr|news|uucp|cron|auth2|ftp|ntp|audit|alert|cron2)$', description: 'a syslog facility such as local0' }), level: Enum(['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'], 'a syslog level') }, ['address', 'facility'], 'a log target {address, facility, level}'), 'log targets'),
    stats_socket: obj({ path: Type.String({ pattern: '^/[^\\s#"\'\\\\]+$', description: 'an absolute socket path' }), mode: Type.String({ pattern: '^[0-7]{3,4}$', description: 'an octal file mode such as 660' }), level: Enum(['user', 'operator', 'admin'], 'user, operator or admin') }, ['path'], 'the runtime API socket {path, mode, level}'),
    user: NAME, group: NAME,
    nbthread: COUNT(1, 4096, 'threads, 1-4096'),
    daemon: BOOL('daemon'), master_worker: BOOL('master-worker'),
    pidfile: Type.String({ pattern: '^/[^\\s#"\'\\\\]+$', description: 'an absolute path' }),
    chroot: Type.String({ pattern: '^/[^\\s#"\'\\\\]*$', description: 'an absolute path' }),
    extra: EXTRA,
  }, [], 'the haproxy global section'),
  defaults: obj(proxyOptions, [], 'the haproxy defaults section'),
  frontends: list(obj({ ...proxyOptions, ...frontendProps }, ['name', 'bind'], 'a frontend'), 'frontend sections'),
  backends: list(obj({ ...proxyOptions, ...backendProps }, ['name'], 'a backend'), 'backend sections'),
  listens: list(obj({ ...proxyOptions, ...frontendProps, ...backendProps }, ['name', 'bind'], 'a listen section'), 'listen sections'),
}, [], 'HAProxy settings');

export const realServerCheck = obj({
  type: Enum(['TCP_CHECK', 'HTTP_GET', 'SSL_GET'], 'TCP_CHECK, HTTP_GET or SSL_GET'),
  connect_port: PORT,
  connect_timeout: COUNT(1, 3600, 'seconds'),
  retries: COUNT(0, 100, 'retries before the server is removed'),
  delay_before_retry: COUNT(0, 3600, 'seconds'),
  urls: list(obj({
    path: Type.String({ pattern: '^/[^\\s#!"\'\\\\]*$', description: 'a URL path' }),
    digest: Type.String({ pattern: '^[0-9a-f]{32}$', description: 'an MD5 digest of the page (32 hex digits, see keepalived genhash)' }),
    status_code: COUNT(100, 599, 'an HTTP status code'),
  }, ['path'], 'a checked URL {path, digest | status_code}'), 'URLs to check (HTTP_GET, SSL_GET)'),
}, ['type'], 'a real-server health check');

export const lvs = obj({
  virtual_servers: list(obj({
    address: IPV4_ADDR, port: PORT,
    delay_loop: COUNT(1, 3600, 'seconds between health checks'),
    lb_algo: Enum(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'sh', 'dh', 'sed', 'nq', 'fo', 'ovf', 'mh'], 'an IPVS scheduler: rr, wrr, lc, wlc, lblc, lblcr, sh, dh, sed, nq, fo, ovf, mh'),
    lb_kind: Enum(['NAT', 'DR', 'TUN'], 'NAT, DR or TUN'),
    persistence_timeout: COUNT(1, 2_678_400, 'seconds 1-2678400 (keepalived 2.2 rejects 0: leave it out for no persistence)'),
    protocol: Enum(['TCP', 'UDP', 'SCTP'], 'TCP, UDP or SCTP'),
    sorry_server: obj({ address: IPV4_ADDR, port: PORT }, ['address', 'port'], 'the server used when all real servers are down'),
    real_servers: list(obj({ address: IPV4_ADDR, port: PORT, weight: COUNT(0, 65535, 'a weight'), check: realServerCheck }, ['address', 'port'], 'a real server {address, port, weight, check}'), 'real servers', 1),
    extra: EXTRA,
  }, ['address', 'port', 'real_servers'], 'a virtual_server'), 'IPVS virtual servers managed by keepalived', 1),
}, ['virtual_servers'], 'keepalived-managed IPVS');

export const clusterSchema = obj({
  cluster: NAME,
  nodes: list(obj({
    name: NAME,
    address: IPV4_CIDR,
    interface: IFNAME,
    priority: COUNT(1, 254, 'a VRRP priority 1-254 (derived: 100, 99, ... in node order)'),
    state: Enum(['MASTER', 'BACKUP'], 'MASTER or BACKUP (derived from priority)'),
    router_id: NAME,
  }, ['name', 'address', 'interface'], 'a node {name, address, interface}'), 'the load-balancer nodes (at least one)', 1),
  vrrp,
  haproxy,
  lvs,
  nginx,
  ha: Enum(['vrrp', 'pacemaker'], 'the HA engine: vrrp (keepalived, default) or pacemaker (corosync + pacemaker)'),
  pacemaker: pacemakerSection,
  // By reference, not inlined (build-validator: inlineRefs false): ajv compiles each such part into
  // a function of its own; one validate function for the whole spec grew past tsc's control-flow
  // limit, which then stops narrowing in every file. Unsafe hands tsc the part's type ready-made.
  tier: Type.Unsafe<TierStatic>({ $ref: '#/definitions/tier', description: tier.description }),
  director: Type.Unsafe<Static<typeof director>>({ $ref: '#/definitions/director' }),
  real_servers: Type.Unsafe<Static<typeof realServers>>({ $ref: '#/definitions/real_servers' }),
}, ['cluster', 'nodes'], 'a cluster spec');
(clusterSchema as { definitions?: Record<string, TSchema> }).definitions = { tier, director, real_servers: realServers };
