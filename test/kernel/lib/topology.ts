/**
 * Network topologies for the kernel tests, which run as root inside the kernel lab
 * (test/lab/run.sh): bridges, network namespaces joined to them by veth pairs, real servers that
 * answer HTTP with their name, a client that fetches through the VIP, and one long-lived TCP
 * connection for graceful-removal and restore tests.
 *
 * The director is the guest's root network namespace: the test's own node process. IPVS state is
 * per namespace, so lbctl run in-process (runLbctl) or `ipvsadm` run by the test configures the
 * director directly. Scenario.ipvsNetns is therefore undefined. Clients and real servers live in
 * namespaces named `lbk-<name>` (lbk-client, lbk-rs1, lbk-rs2).
 *
 * The builders prepare hosts only (addresses, routes, sysctls, DR/TUN real-server prep unless
 * realServerPrep: false). They never create IPVS rules: the tests do that, through lbctl.
 *
 * Addresses (IPv6 too for NAT and DR; TUN is IPv4 only):
 *   DR, TUN  one bridge lbk-lan 10.77.0.0/24, fd77::/64
 *            director 10.77.0.1 (fd77::1), VIP 10.77.0.10 (fd77::10) on the director,
 *            rs1 10.77.0.11 (fd77::11), rs2 10.77.0.12 (fd77::12), client 10.77.0.100 (fd77::100)
 *   NAT      front bridge lbk-front 10.77.1.0/24, fd77:1::/64: director 10.77.1.1, VIP 10.77.1.10,
 *            client 10.77.1.100; back bridge lbk-back 10.77.2.0/24, fd77:2::/64: director 10.77.2.1,
 *            rs1 10.77.2.11, rs2 10.77.2.12 (default routes via the director, which forwards)
 * Real servers answer HTTP on port 80 with their name and echo TCP on port 9000.
 */
import { execa } from 'execa';
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Prefix of every namespace and link these helpers create. */
export const PREFIX = 'lbk';
export const HTTP_PORT = 80;
export const ECHO_PORT = 9000;

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** LBCTL_LAB_TRACE=1: phase timings on stderr (where does a slow scenario spend its time?). */
const tracing = process.env.LBCTL_LAB_TRACE === '1';
async function traced<T>(what: string, work: () => Promise<T>): Promise<T> {
  if (!tracing) return work();
  const t0 = performance.now();
  try { return await work(); } finally { process.stderr.write(`[lab trace] ${(performance.now() - t0).toFixed(0).padStart(6)} ms  ${what}\n`); }
}

/** Why kernel tests cannot run in this process (undefined inside the lab): pass to test's `skip`. */
export function labSkipReason(): string | undefined {
  if (process.env.LBCTL_IN_LAB !== '1') {
    return 'not inside the kernel lab: run `bash test/lab/run.sh -- node --test build/test/kernel/<file>.test.js`';
  }
  if (process.getuid?.() !== 0) return 'kernel lab tests need root';
  return undefined;
}

/** The namespace name of a lab host: nsName('rs1') === 'lbk-rs1'. */
export function nsName(host: string): string {
  return `${PREFIX}-${host}`;
}

/** Run a command inside a namespace (`ip netns exec NS CMD ARGS...`); rejects on non-zero exit. */
export async function nsExec(ns: string, cmd: string, args: string[] = [], opts: { input?: string; timeout?: number } = {}) {
  return execa('ip', ['netns', 'exec', ns, cmd, ...args], { input: opts.input, timeout: opts.timeout ?? 60_000 });
}

/** `ipvsadm ARGS...` in the director (the root namespace); resolves to its stdout. */
export async function ipvsadm(args: string[]): Promise<string> {
  return (await execa('ipvsadm', args)).stdout;
}

/** Empty the director's IPVS table (`ipvsadm -C`). */
export async function clearIpvs(): Promise<void> {
  await execa('ipvsadm', ['-C']);
}

/**
 * The kernel folds its per-CPU IPVS counters into what `ipvsadm -L --stats` (and netlink) report
 * only every 2 s (the rate estimator's timer, kernel 6.1): poll for counters, don't read once.
 */
export const IPVS_STATS_LAG_MS = 2000;

/** Call `probe` until it returns a truthy value (returned) or timeoutMs (default 10 s) passes (last value returned). */
export async function waitFor<T>(probe: () => Promise<T>, opts: { timeoutMs?: number; intervalMs?: number } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 5 * IPVS_STATS_LAG_MS);
  for (;;) {
    const value = await probe();
    if (value || Date.now() >= deadline) return value;
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}

// ---------------------------------------------------------------------------------------------
// Generic topology

export interface BridgeSpec {
  /** Short name: the bridge device is `lbk-<name>` (at most 11 characters). */
  name: string;
  /** Addresses of the director (root namespace) on this bridge, CIDR. */
  addrs?: string[];
}

export interface HostSpec {
  /** Short name: the namespace is `lbk-<name>`. */
  name: string;
  /** One link per entry, `eth0`, `eth1`, ... inside the namespace, each a port of a bridge. */
  links: { bridge: string; addrs: string[] }[];
  /** `ip route add` arguments, e.g. ['default', 'via', '10.77.2.1']. */
  routes?: string[][];
  /** Further `ip` commands run in the namespace after links and routes (e.g. VIP on lo). */
  ipCommands?: string[][];
  /** sysctls in the namespace, applied before its links come up: { 'net.ipv4.conf.all.arp_ignore': 1 }. */
  sysctls?: Record<string, string | number>;
}

export interface LabSpec {
  bridges: BridgeSpec[];
  hosts: HostSpec[];
  /** sysctls of the director (root namespace); the old values come back at cleanup. */
  sysctls?: Record<string, string | number>;
}

export interface Lab {
  /** host name -> its namespace */
  ns: Record<string, string>;
  /** bridge name -> its device */
  bridges: Record<string, string>;
  /** Deletes the namespaces (and so their veths and processes' sockets) and bridges, restores sysctls. */
  cleanup(): Promise<void>;
}

const TOKEN = /^[A-Za-z0-9_.:/@-]+$/;

function batchLine(words: (string | number)[]): string {
  for (const w of words) {
    if (!TOKEN.test(String(w))) throw new Error(`topology: unsafe token '${w}' for ip -batch`);
  }
  return words.join(' ');
}

function addrLine(cidr: string, dev: string): string {
  // IPv6 addresses skip duplicate address detection: usable at once, not after ~2 s.
  return batchLine(['addr', 'add', cidr, 'dev', dev, ...(cidr.includes(':') ? ['nodad'] : [])]);
}

async function ipBatch(lines: string[], ns?: string, force = false): Promise<void> {
  if (lines.length === 0) return;
  const args = [...(ns ? ['-n', ns] : []), ...(force ? ['-force'] : []), '-batch', '-'];
  const r = await execa('ip', args, { input: `${lines.join('\n')}\n`, reject: !force, timeout: 60_000 });
  if (!force && r.exitCode !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
}

function sysctlPath(key: string): string {
  return `/proc/sys/${key.replace(/\./g, '/')}`;
}

async function writeSysctl(key: string, value: string | number): Promise<string | undefined> {
  const file = sysctlPath(key);
  let old: string | undefined;
  try { old = (await fs.readFile(file, 'utf8')).trim(); } catch { /* absent: written below fails loudly */ }
  await fs.writeFile(file, `${value}\n`);
  return old;
}

let guestPrepared = false;
/**
 * New namespaces copy the director's device settings (devconf_inherit_init_net), and duplicate
 * address detection is off: IPv6 link-local addresses are usable at once. Guest-only settings.
 */
async function prepareGuest(): Promise<void> {
  if (guestPrepared) return;
  await writeSysctl('net.core.devconf_inherit_init_net', 1);
  await writeSysctl('net.ipv6.conf.all.accept_dad', 0);
  await writeSysctl('net.ipv6.conf.default.accept_dad', 0);
  guestPrepared = true;
}

async function removeLeftovers(spec: LabSpec): Promise<void> {
  const lines: string[] = [];
  for (const h of spec.hosts) {
    try { await fs.access(`/run/netns/${nsName(h.name)}`); lines.push(batchLine(['netns', 'del', nsName(h.name)])); } catch { /* not there */ }
  }
  for (const b of spec.bridges) {
    try { await fs.access(`/sys/class/net/${nsName(b.name)}`); lines.push(batchLine(['link', 'del', nsName(b.name)])); } catch { /* not there */ }
  }
  await ipBatch(lines, undefined, true);
  // A deleted namespace's veths leave the root namespace asynchronously (netns cleanup runs in a
  // kernel workqueue): wait until the outer ends of this spec's veths are gone, or remove them.
  const outers = spec.hosts.flatMap((h) => h.links.map((_, i) => `${nsName(h.name)}-${i}`));
  for (let tries = 0; tries < 40; tries++) {
    const left: string[] = [];
    for (const o of outers) { try { await fs.access(`/sys/class/net/${o}`); left.push(o); } catch { /* gone */ } }
    if (!left.length) return;
    if (tries === 20) await ipBatch(left.map((o) => batchLine(['link', 'del', o])), undefined, true);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Build bridges in the director and one namespace per host, wired and addressed.
 * `alongside` runs as soon as the namespaces exist, while they are being configured (e.g. to start
 * servers, which listen on any address): createLab resolves when both are done.
 */
export async function createLab(spec: LabSpec, alongside?: (ns: Record<string, string>) => Promise<unknown>): Promise<Lab> {
  await prepareGuest();
  await traced('remove leftovers', () => removeLeftovers(spec));
  const bridges: Record<string, string> = {};
  const ns: Record<string, string> = {};
  const restore: [string, string][] = [];

  const cleanup = async () => {
    const lines = [
      ...Object.values(ns).map((n) => batchLine(['netns', 'del', n])),
      ...Object.values(bridges).map((b) => batchLine(['link', 'del', b])),
    ];
    await traced('delete namespaces and bridges', () => ipBatch(lines, undefined, true));
    for (const [key, value] of restore.reverse()) await writeSysctl(key, value).catch(() => undefined);
  };

  try {
    const root: string[] = [];
    for (const b of spec.bridges) {
      const dev = nsName(b.name);
      if (dev.length > 15) throw new Error(`topology: bridge name '${b.name}' too long`);
      bridges[b.name] = dev;
      root.push(batchLine(['link', 'add', dev, 'type', 'bridge', 'mcast_snooping', 0]));
      for (const a of b.addrs ?? []) root.push(addrLine(a, dev));
      root.push(batchLine(['link', 'set', dev, 'up']));
    }
    for (const h of spec.hosts) {
      const n = nsName(h.name);
      ns[h.name] = n;
      root.push(batchLine(['netns', 'add', n]));
      h.links.forEach((l, i) => {
        const outer = `${n}-${i}`;
        if (outer.length > 15) throw new Error(`topology: host name '${h.name}' too long`);
        const br = bridges[l.bridge];
        if (!br) throw new Error(`topology: host ${h.name} names unknown bridge '${l.bridge}'`);
        root.push(batchLine(['link', 'add', outer, 'type', 'veth', 'peer', 'name', `eth${i}`, 'netns', n]));
        root.push(batchLine(['link', 'set', outer, 'master', br, 'up']));
      });
    }
    await traced('bridges, namespaces, veths', () => ipBatch(root));
    for (const [key, value] of Object.entries(spec.sysctls ?? {})) {
      const old = await writeSysctl(key, value);
      if (old !== undefined) restore.push([key, old]);
    }

    const configure: Promise<unknown>[] = spec.hosts.flatMap((h) => {
      const n = ns[h.name];
      const sysctls = Object.entries(h.sysctls ?? {}).map(([k, v]) => `${k}=${v}`);
      const lines = [batchLine(['link', 'set', 'lo', 'up'])];
      h.links.forEach((l, i) => {
        for (const a of l.addrs) lines.push(addrLine(a, `eth${i}`));
        lines.push(batchLine(['link', 'set', `eth${i}`, 'up']));
      });
      for (const r of h.routes ?? []) lines.push(batchLine(['route', 'add', ...r]));
      for (const c of h.ipCommands ?? []) lines.push(batchLine(c));
      // No traffic flows before createLab returns, so sysctls and addresses may race each other.
      // /proc/sys/net belongs to the namespace of whoever opens it: sysctls are set from inside.
      return [
        traced(`ip -batch in ${n}`, () => ipBatch(lines, n)),
        ...(sysctls.length ? [traced(`sysctls in ${n}`, () => nsExec(n, 'busybox', ['sysctl', '-q', '-w', ...sysctls]))] : []),
      ];
    });
    if (alongside) configure.push(alongside(ns));
    // allSettled first: nothing may still be running in a namespace when cleanup deletes it.
    const results = await traced('namespaces configured', () => Promise.allSettled(configure));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { ns, bridges, cleanup };
}

// ---------------------------------------------------------------------------------------------
// Processes in namespaces

type Child = ReturnType<typeof execa>;

/** Spawn a node script from this directory inside `ns`; resolves on the first stdout line. */
async function spawnNode(ns: string, script: string, args: string[], onLine: (line: string) => void): Promise<{ child: Child; first: string }> {
  const child = execa('ip', ['netns', 'exec', ns, process.execPath, here(script), ...args], {
    buffer: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false,
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => { stderr += c.toString(); });
  const first = await new Promise<string>((resolve, reject) => {
    let buf = '';
    let done = false;
    // Generous: a busy CI host can slow the TCG guest down several times over.
    const timer = setTimeout(() => { if (!done) { done = true; child.kill(); reject(new Error(`${script} in ${ns}: no answer in 60 s ${stderr}`)); } }, 60_000);
    child.stdout?.on('data', (c: Buffer) => {
      buf += c.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!done) { done = true; clearTimeout(timer); resolve(line); } else onLine(line);
      }
    });
    child.on('exit', (code) => {
      if (!done) { done = true; clearTimeout(timer); reject(new Error(`${script} in ${ns} exited (${code}) before answering: ${stderr.trim()}`)); }
    });
  });
  return { child, first };
}

async function stopChild(child: Child): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 2000);
  await child.catch(() => undefined);
  clearTimeout(t);
}

export interface RunningServer {
  name: string;
  ns: string;
  stop(): Promise<void>;
}

/** Start a real server in `ns`: HTTP on httpPort answers `name`, TCP echo on echoPort. */
export async function startServer(ns: string, name: string, opts: { httpPort?: number; echoPort?: number } = {}): Promise<RunningServer> {
  const { child, first } = await spawnNode(ns, 'server.js', [name, String(opts.httpPort ?? HTTP_PORT), String(opts.echoPort ?? ECHO_PORT)], () => undefined);
  if (first !== 'ready') { await stopChild(child); throw new Error(`server ${name} in ${ns}: ${first}`); }
  return { name, ns, stop: () => stopChild(child) };
}

/**
 * Fetch `url` `count` times from `ns`, each on a new connection (one curl process; the servers
 * close every connection). Returns the bodies in order; a failed fetch gives `<failed: http CODE>`.
 */
export async function fetchMany(ns: string, url: string, count: number, opts: { timeoutSec?: number } = {}): Promise<string[]> {
  const t = String(opts.timeoutSec ?? 10);
  const urls = Array.from({ length: count }, () => url);
  const r = await execa('ip', ['netns', 'exec', ns, 'curl', '-sg', '--connect-timeout', t, '--max-time', t,
    '-w', '|%{http_code}\\n', ...urls], { reject: false, timeout: (Number(t) + 2) * count * 1000 });
  const lines = r.stdout.split('\n').filter((l) => l.includes('|'));
  const bodies = lines.map((l) => {
    const i = l.lastIndexOf('|');
    const [body, code] = [l.slice(0, i), l.slice(i + 1)];
    return code === '200' ? body : `<failed: http ${code}>`;
  });
  while (bodies.length < count) bodies.push('<failed: no output>');
  return bodies;
}

/** One HTTP GET from `ns`: the body, or `<failed: http CODE>`. */
export async function httpGet(ns: string, url: string, opts: { timeoutSec?: number } = {}): Promise<string> {
  return (await fetchMany(ns, url, 1, opts))[0];
}

export interface LongLivedConnection {
  localAddr: string;
  localPort: number;
  /** Echoes received so far (the connection pings every intervalMs). */
  readonly pongs: number;
  /** Why the connection died (ECONNRESET, EOF, TIMEOUT, ...), undefined while it lives. */
  readonly closedWith: string | undefined;
  /** A fresh round trip: alive when an echo arrives within timeoutMs (default 5000). */
  check(timeoutMs?: number): Promise<{ alive: boolean; error?: string }>;
  close(): Promise<void>;
}

/**
 * Open one TCP connection from `ns` to host:port (an echo server, usually through the VIP) and
 * keep sending bytes over it every intervalMs (default 250), so a reset or a silent drop is
 * noticed: closedWith becomes ECONNRESET/EOF, or TIMEOUT when an echo is dropAfterMs (default
 * 5000) late.
 */
export async function openConnection(ns: string, host: string, port: number = ECHO_PORT, opts: { intervalMs?: number; dropAfterMs?: number } = {}): Promise<LongLivedConnection> {
  let pongs = 0;
  let closedWith: string | undefined;
  const waiters = new Set<() => void>();
  const onLine = (line: string) => {
    if (line.startsWith('pong ')) pongs++;
    if (line.startsWith('closed ')) closedWith = line.slice(7);
    for (const w of waiters) w();
  };
  const args = [host, String(port), String(opts.intervalMs ?? 250), String(opts.dropAfterMs ?? 5000)];
  const { child, first } = await spawnNode(ns, 'conn.js', args, onLine);
  const m = /^connected (\S+) (\d+)$/.exec(first);
  if (!m) { await stopChild(child); throw new Error(`connection from ${ns} to ${host}:${port} failed: ${first}`); }
  return {
    localAddr: m[1],
    localPort: Number(m[2]),
    get pongs() { return pongs; },
    get closedWith() { return closedWith; },
    async check(timeoutMs = 5000) {
      if (closedWith) return { alive: false, error: closedWith };
      const before = pongs;
      return new Promise((resolve) => {
        const done = (r: { alive: boolean; error?: string }) => { clearTimeout(timer); waiters.delete(w); resolve(r); };
        const w = () => {
          if (closedWith) done({ alive: false, error: closedWith });
          else if (pongs > before) done({ alive: true });
        };
        const timer = setTimeout(() => done({ alive: false, error: 'no echo within timeout' }), timeoutMs);
        waiters.add(w);
        child.stdin?.write('ping\n');
      });
    },
    close: () => stopChild(child),
  };
}

// ---------------------------------------------------------------------------------------------
// Scenarios: director + client + two real servers, per forwarding method

export type Mode = 'nat' | 'dr' | 'tun';

export interface Endpoint {
  name: string;
  /** Its namespace, `lbk-<name>`. */
  ns: string;
  addr: string;
  addr6?: string;
}

export interface Scenario {
  mode: Mode;
  vip: string;
  /** IPv6 VIP (NAT and DR only). */
  vip6?: string;
  port: number;
  echoPort: number;
  /** ipvsadm's forwarding flag for this mode's real servers. */
  forward: '-m' | '-g' | '-i';
  /** Where IPVS rules go: undefined = the root namespace, this process's own. */
  ipvsNetns: undefined;
  /** The director's address facing the client. */
  director: { addr: string; addr6?: string };
  client: Endpoint;
  rs1: Endpoint;
  rs2: Endpoint;
  realServers: Endpoint[];
  lab: Lab;
  servers: RunningServer[];
  /** `http://VIP:port/` (IPv6: `http://[VIP6]:port/`). */
  url(opts?: { ipv6?: boolean; port?: number }): string;
  /** `count` fetches from the client through the VIP: the names of the servers that answered. */
  fetch(count: number, opts?: { ipv6?: boolean; port?: number }): Promise<string[]>;
  /** A long-lived connection from the client through the VIP to the echo port. */
  connect(opts?: { ipv6?: boolean; port?: number; intervalMs?: number; dropAfterMs?: number }): Promise<LongLivedConnection>;
  /** Stops servers and connections, removes namespaces, bridges and sysctl changes. Not IPVS rules. */
  cleanup(): Promise<void>;
}

export interface ScenarioOptions {
  /** Start the HTTP/echo servers on the real servers (default true). */
  servers?: boolean;
  /**
   * Prepare DR/TUN real servers as fixtures (default true): the IPv4 VIP on lo (DR) or tunl0 (TUN,
   * ipip loaded), arp_ignore=1/arp_announce=2, rp_filter=0 (TUN). false leaves that to the test
   * (`lbctl realserver prep --netns lbk-rs1`); the DR IPv6 VIP stays on lo either way (IPv6 has no
   * ARP to tune).
   */
  realServerPrep?: boolean;
}

const DR_SYSCTLS = {
  // The real servers hold the VIP but must not answer ARP for it: only the director does.
  'net.ipv4.conf.all.arp_ignore': 1,
  'net.ipv4.conf.all.arp_announce': 2,
};

function lanSpec(mode: 'dr' | 'tun', prep: boolean): { spec: LabSpec; addrs: Record<string, [string, string | undefined]>; vip: string; vip6?: string } {
  const v6 = mode === 'dr';
  const vip = '10.77.0.10';
  const vip6 = v6 ? 'fd77::10' : undefined;
  const rsPrep: Pick<HostSpec, 'sysctls' | 'ipCommands'> = !prep
    ? { ipCommands: v6 ? [['addr', 'add', `${vip6}/128`, 'dev', 'lo']] : [] }
    : mode === 'dr'
    ? {
      sysctls: DR_SYSCTLS,
      ipCommands: [['addr', 'add', `${vip}/32`, 'dev', 'lo'], ['addr', 'add', `${vip6}/128`, 'dev', 'lo']],
    }
    : {
      // ipip's fallback device tunl0 decapsulates; replies leave by eth0 with the VIP as source.
      sysctls: { ...DR_SYSCTLS, 'net.ipv4.conf.all.rp_filter': 0, 'net.ipv4.conf.tunl0.rp_filter': 0, 'net.ipv4.conf.default.rp_filter': 0 },
      ipCommands: [['addr', 'add', `${vip}/32`, 'dev', 'tunl0'], ['link', 'set', 'tunl0', 'up']],
    };
  const host = (name: string, last: number, extra: Partial<HostSpec> = {}): HostSpec => ({
    name,
    links: [{ bridge: 'lan', addrs: [`10.77.0.${last}/24`, ...(v6 ? [`fd77::${last}/64`] : [])] }],
    ...extra,
  });
  return {
    spec: {
      bridges: [{ name: 'lan', addrs: ['10.77.0.1/24', `${vip}/32`, ...(v6 ? ['fd77::1/64', `${vip6}/128`] : [])] }],
      hosts: [host('client', 100), host('rs1', 11, rsPrep), host('rs2', 12, rsPrep)],
    },
    addrs: {
      director: ['10.77.0.1', v6 ? 'fd77::1' : undefined],
      client: ['10.77.0.100', v6 ? 'fd77::100' : undefined],
      rs1: ['10.77.0.11', v6 ? 'fd77::11' : undefined],
      rs2: ['10.77.0.12', v6 ? 'fd77::12' : undefined],
    },
    vip,
    vip6,
  };
}

function natSpec(): { spec: LabSpec; addrs: Record<string, [string, string | undefined]>; vip: string; vip6?: string } {
  const rs = (name: string, last: number): HostSpec => ({
    name,
    links: [{ bridge: 'back', addrs: [`10.77.2.${last}/24`, `fd77:2::${last}/64`] }],
    // Replies must go back through the director, which rewrites them to come from the VIP.
    routes: [['default', 'via', '10.77.2.1'], ['default', 'via', 'fd77:2::1']],
  });
  return {
    spec: {
      bridges: [
        { name: 'front', addrs: ['10.77.1.1/24', '10.77.1.10/32', 'fd77:1::1/64', 'fd77:1::10/128'] },
        { name: 'back', addrs: ['10.77.2.1/24', 'fd77:2::1/64'] },
      ],
      hosts: [
        { name: 'client', links: [{ bridge: 'front', addrs: ['10.77.1.100/24', 'fd77:1::100/64'] }] },
        rs('rs1', 11),
        rs('rs2', 12),
      ],
      sysctls: { 'net.ipv4.ip_forward': 1, 'net.ipv6.conf.all.forwarding': 1 },
    },
    addrs: {
      director: ['10.77.1.1', 'fd77:1::1'],
      client: ['10.77.1.100', 'fd77:1::100'],
      rs1: ['10.77.2.11', 'fd77:2::11'],
      rs2: ['10.77.2.12', 'fd77:2::12'],
    },
    vip: '10.77.1.10',
    vip6: 'fd77:1::10',
  };
}

/** Build the topology for `mode` and start the real servers. */
export async function buildScenario(mode: Mode, opts: ScenarioOptions = {}): Promise<Scenario> {
  // tunl0 appears in every namespace once ipip is loaded: load it before the namespaces exist.
  const prep = opts.realServerPrep !== false;
  if (mode === 'tun' && prep) await traced('modprobe ipip', () => execa('modprobe', ['ipip']));
  const { spec, addrs, vip, vip6 } = mode === 'nat' ? natSpec() : lanSpec(mode, prep);
  const servers: RunningServer[] = [];
  const conns: LongLivedConnection[] = [];
  const stopAll = () => traced('stop servers and connections', () => Promise.all([...conns.map((c) => c.close()), ...servers.map((s) => s.stop())]));
  // Servers start while the namespaces are configured: node takes a second or two to start here.
  const startServers = async (ns: Record<string, string>) => {
    if (opts.servers === false) return;
    const started = await Promise.allSettled(['rs1', 'rs2'].map((n) => traced(`server ${n}`, () => startServer(ns[n], n))));
    for (const r of started) if (r.status === 'fulfilled') servers.push(r.value);
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  };
  let lab: Lab;
  try {
    lab = await traced(`${mode} topology and servers`, () => createLab(spec, startServers));
  } catch (err) {
    await stopAll();
    throw err;
  }
  const cleanup = async () => {
    await stopAll();
    await lab.cleanup();
  };
  const endpoint = (name: string): Endpoint => ({ name, ns: lab.ns[name], addr: addrs[name][0], addr6: addrs[name][1] });
  const client = endpoint('client');
  const url = (o: { ipv6?: boolean; port?: number } = {}) => {
    if (o.ipv6 && !vip6) throw new Error(`topology: the ${mode} scenario has no IPv6`);
    return o.ipv6 ? `http://[${vip6}]:${o.port ?? HTTP_PORT}/` : `http://${vip}:${o.port ?? HTTP_PORT}/`;
  };
  const rs1 = endpoint('rs1');
  const rs2 = endpoint('rs2');
  return {
    mode,
    vip,
    vip6,
    port: HTTP_PORT,
    echoPort: ECHO_PORT,
    forward: ({ nat: '-m', dr: '-g', tun: '-i' } as const)[mode],
    ipvsNetns: undefined,
    director: { addr: addrs.director[0], addr6: addrs.director[1] },
    client,
    rs1,
    rs2,
    realServers: [rs1, rs2],
    lab,
    servers,
    url,
    fetch: (count, o = {}) => fetchMany(client.ns, url(o), count),
    connect: async (o = {}) => {
      const c = await openConnection(client.ns, o.ipv6 ? vip6! : vip, o.port ?? ECHO_PORT, o);
      conns.push(c);
      return c;
    },
    cleanup,
  };
}

export const natScenario = (opts?: ScenarioOptions) => buildScenario('nat', opts);
export const drScenario = (opts?: ScenarioOptions) => buildScenario('dr', opts);
export const tunScenario = (opts?: ScenarioOptions) => buildScenario('tun', opts);
