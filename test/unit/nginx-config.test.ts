/**
 * The nginx renderer and the nginx part of the spec, without running nginx (the host tests in
 * test/host/nginx-*.test.ts run it): what each spec setting renders, stickiness on both
 * engines, the default proxy check, and values that could break out of their directive.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSpec } from '../../src/cluster/load.js';
import { checkSpec } from '../../src/cluster/rules/index.js';
import { renderNodes } from '../../src/cluster/generate.js';
import { vrrpScripts } from '../../src/cluster/expand.js';
import { renderNginx, routeUpstreamName } from '../../src/nginx/config.js';
import type { ClusterSpec, NginxSpec } from '../../src/cluster/types.js';

const HEAD = `cluster: t
nodes:
  - { name: lb1, address: 10.94.0.2/24, interface: eth0 }
  - { name: lb2, address: 10.94.0.3/24, interface: eth0 }
`;
const VRRP = `vrrp:
  instances: [{ name: VI_1, virtual_router_id: 9, vips: [10.94.0.100/24] }]
`;

function spec(text: string): ClusterSpec {
  const p = parseSpec(HEAD + text, 'spec.yaml');
  assert.ok(p.spec, JSON.stringify(p.findings));
  assert.deepEqual(checkSpec(p.spec, p.locator), []);
  return p.spec;
}
function refused(text: string): string {
  const p = parseSpec(HEAD + text, 'spec.yaml');
  const f = p.spec ? checkSpec(p.spec, p.locator) : p.findings;
  assert.ok(f.length > 0, 'the spec must be refused');
  return `${f[0].where}: ${f[0].path}: ${f[0].message}`;
}
const nginxOf = (s: ClusterSpec, node = 0) => renderNodes(s, 'spec.yaml')[node].files.find((f) => f.name === 'nginx.conf')!.content;

test('upstream settings render as nginx writes them', () => {
  const text = nginxOf(spec(`nginx:
  upstreams:
    - name: app
      balance: hash
      hash_key: $cookie_jsessionid
      consistent: true
      keepalive: 8
      servers:
        - { name: a1, address: "10.0.0.1:80", weight: 3, max_fails: 2, fail_timeout: 10s, max_conns: 100 }
        - { address: "10.0.0.2:80", down: true }
    - { name: lc, balance: least_conn, servers: [{ address: "10.0.0.3:80" }, { address: "10.0.0.4:80", backup: true }] }
    - { name: r2, balance: random_two, servers: [{ address: "10.0.0.5:80" }] }
  servers:
    - listen: ["80 default_server"]
      server_name: [www.example.com, "*.example.com"]
      locations:
        - { path: /, proxy_pass: app, timeouts: { connect: 2s, read: 90 }, next_upstream: [error, timeout, http_502], next_upstream_tries: 2 }
        - { path: /x, match: exact, proxy_pass: lc, proxy_headers: false, set_headers: [{ name: X-Src, value: $remote_addr }] }
`));
  assert.match(text, /upstream app \{\n {8}hash \$cookie_jsessionid consistent;\n {8}server 10\.0\.0\.1:80 weight=3 max_fails=2 fail_timeout=10s max_conns=100; # a1\n {8}server 10\.0\.0\.2:80 down;\n {8}keepalive 8;\n {4}\}/);
  assert.match(text, /upstream lc \{\n {8}least_conn;\n {8}server 10\.0\.0\.3:80;\n {8}server 10\.0\.0\.4:80 backup;/);
  assert.match(text, /random two;/);
  assert.match(text, /listen 80 default_server;\n {8}server_name www\.example\.com \*\.example\.com;/);
  // keepalive upstreams need HTTP/1.1 and an empty Connection header.
  assert.match(text, /location \/ \{\n {12}proxy_pass http:\/\/app;\n {12}proxy_http_version 1\.1;\n {12}proxy_set_header Connection "";\n {12}proxy_set_header Host \$host;\n {12}proxy_set_header X-Real-IP \$remote_addr;\n {12}proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;\n {12}proxy_connect_timeout 2s;\n {12}proxy_read_timeout 90;\n {12}proxy_next_upstream error timeout http_502;\n {12}proxy_next_upstream_tries 2;/);
  assert.match(text, /location = \/x \{\n {12}proxy_pass http:\/\/lc;\n {12}proxy_set_header X-Src \$remote_addr;\n {8}\}/);
});

test('stream upstreams and servers render in a stream block after http', () => {
  const text = nginxOf(spec(`nginx:
  stream:
    upstreams: [{ name: dns, servers: [{ address: "10.0.0.53:53" }] }]
    servers: [{ listen: ["53 udp"], proxy_pass: dns, proxy_timeout: 5s }]
`));
  assert.match(text, /\n\}\n\nstream \{\n {4}upstream dns \{\n {8}server 10\.0\.0\.53:53;\n {4}\}\n\n {4}server \{\n {8}listen 53 udp;\n {8}proxy_pass dns;\n {8}proxy_timeout 5s;\n {4}\}\n\}\n$/);
});

test('route stickiness: a map from the cookie\'s .route suffix to per-route upstreams, the balanced upstream by default', () => {
  const text = nginxOf(spec(`nginx:
  upstreams:
    - name: tc
      sticky: { by: route }
      servers:
        - { name: tomcat1, address: "10.0.0.1:8080" }
        - { route: jvm2, address: "10.0.0.2:8080", weight: 2 }
  servers:
    - listen: ["80"]
      locations: [{ path: /, proxy_pass: tc }]
`));
  assert.match(text, /map \$cookie_JSESSIONID \$lbctl_route_0 \{\n {8}default tc;\n {8}~\\\.tomcat1\$ lbctl-route\.tc\.tomcat1;\n {8}~\\\.jvm2\$ lbctl-route\.tc\.jvm2;\n {4}\}/);
  assert.match(text, /upstream lbctl-route\.tc\.jvm2 \{\n {8}server 10\.0\.0\.2:8080 weight=2;\n {8}server 10\.0\.0\.1:8080 backup; # tomcat1\n {4}\}/);
  assert.match(text, /proxy_pass http:\/\/\$lbctl_route_0;/);
  assert.equal(routeUpstreamName('a.b', 'c'), 'lbctl-route.a.b.c');
});

test('sticky: one setting, both engines (source, route, insert)', () => {
  const s = spec(`nginx:
  upstreams: [{ name: app, sticky: { by: source }, servers: [{ address: "10.0.0.1:80" }] }]
haproxy:
  backends:
    - { name: src, sticky: { by: source }, servers: [{ name: s1, address: "10.0.0.1:80" }] }
    - { name: rt, sticky: { by: route, cookie: SID }, servers: [{ name: t1, address: "10.0.0.1:80" }] }
    - { name: ins, sticky: { by: insert }, servers: [{ name: i1, address: "10.0.0.1:80" }, { name: i2, address: "10.0.0.2:80", cookie: two }] }
`);
  assert.match(nginxOf(s), /upstream app \{\n {8}ip_hash;/);
  const cfg = renderNodes(s, 'spec.yaml')[0].files.find((f) => f.name === 'haproxy.cfg')!.content;
  assert.match(cfg, /backend src\n {4}balance source\n/);
  assert.match(cfg, /backend rt\n {4}use-server t1 if \{ req\.cook\(SID\) -m end \.t1 \}\n {4}server t1 10\.0\.0\.1:80\n/);
  assert.match(cfg, /backend ins\n {4}cookie SERVERID insert indirect nocache\n {4}server i1 10\.0\.0\.1:80 cookie i1\n {4}server i2 10\.0\.0\.2:80 cookie two\n/);
});

test('regex locations: written as given, quoted when ; { } would end the directive, backslash pairs kept', () => {
  const base = (re: string) => ({ servers: [{ listen: ['80'], locations: [{ path: re, match: 'regex' as const, root: 'html' }] }] });
  assert.match(renderNginx(base('\\.jsp$'), []), /location ~ \\\.jsp\$ \{/);
  assert.match(renderNginx(base('^/a{2}$'), []), /location ~ "\^\/a\{2\}\$" \{/);
  assert.match(renderNginx(base('^/a\\\\b$'), []), /location ~ \^\/a\\\\\\\\b\$ \{/);
  assert.match(renderNginx({ servers: [{ listen: ['80'], locations: [{ path: '\\.PNG$', match: 'regex_i', root: 'html' }] }] }, []), /location ~\* \\\.PNG\$ \{/);
});

test('a conf.d file holds only http blocks; a whole nginx.conf has main, events and http', () => {
  const confd: NginxSpec = { file: '/etc/nginx/conf.d/lb.conf', upstreams: [{ name: 'a', servers: [{ address: '10.0.0.1:80' }] }] };
  const t = renderNginx(confd, ['h']);
  assert.doesNotMatch(t, /events|http \{|worker_processes/);
  assert.match(t, /^# h\n\nupstream a \{/);
  const whole = renderNginx({ main: { user: 'www-data', worker_processes: 2, worker_connections: 512 }, http: { mime_types: false, access_log: false, keepalive_timeout: '65' } }, []);
  assert.match(whole, /^\nuser www-data;\nworker_processes 2;\n\nevents \{\n {4}worker_connections 512;\n\}\n\nhttp \{\n {4}default_type application\/octet-stream;\n {4}keepalive_timeout 65;\n {4}access_log off;\n\}\n$/);
});

test('default proxy check: chk_nginx asks the loopback health location; proxy_check false and health false turn it off', () => {
  const s = spec(`${VRRP}nginx:
  servers: [{ listen: ["80"], locations: [{ path: /, root: html }] }]
`);
  const scripts = vrrpScripts(s);
  assert.deepEqual(scripts.map((x) => x.name), ['chk_nginx']);
  assert.equal(scripts[0].command, '/usr/bin/curl -fsS -o /dev/null --max-time 1 http://127.0.0.1:8406/lbctl-health');
  const nodes = renderNodes(s, 'spec.yaml');
  assert.match(nodes[0].files.find((f) => f.name === 'nginx.conf')!.content, /listen 127\.0\.0\.1:8406;\n {8}access_log off;\n {8}location = \/lbctl-health \{\n {12}default_type text\/plain;\n {12}return 200 "ok\\n";/);
  assert.match(nodes[0].files.find((f) => f.name === 'keepalived.conf')!.content, /track_script \{\n\s+chk_nginx\n/);
  // Both proxies on one node: both checks, both tracked.
  const both = spec(`${VRRP}nginx:
  health: { listen: "127.0.0.1:8410", uri: /hc }
haproxy:
  frontends: [{ name: web, bind: "*:80", default_backend: app }]
  backends: [{ name: app, servers: [{ name: a, address: "10.0.0.1:80" }] }]
`);
  assert.deepEqual(vrrpScripts(both).map((x) => [x.name, x.command.split(' ').pop()]), [['chk_haproxy', 'http://127.0.0.1:8405/lbctl-health'], ['chk_nginx', 'http://127.0.0.1:8410/hc']]);
  const off = spec(`vrrp:
  proxy_check: false
  instances: [{ name: VI_1, virtual_router_id: 9, vips: [10.94.0.100/24] }]
nginx:
  servers: [{ listen: ["80"], locations: [{ path: /, root: html }] }]
`);
  assert.deepEqual(vrrpScripts(off), []);
  assert.doesNotMatch(nginxOf(off), /lbctl-health/);
  const noHealth = spec(`${VRRP}nginx:
  health: false
`);
  assert.deepEqual(vrrpScripts(noHealth), []);
  // Without vrrp there is nothing to ask the health location, so it is not generated.
  assert.doesNotMatch(nginxOf(spec('nginx: { upstreams: [] }\n')), /lbctl-health/);
});

test('no value can break out of its directive: ; { } # quotes, spaces and newlines are refused with file:line:col', () => {
  const up = (field: string) => `nginx:\n  upstreams:\n    - { name: app, ${field}, servers: [{ address: "10.0.0.1:80" }] }\n`;
  const cases: Array<[string, RegExp]> = [
    [up('balance: hash, hash_key: "$a;deny all"'), /spec\.yaml:7:\d+: nginx\.upstreams\[0\]\.hash_key: /],
    [`nginx:\n  upstreams: [{ name: "a{b", servers: [{ address: "10.0.0.1:80" }] }]\n`, /nginx\.upstreams\[0\]\.name/],
    [`nginx:\n  upstreams: [{ name: a, servers: [{ address: "10.0.0.1:80;x" }] }]\n`, /servers\[0\]\.address/],
    [`nginx:\n  servers: [{ listen: ["80; include /etc/passwd"] }]\n`, /listen\[0\]/],
    [`nginx:\n  servers: [{ listen: ["80"], locations: [{ path: "/a b", root: html }] }]\n`, /locations\[0\]\.path: .* is not a path/],
    [`nginx:\n  servers: [{ listen: ["80"], locations: [{ path: "/a", root: "html;x" }] }]\n`, /locations\[0\]\.root/],
    [`nginx:\n  servers: [{ listen: ["80"], locations: [{ path: 'a"b', match: regex, root: html }] }]\n`, /locations\[0\]\.path: a regex location/],
    [`nginx:\n  servers: [{ listen: ["80"], locations: [{ path: /, root: html, set_headers: [{ name: X, value: "a b" }] }] }]\n`, /set_headers\[0\]\.value/],
    [`nginx:\n  servers: [{ listen: ["80"], extra: ["ok;\\ninclude x;"] }]\n`, /servers\[0\]\.extra\[0\]/],
    [`nginx:\n  servers: [{ listen: ["80"], server_name: ["a#b"] }]\n`, /server_name\[0\]/],
    [`nginx:\n  upstreams: [{ name: a, sticky: { by: route, cookie: "J;x" }, servers: [{ address: "10.0.0.1:80" }] }]\n`, /sticky\.cookie/],
    [`nginx:\n  health: { listen: "0.0.0.0:8406" }\n`, /health\.listen/],
  ];
  for (const [text, want] of cases) assert.match(refused(text), want, text);
});

test('spec rules for nginx and sticky', () => {
  assert.match(refused(`nginx:\n  upstreams: [{ name: lbctl-x, servers: [{ address: "10.0.0.1:80" }] }]\n`), /reserved for generated upstreams/);
  assert.match(refused(`nginx:\n  upstreams: [{ name: a, balance: least_conn, hash_key: $uri, servers: [{ address: "10.0.0.1:80" }] }]\n`), /hash_key and consistent only apply to balance: hash/);
  assert.match(refused(`nginx:\n  upstreams: [{ name: a, sticky: { by: route }, servers: [{ address: "10.0.0.1:80" }] }]\n`), /every server needs a route/);
  assert.match(refused(`nginx:\n  upstreams: [{ name: a, sticky: { by: route }, servers: [{ name: t1, address: "10.0.0.1:80" }, { route: t1, address: "10.0.0.2:80" }] }]\n`), /route "t1" is already used by servers\[0\]/);
  assert.match(refused(`nginx:\n  upstreams: [{ name: a, sticky: { by: source }, balance: least_conn, servers: [{ address: "10.0.0.1:80" }] }]\n`), /stickiness by source is balance ip_hash/);
  assert.match(refused(`nginx:\n  stream: { servers: [{ listen: ["53 udp"], proxy_pass: dns }] }\n`), /stream upstream "dns" is not defined/);
  assert.match(refused(`nginx:\n  servers: [{ listen: ["80"], locations: [{ path: / }] }]\n`), /neither proxies/);
  assert.match(refused(`nginx:\n  file: /etc/nginx/conf.d/x.conf\n  main: { worker_processes: 2 }\n`), /nginx\.main: .*cannot go there/);
  assert.match(refused(`haproxy:\n  backends: [{ name: b, sticky: { by: insert }, cookie: { name: S, mode: insert }, servers: [{ name: a, address: "10.0.0.1:80" }] }]\n`), /sticky\.by: stickiness by insert and a cookie/);
  assert.match(refused(`haproxy:\n  backends: [{ name: b, sticky: { by: route }, servers: [{ name: "a.b", address: "10.0.0.1:80" }] }]\n`), /server name "a\.b" cannot be a route/);
});

test('daemon plan: an nginx reload (SIGHUP to the pid file\'s master) only when a file nginx reads changes; a dead pid refuses before any write', async () => {
  const { promises: fs } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const { DaemonProvider } = await import('../../src/converge/daemon.js');
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbctl-ngd-'));
  try {
    const pidfile = path.join(dir, 'nginx.pid');
    await fs.writeFile(pidfile, `${process.pid}\n`);
    const p = new DaemonProvider([{ daemon: 'nginx', pidfile }]);
    const state = await p.read();
    const change = (daemon: string) => ({ action: '~', kind: 'file', id: '/etc/nginx/nginx.conf', reason: 'x', file: { path: '/etc/nginx/nginx.conf', content: '', daemon } }) as any;
    assert.deepEqual(p.plan(state, [change('haproxy')]), []);
    assert.deepEqual(p.plan(state, [change('nginx')]).map((c) => c.command), [['kill', '-HUP', String(process.pid)]]);
    const gone = new DaemonProvider([{ daemon: 'nginx', pidfile: path.join(dir, 'missing.pid') }]);
    const goneState = await gone.read();
    assert.throws(() => gone.plan(goneState, [change('nginx')]), /nginx pid file .* does not exist/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
