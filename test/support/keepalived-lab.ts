/**
 * A failover lab in network namespaces, used by the host tests and bench/failover:
 *
 *   <p>sw  bridge br0 ─┬─ <p>lb1 eth0 10.77.0.2   haproxy + keepalived (generated files)
 *                      ├─ <p>lb2 eth0 10.77.0.3   haproxy + keepalived
 *                      ├─ <p>cl  eth0 10.77.0.50  client
 *                      ├─ <p>be1 eth0 10.77.0.11  node HTTP server
 *                      └─ <p>be2 eth0 10.77.0.12  node HTTP server
 *
 * Nothing is created in the root namespace: the bridge lives in its own namespace. All
 * namespaces share one PID space, so every daemon gets its own pid files and is stopped by
 * pid, never by name. Backends answer "<name> via <peer address>", so a response tells
 * which load balancer carried it.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';

export const LAB_NET = { lb1: '10.77.0.2', lb2: '10.77.0.3', cl: '10.77.0.50', be1: '10.77.0.11', be2: '10.77.0.12', vip: '10.77.0.100', prefix: 24 } as const;
type NodeName = 'lb1' | 'lb2';

const BACKEND_JS = `
const http = require('http');
const name = process.argv[1];
http.createServer((req, res) => {
  if (req.url.startsWith('/slow')) {
    // A long response: lets a test hold a connection open across a reload.
    res.writeHead(200, { 'content-type': 'text/plain' });
    let i = 0;
    const t = setInterval(() => { res.write('.'); if (++i >= 30) { clearInterval(t); res.end(' done ' + name + '\\n'); } }, 100);
    return;
  }
  res.end(name + ' via ' + req.socket.remoteAddress.replace('::ffff:', '') + '\\n');
}).listen(80, '0.0.0.0', () => console.log('ready'));
`;

/** Requests the VIP every `everyMs`, printing one JSON line per request. */
const CLIENT_JS = `
const http = require('http');
const [url, everyMs, timeoutMs] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
function once() {
  const t = Date.now();
  const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
    let body = '';
    res.on('data', (d) => body += d);
    res.on('end', () => console.log(JSON.stringify({ t, done: Date.now(), ok: res.statusCode === 200, status: res.statusCode, body: body.trim() })));
  });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => console.log(JSON.stringify({ t, done: Date.now(), ok: false, error: e.code || e.message })));
}
setInterval(once, everyMs);
once();
`;

export interface ClientSample { t: number; done: number; ok: boolean; status?: number; body?: string; error?: string }

export class FailoverLab {
  readonly prefix: string;
  readonly dir: string;
  private children: ResultPromise[] = [];
  private pidfiles: string[] = [];

  private constructor(prefix: string, dir: string) {
    this.prefix = prefix;
    this.dir = dir;
  }

  ns(name: 'sw' | 'lb1' | 'lb2' | 'cl' | 'be1' | 'be2'): string {
    return `${this.prefix}${name}`;
  }

  static async create(prefix = `lbcf${randomBytes(2).toString('hex')}-`): Promise<FailoverLab> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbctl-lab-'));
    const lab = new FailoverLab(prefix, dir);
    try {
      await lab.setup();
    } catch (e) {
      await lab.destroy();
      throw e;
    }
    return lab;
  }

  private async ip(args: string[]): Promise<string> {
    const r = await execa('ip', args);
    return r.stdout;
  }

  private async setup(): Promise<void> {
    const sw = this.ns('sw');
    await this.ip(['netns', 'add', sw]);
    await this.ip(['-n', sw, 'link', 'add', 'br0', 'type', 'bridge']);
    await this.ip(['-n', sw, 'link', 'set', 'br0', 'up']);
    const hosts: Array<[('lb1' | 'lb2' | 'cl' | 'be1' | 'be2'), string]> = [['lb1', LAB_NET.lb1], ['lb2', LAB_NET.lb2], ['cl', LAB_NET.cl], ['be1', LAB_NET.be1], ['be2', LAB_NET.be2]];
    for (const [name, addr] of hosts) {
      const ns = this.ns(name);
      await this.ip(['netns', 'add', ns]);
      await this.ip(['-n', sw, 'link', 'add', `v-${name}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
      await this.ip(['-n', sw, 'link', 'set', `v-${name}`, 'master', 'br0', 'up']);
      await this.ip(['-n', ns, 'link', 'set', 'lo', 'up']);
      await this.ip(['-n', ns, 'addr', 'add', `${addr}/${LAB_NET.prefix}`, 'dev', 'eth0']);
      await this.ip(['-n', ns, 'link', 'set', 'eth0', 'up']);
    }
  }

  /** Start the two node HTTP backends and wait until they listen. */
  async startBackends(): Promise<void> {
    for (const name of ['be1', 'be2'] as const) {
      const child = execa('ip', ['netns', 'exec', this.ns(name), process.execPath, '-e', BACKEND_JS, name], { reject: false, buffer: false });
      this.children.push(child);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`backend ${name} did not start`)), 10_000);
        child.stdout!.on('data', (d: Buffer) => { if (String(d).includes('ready')) { clearTimeout(timer); resolve(); } });
        child.once('exit', () => { clearTimeout(timer); reject(new Error(`backend ${name} exited`)); });
      });
    }
  }

  pidfile(node: NodeName, what: string): string {
    return path.join(this.dir, `${node}-${what}.pid`);
  }

  /** haproxy in the node's namespace, daemonised (-D), optionally master-worker (-W). */
  async startHaproxy(node: NodeName, cfg: string, opts: { masterWorker?: boolean } = {}): Promise<number> {
    const pidfile = this.pidfile(node, 'haproxy');
    this.pidfiles.push(pidfile);
    await fs.rm(pidfile, { force: true });
    const args = ['netns', 'exec', this.ns(node), 'haproxy', ...(opts.masterWorker ? ['-W'] : []), '-D', '-p', pidfile, '-f', cfg];
    const r = await execa('ip', args, { reject: false, all: true });
    if (r.exitCode !== 0) throw new Error(`haproxy on ${node} failed to start: ${r.all}`);
    return this.readPid(pidfile);
  }

  async readPid(file: string): Promise<number> {
    for (let i = 0; i < 100; i++) {
      const text = await fs.readFile(file, 'utf8').catch(() => '');
      const pid = Number(text.trim().split(/\s+/)[0]);
      if (pid > 1) return pid;
      await sleep(50);
    }
    throw new Error(`no pid in ${file}`);
  }

  /** SIGKILL this node's haproxy (by its pid file: the namespaces share one PID space). */
  async killHaproxy(node: NodeName): Promise<void> {
    const text = await fs.readFile(this.pidfile(node, 'haproxy'), 'utf8');
    for (const p of text.trim().split(/\s+/).map(Number).filter((n) => n > 1)) {
      try { process.kill(p, 'SIGKILL'); } catch { /* already gone */ }
    }
    await fs.rm(this.pidfile(node, 'haproxy'), { force: true });
  }

  /** keepalived in the foreground (-n) in the node's namespace, with its own pid files. */
  async startKeepalived(node: NodeName, conf: string): Promise<void> {
    const files = ['keepalived', 'vrrp', 'checkers'].map((w) => this.pidfile(node, w));
    this.pidfiles.push(...files);
    const log = { file: path.join(this.dir, `${node}-keepalived.log`), append: true };
    const child = execa('ip', ['netns', 'exec', this.ns(node), 'keepalived', '-n', '-l', '-D', '-G',
      '-f', conf, '-p', files[0], '-r', files[1], '-c', files[2]], { reject: false, stdout: log, stderr: log });
    this.children.push(child);
    await this.readPid(files[0]);
  }

  /** SIGTERM keepalived: it sends a priority-0 advert and releases the VIP. */
  async stopKeepalived(node: NodeName): Promise<void> {
    const pid = await this.readPid(this.pidfile(node, 'keepalived'));
    try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
    for (let i = 0; i < 100 && alive(pid); i++) await sleep(50);
    await fs.rm(this.pidfile(node, 'keepalived'), { force: true });
  }

  async keepalivedLog(node: NodeName): Promise<string> {
    return fs.readFile(path.join(this.dir, `${node}-keepalived.log`), 'utf8').catch(() => '');
  }

  async hasVip(node: NodeName): Promise<boolean> {
    const out = await this.ip(['-n', this.ns(node), '-j', '-4', 'addr', 'show', 'dev', 'eth0']);
    const info = JSON.parse(out) as Array<{ addr_info: Array<{ local: string }> }>;
    return info.some((i) => i.addr_info.some((a) => a.local === LAB_NET.vip));
  }

  /** Wait until exactly `node` holds the VIP (checked in both namespaces). */
  async waitVip(node: NodeName, timeoutMs = 15_000): Promise<number> {
    const other: NodeName = node === 'lb1' ? 'lb2' : 'lb1';
    const start = Date.now();
    while (Date.now() - start < timeoutMs) {
      if ((await this.hasVip(node)) && !(await this.hasVip(other))) return Date.now() - start;
      await sleep(50);
    }
    throw new Error(`VIP ${LAB_NET.vip} did not settle on ${node} within ${timeoutMs} ms (lb1 ${await this.hasVip('lb1')}, lb2 ${await this.hasVip('lb2')})`);
  }

  /** One request from the client namespace. */
  async request(urlPath = '/', timeoutS = 2): Promise<{ ok: boolean; body: string }> {
    const r = await execa('ip', ['netns', 'exec', this.ns('cl'), 'curl', '-sS', '--max-time', String(timeoutS), `http://${LAB_NET.vip}${urlPath}`], { reject: false });
    return { ok: r.exitCode === 0, body: String(r.stdout).trim() };
  }

  /** Wait until a request through the VIP is answered via the load balancer at `lbAddr`. */
  async waitAnsweredVia(lbAddr: string, timeoutMs = 10_000): Promise<void> {
    const start = Date.now();
    while (Date.now() - start < timeoutMs) {
      const r = await this.request('/', 1);
      if (r.ok && r.body.endsWith(`via ${lbAddr}`)) return;
      await sleep(100);
    }
    throw new Error(`no request answered via ${lbAddr} within ${timeoutMs} ms`);
  }

  /** Start a client loop; returns the samples array (filled live) and a stop function. */
  startClient(everyMs = 50, timeoutMs = 400): { samples: ClientSample[]; stop: () => Promise<void> } {
    const samples: ClientSample[] = [];
    const child = execa('ip', ['netns', 'exec', this.ns('cl'), process.execPath, '-e', CLIENT_JS, `http://${LAB_NET.vip}/`, String(everyMs), String(timeoutMs)], { reject: false, buffer: false });
    this.children.push(child);
    let rest = '';
    child.stdout!.on('data', (d: Buffer) => {
      rest += String(d);
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const l of lines) if (l.trim()) samples.push(JSON.parse(l) as ClientSample);
    });
    return {
      samples,
      stop: async () => { child.kill('SIGTERM'); await child.catch(() => undefined); },
    };
  }

  /** Stop every process the lab started and delete its namespaces. */
  async destroy(): Promise<void> {
    for (const f of this.pidfiles) {
      const text = await fs.readFile(f, 'utf8').catch(() => '');
      for (const p of text.trim().split(/\s+/).map(Number).filter((n) => n > 1)) {
        try { process.kill(p, 'SIGTERM'); } catch { /* gone */ }
      }
    }
    for (const c of this.children) c.kill('SIGTERM');
    await sleep(200);
    for (const f of this.pidfiles) {
      const text = await fs.readFile(f, 'utf8').catch(() => '');
      for (const p of text.trim().split(/\s+/).map(Number).filter((n) => n > 1)) {
        try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    for (const c of this.children) c.kill('SIGKILL');
    for (const n of ['lb1', 'lb2', 'cl', 'be1', 'be2', 'sw'] as const) {
      await execa('ip', ['netns', 'del', this.ns(n)], { reject: false });
    }
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * The CLI as a child process, for host tests: runLbctl (in-process) swaps
 * process.stdout.write, and node's test runner reports through the test process's stdout,
 * so a long in-process command can swallow test reports.
 */
export async function lbctl(args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string; json?: any }> {
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'run.js');
  const r = await execa(process.execPath, [bin, ...args], { reject: false, env: { NO_COLOR: '1' } });
  let json: any;
  if (args.includes('--json')) { try { json = JSON.parse(String(r.stdout)); } catch { /* left undefined: the test says so */ } }
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), json };
}

export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The lab's two nodes and their VRRP instance: the part of the spec every proxy engine shares. */
export function labPair(title: string): string {
  return `# failover lab spec (test/support/keepalived-lab.ts): ${title}
cluster: lab
nodes:
  - { name: lb1, address: ${LAB_NET.lb1}/${LAB_NET.prefix}, interface: eth0 }
  - { name: lb2, address: ${LAB_NET.lb2}/${LAB_NET.prefix}, interface: eth0 }
vrrp:
  instances:
    - name: VI_1
      virtual_router_id: 77
      authentication: { pass: lab77 }
      vips: [${LAB_NET.vip}/${LAB_NET.prefix}]
`;
}

/**
 * The haproxy section every lab spec shares (an HTTP frontend on *:80 to backend `app`):
 * `global` is rendered as given (indented lines), `servers` as flow mappings.
 */
export function labHaproxy(o: { global?: string; balance?: string; backendExtra?: string[]; servers: string[] }): string {
  return `haproxy:
${o.global ?? ''}  defaults:
    mode: http
    timeouts: { connect: 1s, client: 30s, server: 30s }
  frontends:
    - { name: web, bind: "*:80", default_backend: app }
  backends:
    - name: app
${o.balance ? `      balance: ${o.balance}\n` : ''}${(o.backendExtra ?? []).length ? `      extra: [${o.backendExtra!.map((l) => JSON.stringify(l)).join(', ')}]\n` : ''}      servers:
${o.servers.map((x) => `        - ${x}\n`).join('')}`;
}

/** The lab's cluster spec: generated defaults, only addresses filled in. */
export function labSpec(extra: { haproxyGlobal?: string; backendExtra?: string[] } = {}): string {
  return labPair('lbctl\'s generated defaults') + labHaproxy({
    global: extra.haproxyGlobal, balance: 'roundrobin', backendExtra: extra.backendExtra,
    servers: [`{ name: be1, address: "${LAB_NET.be1}:80", check: true, inter: 500ms }`, `{ name: be2, address: "${LAB_NET.be2}:80", check: true, inter: 500ms }`],
  });
}
