/**
 * The active-active tier in the kernel lab (issue 17), shared by test/kernel/tier-ecmp.test.ts
 * and bench/ecmp.ts. Namespaces (prefix tr): trr router, trd1-3 directors, trs1-4 DR real
 * servers, trc client; one bridge tr-lan (10.97.1.0/24: router .1, directors .11-.13, real
 * servers .21-.24) and the client link (10.97.3.0/24: router .1, client .100; the client's ten
 * source addresses 10.120-129.7.1/32, routed by the router over that link: see CLIENT_ADDRS). The VIP
 * 10.97.100.10:9000 reaches the directors over the router's ECMP route, learnt by BGP from
 * FRR in every director (lbctl's frr.conf and health gate) and in the router.
 *
 * Every director is built by `lbctl apply SPEC --node dN --netns trdN --root /run/tr-lab/root-dN`,
 * run inside its namespace (IPVS has no --netns; --netns keeps host records and locks per
 * namespace): VIP on lo, DR and IPVS sysctls, the IPVS table, frr.conf and the health gate's
 * script. FRR then starts from that frr.conf and the gate script runs (no systemd in the guest);
 * a second apply on each director must print "No changes.".
 */
import { execa, type ResultPromise } from 'execa';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { lbctlRoot } from '../../../src/cli/inprocess.js';
import { compileSpec } from '../../../src/cluster/generate.js';
import { tierDirectorDesired, tierRealServers, type TierDirectorDesired } from '../../../src/tier/expand.js';
import { GATE_PATHS } from '../../../src/tier/gate.js';
import { firstLink, firstRoute, parseMonitor, routeHops, type MonitorEvent } from './tier-monitor.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
export const VIP = '10.97.100.10';
export const PORT = 9000;
export const DIRECTORS = ['d1', 'd2', 'd3'];
export const REAL_SERVERS = ['s1', 's2', 's3', 's4'];
const ROUTER_ASN = 65097;
/**
 * The client's source addresses, 65536 apart. IPVS mh hashes the sum source address + source port
 * (ip_vs_mh.c, ip_vs_mh_hashkey), and a socket bound to an address gets an odd port from the lower
 * half of the range (32769-46883 here): ten consecutive addresses (10.97.3.100-109, before) give
 * only 14,124 distinct sums, of which the four-server table sends 25.6% to s1 and 24.6% to s3, a
 * fixed 2.5% lean in every burst. Addresses 65536 apart cannot share a sum: 70,580 distinct ones,
 * spread 24.99/24.99/24.98/25.03% (computed with a model of ip_vs_mh that matched the real server
 * of 7,868 of 7,868 lab connections; README "Active-active tier").
 */
const CLIENT_ADDRS = Array.from({ length: 10 }, (_, i) => `10.${120 + i}.7.1`);
const ns = (h: string) => `tr${h}`;
export const dirAddr = (d: string) => `10.97.1.${10 + Number(d.slice(1))}`;
const rsAddr = (s: string) => `10.97.1.${20 + Number(s.slice(1))}`;
export const work = '/run/tr-lab';
const t0 = performance.now();
/** Progress on stderr: a TCG lab is slow, and a silent hook says nothing about where it is. */
export const trace = (what: string) => process.stderr.write(`[tier lab ${((performance.now() - t0) / 1000).toFixed(1)} s] ${what}\n`);

type Child = ResultPromise<{ buffer: false; stdin: 'pipe'; stdout: 'pipe'; stderr: 'pipe'; reject: false }>;
const children: Child[] = [];

async function sh(cmd: string, args: string[], opts: { reject?: boolean } = {}) {
  return execa(cmd, args, { reject: opts.reject ?? true, timeout: 120_000 });
}
const nsx = (n: string, cmd: string, args: string[], opts?: { reject?: boolean }) => sh('ip', ['netns', 'exec', ns(n), cmd, ...args], opts);

/**
 * `lbctl ARGS` for a namespace: host prep with --netns from the root namespace (its lock is per
 * namespace that way; under `ip netns exec` every namespace shares the lock `hostprep@host`, seen
 * in the lab as exit 12 for concurrent preps), IPVS commands inside it (IPVS has no --netns).
 */
export async function lbctl(n: string, args: string[]) {
  trace(`${ns(n)}: lbctl ${args.join(' ')}`);
  const prep = args[1] === 'prep';
  const inside = ['ip', 'netns', 'exec', ns(n), process.execPath, path.join(lbctlRoot(), 'bin', 'run.js'), ...args];
  const argv = prep ? [process.execPath, path.join(lbctlRoot(), 'bin', 'run.js'), ...args, '--netns', ns(n)] : args[0] === 'apply' ? [...inside, '--netns', ns(n)] : inside;
  const r = await execa(argv[0], argv.slice(1), { reject: false, timeout: 300_000, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new Error(`lbctl ${args.join(' ')} in ${ns(n)} exited ${r.exitCode}: ${r.stderr || r.stdout}`);
  return r.stdout;
}

function spawn(n: string, cmd: string, args: string[], env: Record<string, string> = {}): Child {
  const c = execa('ip', ['netns', 'exec', ns(n), cmd, ...args], { buffer: false, stdin: 'pipe', stdout: 'pipe', stderr: 'pipe', reject: false, env }) as Child;
  children.push(c);
  return c;
}

function lines(c: Child, timeoutMs = 120_000): () => Promise<string> {
  let buf = '';
  const queue: string[] = [];
  const waiting: Array<(l: string) => void> = [];
  c.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiting.shift();
      if (w) w(l); else queue.push(l);
    }
  });
  return () => new Promise((resolve, reject) => {
    const l = queue.shift();
    if (l !== undefined) { resolve(l); return; }
    const t = setTimeout(() => reject(new Error(`no answer in ${timeoutMs / 1000} s`)), timeoutMs);
    waiting.push((x) => { clearTimeout(t); resolve(x); });
  });
}

/**
 * `ip -ts monitor WHAT` in a namespace for the lab's lifetime: its stamped events (guest wall
 * clock, as Date.now()) time the failovers. TZ=UTC: ip stamps in local time.
 */
function monitor(n: string, what: string[]): () => MonitorEvent[] {
  const c = execa('ip', ['-ts', '-n', ns(n), 'monitor', ...what], { buffer: false, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', reject: false, env: { TZ: 'UTC' } }) as unknown as Child;
  children.push(c);
  let text = '';
  c.stdout!.on('data', (d: Buffer) => { text += d.toString(); });
  return () => parseMonitor(text);
}

export interface Client {
  ask<T>(cmd: string): Promise<T>;
}

async function frr(n: string, conf: string): Promise<void> {
  const dir = `/run/frr/${ns(n)}`;
  await fs.mkdir(dir, { recursive: true });
  await fs.writeFile(path.join(dir, 'frr.conf'), conf);
  await sh('chown', ['-R', 'frr:frr', dir]);
  for (const d of ['zebra', 'bfdd', 'bgpd']) {
    await nsx(n, `/usr/lib/frr/${d}`, ['-d', '-f', `${dir}/frr.conf`, '-z', `${dir}/zserv.api`, '--vty_socket', dir, '-i', `${dir}/${d}.pid`, '-u', 'frr', '-g', 'frr', '-A', '127.0.0.1']);
  }
}

function routerConf(bfd: boolean): string {
  return [
    'frr defaults traditional', 'hostname router', '!',
    `router bgp ${ROUTER_ASN}`, ' bgp router-id 10.97.1.1', ' no bgp ebgp-requires-policy', ' timers bgp 1 3',
    ...DIRECTORS.flatMap((d) => [` neighbor ${dirAddr(d)} remote-as 65098`, ...(bfd ? [` neighbor ${dirAddr(d)} bfd profile lbctl-tier`] : [])]),
    ' !', ' address-family ipv4 unicast', '  maximum-paths 8', ' exit-address-family', '!',
    ...(bfd ? ['bfd', ' profile lbctl-tier', '  transmit-interval 300', '  receive-interval 300', '  detect-multiplier 3', '!'] : []),
  ].join('\n') + '\n';
}

export interface Tier {
  desired: Map<string, TierDirectorDesired>;
  /** Each director's second `lbctl apply` (human output) and its --json `changed`. */
  secondApply: Map<string, { text: string; changed: boolean }>;
  client: Client;
  /** The router's route events and each director's link events so far (ip -ts monitor). */
  routeEvents(): MonitorEvent[];
  linkEvents(d: string): MonitorEvent[];
  /** Directors the router's route to the VIP holds now. */
  nexthops(): Promise<string[]>;
  /** ms until the router's route holds exactly `want` directors (polled; resolution in `pollMs`). */
  waitNexthops(want: number, timeoutMs?: number): Promise<{ ms: number; polls: number }>;
  withdraw(d: string): Promise<void>;
  announce(d: string): Promise<void>;
  linkDown(d: string): Promise<void>;
  linkUp(d: string): Promise<void>;
  /**
   * Restart FRR on the router and every director, with or without BFD (the bench's "without BFD":
   * BGP timers 1/3 s only); the directors' frr.conf is the one lbctl apply installed, its BFD
   * lines dropped for false. Resolves once the router's route holds every director again.
   */
  restartFrr(bfd: boolean): Promise<void>;
  /** Put one scheduler on every director's service (the rr anchor), through lbctl restore. */
  setScheduler(rules: (d: TierDirectorDesired) => string): Promise<void>;
  digests(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Build the whole tier from the spec; bfd false strips BFD from every FRR config (the bench's "without BFD"). */
export async function buildTier(opts: { spec?: string; bfd?: boolean } = {}): Promise<Tier> {
  try {
    return await buildTierOnce(opts);
  } catch (e) {
    // A half-built tier still has servers and daemons running: the guest job would never end.
    await stopAll();
    throw e;
  }
}

const HOSTS = ['r', ...DIRECTORS, ...REAL_SERVERS, 'c'];

/** Kill every process this lab started and delete its namespaces and bridge. */
export async function stopAll(): Promise<void> {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => Promise.race([c, new Promise((r) => setTimeout(r, 5000))])));
  for (const c of children) c.kill('SIGKILL');
  children.length = 0;
  for (const h of ['r', ...DIRECTORS]) {
    for (const d of ['bgpd', 'bfdd', 'zebra']) {
      const pid = await fs.readFile(`/run/frr/${ns(h)}/${d}.pid`, 'utf8').catch(() => '');
      if (/^\d+\s*$/.test(pid)) { try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ } }
    }
  }
  for (const h of HOSTS) await sh('ip', ['netns', 'del', ns(h)], { reject: false });
  await sh('ip', ['link', 'del', 'tr-lan'], { reject: false });
}

async function buildTierOnce(opts: { spec?: string; bfd?: boolean }): Promise<Tier> {
  const bfd = opts.bfd !== false;
  const compiled = await compileSpec(opts.spec ?? path.join(lbctlRoot(), 'examples', 'tier-ecmp.yaml'));
  const spec = compiled.spec;
  if (!bfd && spec.tier?.bgp) spec.tier.bgp.bfd = false;
  const desired = new Map(DIRECTORS.map((d) => [d, tierDirectorDesired(spec, d)]));
  await fs.mkdir(work, { recursive: true });

  trace('namespaces and links');
  // Batched: each exec costs seconds in a loaded TCG guest (80 single commands took 300 s).
  const batch = (netns: string | undefined, cmds: string[]) => execa('ip', [...(netns ? ['-n', netns] : []), '-batch', '-'], { input: `${cmds.join('\n')}\n`, timeout: 120_000 });
  const hosts = HOSTS;
  for (const h of hosts) await sh('ip', ['netns', 'add', ns(h)]);
  const lan = hosts.filter((x) => x !== 'c');
  await batch(undefined, [
    'link add tr-lan type bridge', 'link set tr-lan up',
    ...lan.flatMap((h) => [`link add tr-${h} type veth peer name tr-${h}-p`, `link set tr-${h}-p netns ${ns(h)}`, `link set tr-${h} master tr-lan up`]),
    'link add tr-c type veth peer name tr-c-p', `link set tr-c netns ${ns('r')}`, `link set tr-c-p netns ${ns('c')}`,
  ]);
  for (const h of lan) {
    const addr = h === 'r' ? '10.97.1.1' : h.startsWith('d') ? dirAddr(h) : rsAddr(h);
    await batch(ns(h), [
      'link set lo up', `link set tr-${h}-p name eth0`, `addr add ${addr}/24 dev eth0`, 'link set eth0 up',
      ...(h === 'r' ? ['addr add 10.97.3.1/24 dev tr-c', 'link set tr-c up'] : ['route add default via 10.97.1.1']),
    ]);
  }
  await batch(ns('c'), ['link set lo up', 'addr add 10.97.3.100/24 dev tr-c-p', ...CLIENT_ADDRS.map((a) => `addr add ${a}/32 dev tr-c-p`), 'link set tr-c-p up', 'route add default via 10.97.3.1']);
  await batch(ns('r'), CLIENT_ADDRS.map((a) => `route add ${a}/32 dev tr-c`));
  // The router: forwarding, and an ECMP hash over the 5-tuple (policy 1 split single flows over veth).
  for (const [k, v] of [['net.ipv4.ip_forward', '1'], ['net.ipv4.fib_multipath_hash_policy', '3'], ['net.ipv4.fib_multipath_hash_fields', '0x0037']]) {
    await nsx('r', 'sysctl', ['-qw', `${k}=${v}`]);
  }
  trace('links up');
  const routeEvents = monitor('r', ['route']);
  const linkEvents = new Map(DIRECTORS.map((d) => [d, monitor(d, ['link'])]));

  // Real servers: lbctl realserver prep (VIP on lo, ARP quiet), then an echo server naming itself.
  const rsPrep = new Map(tierRealServers(spec.tier!).map((r) => [r.address, r.prep]));
  await Promise.all(REAL_SERVERS.map(async (s) => {
    await lbctl(s, rsPrep.get(rsAddr(s))!);
    const c = spawn(s, process.execPath, [here('tier-echo.js'), s, String(PORT)]);
    if (await lines(c)() !== 'ready') throw new Error(`echo server ${s} did not start`);
    trace(`${ns(s)}: echo server ready`);
  }));

  // Directors: one lbctl apply each, then FRR from the frr.conf it installed and the gate script it
  // installed; a second apply must change nothing.
  const specFile = compiled.file;
  const secondApply = new Map<string, { text: string; changed: boolean }>();
  await Promise.all(DIRECTORS.map(async (d) => {
    const root = path.join(work, `root-${d}`);
    await fs.mkdir(root, { recursive: true });
    const apply = ['apply', specFile, '--node', d, '--root', root, '--lock-timeout', '10m'];
    await lbctl(d, apply);
    await frr(d, await fs.readFile(path.join(root, 'etc/frr/frr.conf'), 'utf8'));
    spawn(d, 'bash', [path.join(root, GATE_PATHS.script)], { LBCTL_VTY_SOCKET: `/run/frr/${ns(d)}`, LBCTL_TIER_MAINTENANCE: path.join(work, `${d}.maintenance`), PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' });
    trace(`${ns(d)}: FRR and gate started`);
    const json = JSON.parse(await lbctl(d, [...apply, '--json'])) as { changed: boolean };
    const text = await lbctl(d, apply);
    secondApply.set(d, { text, changed: json.changed });
  }));
  await frr('r', routerConf(bfd));
  trace('router FRR started');

  const clientProc = spawn('c', process.execPath, [here('tier-clients.js'), VIP, String(PORT), CLIENT_ADDRS.join(',')]);
  // A spread burst (SPREAD_BURST) took 44-88 s per 1000 in a TCG guest on a loaded host.
  const next = lines(clientProc, 900_000);
  const client: Client = {
    async ask<T>(cmd: string): Promise<T> {
      clientProc.stdin!.write(`${cmd}\n`);
      const answer = JSON.parse(await next()) as T & { error?: string };
      if (answer.error) throw new Error(`client ${cmd}: ${answer.error}`);
      return answer;
    },
  };

  trace('client started');
  async function nexthops(): Promise<string[]> {
    const r = await sh('ip', ['-n', ns('r'), '-j', 'route', 'show', `${VIP}/32`]);
    const routes = JSON.parse(r.stdout || '[]') as Array<{ gateway?: string; nexthops?: Array<{ gateway: string }>; nhid?: number }>;
    if (!routes.length) return [];
    const rt = routes[0];
    if (rt.nexthops) return rt.nexthops.map((n) => n.gateway);
    if (rt.gateway) return [rt.gateway];
    if (rt.nhid !== undefined) {
      const g = JSON.parse((await sh('ip', ['-n', ns('r'), '-j', 'nexthop', 'show', 'id', String(rt.nhid)])).stdout) as Array<{ group?: Array<{ id: number }>; gateway?: string }>;
      if (g[0]?.gateway) return [g[0].gateway];
      const out: string[] = [];
      for (const m of g[0]?.group ?? []) {
        const x = JSON.parse((await sh('ip', ['-n', ns('r'), '-j', 'nexthop', 'show', 'id', String(m.id)])).stdout) as Array<{ gateway?: string }>;
        if (x[0]?.gateway) out.push(x[0].gateway);
      }
      return out;
    }
    return [];
  }

  const tier: Tier = {
    desired,
    secondApply,
    client,
    routeEvents,
    linkEvents: (d) => linkEvents.get(d)!(),
    nexthops,
    async waitNexthops(want, timeoutMs = 240_000) {
      const t0 = performance.now();
      let polls = 0;
      while (performance.now() - t0 < timeoutMs) {
        polls++;
        if ((await nexthops()).length === want) return { ms: Math.round(performance.now() - t0), polls };
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`the router's route to ${VIP} did not reach ${want} next hops in ${timeoutMs} ms (has ${(await nexthops()).join(', ')})`);
    },
    async withdraw(d) { await fs.writeFile(path.join(work, `${d}.maintenance`), ''); },
    async announce(d) { await fs.rm(path.join(work, `${d}.maintenance`), { force: true }); },
    async linkDown(d) { await nsx(d, 'ip', ['link', 'set', 'eth0', 'down']); },
    async linkUp(d) {
      await nsx(d, 'ip', ['link', 'set', 'eth0', 'up']);
      await nsx(d, 'ip', ['route', 'replace', 'default', 'via', '10.97.1.1']);
    },
    async restartFrr(withBfd) {
      for (const h of ['r', ...DIRECTORS]) await killFrr(h);
      for (const d of DIRECTORS) {
        const conf = await fs.readFile(path.join(work, `root-${d}`, 'etc/frr/frr.conf'), 'utf8');
        await frr(d, withBfd ? conf : withoutBfd(conf));
      }
      await frr('r', routerConf(withBfd));
      await tier.waitNexthops(DIRECTORS.length);
    },
    async setScheduler(rules) {
      for (const d of DIRECTORS) {
        const file = path.join(work, `${d}.anchor.rules`);
        await fs.writeFile(file, rules(desired.get(d)!));
        await lbctl(d, ['restore', file]);
      }
    },
    async digests() {
      return Promise.all(DIRECTORS.map(async (d) => {
        const r = await execa('ip', ['netns', 'exec', ns(d), process.execPath, path.join(lbctlRoot(), 'bin', 'run.js'), 'director', 'check', '--mode', 'dr', '--vip', VIP, '--dev', 'lo', '--tier', '--json'], { reject: false });
        return (JSON.parse(r.stdout) as { tier: { digest: string; ok: boolean } }).tier.digest;
      }));
    },
    async stop() {
      for (const d of DIRECTORS) await fs.writeFile(path.join(work, `${d}.maintenance`), '').catch(() => undefined);
      await stopAll();
    },
  };
  return tier;
}

/** The no-BFD case: the same frr.conf without its BFD lines (the router has none either). */
async function stripBfd(file: string): Promise<void> {
  const text = await fs.readFile(file, 'utf8');
  await fs.writeFile(file, text.replace(/^ neighbor \S+ bfd profile .*\n/gm, '').replace(/^bfd\n( .*\n)*/m, ''));
}

/** The same frr.conf without its BFD lines. */
export function withoutBfd(text: string): string {
  return text.replace(/^ neighbor \S+ bfd profile .*\n/gm, '').replace(/^bfd\n(?: .*\n)*(?:!\n)?/m, '');
}

/** Stop one namespace's FRR daemons (by their pidfiles) and wait until they are gone. */
async function killFrr(h: string): Promise<void> {
  for (const d of ['bgpd', 'bfdd', 'zebra']) {
    const pid = Number((await fs.readFile(`/run/frr/${ns(h)}/${d}.pid`, 'utf8').catch(() => '')).trim());
    if (!Number.isInteger(pid) || pid <= 1) continue;
    try { process.kill(pid, 'SIGTERM'); } catch { continue; }
    for (let i = 0; i < 300; i++) {
      try { process.kill(pid, 0); } catch { break; }
      await new Promise((r) => setTimeout(r, 100));
    }
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/** The worst deviation from an even spread, as a fraction of even (0.15 = 15%). */
export function spreadError(servers: Record<string, number>, names = REAL_SERVERS): number {
  const total = names.reduce((a, n) => a + (servers[n] ?? 0), 0);
  const even = total / names.length;
  return Math.max(...names.map((n) => Math.abs((servers[n] ?? 0) - even) / even));
}

/**
 * How many new connections the spread check makes, and its bound. Even a perfectly even
 * scheduler spreads a burst binomially: each server's count is Binomial(N, 1/4), and the check
 * fails when any of the four leaves [0.85, 1.15] x N/4. Exact binomial tails (one server; the
 * union bound over four):
 *   N = 1000: outside [213, 287] p = 6.2e-3, any of four <= 2.5e-2 (CI's 297 of 1000 was one)
 *   N = 2000: outside [425, 575] p = 9.8e-5, any <= 3.9e-4
 *   N = 3000: outside [638, 862] p = 2.2e-6, any <= 8.7e-6
 * so 3000 keeps a false failure below 1e-4 (with the old client addresses' 2.5% lean on s1, see
 * CLIENT_ADDRS, it was 6.9e-5 at 3000 and 3.3e-2 at 1000). A real bias is still caught: a server
 * whose true share is 20% above even (0.30 of 3000, mean 900) is outside the bound 93% of the
 * time, 25% above 99.85%; exactly 15% above sits on the bound (caught half the time).
 */
export const SPREAD_BURST = 3000;
export const SPREAD_BOUND = 0.15;

/** The verdict on one burst: fails with the per-server counts in its message. */
export function spreadVerdict(burst: { servers: Record<string, number>; failed: number }, n = SPREAD_BURST): { ok: boolean; error: number; message: string } {
  const error = spreadError(burst.servers);
  // Spread is the claim here, not delivery: in the TCG guest under load a few short connections
  // time out (7 of 1000 in one run, SYN retransmits past the client's 10 s), so allow 1%.
  if (burst.failed * 100 > n) return { ok: false, error, message: `${burst.failed} of ${n} connections failed: ${JSON.stringify(burst.servers)}` };
  const ok = error <= SPREAD_BOUND;
  return { ok, error, message: `spread ${JSON.stringify(burst.servers)} of ${n} is ${(error * 100).toFixed(1)}% off even (bound ${SPREAD_BOUND * 100}%)` };
}

export interface FailoverResult {
  how: string;
  /** Guest wall clock of the leave: the maintenance file written (withdraw), eth0 down as the kernel reported it (link). */
  eventAt: number | null;
  /** From the leave to the router's route event that left exactly the other directors (ip -ts monitor); null if not seen. */
  dropMs: number | null;
  /** The next hops that route event left. */
  droppedTo: string[];
  /** The same drop as seen by polling `ip route` from node (seconds of exec each in the TCG guest): the correctness check. */
  pollDropMs: number;
  polls: number;
  survived: number;
  total: number;
  onDirector: number;
  /** From the rejoin (maintenance file removed / eth0 up) to the route holding every director again (monitor). */
  rejoinMs: number | null;
  pollRejoinMs: number;
  survivedRejoin: number;
  closedCodes: string[];
}

const round = (x: number) => Math.round(x * 10) / 10;

/** One failover case: open 100 connections, take `d` out, time the route drop, wait, bring it back, report. */
export async function failoverCase(tier: Tier, how: 'withdraw' | 'link', d = 'd2', settleMs = 6000): Promise<FailoverResult> {
  trace(`case ${how}: waiting for 3 next hops`);
  await tier.waitNexthops(DIRECTORS.length);
  const opened = await tier.client.ask<{ up: number }>('open 100');
  await new Promise((r) => setTimeout(r, 2000));
  const conns = await execa('ip', ['netns', 'exec', `tr${d}`, 'ipvsadm', '-Lnc'], { reject: false });
  const onDirector = conns.stdout.split('\n').filter((l) => /ESTABLISHED/.test(l)).length;
  trace(`case ${how}: ${opened.up} open, ${onDirector} on ${d}`);
  const addr = dirAddr(d);
  const t0 = performance.now();
  const before = Date.now();
  if (how === 'withdraw') await tier.withdraw(d); else await tier.linkDown(d);
  const drop = await tier.waitNexthops(DIRECTORS.length - 1);
  const pollDropMs = Math.round(performance.now() - t0);
  await new Promise((r) => setTimeout(r, settleMs));
  const eventAt = how === 'withdraw' ? before : firstLink(tier.linkEvents(d), 'eth0', before, false)?.t ?? null;
  const dropped = eventAt === null ? undefined : firstRoute(tier.routeEvents(), VIP, eventAt, (h) => h.length === DIRECTORS.length - 1 && !h.includes(addr));
  const after = await tier.client.ask<{ up: number; closed: Array<{ code: string }> }>('report');
  trace(`case ${how}: route dropped ${d} ${dropped && eventAt !== null ? `${round(dropped.t - eventAt)} ms` : '(not seen by the monitor)'} after the leave; ${after.up} alive`);
  const t1 = performance.now();
  const back0 = Date.now();
  if (how === 'withdraw') await tier.announce(d); else await tier.linkUp(d);
  await tier.waitNexthops(DIRECTORS.length);
  const pollRejoinMs = Math.round(performance.now() - t1);
  await new Promise((r) => setTimeout(r, settleMs));
  const backAt = how === 'withdraw' ? back0 : firstLink(tier.linkEvents(d), 'eth0', back0, true)?.t ?? null;
  const rejoined = backAt === null ? undefined : firstRoute(tier.routeEvents(), VIP, backAt, (h) => h.length === DIRECTORS.length);
  const back = await tier.client.ask<{ up: number; closed: Array<{ code: string }> }>('report');
  await tier.client.ask('close');
  return {
    how, eventAt, dropMs: dropped && eventAt !== null ? round(dropped.t - eventAt) : null, droppedTo: dropped ? routeHopsOf(dropped) : [],
    pollDropMs, polls: drop.polls, survived: after.up, total: opened.up, onDirector,
    rejoinMs: rejoined && backAt !== null ? round(rejoined.t - backAt) : null, pollRejoinMs,
    survivedRejoin: back.up, closedCodes: back.closed.map((c) => c.code),
  };
}

function routeHopsOf(e: MonitorEvent): string[] {
  return routeHops(e, VIP) ?? [];
}
