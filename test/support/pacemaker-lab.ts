/**
 * A real two-node corosync + pacemaker cluster in namespaces, configured from files lbctl
 * generates (`config generate`), following issue 16's verified recipe.
 *
 * Each node is one long-lived PID-1 shell in its own net, mount, UTS and PID namespace: every
 * `ip netns exec` makes a fresh mount namespace, so the bind mounts must live in that one
 * process, and without the PID namespace a daemonised haproxy would escape to the host's PID 1
 * and outlive the node's "power-off". Killing the shell (unshare --kill-child) takes every
 * daemon of the node with it.
 *
 * Net: a bridge in namespace pk-sw joins pk-n1 (10.96.0.1), pk-n2 (10.96.0.2) and the client
 * pk-cl (10.96.0.10); the VIP is 10.96.0.100. Each node runs a tiny HTTP backend on
 * 127.0.0.1:8081 answering its own name, so a probe through the VIP says which node answered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { labHaproxy, lbctl, sleep } from './keepalived-lab.js';

export const PL_NET = { n1: '10.96.0.1', n2: '10.96.0.2', client: '10.96.0.10', vip: '10.96.0.100', prefix: 24 };
export const NODES = ['pk1', 'pk2'] as const;
export type NodeName = typeof NODES[number];
const NS: Record<NodeName, string> = { pk1: 'pk-n1', pk2: 'pk-n2' };
const ADDR: Record<NodeName, string> = { pk1: PL_NET.n1, pk2: PL_NET.n2 };
const SW = 'pk-sw';
const CLIENT = 'pk-cl';

export interface LabSpecOptions {
  /** Fence devices using the lab's fence agent (default), or fencing: none. */
  fencing?: boolean;
  /** Extra lines under pacemaker: (indented two spaces). */
  pacemakerExtra?: string[];
  /** corosync token in ms (default 1000, the product's default). */
  token?: number;
}

/** The lab's test fence agent: installed only in the nodes' mount namespaces (and the install's). */
export const LAB_FENCE_AGENT = 'fence_pklab';

export function pacemakerSpec(dir: string, opts: LabSpecOptions = {}): string {
  const fencing = opts.fencing === false ? ['  fencing: none', '  acknowledge_no_fencing: true'] : ['  fencing:', ...NODES.map((n) =>
    `    - { id: fence_${n}, agent: ${LAB_FENCE_AGENT}, node: ${n}, params: { request_dir: ${path.join(dir, 'fence')} }, monitor_interval: 30s }`)];
  return `# pacemaker lab spec (test/support/pacemaker-lab.ts)
cluster: pklab
ha: pacemaker
nodes:
  - { name: pk1, address: ${PL_NET.n1}/${PL_NET.prefix}, interface: eth0 }
  - { name: pk2, address: ${PL_NET.n2}/${PL_NET.prefix}, interface: eth0 }
pacemaker:
  transport: knet
  token: ${opts.token ?? 1000}
  vips:
    - { id: vip, address: ${PL_NET.vip}/${PL_NET.prefix} }
  proxy: { id: haproxy, agent: "lsb:haproxy" }
  preferred_node: pk1
${[...fencing, ...(opts.pacemakerExtra ?? []).map((l) => `  ${l}`)].join('\n')}
${labHaproxy({ global: '  global: { daemon: true }\n', servers: ['{ name: local, address: "127.0.0.1:8081" }'] })}`;
}

/**
 * A fence agent for the lab (fence-agents' stdin protocol: key=value lines, or -o ACTION on
 * the command line). off/reboot ask the harness to power the target off by writing
 * request-TARGET in request_dir, and succeed once the harness has written off-TARGET: the
 * node's PID namespace cannot see the other node's processes, the harness can.
 */
const FENCE_AGENT = `#!/usr/bin/python3
import os, sys, time
META = """<?xml version="1.0" ?>
<resource-agent name="${LAB_FENCE_AGENT}" shortdesc="lbctl test lab: power a lab node off through the harness">
<longdesc>Test-only fence agent of lbctl's pacemaker lab.</longdesc>
<parameters>
<parameter name="action" unique="0" required="0"><getopt mixed="-o, --action=[action]"/><content type="string" default="reboot"/><shortdesc lang="en">Fencing action</shortdesc></parameter>
<parameter name="plug" unique="0" required="0"><getopt mixed="-n, --plug=[node]"/><content type="string"/><shortdesc lang="en">Node to fence</shortdesc></parameter>
<parameter name="port" unique="0" required="0" deprecated="1"><getopt mixed="-n, --plug=[node]"/><content type="string"/><shortdesc lang="en">Node to fence</shortdesc></parameter>
<parameter name="request_dir" unique="0" required="1"><getopt mixed="--request-dir=[dir]"/><content type="string"/><shortdesc lang="en">Directory the harness watches</shortdesc></parameter>
</parameters>
<actions>
<action name="on"/><action name="off"/><action name="reboot"/><action name="status"/><action name="monitor"/><action name="list"/><action name="metadata"/>
</actions>
</resource-agent>"""
opts = {}
argv = sys.argv[1:]
i = 0
while i < len(argv):
    a = argv[i]
    if a in ("-o", "-n") and i + 1 < len(argv):
        opts["action" if a == "-o" else "plug"] = argv[i + 1]; i += 2; continue
    if a.startswith("--") and "=" in a:
        k, v = a[2:].split("=", 1); opts[k.replace("-", "_")] = v
    i += 1
if not argv:
    for line in sys.stdin:
        if "=" in line:
            k, v = line.strip().split("=", 1); opts[k] = v
action = opts.get("action", "reboot")
target = opts.get("plug") or opts.get("port") or opts.get("nodename", "")
if action == "metadata":
    print(META); sys.exit(0)
if action in ("monitor", "list", "validate-all"):
    sys.exit(0)
req = opts.get("request_dir", "")
off = os.path.join(req, "off-" + target)
if action == "status":
    sys.exit(2 if os.path.exists(off) else 0)
if action in ("off", "reboot"):
    with open(os.path.join(req, "request-" + target), "w") as f:
        f.write(action)
    for _ in range(1000):
        if os.path.exists(off):
            sys.exit(0)
        time.sleep(0.02)
    sys.exit(1)
sys.exit(0 if action == "on" else 1)
`;

/** Runs argv with the lab's fence agent visible in /usr/sbin (an overlay in a private mount namespace). */
const WITH_AGENT = `#!/bin/sh
set -e
mount -t overlay overlay -o "lowerdir=$1:/usr/sbin" /usr/sbin
shift
exec "$@"
`;

const INIT = `#!/bin/sh
# PID 1 of one lab node: private mounts, then corosync and pacemakerd in the foreground.
set -e
R="$1"; NODE="$2"
for d in etc/corosync var/lib/corosync var/log/corosync var/lib/pacemaker var/log/pacemaker etc/haproxy; do mount --bind "$R/$d" "/$d"; done
mount --bind "$R/hosts" /etc/hosts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm
mkdir -p /run/lock /run/haproxy
# The lab's fence agent, visible to this node's pacemaker-fenced (it runs agents from /usr/sbin) only.
mount -t overlay overlay -o "lowerdir=$3:/usr/sbin" /usr/sbin
hostname "$NODE"
ip link set lo up
chown -R hacluster:haclient /var/lib/pacemaker /var/log/pacemaker 2>/dev/null || true
(cd "$R/www" && exec python3 -m http.server 8081 --bind 127.0.0.1 >/dev/null 2>&1) &
corosync -f >"$R/corosync.out" 2>&1 &
sleep 0.5
pacemakerd -f >"$R/pacemakerd.out" 2>&1 &
set +e
trap 'exit 0' TERM
while :; do sleep 1 & wait $!; done
`;

/**
 * One probe: `t` when it started, `heldAt` when its reading of the VIP's holders had finished.
 * Under load the two can be hundreds of ms apart, so an ordering claim ("the VIP was on pk1
 * before pk2 was fenced") must use heldAt, the latest moment the reading can describe.
 */
export interface Probe { t: number; ok: boolean; node?: string; holders: NodeName[]; heldAt: number }

export class PacemakerLab {
  readonly shells = new Map<NodeName, ChildProcess>();
  readonly pids = new Map<NodeName, number>();
  private constructor(readonly dir: string) {}

  static async create(): Promise<PacemakerLab> {
    const lab = new PacemakerLab(await fs.mkdtemp(path.join(os.tmpdir(), 'pk-pcmk-')));
    await lab.cleanNet();
    const ip = (...a: string[]) => execa('ip', a);
    for (const ns of [SW, NS.pk1, NS.pk2, CLIENT]) await ip('netns', 'add', ns);
    await ip('-n', SW, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', SW, 'link', 'set', 'br0', 'up');
    const wire = async (ns: string, tag: string, addr: string) => {
      await ip('-n', SW, 'link', 'add', `p-${tag}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      await ip('-n', SW, 'link', 'set', `p-${tag}`, 'master', 'br0', 'up');
      await ip('-n', ns, 'addr', 'add', `${addr}/${PL_NET.prefix}`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    };
    await wire(NS.pk1, 'n1', PL_NET.n1);
    await wire(NS.pk2, 'n2', PL_NET.n2);
    await wire(CLIENT, 'cl', PL_NET.client);
    return lab;
  }

  async cleanNet(): Promise<void> {
    for (const ns of [SW, NS.pk1, NS.pk2, CLIENT]) await execa('ip', ['netns', 'del', ns], { reject: false });
  }

  get fenceDir(): string { return path.join(this.dir, 'fence'); }
  private get sbin(): string { return path.join(this.dir, 'sbin-extra'); }
  /** Fences the harness carried out, in order: which node, when the harness began the power-off (`start`) and when it was done (`t`). */
  readonly fenced: Array<{ node: NodeName; start: number; t: number }> = [];
  private fenceWatch?: NodeJS.Timeout;

  /** lbctl on the host, with the lab's fence agent visible (config install checks its metadata). */
  lbctlHost(args: string[]) {
    const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', 'bin', 'run.js');
    return execa('unshare', ['--mount', '--propagation', 'private', '--', '/bin/sh', path.join(this.dir, 'with-agent.sh'), this.sbin, process.execPath, bin, ...args],
      { reject: false, timeout: 180_000, env: { NO_COLOR: '1' } });
  }

  /**
   * Installs the spec's files for both nodes with `lbctl config install --root NODE-ROOT` (its
   * daemon checks included): pk1 first, which makes the authkey; pk2 gets a copy before its
   * own install, as a second real node would.
   */
  async install(specText: string): Promise<void> {
    const spec = path.join(this.dir, 'lab.yaml');
    await fs.writeFile(spec, specText);
    await fs.mkdir(this.sbin, { recursive: true });
    await fs.mkdir(this.fenceDir, { recursive: true });
    await fs.writeFile(path.join(this.sbin, LAB_FENCE_AGENT), FENCE_AGENT, { mode: 0o755 });
    await fs.writeFile(path.join(this.dir, 'with-agent.sh'), WITH_AGENT, { mode: 0o755 });
    for (const n of NODES) {
      const r = path.join(this.dir, n);
      for (const d of ['etc/corosync', 'var/lib/corosync', 'var/lib/pacemaker/cib', 'var/lib/pacemaker/pengine', 'var/lib/pacemaker/blackbox', 'var/lib/pacemaker/cores', 'var/log/pacemaker', 'var/log/corosync', 'etc/haproxy', 'www']) {
        await fs.mkdir(path.join(r, d), { recursive: true });
      }
      if (n !== NODES[0]) await fs.copyFile(path.join(this.dir, NODES[0], 'etc/corosync/authkey'), path.join(r, 'etc/corosync/authkey'));
      const inst = await this.lbctlHost(['config', 'install', spec, '--node', n, '--root', r, '--json']);
      if (inst.exitCode !== 0) throw new Error(`config install --node ${n}: exit ${inst.exitCode}: ${inst.stderr}`);
      const report = JSON.parse(String(inst.stdout));
      this.installReports.push(report);
      await fs.writeFile(path.join(r, 'hosts'), `127.0.0.1 localhost\n${PL_NET.n1} pk1\n${PL_NET.n2} pk2\n`);
      await fs.writeFile(path.join(r, 'www', 'index.html'), n);
    }
    await fs.writeFile(path.join(this.dir, 'init.sh'), INIT, { mode: 0o755 });
    // 20 ms: the harness's share of a fence stays small beside the product's (docs/DEV.md).
    this.fenceWatch = setInterval(() => { void this.serveFences(); }, 20);
  }

  /** What `config install --json` reported per node. */
  readonly installReports: Array<{ node: string; changed: boolean; warnings: string[]; pacemaker?: { authkey: string } }> = [];

  private serving = false;
  /** Carries out the fence agent's requests: power the target off, then say so. */
  private async serveFences(): Promise<void> {
    if (this.serving) return;
    this.serving = true;
    try {
      for (const f of await fs.readdir(this.fenceDir).catch(() => [] as string[])) {
        const m = /^request-(pk[12])$/.exec(f);
        if (!m) continue;
        const node = m[1] as NodeName;
        const start = Date.now();
        // A node already off (the power-off case) is confirmed at once, as a power switch would.
        if (this.pids.has(node)) await this.powerOff(node);
        this.fenced.push({ node, start, t: Date.now() });
        await fs.writeFile(path.join(this.fenceDir, `off-${node}`), String(Date.now()));
        await fs.rm(path.join(this.fenceDir, f), { force: true });
      }
    } finally {
      this.serving = false;
    }
  }

  async boot(n: NodeName): Promise<void> {
    const r = path.join(this.dir, n);
    await fs.rm(path.join(this.fenceDir, `off-${n}`), { force: true });
    // Powered on again after a power-off: the NIC comes back with its address.
    await execa('ip', ['-n', NS[n], 'addr', 'replace', `${ADDR[n]}/${PL_NET.prefix}`, 'dev', 'eth0']);
    await execa('ip', ['-n', NS[n], 'link', 'set', 'eth0', 'up']);
    const child = spawn('ip', ['netns', 'exec', NS[n], 'unshare', '--mount', '--uts', '--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private', '--',
      path.join(this.dir, 'init.sh'), r, n, this.sbin], { stdio: ['ignore', 'ignore', 'ignore'], detached: false });
    this.shells.set(n, child);
    // The node's PID 1 as the host sees it: the child of unshare.
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      const c = await execa('pgrep', ['-P', String(child.pid)], { reject: false });
      const pid = Number(String(c.stdout).trim().split('\n')[0]);
      if (pid) { this.pids.set(n, pid); return; }
    }
    throw new Error(`node ${n}: PID-1 shell did not start`);
  }

  /** argv run inside node n's namespaces. */
  exec(n: NodeName, argv: string[], opts: { timeout?: number } = {}) {
    const pid = this.pids.get(n);
    if (!pid) throw new Error(`node ${n} is not running`);
    return execa('nsenter', ['-t', String(pid), '-m', '-u', '-n', '-p', '--', ...argv], { reject: false, timeout: opts.timeout ?? 60_000 });
  }

  lbctlIn(n: NodeName, args: string[]) {
    const bin = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..', 'bin', 'run.js');
    return this.exec(n, [process.execPath, bin, ...args], { timeout: 120_000 });
  }

  async waitOnline(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const r = await this.exec('pk1', ['crm_mon', '-1', '--output-as=xml'], { timeout: 10_000 });
      const online = (String(r.stdout).match(/<node name="pk\d" [^>]*online="true"/g) ?? []).length;
      if (online === 2 && /<current_dc present="true"[^>]*with_quorum="true"/.test(String(r.stdout))) return;
      await sleep(500);
    }
    throw new Error('cluster did not come up with both nodes online');
  }

  /**
   * Waits for a settled cluster: both nodes joined (online, not pending), every resource
   * started (the proxy clone on both nodes), then nothing left to do (`crm_resource --wait`).
   * Right after a node rejoins, its probes and its proxy's start are still to come: a power-off
   * of the other node then also waits for them (docs/DEV.md, the power-off timeline).
   */
  async waitSettled(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const on = NODES.find((n) => this.pids.has(n));
    if (!on) throw new Error('no node is running');
    while (Date.now() < deadline) {
      const x = String((await this.exec(on, ['crm_mon', '-1', '-r', '--output-as=xml'], { timeout: 10_000 })).stdout);
      const joined = (x.match(/<node name="pk\d" [^>]*online="true"[^>]*pending="false"/g) ?? []).length === NODES.length;
      const rsc = [...x.matchAll(/<resource id="([^"]+)" [^>]*role="(\w+)"[^>]*>\s*(?:<node name="(pk\d)")?/g)];
      const proxyOn = new Set(rsc.filter((m) => m[1] === 'haproxy' && m[2] === 'Started').map((m) => m[3]));
      if (joined && rsc.length > 0 && rsc.every((m) => m[2] === 'Started') && proxyOn.size === NODES.length) {
        const left = Math.max(1, Math.round((deadline - Date.now()) / 1000));
        const w = await this.exec(on, ['crm_resource', '--wait', '--timeout', `${left}s`], { timeout: (left + 10) * 1000 });
        if (w.exitCode === 0) return;
      }
      await sleep(300);
    }
    throw new Error(`the cluster did not settle within ${timeoutMs} ms`);
  }

  /** Loads the crm script `config install` put under pk1's root into the running cluster. */
  async loadResources(): Promise<void> {
    const crm = path.join(this.dir, 'pk1', 'etc', 'lbctl', 'pacemaker', 'resources.crm');
    const r = await this.exec('pk1', ['crm', 'configure', 'load', 'update', crm], { timeout: 90_000 });
    if (r.exitCode !== 0) throw new Error(`crm configure load: exit ${r.exitCode}: ${r.stderr}`);
  }

  /** Which nodes hold the VIP right now (link addresses, not what pacemaker believes). */
  async holders(): Promise<NodeName[]> {
    const out: NodeName[] = [];
    for (const n of NODES) {
      const r = await execa('ip', ['-n', NS[n], '-o', 'addr', 'show', 'dev', 'eth0'], { reject: false });
      if (String(r.stdout).includes(` ${PL_NET.vip}/`)) out.push(n);
    }
    return out;
  }

  /** Power-off: the NIC goes dark and every process of the node dies at once. */
  async powerOff(n: NodeName): Promise<void> {
    await execa('ip', ['-n', NS[n], 'link', 'set', 'eth0', 'down'], { reject: false });
    this.shells.get(n)?.kill('SIGKILL');
    const pid = this.pids.get(n);
    if (pid) { try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ } }
    this.pids.delete(n);
    // The address the dead node held stays on its (down) veth: remove it as a real power-off would.
    await execa('ip', ['-n', NS[n], 'addr', 'flush', 'dev', 'eth0'], { reject: false });
  }

  /** One HTTP GET to the VIP from the client namespace, plus who holds the VIP. */
  async probe(): Promise<Probe> {
    const t = Date.now();
    const [r, [holders, heldAt]] = await Promise.all([
      execa('ip', ['netns', 'exec', CLIENT, 'curl', '-s', '--max-time', '0.3', `http://${PL_NET.vip}/`], { reject: false }),
      this.holders().then((h) => [h, Date.now()] as const),
    ]);
    const body = String(r.stdout).trim();
    return { t, ok: r.exitCode === 0 && (body === 'pk1' || body === 'pk2'), node: body || undefined, holders, heldAt };
  }

  startProber(intervalMs = 100): { samples: Probe[]; stop: () => Promise<void> } {
    const samples: Probe[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        const t = Date.now();
        samples.push(await this.probe());
        await sleep(Math.max(0, intervalMs - (Date.now() - t)));
      }
    })();
    return { samples, stop: async () => { running = false; await loop; } };
  }

  /** kill -9 corosync on node n: its pacemaker loses the cluster, its resources stay where they are. */
  async killCorosync(n: NodeName): Promise<void> {
    // The node's own pidfile (its /run is private), never a process name.
    const pid = String((await this.exec(n, ['cat', '/run/corosync.pid'])).stdout).trim();
    if (!/^\d+$/.test(pid)) throw new Error(`node ${n}: no corosync pidfile`);
    const r = await this.exec(n, ['kill', '-KILL', pid]);
    if (r.exitCode !== 0) throw new Error(`node ${n}: kill corosync ${pid}: ${r.stderr}`);
  }

  /** pacemaker's own record of fencing actions against `target`, as seen from node n. */
  async fenceHistory(n: NodeName, target: NodeName): Promise<Array<{ action: string; status: string; delegate?: string; completed?: string }>> {
    const r = await this.exec(n, ['stonith_admin', '--history', target, '--output-as=xml'], { timeout: 20_000 });
    return [...String(r.stdout).matchAll(/<fence_event ([^>]*)\/?>/g)].map((m) => {
      const a = Object.fromEntries([...m[1].matchAll(/([\w-]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      return { action: a.action, status: a.status, delegate: a.delegate, completed: a.completed };
    });
  }

  /**
   * What a failing case needs to be understood from a CI log alone: the probes since t0 (times
   * relative to t0), the harness's fences, the cluster as each running node sees it, and the
   * tail of each node's pacemaker and corosync output.
   */
  async diagnose(samples: Probe[], t0: number): Promise<string> {
    const out: string[] = [`t0=${t0}; fences: ${JSON.stringify(this.fenced.map((f) => ({ ...f, start: f.start - t0, t: f.t - t0 })))}`];
    const rows = samples.filter((s) => s.t >= t0 - 1000).map((s) =>
      `${s.t - t0}/${s.heldAt - t0}:${s.ok ? s.node : 'x'}[${s.holders.join(',')}]`);
    out.push(`probes (start/heldAt ms: answer[holders]): ${rows.join(' ')}`);
    for (const n of NODES) {
      if (this.pids.has(n)) {
        const r = await this.exec(n, ['crm_mon', '-1', '-r', '-f'], { timeout: 15_000 }).catch((e: Error) => ({ stdout: '', stderr: e.message }));
        out.push(`--- crm_mon on ${n}:`, String(r.stdout).trim() || String(r.stderr).trim());
      } else out.push(`--- ${n}: powered off`);
      for (const f of ['var/log/pacemaker/pacemaker.log', 'corosync.out', 'pacemakerd.out']) {
        const text = await fs.readFile(path.join(this.dir, n, f), 'utf8').catch(() => '');
        const keep = text.split('\n').filter((l) => /fenc|stonith|error|crit|warn|TOTEM|QUORUM|vip|IPaddr2/i.test(l)).slice(-25);
        if (keep.length) out.push(`--- ${n} ${f} (last ${keep.length} notable lines):`, ...keep);
      }
    }
    return out.join('\n');
  }

  async destroy(): Promise<void> {
    if (this.fenceWatch) clearInterval(this.fenceWatch);
    for (const n of NODES) await this.powerOff(n);
    await sleep(200);
    await this.cleanNet();
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** Outage after t0: first failed probe to the first good one answered by `want` (ms), or undefined. */
export function outage(samples: Probe[], t0: number, want: NodeName): { ms: number; firstGood?: Probe; failed: number } | undefined {
  const after = samples.filter((s) => s.t >= t0);
  const good = after.find((s) => s.ok && s.node === want);
  if (!good) return undefined;
  const firstBad = after.find((s) => !s.ok && s.t <= good.t);
  return { ms: firstBad ? good.t - firstBad.t : 0, firstGood: good, failed: after.filter((s) => !s.ok && s.t <= good.t).length };
}

/** Wait until the VIP answers from `node` and only `node` holds it (probes every 200 ms). */
export async function waitAnswer(lab: PacemakerLab, node: NodeName, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const p = await lab.probe();
    if (p.ok && p.node === node && p.holders.length === 1) return;
    await sleep(200);
  }
  throw new Error(`the VIP did not answer from ${node} within ${ms} ms`);
}
