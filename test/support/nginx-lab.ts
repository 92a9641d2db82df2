/**
 * nginx for host tests and benches: start a real nginx on a generated file with its own pid
 * file and error log (namespaces share one PID space: stop it by its pid file, never by name),
 * small HTTP backends that say who they are, and a plain HTTP client.
 */
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { childPids } from '../../src/haproxy/config-reload.js';
import { FailoverLab, LAB_NET, labPair, sleep } from './keepalived-lab.js';

export interface RunningNginx { pidfile: string; errorLog: string; pid: number }

/** nginx (daemonised) on `conf`, optionally inside a network namespace. */
export async function startNginx(conf: string, dir: string, opts: { netns?: string; name?: string } = {}): Promise<RunningNginx> {
  const name = opts.name ?? 'nginx';
  const pidfile = path.join(dir, `${name}.pid`);
  const errorLog = path.join(dir, `${name}-error.log`);
  await fs.rm(pidfile, { force: true });
  const argv = ['nginx', '-e', errorLog, '-p', `${dir}/`, '-c', conf, '-g', `pid ${pidfile}; error_log ${errorLog} info;`];
  const r = opts.netns ? await execa('ip', ['netns', 'exec', opts.netns, ...argv], { reject: false, all: true }) : await execa(argv[0], argv.slice(1), { reject: false, all: true });
  if (r.exitCode !== 0) throw new Error(`nginx failed to start: ${r.all}`);
  for (let i = 0; i < 100; i++) {
    const pid = Number((await fs.readFile(pidfile, 'utf8').catch(() => '')).trim());
    if (pid > 1) return { pidfile, errorLog, pid };
    await sleep(50);
  }
  throw new Error(`nginx wrote no pid to ${pidfile}`);
}

/** SIGKILL the master and its workers (a crash: nothing is left listening). */
export async function killNginx(n: RunningNginx): Promise<void> {
  const workers = await childPids(n.pid);
  for (const p of [n.pid, ...workers]) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  await fs.rm(n.pidfile, { force: true });
}

/** Fast shutdown (SIGTERM to the master), waiting until it is gone. */
export async function stopNginx(n: RunningNginx | undefined): Promise<void> {
  if (!n) return;
  try { process.kill(n.pid, 'SIGTERM'); } catch { return; }
  for (let i = 0; i < 100; i++) {
    try { process.kill(n.pid, 0); } catch { return; }
    await sleep(50);
  }
  await killNginx(n);
}

/** An HTTP backend on 127.0.0.1:port answering its name; close() drops every connection at once. */
export async function startBackend(name: string, port: number): Promise<{ name: string; close: () => Promise<void>; hits: number }> {
  const sockets = new Set<Socket>();
  const b = { name, hits: 0, close: async () => {} };
  const server = http.createServer((req, res) => { b.hits++; res.setHeader('content-type', 'text/plain'); res.end(`${name}\n`); });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', () => resolve()); });
  b.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  void (server.address() as AddressInfo);
  return b;
}

/** One GET without keep-alive; never throws (a failure is {ok: false}). */
export function get(url: string, headers: Record<string, string> = {}, timeoutMs = 3000): Promise<{ ok: boolean; status?: number; body: string; setCookie?: string[] }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false, headers, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ ok: res.statusCode === 200, status: res.statusCode, body: body.trim(), setCookie: res.headers['set-cookie'] }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ ok: false, body: String(e.message) }));
  });
}

/** The failover lab's spec with nginx in place of haproxy (same addresses, same backends). */
export function nginxLabSpec(): string {
  return `${labPair('nginx, lbctl\'s generated defaults')}nginx:
  main: { worker_processes: 1 }
  http: { access_log: false }
  upstreams:
    - name: app
      servers:
        - { address: "${LAB_NET.be1}:80", max_fails: 1, fail_timeout: 5s }
        - { address: "${LAB_NET.be2}:80", max_fails: 1, fail_timeout: 5s }
  servers:
    - listen: ["80"]
      locations:
        - { path: /, proxy_pass: app, timeouts: { connect: 1s } }
`;
}

/** nginx on a failover lab node, from the generated file. */
export function startLabNginx(lab: FailoverLab, node: 'lb1' | 'lb2', conf: string): Promise<RunningNginx> {
  return startNginx(conf, lab.dir, { netns: lab.ns(node), name: `${node}-nginx` });
}
