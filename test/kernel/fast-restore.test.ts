/**
 * restore's fast path (src/cli/fast.ts) against the real kernel, side by side with the oclif path
 * (LBCTL_FAST=0), as whole processes: the same plan output, JSON and exit codes, and the same
 * table afterwards, for an apply, a no-op, a dry run with --exit-code and a merge, both drivers.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

const DRIVERS = (process.env.LBCTL_TEST_DRIVERS ?? 'ipvsadm netlink').split(/\s+/).filter(Boolean);
const dir = mkdtempSync(path.join(os.tmpdir(), 'lbctl-fastk-'));
const A = path.join(dir, 'a.rules');
const B = path.join(dir, 'b.rules');
writeFileSync(A, '-A -t 10.78.0.1:80 -s wrr\n-a -t 10.78.0.1:80 -r 10.78.1.5:80 -m -w 2\n-a -t 10.78.0.1:80 -r 10.78.1.6:80 -m -w 1\n-A -u 10.78.0.1:53 -s sh -b sh-port\n');
writeFileSync(B, '-A -t 10.78.0.1:80 -s rr\n-a -t 10.78.0.1:80 -r 10.78.1.5:80 -m -w 3\n-A -f 7 -s wlc -p 60\n');
const oracle = async () => (await execa('ipvsadm', ['-Sn'])).stdout;
after(async () => {
  await execa('ipvsadm', ['-C']).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

async function lbctl(argv: string[], fast: boolean) {
  const r = await execa(process.execPath, ['bin/run.js', ...argv], { reject: false, env: { NO_COLOR: '1', ...(fast ? {} : { LBCTL_FAST: '0' }) }, stdin: 'ignore', timeout: 180_000 });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

test('the fast path and oclif give the same output, exit codes and table (both drivers)', { timeout: 900_000 }, async () => {
  for (const driver of DRIVERS) {
    // Each step runs from the same starting table on both paths.
    const steps: Array<{ argv: string[]; from: string; code: number; changed: boolean }> = [
      { argv: ['restore', A], from: '', code: 0, changed: true },
      { argv: ['restore', A, '--exit-code'], from: A, code: 0, changed: false },
      { argv: ['restore', B, '--dry-run', '--exit-code'], from: A, code: 10, changed: false },
      { argv: ['restore', B, '--json'], from: A, code: 0, changed: true },
      { argv: ['restore', A, '--merge', '--json', '--exit-code'], from: B, code: 10, changed: true },
    ];
    for (const s of steps) {
      const results = [];
      for (const fast of [true, false]) {
        await execa('ipvsadm', ['-C']);
        if (s.from) await execa('ipvsadm', ['-R'], { inputFile: s.from });
        const before = await oracle();
        const r = await lbctl([...s.argv, '--driver', driver], fast);
        const table = await oracle();
        assert.equal(r.exitCode, s.code, `[${driver}] ${fast ? 'fast' : 'oclif'} ${s.argv.join(' ')}: ${r.stderr}${r.stdout}`);
        assert.equal(table !== before, s.changed, `[${driver}] ${s.argv.join(' ')}: table ${s.changed ? 'not ' : ''}changed`);
        results.push({ ...r, table });
      }
      assert.deepEqual(results[0], results[1], `[${driver}] ${s.argv.join(' ')}: fast path and oclif differ`);
      process.stderr.write(`# [${driver}] ${s.argv.slice(1).map((a) => path.basename(a)).join(' ')}: exit ${results[0].exitCode}, ${results[0].stdout.split('\n')[0]}\n`);
    }
  }
});
