/**
 * Where a long `lbctl shell` session's RSS goes: one shell per variant (node flags), fed the same
 * commands (test/support/shell-feed.ts), sampled after a full GC at each checkpoint: RSS
 * (anonymous / file), V8's heap spaces, external memory, and the wall and CPU time per command of
 * each stretch. Variants run interleaved, `--rounds` times, in one run.
 *   node build/bench/shell-memory.js [--workload runtime|generate] [--max N] [--rounds R] [name=flags ...]
 * runtime: HAProxy runtime reads and writes against a haproxy on loopback (default, up to 4,000);
 * generate: `config generate examples/all-features.yaml --dry-run` (CPU-bound, allocation-heavy).
 * A variant is name=node flags, e.g. 'semi1=--max-semi-space-size=1'; 'default' (no flags) is always first.
 */
import path from 'node:path';
import os from 'node:os';
import { promises as fs } from 'node:fs';
import { lbctlRoot } from '../src/cli/inprocess.js';
import { feedShell, startShellLab, table, usedTable, mib, runtimeMix, type Checkpoint, type Workload } from '../test/support/shell-feed.js';

const args = process.argv.slice(2);
let workloadName = 'runtime';
let max = 4000;
let rounds = 1;
const variants: Array<{ name: string; flags: string[] }> = [{ name: 'default', flags: [] }];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--workload') workloadName = args[++i];
  else if (args[i] === '--max') max = Number(args[++i]);
  else if (args[i] === '--rounds') rounds = Number(args[++i]);
  else { const eq = args[i].indexOf('='); variants.push({ name: args[i].slice(0, eq), flags: args[i].slice(eq + 1).split(' ').filter(Boolean) }); }
}
const checkpoints = [200, 500, 1000, 2000, 4000, 8000, 16000].filter((n) => n <= max);

const lab = await startShellLab('lbm7-bench-');
const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lbm7-bench-'));
const spec = path.join(lbctlRoot(), 'examples', 'all-features.yaml');
const generate: Workload = { line: () => `config generate ${spec} --dry-run --out ${tmp}`, marker: /file\(s\) would be written/, every: 1 };
const workload = workloadName === 'generate' ? generate : runtimeMix;
const results = new Map<string, Checkpoint[][]>();
try {
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) {
      const res = await feedShell(lab, { prefix: 'lbm7-bench-', checkpoints, nodeFlags: v.flags, workload });
      if (res.exitCode !== 0 || res.stderr.trim()) throw new Error(`${v.name}: exit ${res.exitCode}: ${res.stderr.slice(0, 300)}`);
      results.set(v.name, [...(results.get(v.name) ?? []), res.checkpoints]);
      process.stdout.write(`\n${v.name} (${v.flags.join(' ') || 'no flags'}), ${workloadName}, round ${r + 1}\n${table(res.checkpoints)}\nlive (used) by heap space, MiB:\n${usedTable(res.checkpoints)}\n`);
    }
  }
  // Side by side: RSS at start, after the first stretch and at the end; CPU per command over all stretches after the first.
  process.stdout.write(`\n${workloadName}: variant, RSS at start / after ${checkpoints[0]} / last (MiB), growth over the second half, CPU ms per command after the first stretch (total CPU / commands)\n`);
  for (const v of variants) {
    for (const cps of results.get(v.name)!) {
      const last = cps[cps.length - 1];
      const half = cps.find((c) => c.commands === last.commands / 2) ?? cps[1];
      const after = cps.slice(2);
      const cpu = after.reduce((a, c) => a + c.cpuMsPerCommand * (c.commands - cps[cps.indexOf(c) - 1].commands), 0) / (last.commands - cps[1].commands);
      process.stdout.write(`${v.name.padEnd(10)} ${mib(cps[0].rss)} / ${mib(cps[1].rss)} / ${mib(last.rss)}   +${mib(last.rss - half.rss)}   ${cpu.toFixed(3)}\n`);
    }
  }
} finally {
  await lab.stop();
  await fs.rm(tmp, { recursive: true, force: true });
}
