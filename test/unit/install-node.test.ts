/**
 * `config install` (src/cluster/install.ts installNode) on real files under a temp --root, with
 * stand-in daemons (test/support/fake-daemons.ts) so no root, haproxy or keepalived is needed:
 * a fresh install and its no-op repeat, the dry run, the refusals that must come before any
 * daemon check or write (kernel file system, symlink, failed check, held lock), and the
 * all-or-nothing replace under LBCTL_FAULT=rename:K. Temp dirs: /tmp/mu-inst-*.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { rejectsLbctl, scratchDirs } from '../support/scratch.js';
import { checkBehaviour, startFakeDaemon, takeCheckRuns, useFakeDaemonChecks, type FakeDaemon } from '../support/fake-daemons.js';
import { snapshotTree } from '../support/tree-snapshot.js';
import { installSpec, nsOfThisProcess } from '../support/install-spec.js';

// Locks go to a scratch directory: /run/lbctl/locks needs root.
process.env.LBCTL_LOCK_DIR = path.join(useFakeDaemonChecks(), 'locks');
const { installNode } = await import('../../src/cluster/install.js');
const scratch = scratchDirs('mu-inst-');

test('fresh install: both files created (keepalived.conf 0600, it holds auth_pass), checked first; the repeat changes nothing', async () => {
  checkBehaviour({});
  const c = await installSpec(await scratch());
  takeCheckRuns();
  const r = await installNode(c.spec, { node: 'lb1', root: c.root, netns: 'never', lockTimeoutMs: 1000 });
  assert.equal(r.changed, true);
  assert.equal(r.root, c.root);
  assert.equal(r.dryRun, false);
  assert.deepEqual(r.files.map((f) => [f.file, f.path, f.action, f.changed, f.backup]), [
    ['haproxy.cfg', c.h, 'created', true, undefined],
    ['keepalived.conf', c.k, 'created', true, undefined],
  ]);
  assert.match(r.files[1].diff, /^--- \/dev\/null\n\+\+\+ generated\/lb1\/keepalived\.conf\n/);
  assert.deepEqual(r.plan.changes.map((x: any) => [x.action, x.kind, x.id]), [['+', 'file', c.h], ['+', 'file', c.k]]);
  assert.equal((await fs.stat(c.h)).mode & 0o7777, 0o644);
  assert.equal((await fs.stat(c.k)).mode & 0o7777, 0o600);
  assert.match(await fs.readFile(c.k, 'utf8'), /auth_pass s3cret/);
  // Each daemon checked the file once, in this network namespace (netns: never).
  const runs = takeCheckRuns();
  assert.deepEqual(runs.map((l) => l.split(' ')[0]), ['haproxy', 'keepalived']);
  for (const l of runs) assert.ok(l.endsWith(` ns=${await nsOfThisProcess()}`), l);

  const before = await snapshotTree(c.dir);
  const again = await installNode(c.spec, { node: 'lb1', root: c.root, netns: 'never', lockTimeoutMs: 1000 });
  assert.equal(again.changed, false);
  assert.deepEqual(again.files.map((f) => [f.action, f.changed, f.diff]), [['unchanged', false, ''], ['unchanged', false, '']]);
  assert.deepEqual(again.plan.changes, []);
  assert.deepEqual(await snapshotTree(c.dir), before, 'a no-op install touches nothing (no backup either)');
});

test('dry run: the plan and diffs, nothing written; without --root the root is /', async () => {
  checkBehaviour({});
  const c = await installSpec(await scratch());
  await fs.mkdir(path.dirname(c.h), { recursive: true });
  await fs.writeFile(c.h, 'old haproxy\n');
  const before = await snapshotTree(c.dir);
  const r = await installNode(c.spec, { node: 'lb1', root: c.root, dryRun: true, netns: 'never' });
  assert.equal(r.dryRun, true);
  assert.equal(r.changed, true);
  assert.deepEqual(r.files.map((f) => f.action), ['updated', 'created']);
  assert.match(r.files[0].diff, /^--- .*haproxy\.cfg\n\+\+\+ generated\/lb1\/haproxy\.cfg\n@@ .*\n-old haproxy\n/);
  assert.deepEqual(await snapshotTree(c.dir), before);
  const slash = await installNode(c.spec, { node: 'lb1', dryRun: true, netns: 'never' });
  assert.equal(slash.root, '/');
  assert.equal(slash.files[0].path, '/etc/haproxy/haproxy.cfg');
});

test('refused before any daemon check or write: --root on /proc, a symlink at a target', async () => {
  checkBehaviour({});
  const c = await installSpec(await scratch());
  takeCheckRuns();
  const proc = await rejectsLbctl(installNode(c.spec, { node: 'lb1', root: '/proc/mu-inst', netns: 'never' }));
  assert.equal(proc.exitCode, ExitCode.Usage);
  assert.equal(proc.code, 'EPSEUDOFS');
  assert.match(proc.message, /^--root is on proc/);

  await fs.mkdir(path.dirname(c.k), { recursive: true });
  await fs.writeFile(path.join(c.dir, 'victim'), 'not yours\n');
  await fs.symlink(path.join(c.dir, 'victim'), c.k);
  const before = await snapshotTree(c.dir);
  const link = await rejectsLbctl(installNode(c.spec, { node: 'lb1', root: c.root, netns: 'never' }));
  assert.equal(link.code, 'ESYMLINK');
  assert.equal(link.where, c.k);
  assert.deepEqual(takeCheckRuns(), [], 'no daemon check ran');
  assert.deepEqual(await snapshotTree(c.dir), before);
});

test('a failed daemon check: CheckFailed naming node/file, nothing installed; warnings are passed on', async () => {
  const c = await installSpec(await scratch());
  checkBehaviour({ keepalived: 'fail' });
  const e = await rejectsLbctl(installNode(c.spec, { node: 'lb1', root: c.root, netns: 'never' }));
  assert.equal(e.exitCode, ExitCode.CheckFailed);
  assert.equal(e.code, 'EDAEMONCHECK');
  assert.equal(e.where, 'lb1/keepalived.conf');
  assert.equal(e.message, 'mu: the fake keepalived found an error');
  assert.match(e.hint ?? '', /^nothing was installed/);
  assert.deepEqual(await fs.readdir(c.dir), ['spec.yaml'], 'not even a directory was made');

  checkBehaviour({ haproxy: 'warn' });
  const r = await installNode(c.spec, { node: 'lb1', root: c.root, netns: 'never' });
  assert.deepEqual(r.warnings, ['haproxy.cfg: mu: a warning from the fake haproxy']);
  checkBehaviour({});
});

test('LBCTL_FAULT=rename:K: every file and backup as before, and says so; then all replaced with backups', async (t) => {
  checkBehaviour({});
  const c = await installSpec(await scratch());
  await installNode(c.spec, { node: 'lb1', root: c.root, netns: 'never' });
  await fs.writeFile(c.h, 'old haproxy\n');
  await fs.writeFile(c.k, 'old keepalived\n');
  await fs.writeFile(`${c.k}.lbctl-bak`, 'older keepalived\n');
  const before = await snapshotTree(c.dir);
  t.after(() => { delete process.env.LBCTL_FAULT; });
  for (const k of [1, 2]) {
    process.env.LBCTL_FAULT = `rename:${k}`;
    const e = await rejectsLbctl(installNode(c.spec, { node: 'lb1', root: c.root, netns: 'never' }));
    assert.equal(e.exitCode, ExitCode.Rejected);
    assert.match(e.oneLine(), /injected fault.*nothing was changed/);
    assert.deepEqual(await snapshotTree(c.dir), before, `fault at rename ${k}`);
  }
  delete process.env.LBCTL_FAULT;
  const r = await installNode(c.spec, { node: 'lb1', root: c.root, netns: 'never' });
  assert.deepEqual(r.files.map((f) => [f.action, f.backup]), [['updated', `${c.h}.lbctl-bak`], ['updated', `${c.k}.lbctl-bak`]]);
  assert.equal(await fs.readFile(`${c.h}.lbctl-bak`, 'utf8'), 'old haproxy\n');
  assert.equal(await fs.readFile(`${c.k}.lbctl-bak`, 'utf8'), 'old keepalived\n');
});

test('another holder of the config root lock: Busy (12) naming it, nothing written', async (t) => {
  checkBehaviour({});
  const c = await installSpec(await scratch());
  const locks = process.env.LBCTL_LOCK_DIR!;
  await fs.mkdir(locks, { recursive: true });
  // pid 1 is alive and never this process: the lock is held, not stale.
  const lockFile = path.join(locks, `config@${c.root.replace(/[^\w.@-]/g, '_')}.lock`);
  t.after(() => fs.rm(lockFile, { force: true }));
  await fs.writeFile(lockFile, JSON.stringify({ pid: 1, command: 'lbctl config install (mu holder)', since: new Date().toISOString() }));
  const before = await snapshotTree(c.dir);
  const started = Date.now();
  const e = await rejectsLbctl(installNode(c.spec, { node: 'lb1', root: c.root, netns: 'never', lockTimeoutMs: 300 }));
  assert.equal(e.exitCode, ExitCode.Busy);
  assert.equal(e.where, lockFile);
  assert.match(e.message, /locked by pid 1 \(lbctl config install \(mu holder\)/);
  assert.ok(Date.now() - started < 10_000, 'gave up after the given timeout, not the default 30 s');
  assert.deepEqual(await snapshotTree(c.dir), before);
  // A dry run takes no lock.
  assert.equal((await installNode(c.spec, { node: 'lb1', root: c.root, netns: 'never', dryRun: true, lockTimeoutMs: 300 })).changed, true);
});

test('--reload: only the daemons whose file changed, by signal from their pid files; a reload refused or failing', async (t) => {
  checkBehaviour({});
  const c = await installSpec(await scratch());
  const ka = await startFakeDaemon(c.dir, 'keepalived');
  let ha = await startFakeDaemon(c.dir, 'haproxy');
  t.after(async () => { await ka.stop(); await ha.stop(); });
  const opts = { node: 'lb1', root: c.root, netns: 'never' as const, reload: true, haproxyPidfile: ha.pidfile, keepalivedPidfile: ka.pidfile, nginxPidfile: path.join(c.dir, 'no-nginx.pid') };
  const r = await installNode(c.spec, opts);
  assert.deepEqual(r.plan.changes.map((x: any) => [x.action, x.kind, x.id, x.command]), [
    ['+', 'file', c.h, ['install', '-m', '0644', 'generated/lb1/haproxy.cfg', c.h]],
    ['+', 'file', c.k, ['install', '-m', '0600', 'generated/lb1/keepalived.conf', c.k]],
    ['~', 'daemon', 'haproxy', ['kill', '-USR2', String(ha.pid)]],
    ['~', 'daemon', 'keepalived', ['kill', '-HUP', String(ka.pid)]],
  ]);
  assert.deepEqual(r.files.map((f) => [f.reload?.daemon, f.reload?.method, f.reload?.pid]), [['haproxy', 'signal', ha.pid], ['keepalived', 'signal', ka.pid]]);
  assert.deepEqual([await ha.signals(), await signalsSoon(ka, 1)], [['USR2'], ['HUP']]);

  const again = await installNode(c.spec, opts);
  assert.deepEqual(again.plan.changes, [], 'nothing changed: no reload planned');
  await fs.writeFile(c.h, 'old haproxy\n');
  const one = await installNode(c.spec, opts);
  assert.deepEqual(one.plan.changes.map((x: any) => x.id), [c.h, 'haproxy']);
  assert.equal(one.files[1].reload, undefined);
  assert.deepEqual([await ha.signals(), await ka.signals()], [['USR2', 'USR2'], ['HUP']], 'keepalived left alone');

  // Refused in the plan, before any write: keepalived.conf changed and its daemon is not running.
  await fs.writeFile(c.k, 'old keepalived\n');
  const before = await snapshotTree(c.root);
  const refused = await rejectsLbctl(installNode(c.spec, { ...opts, keepalivedPidfile: path.join(c.dir, 'gone.pid') }));
  assert.equal(refused.exitCode, ExitCode.NotFound);
  assert.match(refused.message, /gone\.pid does not exist/);
  assert.deepEqual(await snapshotTree(c.root), before);
  assert.deepEqual(await ha.signals(), ['USR2', 'USR2']);

  // keepalived vanishes while haproxy reloads: the files are in, and the error says so.
  await ha.stop();
  ha = await startFakeDaemon(c.dir, 'haproxy', { unlinkOnReload: ka.pidfile });
  await fs.writeFile(c.h, 'old haproxy\n');
  const e = await rejectsLbctl(installNode(c.spec, { ...opts, haproxyPidfile: ha.pidfile }));
  assert.equal(e.exitCode, ExitCode.NotFound);
  assert.equal(e.code, 'NOTFOUND');
  assert.match(e.message, new RegExp(`^keepalived pid file .* does not exist: is keepalived running\\? \\(the new files are installed: ${c.h}, ${c.k}\\)$`));
  assert.match(e.hint ?? '', /^start keepalived/);
  assert.ok(e.cause instanceof Error);
  assert.match(await fs.readFile(c.k, 'utf8'), /auth_pass/);
});

/** A fake daemon's signals once it has logged `n` (a signal is handled after kill() returns). */
async function signalsSoon(d: FakeDaemon, n: number): Promise<string[]> {
  for (let i = 0; i < 100 && (await d.signals()).length < n; i++) await new Promise((r) => setTimeout(r, 20));
  return d.signals();
}
