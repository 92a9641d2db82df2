/**
 * Every numeric range in the cluster spec schema at its edges: the largest (and smallest)
 * value accepted, and the next one refused. The ranges are found by walking the schema
 * itself, so a new numeric field is tested without editing this file; the walk must find
 * each one inside `FULL`, a spec where every section exists once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { clusterSchema } from '../../src/cluster/schema.js';
import { formatPath, parseSpec, type SpecPath } from '../../src/cluster/load.js';

type Json = Record<string, any>;

interface Range { path: SpecPath; integer: boolean; min?: number; max?: number; exclusiveMin?: number }

function ranges(schema: Json, at: SpecPath = []): Range[] {
  const out: Range[] = [];
  const types = ([] as string[]).concat(schema.type ?? []);
  if (types.includes('integer') || types.includes('number')) {
    out.push({ path: at, integer: types.includes('integer'), min: schema.minimum, max: schema.maximum, exclusiveMin: schema.exclusiveMinimum });
  }
  for (const [k, sub] of Object.entries<Json>(schema.properties ?? {})) out.push(...ranges(sub, [...at, k]));
  if (schema.items) out.push(...ranges(schema.items, [...at, 0]));
  return out;
}

const server = { name: 's1', address: '10.0.0.11:80', weight: 1, fall: 3, rise: 2, port: 80, maxconn: 100 };
const httpRequest = [{ action: 'deny', deny_status: 403 }];
const proxy = { retries: 3, maxconn: 100 };
/** A schema-valid spec in which every object that holds a number exists. */
const FULL: Json = {
  cluster: 'c',
  nodes: [{ name: 'lb1', address: '10.0.0.2/24', interface: 'eth0', priority: 100 }],
  vrrp: {
    global_defs: { smtp_connect_timeout: 30, vrrp_garp_interval: 1, vrrp_gna_interval: 1 },
    proxy_check: { interval: 1, timeout: 1, weight: 0, fall: 1, rise: 1 },
    scripts: [{ name: 'chk', script: '/bin/true', interval: 1, timeout: 1, weight: 0, fall: 1, rise: 1 }],
    instances: [{ name: 'VI_1', virtual_router_id: 51, advert_int: 1, preempt_delay: 0, vips: ['10.0.0.100/24'] }],
  },
  haproxy: {
    global: { maxconn: 100, nbthread: 1 },
    defaults: { ...proxy },
    frontends: [{ name: 'web', bind: ['*:80'], ...proxy, http_request: httpRequest }],
    backends: [{ name: 'app', ...proxy, http_request: httpRequest, servers: [server] }],
    listens: [{ name: 'both', bind: ['*:81'], ...proxy, http_request: httpRequest, servers: [server] }],
  },
  lvs: {
    virtual_servers: [{
      address: '10.0.0.100', port: 80, delay_loop: 6, persistence_timeout: 50,
      sorry_server: { address: '10.0.1.1', port: 80 },
      real_servers: [{
        address: '10.0.1.11', port: 80, weight: 1,
        check: { type: 'HTTP_GET', connect_port: 80, connect_timeout: 3, retries: 3, delay_before_retry: 3, urls: [{ path: '/', status_code: 200 }] },
      }],
    }],
  },
  nginx: {
    main: { worker_processes: 1, worker_connections: 1024 },
    upstreams: [{ name: 'u', keepalive: 1, servers: [{ address: '10.0.0.11:80', weight: 1, max_fails: 1, max_conns: 1 }] }],
    servers: [{ listen: ['80'], locations: [{ path: '/', root: 'html', next_upstream_tries: 1 }] }],
    stream: { upstreams: [{ name: 's', servers: [{ address: '10.0.0.11:53', weight: 1, max_fails: 1, max_conns: 1 }] }] },
  },
  pacemaker: { vips: [{ address: '10.0.0.100/24' }], fencing: 'none', acknowledge_no_fencing: true, token: 1000, stickiness: 100 },
};

function withValue(path: SpecPath, value: unknown): Json {
  // A JSON round trip, not structuredClone: FULL shares objects between sections, a clone would too.
  const spec = JSON.parse(JSON.stringify(FULL)) as Json;
  let node: any = spec;
  for (const seg of path.slice(0, -1)) {
    assert.ok(node[seg] !== undefined && typeof node[seg] === 'object', `FULL has no ${formatPath(path)}: add its parent so the range is tested`);
    node = node[seg];
  }
  node[path[path.length - 1]] = value;
  return spec;
}

/** Schema findings for the spec with `value` at `path` (an empty list: accepted). */
function findingsWith(path: SpecPath, value: unknown): string[] {
  // aliasDuplicateObjects off: FULL repeats objects, and an alias would carry the value elsewhere too.
  return parseSpec(YAML.stringify(withValue(path, value), { aliasDuplicateObjects: false }), 'ranges.yaml').findings.map((f) => `${f.path}: ${f.message}`);
}

const all = ranges(clusterSchema as unknown as Json);

/**
 * The ranges as documented (the daemons' and the kernel's own limits, README): written out
 * here so that changing a bound in the schema fails until this table agrees. '>0' is an
 * exclusive minimum.
 */
const DOCUMENTED: Record<string, [number | string, number]> = {
  'nodes[].priority': [1, 254],
  'vrrp.global_defs.smtp_connect_timeout': [1, 3600],
  'vrrp.global_defs.vrrp_garp_interval': ['>0', 4294],
  'vrrp.global_defs.vrrp_gna_interval': ['>0', 4294],
  'vrrp.proxy_check.interval': [1, 3600],
  'vrrp.proxy_check.timeout': [1, 3600],
  'vrrp.proxy_check.weight': [-253, 253],
  'vrrp.proxy_check.fall': [1, 255],
  'vrrp.proxy_check.rise': [1, 255],
  'vrrp.scripts[].interval': [1, 3600],
  'vrrp.scripts[].timeout': [1, 3600],
  'vrrp.scripts[].weight': [-253, 253],
  'vrrp.scripts[].fall': [1, 255],
  'vrrp.scripts[].rise': [1, 255],
  'vrrp.instances[].virtual_router_id': [1, 255],
  'vrrp.instances[].advert_int': [0.01, 255],
  'vrrp.instances[].preempt_delay': [0, 1000],
  'haproxy.global.maxconn': [1, 10000000],
  'haproxy.global.nbthread': [1, 4096],
  'haproxy.defaults.retries': [0, 100],
  'haproxy.defaults.maxconn': [1, 10000000],
  'haproxy.frontends[].retries': [0, 100],
  'haproxy.frontends[].maxconn': [1, 10000000],
  'haproxy.frontends[].http_request[].deny_status': [200, 599],
  'haproxy.backends[].retries': [0, 100],
  'haproxy.backends[].maxconn': [1, 10000000],
  'haproxy.backends[].http_request[].deny_status': [200, 599],
  'haproxy.backends[].servers[].weight': [0, 256],
  'haproxy.backends[].servers[].fall': [1, 1000],
  'haproxy.backends[].servers[].rise': [1, 1000],
  'haproxy.backends[].servers[].port': [1, 65535],
  'haproxy.backends[].servers[].maxconn': [1, 10000000],
  'haproxy.listens[].retries': [0, 100],
  'haproxy.listens[].maxconn': [1, 10000000],
  'haproxy.listens[].http_request[].deny_status': [200, 599],
  'haproxy.listens[].servers[].weight': [0, 256],
  'haproxy.listens[].servers[].fall': [1, 1000],
  'haproxy.listens[].servers[].rise': [1, 1000],
  'haproxy.listens[].servers[].port': [1, 65535],
  'haproxy.listens[].servers[].maxconn': [1, 10000000],
  'lvs.virtual_servers[].port': [1, 65535],
  'lvs.virtual_servers[].delay_loop': [1, 3600],
  'lvs.virtual_servers[].persistence_timeout': [1, 2678400],
  'lvs.virtual_servers[].sorry_server.port': [1, 65535],
  'lvs.virtual_servers[].real_servers[].port': [1, 65535],
  'lvs.virtual_servers[].real_servers[].weight': [0, 65535],
  'lvs.virtual_servers[].real_servers[].check.connect_port': [1, 65535],
  'lvs.virtual_servers[].real_servers[].check.connect_timeout': [1, 3600],
  'lvs.virtual_servers[].real_servers[].check.retries': [0, 100],
  'lvs.virtual_servers[].real_servers[].check.delay_before_retry': [0, 3600],
  'lvs.virtual_servers[].real_servers[].check.urls[].status_code': [100, 599],
  'nginx.main.worker_processes': [1, 1024],
  'nginx.main.worker_connections': [1, 1000000],
  'nginx.upstreams[].keepalive': [1, 100000],
  'nginx.upstreams[].servers[].weight': [1, 1000],
  'nginx.upstreams[].servers[].max_fails': [0, 1000],
  'nginx.upstreams[].servers[].max_conns': [0, 10000000],
  'nginx.servers[].locations[].next_upstream_tries': [0, 1000],
  'nginx.stream.upstreams[].servers[].weight': [1, 1000],
  'nginx.stream.upstreams[].servers[].max_fails': [0, 1000],
  'nginx.stream.upstreams[].servers[].max_conns': [0, 10000000],
  'pacemaker.token': [200, 60000],
  'pacemaker.stickiness': [0, 1000000],
};

test('FULL itself is accepted', () => {
  assert.deepEqual(parseSpec(YAML.stringify(FULL, { aliasDuplicateObjects: false }), 'full.yaml').findings, []);
});

test('the schema walk finds every numeric field', () => {
  // 14 haproxy proxy/server numbers x their sections, VRRP, LVS: a drop means the walk broke.
  assert.ok(all.length >= 45, `only ${all.length} ranges found`);
  for (const r of all) assert.ok(r.max !== undefined && (r.min !== undefined || r.exclusiveMin !== undefined), `${formatPath(r.path)} has an open range`);
});

test('every range in the schema is the documented one', () => {
  const generic = (p: SpecPath) => formatPath(p).replace(/\[0\]/g, '[]');
  const found = Object.fromEntries(all.map((r) => [generic(r.path), [r.exclusiveMin !== undefined ? `>${r.exclusiveMin}` : r.min!, r.max!]]));
  assert.deepEqual(found, DOCUMENTED);
});

/** The next representable-enough value past an edge: 1 for integers, a millionth for numbers. */
const step = (r: Range) => (r.integer ? 1 : 1e-6);

for (const r of all) {
  const name = formatPath(r.path);
  test(`range ${name}: ${r.exclusiveMin !== undefined ? `>${r.exclusiveMin}` : r.min}..${r.max}`, () => {
    const refusedAt = (v: number) => {
      const f = findingsWith(r.path, v);
      assert.equal(f.length, 1, `${name}=${v}: expected one finding, got ${JSON.stringify(f)}`);
      assert.match(f[0], new RegExp(`^${name.replace(/[.[\]]/g, '\\$&')}: ${String(v).replace('.', '\\.')} is out of range`));
    };
    assert.deepEqual(findingsWith(r.path, r.max), [], `${name}=${r.max} must be accepted`);
    refusedAt(r.max! + step(r));
    if (r.exclusiveMin !== undefined) {
      assert.deepEqual(findingsWith(r.path, r.exclusiveMin + step(r)), [], `${name}=${r.exclusiveMin + step(r)} must be accepted`);
      refusedAt(r.exclusiveMin);
    } else {
      assert.deepEqual(findingsWith(r.path, r.min), [], `${name}=${r.min} must be accepted`);
      refusedAt(r.min! - step(r));
    }
    if (r.integer) assert.match(findingsWith(r.path, r.min! + 0.5).join(), /must be integer/, `${name}: a fraction is refused`);
  });
}

/** Length limits written as patterns or maxLength: the longest accepted, one more refused. */
const LENGTHS: Array<{ path: SpecPath; ok: string; tooLong: string }> = [
  { path: ['vrrp', 'instances', 0, 'authentication'], ok: 'x'.repeat(8), tooLong: 'x'.repeat(9) },
  { path: ['cluster'], ok: 'c'.repeat(64), tooLong: 'c'.repeat(65) },
  { path: ['nodes', 0, 'interface'], ok: 'e'.repeat(15), tooLong: 'e'.repeat(16) },
  { path: ['haproxy', 'frontends', 0, 'acls'], ok: 'a'.repeat(64), tooLong: 'a'.repeat(65) },
];

for (const l of LENGTHS) {
  test(`length ${formatPath(l.path)}: ${l.ok.length} accepted, ${l.tooLong.length} refused`, () => {
    const place = (v: string): [SpecPath, unknown] => {
      if (l.path.at(-1) === 'authentication') return [l.path, { pass: v }];
      if (l.path.at(-1) === 'acls') return [l.path, [{ name: v, criterion: 'path_beg', values: ['/x'] }]];
      return [l.path, v];
    };
    assert.deepEqual(findingsWith(...place(l.ok)), []);
    const f = findingsWith(...place(l.tooLong));
    assert.equal(f.length, 1, JSON.stringify(f));
    assert.match(f[0], /is \d+ characters long|is not allowed here/);
  });
}
