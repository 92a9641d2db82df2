/**
 * Start-up cost of the CLI: `lbctl --version`, `lbctl list` and a failing `lbctl haproxy info`
 * (no socket), each as a ratio to `node -e 0`, measured side by side (interleaved rounds,
 * medians) in one run. Goals: `--version` <= 1.5x, `list` <= 2.0x. Run it on the host and
 * inside the kernel lab (bench/run.sh does both): in the lab `list` reads a real IPVS table; on
 * the host it fails fast at the driver (exit 6) and measures start-up only (said in the output).
 *   node build/bench/startup.js [rounds]
 */
import { execa } from 'execa';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = path.join(root, 'bin', 'run.js');
const rounds = Number(process.argv[2] ?? process.env.LBCTL_BENCH_ROUNDS ?? 7);

const cases: Array<[string, string[]]> = [
  ['node -e 0', ['-e', '0']],
  ['lbctl --version', [bin, '--version']],
  ['lbctl list', [bin, 'list']],
  ['lbctl list --json', [bin, 'list', '--json']],
  ['lbctl haproxy info', [bin, 'haproxy', 'info', '--socket', '/nonexistent/lbs4-haproxy.sock']],
];
const goals: Record<string, number> = { 'lbctl --version': 1.5, 'lbctl list': 2.0 };

async function time(args: string[]): Promise<{ ms: number; code: number }> {
  const t0 = process.hrtime.bigint();
  const r = await execa(process.execPath, args, { reject: false });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, code: r.exitCode ?? -1 };
}

const samples = new Map<string, number[]>(cases.map(([n]) => [n, []]));
const codes = new Map<string, number>();
for (let i = 0; i < rounds + 1; i++) {
  for (const [name, args] of cases) {
    const r = await time(args);
    if (i > 0) samples.get(name)!.push(r.ms); // round 0 warms the page cache
    codes.set(name, r.code);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(samples.get('node -e 0')!);
console.log(`startup benchmark: ${rounds} interleaved rounds, medians${process.env.LBCTL_IN_LAB ? ' (inside the kernel lab, TCG)' : ''}`);
for (const [name] of cases) {
  const m = median(samples.get(name)!);
  const code = codes.get(name);
  const note = code ? `  (exit ${code}: ${name.includes('haproxy') ? 'no socket' : 'no IPVS here'}, start-up only)` : '';
  const goal = goals[name] ? `  goal <= ${goals[name].toFixed(1)}x` : '';
  console.log(`${name.padEnd(20)} ${m.toFixed(1).padStart(8)} ms  ratio to node -e 0: ${(m / base).toFixed(2)}x${goal}${note}`);
}
