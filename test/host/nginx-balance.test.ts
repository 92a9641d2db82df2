/**
 * nginx as the layer-7 engine, for real: nginx.conf generated from a spec (the same code as
 * `lbctl config generate`), run by Debian's nginx on loopback ports 19400-19499, in front of
 * small HTTP backends that answer their name. Client addresses for ip_hash come from network
 * namespaces (ng*-, 10.94.N.0/24). Every process is stopped by its pid file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { compileSpec } from '../../src/cluster/generate.js';
import { checkNginxText } from '../../src/nginx/check.js';
import { lbctl, sleep } from '../support/keepalived-lab.js';
import { get, startBackend, startNginx, stopNginx, type RunningNginx } from '../support/nginx-lab.js';

let dir: string;
const nginxes: RunningNginx[] = [];
const backends: Array<{ close: () => Promise<void> }> = [];

before(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbctl-ng-')); });
after(async () => {
  for (const n of nginxes) await stopNginx(n);
  for (const b of backends) await b.close().catch(() => undefined);
  await fs.rm(dir, { recursive: true, force: true });
});

const HEAD = `cluster: t
nodes:
  - { name: n1, address: 10.94.0.2/24, interface: eth0 }
`;

/** Generate the node's nginx.conf from spec text and start nginx on it. */
async function nginxFrom(name: string, nginxYaml: string): Promise<RunningNginx> {
  const spec = path.join(dir, `${name}.yaml`);
  await fs.writeFile(spec, `${HEAD}nginx:\n  main: { worker_processes: 1 }\n  http: { access_log: false }\n${nginxYaml}`);
  const c = await compileSpec(spec);
  const conf = path.join(dir, `${name}.conf`);
  await fs.writeFile(conf, c.nodes[0].files.find((f) => f.name === 'nginx.conf')!.content);
  const n = await startNginx(conf, dir, { name });
  nginxes.push(n);
  return n;
}

async function backend(name: string, port: number) {
  const b = await startBackend(name, port);
  backends.push(b);
  return b;
}

function tally(bodies: string[]): Record<string, number> {
  const t: Record<string, number> = {};
  for (const b of bodies) t[b] = (t[b] ?? 0) + 1;
  return t;
}

test('weights 1:2:3 give 100/200/300 of 600 requests, each within 10%', async (ctx) => {
  await backend('w1', 19411); await backend('w2', 19412); await backend('w3', 19413);
  await nginxFrom('weights', `  upstreams:
    - name: app
      servers:
        - { address: "127.0.0.1:19411", weight: 1 }
        - { address: "127.0.0.1:19412", weight: 2 }
        - { address: "127.0.0.1:19413", weight: 3 }
  servers:
    - listen: ["127.0.0.1:19401"]
      locations: [{ path: /, proxy_pass: app }]
`);
  const bodies: string[] = [];
  for (let i = 0; i < 600; i++) {
    const r = await get('http://127.0.0.1:19401/');
    assert.ok(r.ok, `request ${i}: ${r.body}`);
    bodies.push(r.body);
  }
  const t = tally(bodies);
  ctx.diagnostic(`600 requests: ${JSON.stringify(t)}`);
  for (const [name, want] of [['w1', 100], ['w2', 200], ['w3', 300]] as const) {
    assert.ok(Math.abs((t[name] ?? 0) - want) <= want * 0.1, `${name}: ${t[name]} of 600, want ${want} ±10% (${JSON.stringify(t)})`);
  }
});

const ROUTE_UPSTREAM = `  upstreams:
    - name: tomcats
      sticky: { by: route, cookie: JSESSIONID }
      servers:
        - { name: tomcat1, address: "127.0.0.1:19421" }
        - { name: tomcat2, address: "127.0.0.1:19422" }
`;

test('route stickiness: JSESSIONID=x.tomcat2 always reaches tomcat2, cookie-less requests are balanced (nginx and haproxy from one sticky: setting)', async () => {
  await backend('tomcat1', 19421); await backend('tomcat2', 19422);
  await nginxFrom('route', `${ROUTE_UPSTREAM}  servers:
    - listen: ["127.0.0.1:19402"]
      locations: [{ path: /, proxy_pass: tomcats }]
`);
  // The same stickiness on haproxy, from the same spec shape.
  const spec = path.join(dir, 'route-haproxy.yaml');
  await fs.writeFile(spec, `${HEAD}haproxy:
  defaults: { mode: http, timeouts: { connect: 1s, client: 5s, server: 5s } }
  listens:
    - name: tomcats
      bind: "127.0.0.1:19403"
      sticky: { by: route, cookie: JSESSIONID }
      servers:
        - { name: tomcat1, address: "127.0.0.1:19421" }
        - { name: tomcat2, address: "127.0.0.1:19422" }
`);
  const cfg = path.join(dir, 'route-haproxy.cfg');
  await fs.writeFile(cfg, (await compileSpec(spec)).nodes[0].files[0].content);
  const hapPid = path.join(dir, 'route-haproxy.pid');
  const hr = await execa('haproxy', ['-D', '-p', hapPid, '-f', cfg], { reject: false, all: true });
  assert.equal(hr.exitCode, 0, hr.all);
  try {
    for (const port of [19402, 19403]) {
      const pinned: string[] = [];
      for (let i = 0; i < 50; i++) pinned.push((await get(`http://127.0.0.1:${port}/`, { cookie: `JSESSIONID=${i}ABC.tomcat2` })).body);
      assert.deepEqual(tally(pinned), { tomcat2: 50 }, `port ${port}`);
      const one: string[] = [];
      for (let i = 0; i < 20; i++) one.push((await get(`http://127.0.0.1:${port}/`, { cookie: 'other=1; JSESSIONID=Z.tomcat1' })).body);
      assert.deepEqual(tally(one), { tomcat1: 20 }, `port ${port}`);
      const free: string[] = [];
      for (let i = 0; i < 50; i++) free.push((await get(`http://127.0.0.1:${port}/`)).body);
      const t = tally(free);
      assert.ok((t.tomcat1 ?? 0) >= 20 && (t.tomcat2 ?? 0) >= 20, `port ${port}: cookie-less ${JSON.stringify(t)}`);
      // An unknown route is balanced too, never refused.
      const unknown = await get(`http://127.0.0.1:${port}/`, { cookie: 'JSESSIONID=Q.tomcat9' });
      assert.ok(unknown.ok && /^tomcat[12]$/.test(unknown.body));
    }
  } finally {
    const pid = Number((await fs.readFile(hapPid, 'utf8').catch(() => '')).trim());
    if (pid > 1) try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  }
});

test('a backend killed mid-test: no request fails (proxy_next_upstream), and after max_fails=1 it is skipped for fail_timeout', async (ctx) => {
  const bs = [await backend('m1', 19431), await backend('m2', 19432), await backend('m3', 19433)];
  const n = await nginxFrom('maxfails', `  upstreams:
    - name: app
      servers:
        - { address: "127.0.0.1:19431", max_fails: 1, fail_timeout: 60s }
        - { address: "127.0.0.1:19432", max_fails: 1, fail_timeout: 60s }
        - { address: "127.0.0.1:19433", max_fails: 1, fail_timeout: 60s }
  servers:
    - listen: ["127.0.0.1:19404"]
      locations: [{ path: /, proxy_pass: app, next_upstream: [error, timeout], timeouts: { connect: 1s } }]
`);
  const before: string[] = [];
  for (let i = 0; i < 30; i++) before.push((await get('http://127.0.0.1:19404/')).body);
  assert.deepEqual(tally(before), { m1: 10, m2: 10, m3: 10 });
  await bs[1].close();
  const afterKill: Array<{ ok: boolean; body: string }> = [];
  for (let i = 0; i < 90; i++) afterKill.push(await get('http://127.0.0.1:19404/'));
  ctx.diagnostic(`after the kill: ${afterKill.filter((r) => !r.ok).length} of 90 failed, ${JSON.stringify(tally(afterKill.map((r) => r.body)))}`);
  assert.equal(afterKill.filter((r) => !r.ok).length, 0, 'no failed request');
  assert.deepEqual(Object.keys(tally(afterKill.map((r) => r.body))).sort(), ['m1', 'm3']);
  // nginx tried the dead server max_fails (1) times, then skipped it: one connect() failure.
  await sleep(200);
  const log = await fs.readFile(n.errorLog, 'utf8');
  const refused = log.split('\n').filter((l) => /connect\(\) failed/.test(l) && l.includes('127.0.0.1:19432'));
  assert.equal(refused.length, 1, refused.join('\n'));
});

test('location ~ \\.jsp$ reaches the tomcat upstream, static paths the static one', async () => {
  await backend('tc1', 19441); await backend('tc2', 19442); await backend('static', 19443);
  await nginxFrom('jsp', `  upstreams:
    - { name: tomcat, servers: [{ address: "127.0.0.1:19441" }, { address: "127.0.0.1:19442" }] }
    - { name: static, servers: [{ address: "127.0.0.1:19443" }] }
  servers:
    - listen: ["127.0.0.1:19405"]
      locations:
        - { path: /, proxy_pass: static }
        - { path: '\\.jsp$', match: regex, proxy_pass: tomcat }
`);
  for (const p of ['/index.jsp', '/app/login.jsp', '/index.jsp?x=1']) {
    const r = await get(`http://127.0.0.1:19405${p}`);
    assert.match(r.body, /^tc[12]$/, p);
  }
  for (const p of ['/', '/index.html', '/x.jspx', '/jsp/', '/a.JSP']) {
    assert.equal((await get(`http://127.0.0.1:19405${p}`)).body, 'static', p);
  }
});

test('ip_hash (sticky by source): each client address, from its own namespace, always reaches one backend', async () => {
  const tag = randomBytes(2).toString('hex');
  const lbns = `ng${tag}-lb`;
  const clients = [1, 2, 3, 4, 5, 6].map((i) => ({ ns: `ng${tag}-c${i}`, lb: `10.94.${i}.1`, addr: `10.94.${i}.2` }));
  const children: ResultPromise[] = [];
  let n: RunningNginx | undefined;
  try {
    await execa('ip', ['netns', 'add', lbns]);
    await execa('ip', ['-n', lbns, 'link', 'set', 'lo', 'up']);
    for (const [i, c] of clients.entries()) {
      await execa('ip', ['netns', 'add', c.ns]);
      await execa('ip', ['-n', lbns, 'link', 'add', `ngc${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', c.ns]);
      await execa('ip', ['-n', lbns, 'addr', 'add', `${c.lb}/24`, 'dev', `ngc${i}`]);
      await execa('ip', ['-n', lbns, 'link', 'set', `ngc${i}`, 'up']);
      await execa('ip', ['-n', c.ns, 'addr', 'add', `${c.addr}/24`, 'dev', 'eth0']);
      await execa('ip', ['-n', c.ns, 'link', 'set', 'eth0', 'up']);
    }
    for (const [name, port] of [['h1', 19451], ['h2', 19452], ['h3', 19453]] as const) {
      const child = execa('ip', ['netns', 'exec', lbns, process.execPath, '-e',
        `require('http').createServer((q, s) => s.end('${name}\\n')).listen(${port}, '127.0.0.1', () => console.log('ready'))`], { reject: false, buffer: false });
      children.push(child);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`backend ${name} did not start`)), 10_000);
        child.stdout!.on('data', (d: Buffer) => { if (String(d).includes('ready')) { clearTimeout(timer); resolve(); } });
      });
    }
    const spec = path.join(dir, 'iphash.yaml');
    await fs.writeFile(spec, `${HEAD}nginx:
  main: { worker_processes: 1 }
  http: { access_log: false }
  upstreams:
    - name: app
      sticky: { by: source }
      servers: [{ address: "127.0.0.1:19451" }, { address: "127.0.0.1:19452" }, { address: "127.0.0.1:19453" }]
  servers:
    - listen: ["19406"]
      locations: [{ path: /, proxy_pass: app }]
`);
    const conf = path.join(dir, 'iphash.conf');
    const content = (await compileSpec(spec)).nodes[0].files[0].content;
    assert.match(content, /ip_hash;/);
    await fs.writeFile(conf, content);
    n = await startNginx(conf, dir, { netns: lbns, name: 'iphash' });
    const seen = new Map<string, Set<string>>();
    for (let round = 0; round < 8; round++) {
      for (const c of clients) {
        const r = await execa('ip', ['netns', 'exec', c.ns, 'curl', '-sS', '--max-time', '3', `http://${c.lb}:19406/`], { reject: false });
        assert.equal(r.exitCode, 0, r.stderr);
        if (!seen.has(c.addr)) seen.set(c.addr, new Set());
        seen.get(c.addr)!.add(r.stdout.trim());
      }
    }
    for (const [addr, set] of seen) assert.equal(set.size, 1, `${addr} reached ${[...set].join(', ')}`);
    const used = new Set([...seen.values()].map((s) => [...s][0]));
    assert.ok(used.size >= 2, `six client networks all hashed to ${[...used].join(', ')}`);
  } finally {
    await stopNginx(n);
    for (const c of children) c.kill('SIGKILL');
    for (const c of clients) await execa('ip', ['netns', 'del', c.ns], { reject: false });
    await execa('ip', ['netns', 'del', lbns], { reject: false });
  }
});

test('nginx -t accepts every nginx.conf generated from every example', async () => {
  const examples = path.join(lbctlRoot(), 'examples');
  let checked = 0;
  for (const f of (await fs.readdir(examples)).filter((x) => x.endsWith('.yaml'))) {
    const c = await compileSpec(path.join(examples, f));
    for (const node of c.nodes) {
      for (const file of node.files.filter((x) => x.name === 'nginx.conf')) {
        const r = await checkNginxText(file.content);
        assert.equal(r.ok, true, `${f} ${node.node}: ${r.errors.join('; ')}`);
        checked++;
      }
    }
  }
  assert.ok(checked >= 5, `only ${checked} nginx.conf files`);
});

test('nginx rejecting an extra: line is CheckFailed (9) naming nginx.conf:LINE; a conf.d file is checked inside http {}', async () => {
  const spec = path.join(dir, 'bad-extra.yaml');
  await fs.writeFile(spec, `${HEAD}nginx:
  servers:
    - listen: ["19407"]
      locations: [{ path: /, root: html, extra: ["bogus_directive 1;"] }]
`);
  const r = await lbctl(['config', 'check', spec, '--json']);
  assert.equal(r.exitCode, ExitCode.CheckFailed, r.stdout + r.stderr);
  assert.match(r.json.error.message, /^nginx\.conf:\d+: unknown directive "bogus_directive"/);
  const root = path.join(dir, 'root');
  const inst = await lbctl(['config', 'install', spec, '--node', 'n1', '--root', root]);
  assert.equal(inst.exitCode, ExitCode.CheckFailed, inst.stderr);
  assert.equal(await fs.access(root).then(() => true, () => false), false, 'nothing was written');

  const confd = path.join(dir, 'confd.yaml');
  await fs.writeFile(confd, `${HEAD}nginx:
  file: /etc/nginx/conf.d/lbctl.conf
  upstreams: [{ name: app, servers: [{ address: "127.0.0.1:19408" }] }]
  servers:
    - listen: ["19409"]
      locations: [{ path: /, proxy_pass: app }]
`);
  const ok = await lbctl(['config', 'install', confd, '--node', 'n1', '--root', root, '--json']);
  assert.equal(ok.exitCode, 0, ok.stdout + ok.stderr);
  const text = await fs.readFile(path.join(root, 'etc/nginx/conf.d/lbctl.conf'), 'utf8');
  assert.doesNotMatch(text, /^(events|http) \{/m, 'a conf.d file holds http blocks only');
  assert.match(text, /^upstream app \{/m);
  const again = await lbctl(['config', 'install', confd, '--node', 'n1', '--root', root, '--json']);
  assert.equal(again.json.changed, false, 'a second install changes nothing');
});

test('config install --reload: a changed nginx.conf is written and the running nginx reloads onto it (SIGHUP via --nginx-pidfile); unchanged reloads nothing', async () => {
  await backend('old', 19461); await backend('new', 19462);
  const spec = path.join(dir, 'reload.yaml');
  const write = (port: number) => fs.writeFile(spec, `${HEAD}nginx:
  main: { worker_processes: 1 }
  http: { access_log: false }
  upstreams: [{ name: app, servers: [{ address: "127.0.0.1:${port}" }] }]
  servers: [{ listen: ["127.0.0.1:19410"], locations: [{ path: /, proxy_pass: app }] }]
`);
  const root = path.join(dir, 'reload-root');
  await write(19461);
  const first = await lbctl(['config', 'install', spec, '--node', 'n1', '--root', root, '--json']);
  assert.equal(first.exitCode, 0, first.stdout + first.stderr);
  const conf = path.join(root, 'etc/nginx/nginx.conf');
  const n = await startNginx(conf, dir, { name: 'reload' });
  nginxes.push(n);
  assert.equal((await get('http://127.0.0.1:19410/')).body, 'old');
  await write(19462);
  const dry = await lbctl(['config', 'install', spec, '--node', 'n1', '--root', root, '--reload', '--nginx-pidfile', n.pidfile, '--dry-run', '--json']);
  assert.deepEqual(dry.json.plan.changes.map((c: any) => c.kind), ['file', 'daemon']);
  assert.deepEqual(dry.json.plan.changes[1].command, ['kill', '-HUP', String(n.pid)]);
  const r = await lbctl(['config', 'install', spec, '--node', 'n1', '--root', root, '--reload', '--nginx-pidfile', n.pidfile, '--json']);
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
  assert.match(r.json.files[0].reload.detail, new RegExp(`^SIGHUP to master ${n.pid}; new worker \\d+`));
  let body = '';
  for (let i = 0; i < 40 && body !== 'new'; i++) { body = (await get('http://127.0.0.1:19410/')).body; if (body !== 'new') await sleep(50); }
  assert.equal(body, 'new');
  const again = await lbctl(['config', 'install', spec, '--node', 'n1', '--root', root, '--reload', '--nginx-pidfile', n.pidfile, '--json']);
  assert.equal(again.json.changed, false);
  assert.equal(again.json.files[0].reload, undefined, 'nothing changed, nothing reloaded');
});
