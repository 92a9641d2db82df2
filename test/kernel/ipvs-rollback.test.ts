/**
 * All-or-nothing IPVS batches against the real kernel, both drivers: with the test-only switch
 * LBCTL_FAULT_IPVS=k, change k of a restore's n changes fails in the kernel. `ipvsadm -Sn` must
 * then be exactly as before, and the one-line error must say so ("change k of n failed: ...;
 * rolled back m change(s): table as before"). Without the switch the same restore converges.
 * Commands run in-process (runLbctl), as in ipvs-commands.test.ts.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { runLbctl } from '../../src/cli/inprocess.js';
import { labSkipReason } from './lib/topology.js';

const skip = labSkipReason() ?? false;
const LINK = 'lbp5-0';
let dir = '';

const BEFORE = [
  '-A -t 10.0.0.1:80 -s rr',
  '-a -t 10.0.0.1:80 -r 10.0.1.11:80 -m -w 1',
  '-a -t 10.0.0.1:80 -r 10.0.1.12:80 -m -w 1',
  '-A -t 10.0.0.2:80 -s wlc',
  '-a -t 10.0.0.2:80 -r 10.0.1.21:80 -m -w 3',
  '-A -u 10.0.0.3:53 -s rr -p 300',
  '-a -u 10.0.0.3:53 -r 10.0.1.31:53 -m -w 1',
];

/** Every kind of change: service add/edit/delete, real server add/edit/delete. */
const AFTER = [
  '-A -t 10.0.0.1:80 -s wrr',
  '-a -t 10.0.0.1:80 -r 10.0.1.11:80 -m -w 5',
  '-a -t 10.0.0.1:80 -r 10.0.1.13:80 -m -w 1',
  '-A -u 10.0.0.3:53 -s rr -p 300',
  '-a -u 10.0.0.3:53 -r 10.0.1.31:53 -m -w 1',
  '-A -t 10.0.0.4:443 -s sh',
  ...[1, 2, 3, 4].map((i) => `-a -t 10.0.0.4:443 -r 10.0.1.4${i}:443 -m -w ${i}`),
];
const N = 10; // changes from BEFORE to AFTER: ~svc, ~rs, +rs, -rs, -svc, +svc, 4x +rs

async function saved(): Promise<string> {
  return (await execa('ipvsadm', ['-Sn'])).stdout;
}

async function load(lines: string[]): Promise<string> {
  await execa('ipvsadm', ['-C']);
  await execa('ipvsadm', ['-R'], { input: lines.join('\n') + '\n' });
  return saved();
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'lbp5-rollback-'));
  writeFileSync(path.join(dir, 'after.rules'), AFTER.join('\n') + '\n');
  // Real-server addresses must be routable (dummy links exist in the lab kernel).
  await execa('ip', ['link', 'del', LINK]).catch(() => {});
  await execa('ip', ['link', 'add', LINK, 'type', 'dummy']);
  await execa('ip', ['link', 'set', LINK, 'up']);
  await execa('ip', ['addr', 'add', '10.0.1.1/24', 'dev', LINK]);
});
after(async () => {
  if (skip) return;
  delete process.env.LBCTL_FAULT_IPVS;
  await execa('ipvsadm', ['-C']).catch(() => {});
  await execa('ip', ['link', 'del', LINK]).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

for (const driver of ['netlink', 'ipvsadm']) {
  describe(`driver ${driver}`, () => {
    const restore = (...extra: string[]) => runLbctl(['restore', path.join(dir, 'after.rules'), '--json', '--driver', driver, ...extra]);

    test(`plan has ${N} changes; without a fault it converges`, { skip }, async () => {
      await load(BEFORE);
      const dry = await restore('--dry-run');
      assert.equal(dry.exitCode, 0, dry.stderr + dry.stdout);
      assert.equal(dry.json.changes.length, N, JSON.stringify(dry.json.summary));
      const r = await restore();
      assert.equal(r.exitCode, 0, r.stderr + r.stdout);
      const want = await load(AFTER);
      await load(BEFORE);
      await restore();
      assert.equal(await saved(), want, 'exactly the file');
    });

    for (const k of [1, 2, 5, 7, N]) {
      test(`LBCTL_FAULT_IPVS=${k}: change ${k} of ${N} fails, ipvsadm -Sn exactly as before, and the message says so`, { skip }, async () => {
        const beforeText = await load(BEFORE);
        process.env.LBCTL_FAULT_IPVS = String(k);
        let r;
        try { r = await restore(); } finally { delete process.env.LBCTL_FAULT_IPVS; }
        assert.equal(r.exitCode, 7, r.stderr + r.stdout);
        const e = r.json.error;
        assert.equal(e.code, 'EFAULTINJECTED');
        assert.match(e.message, new RegExp(`^change ${k} of ${N} failed: injected fault at change ${k} .*; (rolled back \\d+ change\\(s\\)|nothing was applied): table as before$`));
        assert.equal(await saved(), beforeText, 'ipvsadm -Sn exactly as before');
        // And one line on stderr without --json.
        process.env.LBCTL_FAULT_IPVS = String(k);
        let human;
        try { human = await runLbctl(['restore', path.join(dir, 'after.rules'), '--driver', driver]); } finally { delete process.env.LBCTL_FAULT_IPVS; }
        assert.equal(human.exitCode, 7);
        assert.equal(human.stderr.trim().split('\n').length, 1, human.stderr);
        assert.match(human.stderr, /table as before/);
        assert.equal(await saved(), beforeText);
      });
    }

    test('a single command (server add) under the switch: refused, nothing changed', { skip }, async () => {
      const beforeText = await load(BEFORE);
      process.env.LBCTL_FAULT_IPVS = '1';
      let r;
      try { r = await runLbctl(['server', 'add', '-t', '10.0.0.2:80', '-r', '10.0.1.22:80', '-m', '--json', '--driver', driver]); } finally { delete process.env.LBCTL_FAULT_IPVS; }
      assert.equal(r.exitCode, 7, r.stdout);
      assert.match(r.json.error.message, /^injected fault at change 1 /);
      assert.equal(await saved(), beforeText);
    });
  });
}
