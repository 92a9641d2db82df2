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
 * Net: a bridge in namespace pl-sw joins pl-n1 (10.96.0.1), pl-n2 (10.96.0.2) and the client
 * pl-cl (10.96.0.10); the VIP is 10.96.0.100. Each node runs a tiny HTTP backend on
 * 127.0.0.1:8081 answering its own name, so a probe through the VIP says which node answered.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctl, sleep } from './keepalived-lab.js';

export const PL_NET = { n1: '10.96.0.1', n2: '10.96.0.2', client: '10.96.0.10', vip: '10.96.0.100', prefix: 24 };
export const NODES = ['pl1', 'pl2'] as const;
export type NodeName = typeof NODES[number];
const NS: Record<NodeName, string> = { pl1: 'pl-n1', pl2: 'pl-n2' };
const ADDR: Record<NodeName, string> = { pl1: PL_NET.n1, pl2: PL_NET.n2 };
const SW = 'pl-sw';
const CLIENT = 'pl-cl';

export function pacemakerSpec(): string {
  return `# pacemaker lab spec (test/support/pacemaker-lab.ts)
cluster: pllab
ha: pacemaker
nodes:
  - { name: pl1, address: ${PL_NET.n1}/${PL_NET.prefix}, interface: eth0 }
  - { name: pl2, address: ${PL_NET.n2}/${PL_NET.prefix}, interface: eth0 }
pacemaker:
  transport: knet
  token: 1000
  vips:
    - { id: vip, address: ${PL_NET.vip}/${PL_NET.prefix} }
  proxy: { id: haproxy, agent: "lsb:haproxy" }
  preferred_node: pl1
  fencing: none
  acknowledge_no_fencing: true
haproxy:
  global: { daemon: true }
  defaults:
    mode: http
    timeouts: { connect: 1s, client: 30s, server: 30s }
  frontends:
    - { name: web, bind: "*:80", default_backend: app }
  backends:
    - name: app
      servers:
        - { name: local, address: "127.0.0.1:8081" }
`;
}

const INIT = `#!/bin/sh
# PID 1 of one lab node: private mounts, then corosync and pacemakerd in the foreground.
set -e
R="$1"; NODE="$2"
for d in etc/corosync var/lib/corosync var/lib/pacemaker var/log/pacemaker etc/haproxy; do mount --bind "$R/$d" "/$d"; done
mount --bind "$R/hosts" /etc/hosts
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /dev/shm
mkdir -p /run/lock /run/haproxy
[ -d "$R/sbin-extra" ] && for f in "$R"/sbin-extra/*; do [ -f "$f" ] && touch "/usr/sbin/$(basename "$f")" 2>/dev/null; mount --bind "$f" "/usr/sbin/$(basename "$f")" || true; done
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

export interface Probe { t: number; ok: boolean; node?: string; holders: NodeName[] }

export class PacemakerLab {
  readonly shells = new Map<NodeName, ChildProcess>();
  readonly pids = new Map<NodeName, number>();
  private constructor(readonly dir: string) {}

  static async create(): Promise<PacemakerLab> {
    const lab = new PacemakerLab(await fs.mkdtemp(path.join(os.tmpdir(), 'pl-pcmk-')));
    await lab.cleanNet();
    const ip = (...a: string[]) => execa('ip', a);
    for (const ns of [SW, NS.pl1, NS.pl2, CLIENT]) await ip('netns', 'add', ns);
    await ip('-n', SW, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', SW, 'link', 'set', 'br0', 'up');
    const wire = async (ns: string, tag: string, addr: string) => {
      await ip('-n', SW, 'link', 'add', `p-${tag}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      await ip('-n', SW, 'link', 'set', `p-${tag}`, 'master', 'br0', 'up');
      await ip('-n', ns, 'addr', 'add', `${addr}/${PL_NET.prefix}`, 'dev', 'eth0');
      await ip('-n', ns, 'link', 'set', 'eth0', 'up');
      await ip('-n', ns, 'link', 'set', 'lo', 'up');
    };
    await wire(NS.pl1, 'n1', PL_NET.n1);
    await wire(NS.pl2, 'n2', PL_NET.n2);
    await wire(CLIENT, 'cl', PL_NET.client);
    return lab;
  }

  async cleanNet(): Promise<void> {
    for (const ns of [SW, NS.pl1, NS.pl2, CLIENT]) await execa('ip', ['netns', 'del', ns], { reject: false });
  }

  /** Generates and installs the spec's files for both nodes under per-node roots, one shared authkey. */
  async install(specText: string): Promise<void> {
    const spec = path.join(this.dir, 'lab.yaml');
    await fs.writeFile(spec, specText);
    // `config generate`, not `config install --root`: install's crm load check fails on a
    // fencing: none spec ("Fencing and resource management disabled due to lack of quorum").
    const gen = await lbctl(['config', 'generate', spec, '--out', path.join(this.dir, 'gen')]);
    if (gen.exitCode !== 0) throw new Error(`config generate: exit ${gen.exitCode}: ${gen.stderr}`);
    await execa('corosync-keygen', ['-l', '-k', path.join(this.dir, 'authkey')]);
    for (const n of NODES) {
      const r = path.join(this.dir, n);
      for (const d of ['etc/corosync', 'var/lib/corosync', 'var/lib/pacemaker/cib', 'var/lib/pacemaker/pengine', 'var/lib/pacemaker/blackbox', 'var/lib/pacemaker/cores', 'var/log/pacemaker', 'etc/haproxy', 'www']) {
        await fs.mkdir(path.join(r, d), { recursive: true });
      }
      const g = (f: string) => path.join(this.dir, 'gen', n, f);
      await fs.copyFile(g('corosync.conf'), path.join(r, 'etc/corosync/corosync.conf'));
      await fs.copyFile(g('haproxy.cfg'), path.join(r, 'etc/haproxy/haproxy.cfg'));
      await fs.copyFile(path.join(this.dir, 'authkey'), path.join(r, 'etc/corosync/authkey'));
      await fs.chmod(path.join(r, 'etc/corosync/authkey'), 0o400);
      await fs.writeFile(path.join(r, 'hosts'), `127.0.0.1 localhost\n${PL_NET.n1} pl1\n${PL_NET.n2} pl2\n`);
      await fs.writeFile(path.join(r, 'www', 'index.html'), n);
    }
    await fs.writeFile(path.join(this.dir, 'init.sh'), INIT, { mode: 0o755 });
  }

  async boot(n: NodeName): Promise<void> {
    const r = path.join(this.dir, n);
    const child = spawn('ip', ['netns', 'exec', NS[n], 'unshare', '--mount', '--uts', '--pid', '--fork', '--kill-child', '--mount-proc', '--propagation', 'private', '--',
      path.join(this.dir, 'init.sh'), r, n], { stdio: ['ignore', 'ignore', 'ignore'], detached: false });
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
      const r = await this.exec('pl1', ['crm_mon', '-1', '--output-as=xml'], { timeout: 10_000 });
      const online = (String(r.stdout).match(/<node name="pl\d" [^>]*online="true"/g) ?? []).length;
      if (online === 2 && /<current_dc present="true"[^>]*with_quorum="true"/.test(String(r.stdout))) return;
      await sleep(500);
    }
    throw new Error('cluster did not come up with both nodes online');
  }

  /** Loads the crm script `config install` put under pl1's root into the running cluster. */
  async loadResources(): Promise<void> {
    const crm = path.join(this.dir, 'gen', 'pl1', 'resources.crm');
    const r = await this.exec('pl1', ['crm', 'configure', 'load', 'update', crm], { timeout: 90_000 });
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
    const [r, holders] = await Promise.all([
      execa('ip', ['netns', 'exec', CLIENT, 'curl', '-s', '--max-time', '0.3', `http://${PL_NET.vip}/`], { reject: false }),
      this.holders(),
    ]);
    const body = String(r.stdout).trim();
    return { t, ok: r.exitCode === 0 && (body === 'pl1' || body === 'pl2'), node: body || undefined, holders };
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

  async destroy(): Promise<void> {
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
