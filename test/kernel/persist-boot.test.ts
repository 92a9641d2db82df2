/**
 * Boot persistence against the real kernel: program a table, `lbctl save --persist --root R`,
 * flush, then run what the generated unit runs at boot (ExecStartPre and ExecStart, parsed from
 * R's unit file; the rules path it names is read under R, as in an image booted from R, and
 * `lbctl` is found on PATH as systemd's env would): the table is back, `ipvsadm -Sn` equal to the
 * original. Running it again changes nothing; a service added by hand before the boot restore
 * stays (restore --merge, no flush). lbctl runs as real processes (bin/run.js). Names: ps*.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { labSkipReason } from './lib/topology.js';

const skip = labSkipReason() ?? false;
const LINK = 'ps0';
const BIN = path.join(lbctlRoot(), 'bin', 'run.js');
let dir = '';
let root = '';
let binDir = '';

const TABLE = [
  '-A -t 10.92.0.1:80 -s rr',
  '-a -t 10.92.0.1:80 -r 10.92.1.11:80 -m -w 1',
  '-a -t 10.92.0.1:80 -r 10.92.1.12:8080 -m -w 3',
  '-A -u 10.92.0.2:53 -s wlc -p 300',
  '-a -u 10.92.0.2:53 -r 10.92.1.21:53 -g -w 2',
  '-A -f 92 -s sh -b sh-port',
  '-a -f 92 -r 10.92.1.31:0 -g -w 1',
  '-A -t 10.92.0.3:443 -s wrr -p 60 -M 255.255.255.0',
  '-a -t 10.92.0.3:443 -r 10.92.1.41:443 -m -w 7',
];

const sn = async () => (await execa('ipvsadm', ['-Sn'])).stdout;
const lines = (t: string) => t.split('\n').filter(Boolean).sort();

async function lbctl(args: string[]) {
  const r = await execa('node', [BIN, ...args], { reject: false, timeout: 180_000 });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** The unit's Exec lines as argv, with paths that exist under R read there (an image booted from R). */
function unitExec(key: 'ExecStartPre' | 'ExecStart'): Array<{ argv: string[]; ignoreFailure: boolean }> {
  const unit = readFileSync(path.join(root, 'etc/systemd/system/lbctl-ipvs.service'), 'utf8');
  return unit.split('\n').filter((l) => l.startsWith(`${key}=`)).map((l) => {
    let cmd = l.slice(key.length + 1);
    const ignoreFailure = cmd.startsWith('-');
    if (ignoreFailure) cmd = cmd.slice(1);
    // lbctl writes no quotes in its Exec lines: whitespace splitting is how systemd reads them.
    const argv = cmd.split(/\s+/).filter(Boolean).map((a) => (a.startsWith('/etc/') && existsSync(path.join(root, a)) ? path.join(root, a) : a));
    return { argv, ignoreFailure };
  });
}

/** What systemd does at boot for this unit: ExecStartPre (failures ignored with "-"), then ExecStart. */
async function bootStart() {
  const env = { PATH: `${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:${path.dirname(process.execPath)}` };
  for (const { argv, ignoreFailure } of unitExec('ExecStartPre')) {
    const r = await execa(argv[0], argv.slice(1), { reject: false, env });
    if (!ignoreFailure) assert.equal(r.exitCode, 0, r.stderr);
  }
  const [start] = unitExec('ExecStart');
  assert.ok(start && start.argv.includes('--merge'), 'ExecStart restores with --merge');
  assert.ok(start.argv.at(-1)!.startsWith(root), `the rules path is read under R: ${start.argv.join(' ')}`);
  const r = await execa(start.argv[0], start.argv.slice(1), { reject: false, env, timeout: 180_000 });
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  if (skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'ps-kernel-'));
  root = path.join(dir, 'root');
  mkdirSync(root);
  binDir = path.join(dir, 'bin');
  mkdirSync(binDir);
  symlinkSync(BIN, path.join(binDir, 'lbctl'));
  // NAT real servers must be routable (the lab kernel has dummy links).
  await execa('ip', ['link', 'del', LINK]).catch(() => {});
  await execa('ip', ['link', 'add', LINK, 'type', 'dummy']);
  await execa('ip', ['link', 'set', LINK, 'up']);
  await execa('ip', ['addr', 'add', '10.92.1.1/24', 'dev', LINK]);
  await execa('ipvsadm', ['-C']);
  await execa('ipvsadm', ['-R'], { input: TABLE.join('\n') + '\n' });
});
after(async () => {
  if (skip) return;
  await execa('ipvsadm', ['-C']).catch(() => {});
  await execa('ip', ['link', 'del', LINK]).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test('save --persist, flush, boot start: the table is back as it was; again: no change; a hand-added service stays', { skip }, async () => {
  const original = await sn();
  assert.equal(lines(original).length, TABLE.length, original);

  const saved = await lbctl(['save', '--persist', '--root', root, '--json']);
  assert.equal(saved.code, 0, saved.stderr + saved.stdout);
  const j = JSON.parse(saved.stdout);
  assert.deepEqual([j.changed, j.services, j.summary], [true, 4, 'Plan: 3 to add, 0 to change, 0 to remove.']);
  const second = await lbctl(['save', '--persist', '--root', root]);
  assert.deepEqual([second.code, second.stdout.trim()], [0, 'No changes.'], second.stderr);

  await execa('ipvsadm', ['-C']);
  assert.equal((await sn()).trim(), '', 'flushed');

  const boot = await bootStart();
  assert.equal(boot.code, 0, boot.stderr + boot.stdout);
  assert.match(boot.stdout, /^Applied: 9 to add, 0 to change, 0 to delete\.$/m);
  assert.equal(await sn(), original, 'ipvsadm -Sn after the boot restore equals the original');

  const again = await bootStart();
  assert.deepEqual([again.code, again.stdout.trim()], [0, 'No changes.'], again.stderr);
  assert.equal(await sn(), original, 'a second start changes nothing and duplicates nothing');

  // Something else (keepalived, an operator) set up a service before the unit ran.
  await execa('ipvsadm', ['-C']);
  await execa('ipvsadm', ['-A', '-t', '10.92.0.9:80', '-s', 'lc']);
  await execa('ipvsadm', ['-a', '-t', '10.92.0.9:80', '-r', '10.92.1.91:80', '-m', '-w', '1']);
  const hand = lines(await sn());
  const withHand = await bootStart();
  assert.equal(withHand.code, 0, withHand.stderr + withHand.stdout);
  assert.deepEqual(lines(await sn()), [...lines(original), ...hand].sort(), 'the persisted table added, the hand-made service kept');
});
