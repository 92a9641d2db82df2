/**
 * restore with no input from real lbctl processes (stdin /dev/null, a bare `restore` line in a
 * shell script), both drivers: refused, `ipvsadm -Sn` unchanged. Apart from ipvs-badinput.test.ts
 * because forking node in the lab takes tens of seconds, and each file has its own time budget.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { runLbctl } from '../../src/cli/inprocess.js';

const DRIVERS = (process.env.LBCTL_TEST_DRIVERS ?? 'ipvsadm netlink').split(/\s+/).filter(Boolean);
const BASE = '-A -t 10.77.0.1:80 -s rr\n-a -t 10.77.0.1:80 -r 10.77.1.5:80 -m -w 1\n-A -u 10.77.0.1:53 -s sh -b sh-port\n';
const oracle = async () => (await execa('ipvsadm', ['-Sn'])).stdout.split('\n').sort().join('\n');
async function reset(): Promise<string> {
  await execa('ipvsadm', ['-C']);
  await execa('ipvsadm', ['-R'], { input: BASE });
  return oracle();
}
after(async () => { await execa('ipvsadm', ['-C']).catch(() => {}); });

test('restore with no input, from a real process and from a shell script line, changes nothing (both drivers)', async () => {
  for (const driver of DRIVERS) {
    const snapshot = await reset();
    const t0 = Date.now();
    const devnull = await execa('node', ['bin/run.js', 'restore', '--driver', driver], { reject: false, inputFile: '/dev/null', timeout: 120_000 });
    assert.equal(devnull.exitCode, 3, `[${driver}] restore </dev/null: ${devnull.stderr}`);
    assert.match(devnull.stderr, /no input.*--allow-empty/);
    assert.equal(devnull.stderr.trim().split('\n').length, 1);
    assert.equal(await oracle(), snapshot, `[${driver}] restore </dev/null changed the table`);
    const shell = await execa('node', ['bin/run.js', 'shell', '--driver', driver], { input: 'restore\nlist\n', reject: false, timeout: 120_000 });
    process.stderr.write(`# [${driver}] two node processes in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    assert.equal(shell.exitCode, 2, `[${driver}] a bare restore line in a shell script: ${shell.stderr}`);
    assert.match(shell.stderr, /stdin is already in use/);
    assert.equal(await oracle(), snapshot, `[${driver}] shell restore changed the table`);
    const allowed = await runLbctl(['restore', '--allow-empty', '--driver', driver], { stdin: '' });
    assert.equal(allowed.exitCode, 0, allowed.stderr);
    assert.equal((await execa('ipvsadm', ['-Sn'])).stdout.trim(), '', `[${driver}] --allow-empty empties the table`);
  }
});
