/**
 * Per-command latency inside `lbctl shell` against a separate `lbctl` process for the same
 * command, side by side, with the work itself (the same src/ call made directly) to show the
 * shell's own overhead. Target: overhead under 5 ms. HAProxy cases run against a real haproxy
 * on loopback; `list` is added when IPVS is available (run it in the kernel lab for that).
 *   node build/bench/shell.js [in-shell rounds] [process rounds]
 */
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot, loadConfig } from '../src/cli/inprocess.js';
import { startLabHaproxy, startLabServer } from '../test/support/haproxy-lab.js';
import { haproxyBackends, haproxyInfo, haproxyStat, setServerWeight } from '../src/haproxy/runtime-ops.js';
import { ShellContext } from '../src/shell/context.js';
import { runArgv } from '../src/shell/exec.js';

const inRounds = Number(process.argv[2] ?? 200);
const procRounds = Number(process.argv[3] ?? 10);
const bin = path.join(lbctlRoot(), 'bin', 'run.js');
const out = process.stdout.write.bind(process.stdout);
const say = (s: string) => out(`${s}\n`);

const servers = await Promise.all(['w1', 'w2', 'w3'].map((n) => startLabServer(n)));
const hp = await startLabHaproxy({ prefix: 'lbsh-bench-', defaultBackend: 'app', body: ['backend app', ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port}`)].join('\n') });
process.env.LBCTL_HAPROXY_SOCKET = hp.adminSocket;
const socket = hp.adminSocket;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)];
async function time(n: number, fn: () => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n + Math.ceil(n / 10); i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    if (i >= Math.ceil(n / 10)) ms.push(Number(process.hrtime.bigint() - t0) / 1e6); // the first tenth warms up
  }
  return ms;
}

const ctx = await ShellContext.open({ config: await loadConfig(), interactive: false });
const cases: Array<{ name: string; argv: string[]; procArgv?: string[]; work: () => Promise<unknown> }> = [
  { name: 'haproxy info --json', argv: ['haproxy', 'info', '--json'], work: () => haproxyInfo({ socket }) },
  { name: 'haproxy stat --json', argv: ['haproxy', 'stat', '--json'], work: () => haproxyStat({ socket }) },
  { name: 'haproxy backends', argv: ['haproxy', 'backends'], work: () => haproxyBackends({ socket }) },
  { name: 'hap ser wei app/w1 1', argv: ['hap', 'ser', 'wei', 'app/w1', '1'], procArgv: ['haproxy', 'server', 'weight', 'app/w1', '1'], work: () => setServerWeight({ socket, ref: 'app/w1', weight: '1' }) },
];
if (ctx.driver) {
  const d = ctx.driver;
  cases.push({ name: `list --json (${d.name})`, argv: ['list', '--json'], work: () => d.getTable({ stats: true }) });
}

const rows: string[][] = [];
let worst = 0;
try {
  for (const c of cases) {
    const work = await time(inRounds, c.work);
    // In the shell: output goes to a sink (a terminal's cost is not the shell's).
    (process.stdout as any).write = (_c: unknown, ...rest: any[]) => { const cb = rest.find((r) => typeof r === 'function'); if (cb) cb(); return true; };
    let code = 0;
    const shell = await time(inRounds, async () => { code = (await runArgv(ctx, c.argv)).exitCode; });
    (process.stdout as any).write = out;
    if (code !== 0) throw new Error(`${c.name} failed in the shell (exit ${code})`);
    const proc = await time(procRounds, () => execa(process.execPath, [bin, ...(c.procArgv ?? c.argv)], { stdin: 'ignore' }));
    const overhead = median(shell) - median(work);
    worst = Math.max(worst, overhead);
    rows.push([c.name, median(work).toFixed(2), median(shell).toFixed(2), p90(shell).toFixed(2), overhead.toFixed(2), median(proc).toFixed(1), `${(median(proc) / median(shell)).toFixed(0)}x`]);
  }
} finally {
  await ctx.close();
  await hp.stop();
  for (const s of servers) await s.close();
}

say(`shell benchmark: medians over ${inRounds} in-shell and ${procRounds} process runs (ms), haproxy ${hp.cfgFile ? '2.6 on loopback' : ''}`);
const head = ['command', 'work', 'in shell', 'p90', 'overhead', 'separate lbctl', 'ratio'];
const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
for (const r of [head, ...rows]) say(r.map((x, i) => (i ? x.padStart(w[i]) : x.padEnd(w[i]))).join('  '));
say(`shell overhead (in shell - work), worst case: ${worst.toFixed(2)} ms; target < 5 ms: ${worst < 5 ? 'met' : 'NOT met'}`);
if (!ctx.driver) say(`IPVS: not available here (${ctx.driverError}); run in the kernel lab for the list case`);
