/**
 * `lbctl plan` on a proxy node whose haproxy is not running yet: it plans the files and warns that
 * apply would refuse the reload, instead of failing; with --haproxy-pidfile of a running
 * master-worker haproxy it plans the reload of that pid. Temp dirs bg-*, port 19300.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { runLbctl } from '../../src/cli/inprocess.js';

let tmp = '';
let haproxyPid = 0;

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'bg-plan-'));
  process.env.LBCTL_STATE_DIR = path.join(tmp, 'state');
  process.env.LBCTL_LOCK_DIR = path.join(tmp, 'locks');
});
after(async () => {
  if (haproxyPid) { try { process.kill(haproxyPid, 'SIGTERM'); } catch { /* already gone */ } }
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

async function proxySpec(): Promise<string> {
  const doc = {
    cluster: 'bg',
    nodes: [{ name: 'lb1', address: '10.93.0.1/24', interface: 'eth0' }],
    haproxy: { listens: [{ name: 'web', bind: ['127.0.0.1:19300'], mode: 'http', servers: [{ name: 'a', address: '127.0.0.1:19301' }] }] },
  };
  const f = path.join(tmp, 'proxy.yaml');
  await fs.writeFile(f, YAML.stringify(doc));
  return f;
}

test('plan with haproxy not running: exit 10 under --exit-code, the files planned, a warning (JSON and stderr) instead of exit 4', async () => {
  const spec = await proxySpec();
  const root = path.join(tmp, 'root');
  await fs.mkdir(root);
  const missing = path.join(tmp, 'no-such.pid');
  for (const pidArgs of [[], ['--haproxy-pidfile', missing]]) {
    const r = await runLbctl(['plan', spec, '--node', 'lb1', '--root', root, '--exit-code', ...pidArgs, '--json']);
    assert.equal(r.exitCode, 10, r.stderr + r.stdout);
    assert.deepEqual(r.json.plan.changes.map((c: any) => `${c.action} ${c.kind}`), ['+ file']);
    const w = r.json.warnings.filter((x: string) => x.startsWith('haproxy not reloaded'));
    assert.equal(w.length, 1, JSON.stringify(r.json.warnings));
    assert.match(w[0], /--no-reload/);
    if (pidArgs.length) assert.ok(w[0].includes(missing), w[0]);
    const human = await runLbctl(['plan', spec, '--node', 'lb1', '--root', root, ...pidArgs]);
    assert.equal(human.exitCode, 0, human.stderr);
    assert.match(human.stderr, /haproxy not reloaded/);
    assert.match(human.stdout, /Plan: 1 to add/);
  }
  // apply still refuses the reload before writing anything.
  const a = await runLbctl(['apply', spec, '--node', 'lb1', '--root', root, '--haproxy-pidfile', missing]);
  assert.equal(a.exitCode, 4, a.stderr);
  await assert.rejects(fs.stat(path.join(root, 'etc/haproxy/haproxy.cfg')));
});

test('plan --haproxy-pidfile of a running master-worker haproxy plans its reload', async () => {
  const spec = await proxySpec();
  const root = path.join(tmp, 'root2');
  await fs.mkdir(root);
  const cfg = path.join(tmp, 'running.cfg');
  const pidfile = path.join(tmp, 'haproxy.pid');
  await fs.writeFile(cfg, 'global\n  pidfile ' + pidfile + '\ndefaults\n  mode http\n  timeout connect 1s\n  timeout client 1s\n  timeout server 1s\nfrontend fe\n  bind 127.0.0.1:19302\n');
  await execa('haproxy', ['-W', '-D', '-f', cfg, '-p', pidfile]);
  haproxyPid = Number((await fs.readFile(pidfile, 'utf8')).trim().split(/\s+/)[0]);
  const r = await runLbctl(['plan', spec, '--node', 'lb1', '--root', root, '--haproxy-pidfile', pidfile, '--json']);
  assert.equal(r.exitCode, 0, r.stderr);
  const reload = r.json.plan.changes.find((c: any) => c.kind === 'daemon');
  assert.deepEqual(reload?.command, ['kill', '-USR2', String(haproxyPid)], JSON.stringify(r.json.plan.changes));
  assert.deepEqual(r.json.warnings.filter((x: string) => x.startsWith('haproxy not reloaded')), []);
});
