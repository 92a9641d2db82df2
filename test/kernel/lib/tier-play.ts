/**
 * The rolling playbook users get (ansible/examples/tier-rolling.yml) run for real against the
 * lab tier's three directors (issue 17). Each director is a network namespace of one guest, so
 * the inventory makes it a host of its own: `ansible_connection: local` and a python wrapper
 * (`exec ip netns exec trdN python3 "$@"`), so every module of that host runs inside its
 * director's namespace as it would over SSH; the host variables point the playbook at the lab's
 * paths (records under --netns, files under --root, the gate's maintenance file, FRR's vty
 * socket). Only the inventory is the test's. ANSIBLE_LOG_PATH stamps every task banner and
 * result with the guest's wall clock (TZ=UTC), the clock of the router's `ip -ts monitor`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../../src/cli/inprocess.js';
import { ansibleLab, type AnsibleLab } from '../../support/ansible.js';
import { DIRECTORS, VIP, dirAddr, trace, work, type Tier } from './tier-lab.js';
import { routeHops, type MonitorEvent } from './tier-monitor.js';

export interface PlayRun {
  exitCode: number;
  out: string;
  seconds: number;
  /** PLAY RECAP per host: ok, changed, failed, skipped... */
  recap: Record<string, Record<string, number>>;
  /** Per host, per task name: when its banner was printed and when the host's result was (ms since the epoch). */
  steps: Map<string, Map<string, { start: number; end: number; status: string }>>;
}

const LOG_LINE = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d),(\d{3}) p=\d+ u=\S+ n=\S+ \| (.*)$/;

/** Task timing from an Ansible log file (one play of serial batches or not: a result belongs to the banner before it). */
export function parseSteps(log: string): PlayRun['steps'] {
  const steps: PlayRun['steps'] = new Map();
  let task: { name: string; t: number } | undefined;
  for (const line of log.split('\n')) {
    const m = LOG_LINE.exec(line);
    if (!m) continue;
    const t = Date.parse(`${m[1]}T${m[2]}.${m[3]}Z`);
    const text = m[4];
    const banner = /^TASK \[(.*)\] \**$/.exec(text);
    if (banner) { task = { name: banner[1], t }; continue; }
    const result = /^(ok|changed|skipping|fatal|failed): \[([^\]]+)\]/.exec(text);
    if (result && task) {
      const host = steps.get(result[2]) ?? new Map();
      host.set(task.name, { start: task.t, end: t, status: result[1] });
      steps.set(result[2], host);
    }
  }
  return steps;
}

export function parseRecap(out: string): PlayRun['recap'] {
  const recap: PlayRun['recap'] = {};
  const tail = out.split(/^PLAY RECAP/m)[1] ?? '';
  for (const line of tail.split('\n')) {
    const m = /^(\S+)\s+:\s+(ok=.*)$/.exec(line);
    if (m) recap[m[1]] = Object.fromEntries([...m[2].matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1], Number(x[2])]));
  }
  return recap;
}

export interface TierPlaybook {
  run(spec: string): Promise<PlayRun>;
  cleanup(): Promise<void>;
}

/** The collection installed (copy, as the other lab Ansible test does) and an inventory of the lab's directors. */
export async function tierPlaybook(directors = DIRECTORS): Promise<TierPlaybook> {
  const lab: AnsibleLab = await ansibleLab('tr-play-', 'copy');
  const hosts: Record<string, Record<string, unknown>> = {};
  for (const d of directors) {
    const python = path.join(lab.work, `python-${d}`);
    await fs.writeFile(python, `#!/bin/sh\nexec ip netns exec tr${d} /usr/bin/python3 "$@"\n`, { mode: 0o755 });
    hosts[d] = {
      ansible_connection: 'local', ansible_python_interpreter: python,
      tier_netns: `tr${d}`, tier_root: path.join(work, `root-${d}`),
      tier_maintenance_file: path.join(work, `${d}.maintenance`), tier_vtysh: ['vtysh', '--vty_socket', `/run/frr/tr${d}`],
    };
  }
  const inventory = path.join(lab.work, 'inventory.yml');
  await fs.writeFile(inventory, JSON.stringify({ tier_directors: { hosts } }, null, 1));
  // lbctl must read the records the lab's own `lbctl apply` wrote: not the helper's private state dir.
  // Pipelining: each task's module goes to python on stdin, not through a temp dir made, written,
  // chmod'ed and removed by four more shells (each a process start under TCG).
  const env = { ...lab.env, TZ: 'UTC', ANSIBLE_PIPELINING: '1' } as Record<string, string>;
  delete env.LBCTL_STATE_DIR;
  delete env.LBCTL_LOCK_DIR;
  let runs = 0;
  return {
    async run(spec) {
      const log = path.join(lab.work, `run-${++runs}.log`);
      const t0 = performance.now();
      const p = execa('ansible-playbook', ['-i', inventory, path.join(lbctlRoot(), 'ansible', 'examples', 'tier-rolling.yml'), '-e', `spec=${spec}`], {
        reject: false, all: true, timeout: 4_800_000, env: { ...env, ANSIBLE_LOG_PATH: log },
      });
      // Streamed: under TCG a run takes many minutes, and a timed-out test should still say where it was.
      p.all?.on('data', (d: Buffer) => { for (const l of d.toString().split('\n')) if (/^(TASK|PLAY|ok:|changed:|fatal:|skipping:|FAILED)/.test(l)) trace(`ansible ${runs}: ${l.replace(/\s*\*+$/, '')}`); });
      const r = await p;
      const out = r.all ?? '';
      const recap = parseRecap(out);
      process.stdout.write(`# tier-rolling.yml run ${runs}: exit ${r.exitCode}, ${JSON.stringify(recap)}\n`);
      return { exitCode: r.exitCode ?? -1, out, seconds: Math.round(performance.now() - t0) / 1000, recap, steps: parseSteps(await fs.readFile(log, 'utf8').catch(() => '')) };
    },
    cleanup: () => lab.cleanup(),
  };
}

/** Task names of tier-rolling.yml the timeline reads. */
export const TASK = {
  withdraw: 'Withdraw this director (the health gate removes its VIP announcements)',
  withdrawn: 'Wait until it announces nothing to its BGP neighbours',
  apply: 'Bring it to the spec',
  announce: 'Announce it again (the gate announces once the director is healthy)',
  heard: 'Wait until every BGP neighbour hears it again',
  digest: "Read each director's table digest",
};

/** The router's next hops for the VIP as of `t`: those of the last route event at or before it. */
export function hopsAt(events: MonitorEvent[], t: number): string[] | undefined {
  let hops: string[] | undefined;
  for (const e of events) {
    if (e.t > t) break;
    hops = routeHops(e, VIP) ?? hops;
  }
  return hops;
}

/** The example spec with a second service on the same VIP (port 9001): a change of every director's table that leaves port 9000's flows where they are. */
export function withAddedService(example: string): string {
  const service = [
    '    - vip: 10.97.100.10', '      port: 9001', '      forward: dr',
    '      real_servers: [{ address: 10.97.1.21 }, { address: 10.97.1.22 }, { address: 10.97.1.23 }, { address: 10.97.1.24 }]', '',
  ].join('\n');
  const out = example.replace(/^ {2}sysctls:/m, `${service}  sysctls:`);
  if (out === example) throw new Error('the example spec has no tier sysctls line to insert the service before');
  return out;
}

export interface DirectorStep {
  director: string;
  /** The router's next hops when its apply started and when it ended: the other two directors only, if it was withdrawn first. */
  hopsAtApply?: string[];
  hopsAfterApply?: string[];
  /** The router's next hops when the next director's withdrawal started (the last director: when its digest was read). */
  hopsBeforeNext?: string[];
  /** From the withdraw task's start to the router's route without this director (monitor), and from the announce task's start to the route with all three. */
  dropMs: number | null;
  backMs: number | null;
  /** How long the playbook waited for FRR to announce nothing, and how long the apply task took. */
  withdrawWaitMs: number;
  applyMs: number;
}

export interface RollingResult {
  first: Omit<PlayRun, 'steps' | 'out'>;
  second: Omit<PlayRun, 'steps' | 'out'>;
  firstOut: string;
  secondOut: string;
  /** Directors in the order their apply started. */
  order: string[];
  directors: DirectorStep[];
  /** The fewest next hops any route event showed while the first run ran. */
  minHops: number;
  total: number;
  survived: number;
  closedCodes: string[];
  /** Short connections made while the first run ran. */
  burst: { made: number; failed: number; servers: Record<string, number> };
  digest: { first?: string; second?: string };
}

/** Lost connections counted by how they ended and the real server they were on: "TIMEOUT@10.97.1.21 x3 ...". */
export function lostSummary(closed: Array<{ code: string; server?: string }>): string {
  const n = new Map<string, number>();
  for (const c of closed) n.set(`${c.code}@${c.server ?? '?'}`, (n.get(`${c.code}@${c.server ?? '?'}`) ?? 0) + 1);
  return [...n].map(([k, v]) => `${k} x${v}`).join(' ') || 'none';
}

const digestOf = (out: string) => /every director carries table digest ([0-9a-f]+)/.exec(out)?.[1];
const brief = (r: PlayRun) => ({ exitCode: r.exitCode, seconds: r.seconds, recap: r.recap });

/**
 * The rolling change: 100 long-lived connections open and short ones made every few seconds while
 * tier-rolling.yml brings every director to `spec`; then a second run of the same playbook.
 */
export async function rollingCase(tier: Tier, spec: string): Promise<RollingResult> {
  const book = await tierPlaybook();
  try {
    await tier.waitNexthops(DIRECTORS.length);
    const opened = await tier.client.ask<{ up: number }>('open 100');
    trace(`rolling: ${opened.up} open; running tier-rolling.yml`);
    const burst = { made: 0, failed: 0, servers: {} as Record<string, number> };
    let playing = true;
    let alive = opened.up;
    const bursts = (async () => {
      while (playing) {
        const b = await tier.client.ask<{ servers: Record<string, number>; failed: number }>('burst 20');
        burst.made += 20;
        burst.failed += b.failed;
        for (const [k, v] of Object.entries(b.servers)) burst.servers[k] = (burst.servers[k] ?? 0) + v;
        // When connections are lost, and how, on the same clock as the playbook's task lines: a
        // run that is killed later still shows which step lost them.
        const now = await tier.client.ask<{ up: number; closed: Array<{ code: string; server?: string }> }>('report');
        if (now.up !== alive) trace(`rolling: ${now.up} alive, lost so far: ${lostSummary(now.closed)}`);
        alive = now.up;
        await new Promise((r) => setTimeout(r, 10_000));
      }
    })();
    const t0 = Date.now();
    const first = await book.run(spec).finally(() => { playing = false; });
    const t1 = Date.now();
    await bursts;
    const report = await tier.client.ask<{ up: number; closed: Array<{ code: string }> }>('report');
    await tier.client.ask('close');
    trace(`rolling: first run exit ${first.exitCode} in ${first.seconds} s; ${report.up} alive (lost: ${lostSummary(report.closed)}); second run`);
    const second = await book.run(spec);
    trace(`rolling: second run exit ${second.exitCode} in ${second.seconds} s`);

    const events = tier.routeEvents();
    const step = (d: string, task: string) => first.steps.get(d)?.get(task);
    const order = DIRECTORS.filter((d) => step(d, TASK.apply)).sort((a, b) => step(a, TASK.apply)!.start - step(b, TASK.apply)!.start);
    const directors = order.map((d, i): DirectorStep => {
      const w = step(d, TASK.withdraw)!;
      const a = step(d, TASK.apply)!;
      const n = step(d, TASK.announce);
      const next = i + 1 < order.length ? step(order[i + 1], TASK.withdraw)?.start : step(d, TASK.digest)?.end;
      const others = DIRECTORS.filter((x) => x !== d).map(dirAddr).sort();
      const drop = events.find((e) => e.t >= w.start && String(routeHops(e, VIP)) === String(others));
      const back = n && events.find((e) => e.t >= n.start && routeHops(e, VIP)?.length === DIRECTORS.length);
      const waited = step(d, TASK.withdrawn);
      return {
        director: d, hopsAtApply: hopsAt(events, a.start), hopsAfterApply: hopsAt(events, a.end),
        hopsBeforeNext: next === undefined ? undefined : hopsAt(events, next),
        dropMs: drop ? Math.round(drop.t - w.start) : null, backMs: back && n ? Math.round(back.t - n.start) : null,
        withdrawWaitMs: waited ? waited.end - waited.start : -1, applyMs: a.end - a.start,
      };
    });
    const during = events.filter((e) => e.t >= t0 && e.t <= t1).map((e) => routeHops(e, VIP)).filter((h) => h !== undefined);
    return {
      first: brief(first), second: brief(second), firstOut: first.out, secondOut: second.out, order, directors,
      minHops: Math.min(...during.map((h) => h!.length)), total: opened.up, survived: report.up, closedCodes: report.closed.map((c) => c.code),
      burst, digest: { first: digestOf(first.out), second: digestOf(second.out) },
    };
  } finally {
    // A roll that stopped leaves its director withdrawn: the later cases need all three.
    for (const d of DIRECTORS) await tier.announce(d);
    await book.cleanup();
  }
}
