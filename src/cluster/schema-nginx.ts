/**
 * The `nginx:` section of the cluster spec, and `sticky:` (session stickiness expressed once,
 * rendered for haproxy backends and nginx upstreams alike). Hooked into schema.ts.
 *
 * This file imports only TypeBox (scripts/build-validator.mjs transpiles the schema files on
 * their own), so it keeps its own small helpers rather than importing schema.ts (which imports
 * this file). nginx's own syntax decides the patterns: ';', '{', '}', quotes, '#' and
 * whitespace would end or open a directive, so no token may hold them; a regex location is the
 * one value that may hold '{', '}' or ';' (the renderer quotes it).
 */
import { Type, type Static, type TObject, type TOptional, type TProperties, type TSchema } from '@sinclair/typebox';

type WithOptional<P extends TProperties, R extends keyof P> = { [K in keyof P]: K extends R ? P[K] : TOptional<P[K]> };
function obj<P extends TProperties, const R extends keyof P & string = never>(properties: P, required: readonly R[], description: string): TObject<WithOptional<P, R>> {
  const props = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, (required as readonly string[]).includes(k) ? v : Type.Optional(v)]));
  return Type.Object(props, { additionalProperties: false, description }) as unknown as TObject<WithOptional<P, R>>;
}
const list = <T extends TSchema>(items: T, description: string, minItems = 0) => Type.Array(items, { description, ...(minItems ? { minItems } : {}) });
const Enum = <const T extends readonly string[]>(values: T, description: string) => Type.Unsafe<T[number]>({ enum: [...values], description });
const Str = (pattern: string, description: string) => Type.String({ pattern, description });
const INT = (minimum: number, maximum: number, description: string) => Type.Integer({ minimum, maximum, description });

const NAME = Str('^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', 'a name: letters, digits, _ . - (no spaces, ; { } # or quotes), at most 64 characters');
/** A route id as tomcat's jvmRoute writes it after the session id's last dot. */
const ROUTE = Str('^[A-Za-z0-9_-]{1,64}$', 'a route id such as tomcat1: letters, digits, _ -');
const COOKIE = Str('^[A-Za-z0-9_-]{1,64}$', 'a cookie name such as JSESSIONID: letters, digits, _ -');
const DURATION = Str('^[0-9]{1,9}(ms|s|m|h|d)?$', 'an nginx time: a number with optional unit ms, s, m, h, d (bare numbers are seconds)');
const SIZE = Str('^[0-9]{1,9}[kKmMgG]?$', 'an nginx size: a number with optional unit k, m, g');
const ADDRESS = Str('^([A-Za-z0-9][A-Za-z0-9_.-]*|\\[[0-9A-Fa-f:.]+\\]):[0-9]{1,5}$|^unix:/[^\\s;{}#"\'\\\\]+$', 'host:port such as 192.168.1.11:8080 (or unix:/path)');
const LISTEN = Str('^((\\*|[0-9.]+|\\[[0-9A-Fa-f:.]+\\]|localhost):)?[0-9]{1,5}( (default_server|reuseport|proxy_protocol|ssl|http2|udp|ipv6only=on|ipv6only=off|backlog=[0-9]+))*$', 'a listen value: [address:]port with optional flags such as default_server, udp (e.g. 80, 0.0.0.0:80, 127.0.0.1:8080 default_server)');
const PATH = Str('^/[^\\s;{}#"\'\\\\]*$', 'an absolute path without spaces, ; { } # quotes or backslashes');
const WORD = Str('^[^\\s;{}#"\'\\\\$]+$', 'one word without spaces, ; { } # $ quotes or backslashes');
/** nginx variables and text: $remote_addr, $cookie_jsessionid, $request_uri, $host$uri. */
const KEY = Str('^[A-Za-z0-9_$.:/-]+$', 'a key of nginx variables and text such as $remote_addr or $cookie_jsessionid (letters, digits, $ _ . : / -)');
const REGEX = Str('^[^\\s"\'\\x00-\\x1f\\x7f](?:[^\\s"\'\\x00-\\x1f\\x7f]*[^\\s"\'\\\\\\x00-\\x1f\\x7f])?$', 'a PCRE regex without spaces or quotes, not ending in a backslash, such as \\.jsp$');
const HEADER = Str('^[A-Za-z0-9-]{1,64}$', 'a header name such as X-Real-IP');
const EXTRA = Type.Array(Type.String({ pattern: '^[^\\x00-\\x1f\\x7f]*$', description: 'one raw config line (no newline)' }), { description: 'raw lines added to this block verbatim; nginx -t judges them' });

/**
 * Session stickiness, one spec for both engines:
 * - source: the client address (nginx ip_hash, haproxy balance source);
 * - route: the route suffix tomcat's jvmRoute puts after the session cookie's last dot
 *   (JSESSIONID=ABC123.tomcat1 goes to the server whose route is tomcat1); requests without a
 *   known route are balanced (nginx map + per-route upstreams, haproxy use-server);
 * - insert: the balancer inserts its own cookie naming the server (haproxy only: open-source
 *   nginx has no `sticky cookie`).
 */
export const sticky = obj({
  by: Enum(['source', 'route', 'insert'], 'source (client address), route (a session cookie\'s .route suffix, tomcat jvmRoute) or insert (a cookie the balancer adds; haproxy only)'),
  cookie: COOKIE,
}, ['by'], 'session stickiness {by: source | route | insert, cookie}');

const upstreamServer = obj({
  name: NAME,
  address: ADDRESS,
  route: ROUTE,
  weight: INT(1, 1000, 'a weight 1-1000'),
  max_fails: INT(0, 1000, 'failed attempts within fail_timeout before the server is skipped, 0-1000 (0: never)'),
  fail_timeout: DURATION,
  max_conns: INT(0, 10_000_000, 'a connection limit (0: none)'),
  backup: Type.Boolean({ description: 'only used when the other servers are down' }),
  down: Type.Boolean({ description: 'marked permanently unavailable' }),
}, ['address'], 'an upstream server {name, address, weight, max_fails, fail_timeout, max_conns, backup, down}');

const upstreamProps = {
  name: NAME,
  balance: Enum(['round_robin', 'least_conn', 'ip_hash', 'hash', 'random', 'random_two'], 'round_robin (default), least_conn, ip_hash, hash (with hash_key), random, random_two'),
  hash_key: KEY,
  consistent: Type.Boolean({ description: 'ketama consistent hashing (with balance: hash)' }),
  keepalive: INT(1, 100_000, 'idle keepalive connections to the servers kept per worker'),
  servers: list(upstreamServer, 'servers (at least one)', 1),
  extra: EXTRA,
};

export const upstream = obj({ ...upstreamProps, sticky }, ['name', 'servers'], 'an upstream {name, balance, servers, sticky, keepalive}');
// The stream module has no ip_hash (hash $remote_addr instead) and no keepalive.
const { keepalive: _httpOnly, ...streamProps } = upstreamProps;
const streamUpstream = obj({
  ...streamProps,
  balance: Enum(['round_robin', 'least_conn', 'hash', 'random', 'random_two'], 'round_robin (default), least_conn, hash (with hash_key, e.g. $remote_addr), random, random_two'),
}, ['name', 'servers'], 'a stream upstream {name, balance, servers}');

const PROXY_TIMEOUTS = obj({ connect: DURATION, send: DURATION, read: DURATION }, [], 'proxy timeouts {connect, send, read}');

export const location = obj({
  path: Type.String({ minLength: 1, description: 'the location: a path for prefix and exact, a regex for regex and regex_i' }),
  match: Enum(['prefix', 'exact', 'regex', 'regex_i'], 'prefix (default), exact (=), regex (~) or regex_i (~*)'),
  proxy_pass: NAME,
  proxy_headers: Type.Boolean({ description: 'send Host, X-Real-IP and X-Forwarded-For (default true)' }),
  set_headers: list(obj({ name: HEADER, value: KEY }, ['name', 'value'], 'a header {name, value}'), 'more proxy_set_header lines'),
  timeouts: PROXY_TIMEOUTS,
  next_upstream: list(Enum(['error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504', 'http_403', 'http_404', 'http_429', 'non_idempotent', 'off'], 'error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent or off'), 'when to pass a request on to the next server (proxy_next_upstream)'),
  next_upstream_tries: INT(0, 1000, 'at most this many servers per request (0: no limit)'),
  root: Str('^[^\\s;{}#"\'\\\\$]+$', 'a directory such as html or /usr/share/nginx/html'),
  index: list(WORD, 'index files such as index.html'),
  client_max_body_size: SIZE,
  extra: EXTRA,
}, ['path'], 'a location {path, match, proxy_pass | root, ...}');

const httpServer = obj({
  listen: list(LISTEN, 'listen values (at least one)', 1),
  server_name: list(Str('^(_|[A-Za-z0-9*][A-Za-z0-9*_.-]*)$', 'a server name such as www.example.com, *.example.com or _'), 'server names'),
  locations: list(location, 'locations, in the order they are written'),
  extra: EXTRA,
}, ['listen'], 'an http server {listen, server_name, locations}');

const streamServer = obj({
  listen: list(LISTEN, 'listen values (at least one)', 1),
  proxy_pass: NAME,
  proxy_connect_timeout: DURATION,
  proxy_timeout: DURATION,
  extra: EXTRA,
}, ['listen', 'proxy_pass'], 'a stream server {listen, proxy_pass}');

const healthObject = obj({ listen: Str('^127\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}:[0-9]{1,5}$', 'a loopback address:port such as 127.0.0.1:8406'), uri: Str('^/[A-Za-z0-9_./-]*$', 'a path') }, [], 'the health listener');

export const nginx = obj({
  file: Str('^/[A-Za-z0-9_./-]+\\.conf$', 'where config install writes it: /etc/nginx/nginx.conf (a whole nginx.conf, the default) or a conf.d file such as /etc/nginx/conf.d/lbctl.conf (http blocks only)'),
  health: Type.Unsafe<Static<typeof healthObject> | false>({ type: ['object', 'boolean'], not: { const: true }, additionalProperties: false, properties: healthObject.properties, description: 'the loopback health listener the default proxy check asks {listen, uri}, or false' }),
  main: obj({
    user: NAME,
    worker_processes: INT(1, 1024, 'worker processes 1-1024 (leave it out for auto: one per CPU)'),
    worker_connections: INT(1, 1_000_000, 'connections per worker'),
    extra: EXTRA,
  }, [], 'the main and events contexts {user, worker_processes, worker_connections}'),
  http: obj({
    mime_types: Type.Boolean({ description: 'include /etc/nginx/mime.types (default true)' }),
    keepalive_timeout: DURATION,
    access_log: Type.Unsafe<string | false>({ type: ['string', 'boolean'], not: { const: true }, pattern: PATH.pattern, description: 'an access log path, or false for off' }),
    extra: EXTRA,
  }, [], 'the http context'),
  upstreams: list(upstream, 'http upstream groups'),
  servers: list(httpServer, 'http servers'),
  stream: obj({
    upstreams: list(streamUpstream, 'stream (TCP/UDP) upstream groups'),
    servers: list(streamServer, 'stream servers'),
    extra: EXTRA,
  }, [], 'layer-4 proxying (the stream context)'),
}, [], 'nginx settings');

export type NginxSpec = Static<typeof nginx>;
export type StickySpec = Static<typeof sticky>;
export type NginxUpstreamSpec = Static<typeof upstream>;
export type NginxServerSpec = NginxUpstreamSpec['servers'][number];
export type NginxLocationSpec = Static<typeof location>;
export type NginxHttpServerSpec = NonNullable<NginxSpec['servers']>[number];
export type NginxStreamSpec = NonNullable<NginxSpec['stream']>;
export type NginxStreamUpstreamSpec = NonNullable<NginxStreamSpec['upstreams']>[number];
