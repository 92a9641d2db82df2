import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * A throwaway haproxy on loopback with node HTTP servers behind it, for the host tests,
 * the benchmark and demos. Everything lives in its own temp dir; stop() removes it.
 */

export interface LabServer {
  name: string;
  port: number;
  /** Requests this server answered (health checks excluded). */
  hits: number;
  /** Release every held /slow request. */
  release(): void;
  /** Requests waiting in /slow. */
  held(): number;
  close(): Promise<void>;
}

/** An HTTP server answering its name; /slow waits for release(); /health is for checks. */
export async function startLabServer(name: string): Promise<LabServer> {
  const waiting = new Set<() => void>();
  const sockets = new Set<net.Socket>();
  const state = { hits: 0 };
  const server = http.createServer((req, res) => {
    if (req.url === '/health') { res.end('ok'); return; }
    state.hits++;
    if (req.url === '/slow') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write(`${name} `);
      waiting.add(() => res.end(name));
      return;
    }
    res.end(name);
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    name, port,
    get hits() { return state.hits; },
    set hits(v: number) { state.hits = v; },
    release: () => { for (const w of waiting) w(); waiting.clear(); },
    held: () => waiting.size,
    close: () => new Promise<void>((r) => { for (const w of waiting) w(); for (const s of sockets) s.destroy(); server.close(() => r()); }),
  };
}

/** A free TCP port on 127.0.0.1 (released before returning; fine for tests). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface LabHaproxy {
  dir: string;
  cfgFile: string;
  adminSocket: string;
  userSocket: string;
  frontendPort: number;
  /** host:port of the TCP admin socket, when asked for. */
  tcpSocket?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

export interface LabHaproxyOptions {
  /** Backend sections (and anything else) appended after the generated global/defaults/frontend. */
  body: string;
  defaultBackend: string;
  /** `mode` of defaults; http unless given. */
  mode?: 'http' | 'tcp';
  prefix?: string;
  /** Also open an admin stats socket on 127.0.0.1 (the host:port form). */
  tcpSocket?: boolean;
}

/** Start haproxy in the foreground (-db) with an admin and a user-level stats socket. */
export async function startLabHaproxy(opts: LabHaproxyOptions): Promise<LabHaproxy> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), opts.prefix ?? 'lbhp-'));
  const adminSocket = path.join(dir, 'admin.sock');
  const userSocket = path.join(dir, 'user.sock');
  const frontendPort = await freePort();
  const cfgFile = path.join(dir, 'haproxy.cfg');
  const tcpSocket = opts.tcpSocket ? `127.0.0.1:${await freePort()}` : undefined;
  const cfg = [
    'global',
    ...(tcpSocket ? [`  stats socket ipv4@${tcpSocket} level admin`] : []),
    `  stats socket ${userSocket} mode 666 level user`,
    `  stats socket ${adminSocket} mode 600 level admin`,
    '  stats timeout 30s',
    `  pidfile ${path.join(dir, 'haproxy.pid')}`,
    'defaults',
    `  mode ${opts.mode ?? 'http'}`,
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend fe',
    `  bind 127.0.0.1:${frontendPort}`,
    `  default_backend ${opts.defaultBackend}`,
    opts.body,
    '',
  ].join('\n');
  await fs.writeFile(cfgFile, cfg);
  const child = spawn('haproxy', ['-f', cfgFile, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr += d; });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGTERM'); await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]); }
    if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await exited; }
    await fs.rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) { await stop(); throw new Error(`haproxy exited: ${stderr.trim()}`); }
    const up = await new Promise<boolean>((resolve) => {
      const s = net.connect(adminSocket);
      s.on('connect', () => { s.destroy(); resolve(true); });
      s.on('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > deadline) { await stop(); throw new Error(`haproxy did not open ${adminSocket}: ${stderr.trim()}`); }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { dir, cfgFile, adminSocket, userSocket, frontendPort, tcpSocket, process: child, stop };
}

/**
 * The second channel tests check effects through: one raw command over net.connect and a
 * plain CSV split, deliberately sharing no code with runtime.ts or stat.ts.
 */
export function rawCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(socketPath);
    let out = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(`${command}\n`));
    s.on('data', (d: string) => { out += d; });
    s.on('end', () => resolve(out));
    s.on('error', reject);
  });
}

/** `show stat` read raw: "backend/server" -> column -> text. */
export async function rawShowStat(socketPath: string): Promise<Map<string, Record<string, string>>> {
  const text = await rawCommand(socketPath, 'show stat');
  const [head, ...lines] = text.split('\n').filter(Boolean);
  const cols = head.replace(/^# /, '').split(',');
  const out = new Map<string, Record<string, string>>();
  for (const line of lines) {
    const cells = line.split(',');
    const row: Record<string, string> = {};
    cols.forEach((c, i) => { row[c] = cells[i] ?? ''; });
    out.set(`${row.pxname}/${row.svname}`, row);
  }
  return out;
}

/** GET through the frontend on a fresh connection; resolves with the body. */
export function httpGet(port: number, urlPath = '/'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** Send n sequential requests; count answers per server name. */
export async function spread(port: number, n: number): Promise<Record<string, number>> {
  const count: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const { body } = await httpGet(port);
    count[body] = (count[body] ?? 0) + 1;
  }
  return count;
}

export interface CountingProxy {
  path: string;
  /** Commands seen so far, client to haproxy, e.g. count(/^show stat/). */
  count(re: RegExp): number;
  /** Client connections open now. */
  open(): number;
  close(): Promise<void>;
}

/**
 * A unix socket in front of a haproxy runtime socket that forwards bytes both ways and counts
 * the command lines clients send: lets a test see whether lbctl is still polling.
 */
export async function startCountingProxy(target: string, file: string): Promise<CountingProxy> {
  const lines: string[] = [];
  const conns = new Set<net.Socket>();
  const server = net.createServer((client) => {
    conns.add(client);
    const upstream = net.connect(target);
    let buf = '';
    client.on('data', (d) => {
      buf += d.toString('utf8');
      for (let at = buf.indexOf('\n'); at >= 0; at = buf.indexOf('\n')) { lines.push(buf.slice(0, at)); buf = buf.slice(at + 1); }
      upstream.write(d);
    });
    upstream.on('data', (d) => client.write(d));
    const end = () => { conns.delete(client); client.destroy(); upstream.destroy(); };
    client.on('close', end); upstream.on('close', end);
    client.on('error', end); upstream.on('error', end);
  });
  await new Promise<void>((r) => server.listen(file, r));
  return {
    path: file,
    count: (re) => lines.filter((l) => re.test(l)).length,
    open: () => conns.size,
    close: () => new Promise<void>((r) => { for (const c of conns) c.destroy(); server.close(() => r()); }),
  };
}
