/**
 * `lbctl save --persist --root R` as a real process, as root, on this host. This kernel has no
 * IPVS, so the table comes from a stand-in ipvsadm (LBCTL_IPVSADM, --driver ipvsadm) that prints
 * a fixed `ipvsadm -Sn`; the files, modes, backups, the enable link and the unit's check by
 * systemd-analyze are real. Temp dirs are ps-*.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { snapshotTree } from '../support/tree-snapshot.js';

const BIN = path.join(lbctlRoot(), 'bin', 'run.js');
let dir = '';
let fake = '';
let table = '';

const RULES = [
  '-A -t 10.0.0.1:80 -s rr',
  '-a -t 10.0.0.1:80 -r 10.0.1.11:80 -m -w 1',
  '-a -t 10.0.0.1:80 -r 10.0.1.12:80 -m -w 3',
  '-A -u 10.0.0.2:53 -s wlc -p 300',
  '-a -u 10.0.0.2:53 -r 10.0.1.21:53 -m -w 1',
].join('\n') + '\n';

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'ps-host-'));
  table = path.join(dir, 'table.rules');
  fake = path.join(dir, 'ipvsadm');
  // -Sn prints the table file; the thresholds listing is empty (no -x/-y to fill in).
  await fs.writeFile(fake, `#!/bin/sh\nif [ "$1" = "-Sn" ]; then cat ${JSON.stringify(table)}; fi\nexit 0\n`, { mode: 0o755 });
  await fs.writeFile(table, RULES);
});
after(() => { rmSync(dir, { recursive: true, force: true }); });

async function save(...args: string[]) {
  const r = await execa('node', [BIN, 'save', '--driver', 'ipvsadm', ...args], {
    reject: false, env: { LBCTL_IPVSADM: fake, LBCTL_LOCK_DIR: path.join(dir, 'locks') },
  });
  let json: any;
  try { json = JSON.parse(r.stdout); } catch { /* human output */ }
  return { code: r.exitCode, stdout: r.stdout, stderr: r.stderr, json };
}

async function newRoot(): Promise<string> {
  return fs.mkdtemp(path.join(dir, 'root-'));
}

test('save --persist --root: dry run writes nothing; apply writes rules, unit and link; the unit passes systemd-analyze verify', async () => {
  const root = await newRoot();
  const dry = await save('--persist', '--root', root, '--dry-run');
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^\+ file .*\/etc\/lbctl\/ipvs\.rules  \(not there\)$/m);
  assert.match(dry.stdout, /^\+ link .*multi-user\.target\.wants\/lbctl-ipvs\.service  \(enables lbctl-ipvs\.service/m);
  assert.match(dry.stdout, /^Plan: 3 to add, 0 to change, 0 to remove\.$/m);
  assert.deepEqual(await fs.readdir(root), []);

  const r = await save('--persist', '--root', root, '--json');
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.deepEqual([r.json.format, r.json.changed, r.json.dryRun, r.json.services, r.json.unit, r.json.summary], ['rules', true, false, 2, 'lbctl-ipvs.service', 'Plan: 3 to add, 0 to change, 0 to remove.']);
  const tree = await snapshotTree(root);
  const entry = (rel: string) => tree.find((e) => e.path === rel);
  assert.deepEqual([entry('etc/lbctl/ipvs.rules')?.type, entry('etc/lbctl/ipvs.rules')?.mode], ['file', '644']);
  assert.deepEqual([entry('etc/systemd/system/lbctl-ipvs.service')?.type, entry('etc/systemd/system/lbctl-ipvs.service')?.mode], ['file', '644']);
  assert.deepEqual(entry('etc/systemd/system/multi-user.target.wants/lbctl-ipvs.service'), {
    path: 'etc/systemd/system/multi-user.target.wants/lbctl-ipvs.service', type: 'symlink', mode: '777', uid: 0, gid: 0, link: '/etc/systemd/system/lbctl-ipvs.service',
  });
  const rules = await fs.readFile(path.join(root, 'etc/lbctl/ipvs.rules'), 'utf8');
  assert.equal(rules.split('\n').filter((l) => l && !l.startsWith('#')).join('\n') + '\n', RULES);
  const unitPath = path.join(root, 'etc/systemd/system/lbctl-ipvs.service');
  const v = await execa('systemd-analyze', ['verify', unitPath], { reject: false });
  assert.deepEqual([v.exitCode, v.stderr], [0, ''], 'systemd-analyze verify');
});

test('a second save --persist says "No changes." and touches nothing; a changed table replaces only the rules file, keeping its mode, with a backup', async () => {
  const root = await newRoot();
  assert.equal((await save('--persist', '--root', root)).code, 0);
  const before = await snapshotTree(root);
  const unitIno = (await fs.stat(path.join(root, 'etc/systemd/system/lbctl-ipvs.service'))).ino;
  const again = await save('--persist', '--root', root);
  assert.deepEqual([again.code, again.stdout.trim()], [0, 'No changes.'], again.stderr);
  const againJson = await save('--persist', '--root', root, '--json');
  assert.deepEqual([againJson.json.changed, againJson.json.summary], [false, 'No changes.']);
  assert.deepEqual(await snapshotTree(root), before);

  const rulesPath = path.join(root, 'etc/lbctl/ipvs.rules');
  await fs.chmod(rulesPath, 0o640);
  await fs.writeFile(table, RULES.replace('-w 3', '-w 5'));
  try {
    const r = await save('--persist', '--root', root, '--json');
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.deepEqual(r.json.changes.map((c: any) => [c.action, c.kind, c.id]), [['~', 'file', rulesPath]]);
    assert.equal((await fs.stat(rulesPath)).mode & 0o777, 0o640, 'mode kept');
    assert.match(await fs.readFile(`${rulesPath}.lbctl-bak`, 'utf8'), /10\.0\.1\.12:80 -m -w 3$/m);
    assert.match(await fs.readFile(rulesPath, 'utf8'), /10\.0\.1\.12:80 -m -w 5$/m);
    assert.equal((await fs.stat(path.join(root, 'etc/systemd/system/lbctl-ipvs.service'))).ino, unitIno, 'unit untouched');
  } finally {
    await fs.writeFile(table, RULES);
  }
});

test('refusals change nothing: a symlink at the rules path, a file where the enable link goes, a missing --root, FILE or --format with --persist, --root without --persist', async () => {
  const root = await newRoot();
  const victim = path.join(dir, 'victim');
  await fs.writeFile(victim, 'keep me\n');
  await fs.mkdir(path.join(root, 'etc/lbctl'), { recursive: true });
  await fs.symlink(victim, path.join(root, 'etc/lbctl/ipvs.rules'));
  const snap = await snapshotTree(root);
  const link = await save('--persist', '--root', root);
  assert.equal(link.code, 7, link.stderr);
  assert.match(link.stderr, /symbolic link/);
  assert.equal(link.stderr.trim().split('\n').length, 1);
  assert.deepEqual(await snapshotTree(root), snap);
  assert.equal(await fs.readFile(victim, 'utf8'), 'keep me\n');

  const root2 = await newRoot();
  const wants = path.join(root2, 'etc/systemd/system/multi-user.target.wants');
  await fs.mkdir(wants, { recursive: true });
  await fs.writeFile(path.join(wants, 'lbctl-ipvs.service'), 'a file\n');
  const snap2 = await snapshotTree(root2);
  const notLink = await save('--persist', '--root', root2);
  assert.equal(notLink.code, 7, notLink.stderr);
  assert.match(notLink.stderr, /where lbctl puts the link that enables lbctl-ipvs\.service/);
  assert.deepEqual(await snapshotTree(root2), snap2, 'nothing written, not even the rules file');

  for (const args of [['--persist', '--root', path.join(dir, 'no-such-root')], ['--persist', path.join(dir, 'x.rules')], ['--persist', '--format', 'yaml'], ['--root', root]]) {
    const r = await save(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  await assert.rejects(fs.stat(path.join(dir, 'x.rules')));
});
