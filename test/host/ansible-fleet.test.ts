/**
 * The fleet example (ansible/examples/fleet-weight.yml) against two load balancers: network
 * namespaces ct-flb1 and ct-flb2, each running a real haproxy in front of two HTTP servers. A
 * client loop fetches through both load balancers for the whole run and counts failed requests:
 * the weight change rolls across both, one at a time, with none failed. Ports 19310-19312,
 * addresses 10.93.11.0/24 and 10.93.12.0/24.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { rawShowStat } from '../support/haproxy-lab.js';

const root = lbctlRoot();
const skip = !existsSync('/usr/bin/ansible-playbook') ? 'ansible-playbook is not installed (test/deps.sh)' : false;
const LBS = [{ ns: 'ct-flb1', host: 'ct-flb1h', net: '10.93.11' }, { ns: 'ct-flb2', host: 'ct-flb2h', net: '10.93.12' }];
let work: string;
const daemons: ResultPromise[] = [];

function get(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2000 }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode === 200)); });
    req.on('error', () => resolve(false));
    req.on('timeout', () => { req.destroy(); resolve(false); });
  });
}

before(async () => {
  if (skip) return;
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'ct-fleet-'));
  for (const lb of LBS) {
    await execa('ip', ['netns', 'del', lb.ns], { reject: false });
    await execa('ip', ['link', 'del', lb.host], { reject: false });
    await execa('ip', ['netns', 'add', lb.ns]);
    await execa('ip', ['link', 'add', lb.host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lb.ns]);
    await execa('ip', ['addr', 'add', `${lb.net}.1/24`, 'dev', lb.host]);
    await execa('ip', ['link', 'set', lb.host, 'up']);
    await execa('ip', ['-n', lb.ns, 'addr', 'add', `${lb.net}.2/24`, 'dev', 'eth0']);
    await execa('ip', ['-n', lb.ns, 'link', 'set', 'eth0', 'up']);
    await execa('ip', ['-n', lb.ns, 'link', 'set', 'lo', 'up']);
    const dir = path.join(work, lb.ns);
    await fs.mkdir(dir);
    for (const [i, name] of ['web1', 'web2'].entries()) {
      const docroot = path.join(dir, name);
      await fs.mkdir(docroot);
      await fs.writeFile(path.join(docroot, 'index.html'), name);
      daemons.push(execa('ip', ['netns', 'exec', lb.ns, 'python3', '-m', 'http.server', String(19311 + i), '--bind', '127.0.0.1', '--directory', docroot], { reject: false, stdio: 'ignore' }));
    }
    await fs.writeFile(path.join(dir, 'haproxy.cfg'), [
      'global', `  stats socket ${dir}/admin.sock mode 600 level admin`, `  pidfile ${dir}/haproxy.pid`,
      'defaults', '  mode http', '  timeout connect 2s', '  timeout client 10s', '  timeout server 10s',
      'frontend fe', `  bind ${lb.net}.2:19310`, '  default_backend app',
      'backend app', '  server web1 127.0.0.1:19311 weight 10 check inter 500ms', '  server web2 127.0.0.1:19312 weight 10 check inter 500ms', '',
    ].join('\n'));
    daemons.push(execa('ip', ['netns', 'exec', lb.ns, 'haproxy', '-f', path.join(dir, 'haproxy.cfg'), '-db'], { reject: false, stdio: 'ignore' }));
  }
  // Up when both LBs answer and both servers pass their checks.
  const deadline = Date.now() + 20_000;
  for (;;) {
    const ready = await Promise.all(LBS.map(async (lb) => {
      if (!(await get(`http://${lb.net}.2:19310/`))) return false;
      const stat = await rawShowStat(path.join(work, lb.ns, 'admin.sock')).catch(() => undefined);
      return stat?.get('app/web1')?.status === 'UP' && stat?.get('app/web2')?.status === 'UP';
    }));
    if (ready.every(Boolean)) break;
    assert.ok(Date.now() < deadline, 'the two load balancers did not come up');
    await new Promise((r) => setTimeout(r, 200));
  }
});

after(async () => {
  for (const d of daemons) d.kill('SIGTERM');
  await Promise.all(daemons.map((d) => d.catch(() => {})));
  for (const lb of LBS) {
    await execa('ip', ['netns', 'del', lb.ns], { reject: false });
    await execa('ip', ['link', 'del', lb.host], { reject: false });
  }
  if (work) await fs.rm(work, { recursive: true, force: true });
});

test('fleet example: a weight change across two load balancers, serial: 1, no failed request', { skip }, async () => {
  const collections = path.join(work, 'collections', 'ansible_collections', 'lbctl');
  await fs.mkdir(collections, { recursive: true });
  await fs.symlink(path.join(root, 'ansible', 'lbctl'), path.join(collections, 'lbctl'));
  const bin = path.join(work, 'bin');
  await fs.mkdir(bin);
  await fs.symlink(path.join(root, 'bin', 'run.js'), path.join(bin, 'lbctl'));
  const inventory = path.join(work, 'inventory.yml');
  await fs.writeFile(inventory, `loadbalancers:\n  hosts:\n${LBS.map((lb) => `    ${lb.ns}: { ansible_connection: local, haproxy_socket: "${path.join(work, lb.ns, 'admin.sock')}" }\n`).join('')}`);

  let ok = 0;
  let failed = 0;
  let running = true;
  const client = (async () => {
    while (running) {
      for (const lb of LBS) { if (await get(`http://${lb.net}.2:19310/`)) ok++; else failed++; }
    }
  })();
  const r = await execa('ansible-playbook', ['-i', inventory, path.join(root, 'ansible', 'examples', 'fleet-weight.yml'), '-e', 'weight=20', '-e', 'ansible_python_interpreter=/usr/bin/python3'], {
    reject: false, all: true,
    env: { PATH: `${bin}:${process.env.PATH}`, ANSIBLE_COLLECTIONS_PATH: path.join(work, 'collections'), ANSIBLE_NOCOLOR: '1', HOME: work, ANSIBLE_LOCAL_TEMP: path.join(work, 'tmp') },
  });
  running = false;
  await client;
  const out = r.all ?? '';
  for (const l of out.split('\n').filter((x) => /^ct-flb\d\s+:\s+ok=/.test(x))) process.stdout.write(`# fleet: ${l.replace(/\s+/g, ' ').trim()}\n`);
  process.stdout.write(`# fleet: client requests through both load balancers during the run: ${ok} ok, ${failed} failed\n`);
  assert.equal(r.exitCode, 0, out);
  // serial: 1 — the first load balancer's play finished before the second's began.
  assert.ok(out.indexOf('ok: [ct-flb2]') > out.lastIndexOf('changed: [ct-flb1]'), out);
  for (const lb of LBS) {
    const stat = await rawShowStat(path.join(work, lb.ns, 'admin.sock'));
    assert.equal(stat.get('app/web1')!.weight, '20', lb.ns);
    assert.equal(stat.get('app/web1')!.status, 'UP', lb.ns);
  }
  assert.ok(ok > 20, `${ok} requests`);
  assert.equal(failed, 0);
});
