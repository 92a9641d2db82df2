/**
 * The managed-files and daemon-action providers: a pure plan with unified diffs from jsdiff,
 * apply then plan gives an empty plan, and reloads are planned only for daemons whose file
 * changed (none for an empty files plan).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FilesProvider, unifiedDiff, type ManagedFile } from '../../src/converge/files.js';
import { DaemonProvider, type DaemonState } from '../../src/converge/daemon.js';
import { renderPlan } from '../../src/converge/change.js';

test('unifiedDiff: diff -u shape, /dev/null for a new file, "" when equal', () => {
  const d = unifiedDiff('/etc/x.cfg', 'generated/lb1/x.cfg', 'a\nb\nc\n', 'a\nB\nc\n');
  assert.equal(d, '--- /etc/x.cfg\n+++ generated/lb1/x.cfg\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n');
  assert.match(unifiedDiff('/etc/x.cfg', 'g', undefined, 'one\n'), /^--- \/dev\/null\n\+\+\+ g\n@@ -0,0 \+1,1 @@\n\+one\n$/);
  assert.equal(unifiedDiff('a', 'b', 'same', 'same'), '');
});

test('files plan: + for absent, ~ with a diff for different content, nothing when equal; apply then plan is empty', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbf3-plan-'));
  const p = (n: string) => path.join(dir, 'etc', n);
  await fs.mkdir(path.join(dir, 'etc'));
  await fs.writeFile(p('same.cfg'), 'same\n');
  await fs.writeFile(p('old.cfg'), 'one\ntwo\n');
  const desired: ManagedFile[] = [
    { path: p('new.cfg'), content: 'auth_pass x\n', secret: true, daemon: 'keepalived' },
    { path: p('old.cfg'), content: 'one\n2\n', daemon: 'haproxy', label: 'generated/old.cfg' },
    { path: p('same.cfg'), content: 'same\n' },
  ];
  const provider = new FilesProvider(desired.map((d) => d.path));
  const plan = provider.plan(await provider.read(), desired);
  assert.deepEqual(plan.map((c) => [c.action, c.id]), [['+', p('new.cfg')], ['~', p('old.cfg')]]);
  assert.deepEqual(plan[0].command, ['install', '-m', '0600', p('new.cfg'), p('new.cfg')]);
  assert.match(plan[1].diff, /^--- .*old\.cfg\n\+\+\+ generated\/old\.cfg\n@@ -1,2 \+1,2 @@\n one\n-two\n\+2\n$/);
  assert.match(renderPlan(plan), /Plan: 1 to add, 1 to change, 0 to remove\.$/);

  const report = await provider.apply(plan);
  assert.deepEqual(report.files.map((f) => f.action), ['created', 'updated']);
  assert.equal((await fs.stat(p('new.cfg'))).mode & 0o777, 0o600, 'secret file created 0600');
  assert.deepEqual(provider.plan(await provider.read(), desired), [], 'converged: the second plan is empty');
  assert.deepEqual(await provider.apply([]), { files: [] });
});

test('daemon plan: a reload only for the daemon whose file changed; nothing for an empty files plan', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbf3-daemon-'));
  const cfg = path.join(dir, 'haproxy.cfg');
  const files = new FilesProvider([cfg]);
  const desired: ManagedFile[] = [{ path: cfg, content: 'global\n', daemon: 'haproxy' }];
  const changes = files.plan(await files.read(), desired);
  const daemons = new DaemonProvider([{ daemon: 'haproxy', pidfile: '/nonexistent' }, { daemon: 'keepalived', pidfile: '/nonexistent' }]);
  const state: DaemonState[] = [
    { daemon: 'haproxy', method: 'signal', unit: 'haproxy', pidfile: '/run/h.pid', pid: 4242 },
    { daemon: 'keepalived', method: 'systemctl', unit: 'keepalived' },
  ];
  const plan = daemons.plan(state, changes);
  assert.deepEqual(plan.map((c) => [c.action, c.kind, c.id, c.command]), [['~', 'daemon', 'haproxy', ['kill', '-USR2', '4242']]]);
  assert.match(plan[0].reason, /haproxy\.cfg changed/);
  assert.deepEqual(daemons.plan(state, []), [], 'no file changed: no reload');
  // A daemon that cannot be reloaded is refused in the plan, before any file is written.
  assert.throws(() => daemons.plan([{ ...state[0], problem: new Error('not running') }], changes), /not running/);
  assert.deepEqual(await daemons.apply([]), { reloads: [] });
});
