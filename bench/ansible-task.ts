/**
 * What one lbctl.lbctl module task costs, side by side in one run (interleaved rounds, medians):
 *   --version   the collection asks `lbctl --version` (a node start) before the work: what every
 *               task did before the version was read from lbctl's package.json; forced here by
 *               an lbctl_path wrapper script, whose ../package.json is not lbctl's
 *   package.json  the version read from the package.json beside the linked bin/run.js
 *   + pipelining  the same with ANSIBLE_PIPELINING=1 (no temp dir, file copy and chmod per task)
 * Each playbook runs N check-mode `lbctl.lbctl.director` tasks (a dry-run director prep of a
 * made-up VIP on lo: reads only); a task's cost is (T(N tasks) - T(0 tasks)) / N. The rolling
 * playbook runs 2 such tasks per director plus 5 command/file tasks. Host by default; in the lab:
 *   bash test/lab/run.sh -- node build/bench/ansible-task.js [tasks] [rounds]
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { ansibleLab } from '../test/support/ansible.js';
import { lbctlRoot } from '../src/cli/inprocess.js';

const tasks = Number(process.argv[2] ?? 4);
const rounds = Number(process.argv[3] ?? 3);
const lab = await ansibleLab('r2-bench-', 'copy');
const wrapper = path.join(lab.work, 'wrapped', 'lbctl');
await fs.mkdir(path.dirname(wrapper));
await fs.writeFile(wrapper, `#!/bin/sh\nexec ${process.execPath} ${path.join(lbctlRoot(), 'bin', 'run.js')} "$@"\n`, { mode: 0o755 });

const task = (lbctlPath?: string) => `    - lbctl.lbctl.director: { vips: [10.255.46.1], dev: lo, mode: dr${lbctlPath ? `, lbctl_path: ${lbctlPath}` : ''} }\n      check_mode: true\n`;
const book = async (name: string, n: number, lbctlPath?: string) => {
  const file = path.join(lab.work, `${name}.yml`);
  await fs.writeFile(file, `- hosts: localhost\n  gather_facts: false\n  tasks:\n${n ? task(lbctlPath).repeat(n) : '    - ansible.builtin.meta: noop\n'}`);
  return file;
};
const variants: Array<{ name: string; file: string; empty: string; env: Record<string, string> }> = [
  { name: '--version (before)', file: await book('version', tasks, wrapper), empty: await book('empty', 0), env: {} },
  { name: 'package.json', file: await book('pkg', tasks), empty: await book('empty', 0), env: {} },
  { name: 'package.json + pipelining', file: await book('pkg', tasks), empty: await book('empty', 0), env: { ANSIBLE_PIPELINING: '1' } },
];

async function time(file: string, env: Record<string, string>): Promise<number> {
  const t0 = performance.now();
  const r = await execa('ansible-playbook', ['-i', 'localhost,', '-c', 'local', file], { reject: false, all: true, env: { ...lab.env, ...env } });
  if (r.exitCode !== 0) throw new Error(`${file}: exit ${r.exitCode}\n${r.all}`);
  return performance.now() - t0;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const per: number[][] = variants.map(() => []);
try {
  for (let r = 0; r < rounds; r++) {
    for (const [i, v] of variants.entries()) per[i].push(((await time(v.file, v.env)) - (await time(v.empty, v.env))) / tasks);
  }
  const base = median(per[0]);
  console.log(`one lbctl.lbctl.director task (check mode), ${tasks} tasks a playbook, median of ${rounds} rounds:`);
  for (const [i, v] of variants.entries()) {
    console.log(`  ${v.name.padEnd(28)} ${median(per[i]).toFixed(0).padStart(6)} ms/task  ${(median(per[i]) / base).toFixed(2)}x  (rounds: ${per[i].map((x) => x.toFixed(0)).join(' ')})`);
  }
} finally {
  await lab.cleanup();
}
