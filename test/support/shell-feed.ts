/**
 * Feeds a real `lbctl shell` (script mode, bin/run.js) a stream of HAProxy runtime commands against
 * a throwaway haproxy on loopback, and at each checkpoint (after N commands answered) asks the
 * preloaded GC probe (test/support/gc-probe.ts) for a full GC and the process's memory figures.
 * Used by test/host/shell-memory.test.ts and bench/shell-memory.ts.
 */
import path from 'node:path';
import os from 'node:os';
import { promises as fs } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { rawShowStat, startLabHaproxy, startLabServer, type LabHaproxy, type LabServer } from './haproxy-lab.js';
import type { GcSample } from './gc-probe.js';

const bin = path.join(lbctlRoot(), 'bin', 'run.js');
const probe = fileURLToPath(new URL('./gc-probe.js', import.meta.url));

export const mib = (b: number) => (b / 1024 / 1024).toFixed(1);

/**
 * Command i: a write (weight, one output line each) when i is odd, else a read (a table). The last
 * command of any even-length stretch is a write, so "its weight line arrived" means every command
 * of the stretch was answered.
 */
export function command(i: number): string {
  if (i % 2 === 1) return `haproxy server weight app/s1 ${i % 4 === 1 ? 10 : 20}`;
  return ['haproxy backends', 'haproxy stat -b app', 'haproxy info', 'hap ser dra app/s2', 'hap ser rea app/s2'][(i >> 1) % 5];
}

export interface Checkpoint extends GcSample {
  /** Commands answered when the sample was taken. */
  commands: number;
  /** Wall time of the commands since the previous checkpoint, per command. */
  msPerCommand: number;
  /** The shell's CPU time (user + system) for those commands, per command. */
  cpuMsPerCommand: number;
}

/** What the shell is fed: command i, and the output line that says a command was answered. */
export interface Workload {
  line(i: number): string;
  /** A line of output marking an answered command; `every` commands give one (the last of each `every`). */
  marker: RegExp;
  every: number;
}

/** The HAProxy runtime mix: half weight writes (the markers), half reads. */
export const runtimeMix: Workload = { line: command, marker: /app\/s1\s+weight/, every: 2 };

export interface FeedResult { checkpoints: Checkpoint[]; exitCode: number | undefined; stderr: string; s1Weight: string | undefined }

export interface Lab { hp: LabHaproxy; servers: LabServer[]; stop(): Promise<void> }

export async function startShellLab(prefix: string): Promise<Lab> {
  const servers = [await startLabServer('s1'), await startLabServer('s2')];
  try {
    const hp = await startLabHaproxy({
      prefix,
      body: ['backend app', '  balance roundrobin', ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port}`)].join('\n'),
      defaultBackend: 'app',
    });
    return { hp, servers, stop: async () => { await hp.stop(); for (const s of servers) await s.close(); } };
  } catch (e) {
    for (const s of servers) await s.close();
    throw e;
  }
}

/**
 * Run one shell over `checkpoints` (ascending command counts, each even) with extra node flags
 * (`nodeFlags`, e.g. a V8 heap setting) and return a sample per checkpoint.
 */
export async function feedShell(lab: Lab, opts: { prefix: string; checkpoints: number[]; nodeFlags?: string[]; env?: Record<string, string>; workload?: Workload }): Promise<FeedResult> {
  const work = opts.workload ?? runtimeMix;
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `${opts.prefix}gc-`));
  const out = path.join(dir, 'gc.jsonl');
  const child = execa(process.execPath, [...(opts.nodeFlags ?? []), '--expose-gc', '--import', probe, bin, 'shell', '--socket', lab.hp.adminSocket], {
    reject: false, env: { NO_COLOR: '1', LBCTL_GC_PROBE_OUT: out, ...opts.env }, stdin: 'pipe', buffer: false,
  });
  const checkpoints: Checkpoint[] = [];
  try {
    let weightLines = 0;
    let stderr = '';
    let tail = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      const lines = (tail + d).split('\n');
      tail = lines.pop() ?? '';
      for (const l of lines) if (work.marker.test(l)) weightLines++;
    });
    child.stderr!.on('data', (d) => { stderr += d; });
    const waitFor = async (n: number) => {
      const deadline = Date.now() + 600_000;
      while (weightLines < n) {
        if (Date.now() > deadline) throw new Error(`only ${weightLines} of ${n} weight commands answered; stderr: ${stderr.slice(0, 500)}`);
        if (child.exitCode !== null) throw new Error(`the shell exited early: ${stderr.slice(0, 500)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    const sample = async (): Promise<GcSample> => {
      const before = (await fs.readFile(out, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
      process.kill(child.pid!, 'SIGUSR2');
      const deadline = Date.now() + 30_000;
      for (;;) {
        const lines = (await fs.readFile(out, 'utf8').catch(() => '')).split('\n').filter(Boolean);
        if (lines.length > before) return JSON.parse(lines[lines.length - 1]) as GcSample;
        if (Date.now() > deadline) throw new Error('the GC probe did not answer');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    // The first sample is taken once the shell answered its first commands (before that the
    // probe may not be loaded yet, and SIGUSR2 would end the process).
    let done = 0;
    let cpuUs = 0;
    for (const n of [opts.checkpoints[0] > work.every ? work.every : undefined, ...opts.checkpoints].filter((x): x is number => x !== undefined)) {
      const t0 = process.hrtime.bigint();
      for (let i = done; i < n; i++) child.stdin!.write(`${work.line(i)}\n`);
      await waitFor(n / work.every);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const s = await sample();
      checkpoints.push({ ...s, commands: n, msPerCommand: ms / (n - done), cpuMsPerCommand: (s.cpuUs - cpuUs) / 1000 / (n - done) });
      cpuUs = s.cpuUs;
      done = n;
    }
    child.stdin!.end();
    const r = await child;
    const weights = await rawShowStat(lab.hp.adminSocket);
    return { checkpoints, exitCode: r.exitCode ?? undefined, stderr, s1Weight: weights.get('app/s1')?.weight };
  } finally {
    if (child.exitCode === null) child.kill();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** One row per checkpoint: RSS and what it is made of, in MiB. */
export function table(cps: Checkpoint[]): string {
  const head = ['commands', 'rss', 'anon', 'file', 'heapTotal', 'heapUsed', 'new', 'old', 'code', 'large', 'external', 'ms/cmd', 'cpu ms/cmd'];
  const rows = cps.map((c) => [
    String(c.commands), mib(c.rss), mib(c.rssAnon), mib(c.rssFile), mib(c.heapTotal), mib(c.heapUsed),
    mib(c.spaces.new_space?.size ?? 0), mib(c.spaces.old_space?.size ?? 0), mib(c.spaces.code_space?.size ?? 0),
    mib(c.spaces.large_object_space?.size ?? 0), mib(c.external), c.msPerCommand.toFixed(2), c.cpuMsPerCommand.toFixed(2),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((x, i) => x.padStart(w[i])).join('  ')).join('\n');
}

/** Live bytes (used) per V8 heap space at each checkpoint, in MiB: which space holds any growth. */
export function usedTable(cps: Checkpoint[]): string {
  const names = Object.keys(cps[0].spaces);
  const head = ['commands', ...names.map((n) => n.replace(/_space$/, ''))];
  const rows = cps.map((c) => [String(c.commands), ...names.map((n) => ((c.spaces[n]?.used ?? 0) / 1048576).toFixed(2))]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((x, i) => x.padStart(w[i])).join('  ')).join('\n');
}
