/**
 * `config install` as root on real files (the real CLI, one process per run): a root:haproxy
 * 0640 haproxy.cfg and a 0600 keepalived.conf keep mode, owner and group, and so do their
 * backups; a new keepalived.conf with auth_pass is created 0600; symlinks planted at a target or
 * at a backup path never get written through; LBCTL_FAULT=rename:K leaves all files as before;
 * a second install waits for the lock of the same root. Temp dirs are /tmp/lbf3-safe-*.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctl } from '../support/keepalived-lab.js';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { snapshotTree } from '../support/tree-snapshot.js';

const SPEC = await fs.readFile(path.join(lbctlRoot(), 'examples', 'minimal-pair.yaml'), 'utf8');

async function groupId(name: string): Promise<number> {
  let r = await execa('getent', ['group', name], { reject: false });
  if (r.exitCode !== 0) {
    await execa('groupadd', ['--system', name]);
    r = await execa('getent', ['group', name]);
  }
  return Number(r.stdout.split(':')[2]);
}

async function setup(): Promise<{ dir: string; spec: string; root: string; h: string; k: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbf3-safe-'));
  const spec = path.join(dir, 'spec.yaml');
  await fs.writeFile(spec, SPEC);
  const root = path.join(dir, 'root');
  return { dir, spec, root, h: path.join(root, 'etc/haproxy/haproxy.cfg'), k: path.join(root, 'etc/keepalived/keepalived.conf') };
}

const stat = async (p: string) => { const s = await fs.lstat(p); return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid }; };

test('install keeps root:haproxy 0640 and 0600, backups too; new keepalived.conf is 0600', { timeout: 120_000 }, async () => {
  const c = await setup();
  try {
    const gid = await groupId('haproxy');
    // A fresh install: keepalived.conf holds auth_pass, so it is created 0600.
    const first = await lbctl(['config', 'install', c.spec, '--node', 'lb1', '--root', c.root, '--json']);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.deepEqual(await stat(c.k), { mode: 0o600, uid: 0, gid: 0 });
    assert.deepEqual(await stat(c.h), { mode: 0o644, uid: 0, gid: 0 });
    assert.match(await fs.readFile(c.k, 'utf8'), /auth_pass/);

    // The operator's choices: haproxy.cfg root:haproxy 0640, keepalived.conf 0600.
    await fs.chown(c.h, 0, gid);
    await fs.chmod(c.h, 0o640);
    await fs.writeFile(c.h, 'old haproxy\n');
    await fs.writeFile(c.k, 'old keepalived\n');
    const r = await lbctl(['config', 'install', c.spec, '--node', 'lb1', '--root', c.root, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.json.files.map((f: any) => f.action), ['updated', 'updated']);
    assert.deepEqual(await stat(c.h), { mode: 0o640, uid: 0, gid }, 'haproxy.cfg stays root:haproxy 0640');
    assert.deepEqual(await stat(c.k), { mode: 0o600, uid: 0, gid: 0 }, 'keepalived.conf stays 0600');
    assert.deepEqual(await stat(`${c.h}.lbctl-bak`), { mode: 0o640, uid: 0, gid }, 'backup keeps root:haproxy 0640');
    assert.deepEqual(await stat(`${c.k}.lbctl-bak`), { mode: 0o600, uid: 0, gid: 0 }, 'backup keeps 0600');
    assert.equal(await fs.readFile(`${c.h}.lbctl-bak`, 'utf8'), 'old haproxy\n');
    assert.equal(await fs.readFile(`${c.k}.lbctl-bak`, 'utf8'), 'old keepalived\n');
    // Converged: a third run changes nothing, and the JSON plan says so.
    const again = await lbctl(['config', 'install', c.spec, '--node', 'lb1', '--root', c.root, '--json']);
    assert.equal(again.json.changed, false);
    assert.equal(again.json.plan.summary, 'No changes.');
  } finally {
    await fs.rm(c.dir, { recursive: true, force: true });
  }
});

test('symlinks planted at a target or at a backup path are never written through', { timeout: 120_000 }, async () => {
  const c = await setup();
  try {
    assert.equal((await lbctl(['config', 'install', c.spec, '--node', 'lb1', '--root', c.root])).exitCode, 0);
    const victim = path.join(c.dir, 'shadow');
    await fs.writeFile(victim, 'root:x:0:0\n');
    await fs.chmod(victim, 0o600);

    // At the backup path: the install goes through; the link itself is replaced by the backup.
    await fs.writeFile(c.k, 'old keepalived\n');
    await fs.symlink(victim, `${c.k}.lbctl-bak`);
    const r = await lbctl(['config', 'install', c.spec, '--node', 'lb1', '--root', c.root]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(await fs.readFile(victim, 'utf8'), 'root:x:0:0\n', 'the link target is untouched');
    assert.ok((await fs.lstat(`${c.k}.lbctl-bak`)).isFile());
    assert.equal(await fs.readFile(`${c.k}.lbctl-bak`, 'utf8'), 'old keepalived\n');

    // At the target: refused, one line naming it, nothing changed anywhere.
    await fs.rm(c.h);
    await fs.symlink(victim, c.h);
    const before = await snapshotTree(c.dir);
    const bad = await lbctl(['config', 'install', c.spec, '--node', 'lb1', '--root', c.root]);
    assert.equal(bad.exitCode, ExitCode.Rejected, bad.stderr);
    assert.equal(bad.stderr.trim().split('\n').length, 1);
    assert.match(bad.stderr, new RegExp(`${c.h.replace(/[.]/g, '\\.')}: read: is a symbolic link`));
    assert.deepEqual(await snapshotTree(c.dir), before);
  } finally {
    await fs.rm(c.dir, { recursive: true, force: true });
  }
});

test('LBCTL_FAULT=rename:K: all files as before, the error says so; without it all as desired', { timeout: 120_000 }, async () => {
  const c = await setup();
  try {
    assert.equal((await lbctl(['config', 'install', c.spec, '--node', 'lb1', '--root', c.root])).exitCode, 0);
    await fs.writeFile(c.h, 'old haproxy\n');
    await fs.writeFile(c.k, 'old keepalived\n');
    await fs.writeFile(`${c.k}.lbctl-bak`, 'older keepalived\n');
    const before = await snapshotTree(c.dir);
    for (const k of [1, 2]) {
      const bin = path.join(lbctlRoot(), 'bin', 'run.js');
      const r = await execa(process.execPath, [bin, 'config', 'install', c.spec, '--node', 'lb1', '--root', c.root], { reject: false, env: { LBCTL_FAULT: `rename:${k}`, NO_COLOR: '1' } });
      assert.equal(r.exitCode, ExitCode.Rejected, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /injected fault/);
      assert.match(r.stderr, /nothing was changed/);
      assert.deepEqual(await snapshotTree(c.dir), before, `fault at rename ${k}: every file, backup, mode and owner as before`);
    }
    const ok = await lbctl(['config', 'install', c.spec, '--node', 'lb1', '--root', c.root, '--json']);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.deepEqual(ok.json.files.map((f: any) => f.action), ['updated', 'updated']);
    assert.equal(await fs.readFile(`${c.k}.lbctl-bak`, 'utf8'), 'old keepalived\n');
  } finally {
    await fs.rm(c.dir, { recursive: true, force: true });
  }
});

test('a second install into the same root waits for the lock, then runs', { timeout: 120_000 }, async () => {
  const c = await setup();
  const locks = path.join(c.dir, 'locks');
  await fs.mkdir(locks);
  // The holder: a live process named in the lock file, killed by the test.
  const holder = execa('sleep', ['120'], { reject: false });
  try {
    const name = `config@${c.root}`.replace(/[^\w.@-]/g, '_');
    await fs.writeFile(path.join(locks, `${name}.lock`), JSON.stringify({ pid: holder.pid, command: 'lbctl config install (holder)', since: new Date().toISOString() }));
    const bin = path.join(lbctlRoot(), 'bin', 'run.js');
    const env = { LBCTL_LOCK_DIR: locks, NO_COLOR: '1' };
    const busy = await execa(process.execPath, [bin, 'config', 'install', c.spec, '--node', 'lb1', '--root', c.root, '--lock-timeout', '200ms'], { reject: false, env });
    assert.equal(busy.exitCode, ExitCode.Busy, busy.stderr);
    assert.equal(busy.stderr.trim().split('\n').length, 1);
    assert.match(busy.stderr, new RegExp(`locked by pid ${holder.pid} \\(lbctl config install \\(holder\\)`));
    await assert.rejects(fs.access(c.root), 'nothing written while busy');
    const waiting = execa(process.execPath, [bin, 'config', 'install', c.spec, '--node', 'lb1', '--root', c.root, '--lock-timeout', '60s'], { reject: false, env });
    await new Promise((r) => setTimeout(r, 8000));
    await assert.rejects(fs.access(c.root), 'still waiting for the holder: nothing written');
    holder.kill();
    const waited = await waiting;
    assert.equal(waited.exitCode, 0, waited.stderr);
    await fs.access(c.root);
    assert.deepEqual(await fs.readdir(locks), [], 'the lock is released');
  } finally {
    holder.kill();
    await holder.catch(() => undefined);
    await fs.rm(c.dir, { recursive: true, force: true });
  }
});
