/**
 * src/converge/files.ts refuse and apply paths beyond files-plan.test.ts: read() refuses a
 * kernel file system and a symlink before anything is written; a file whose bytes differ only
 * where UTF-8 decoding hides it is still planned; apply passes mode, backup and secret through
 * and reports each file. Temp dirs: /tmp/mu-files-*.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FilesProvider, newFileMode, unifiedDiff, type ManagedFile } from '../../src/converge/files.js';
import { LbctlError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { renderPlan } from '../../src/converge/change.js';
import { scratchDirs } from '../support/scratch.js';

const scratch = scratchDirs('mu-files-');

test('read() refuses /proc and a symlink target, one line with the path, before any write', async () => {
  const p = new FilesProvider(['/proc/mu-x/haproxy.cfg']);
  await assert.rejects(p.read(), (e: unknown) => e instanceof LbctlError && e.exitCode === ExitCode.Usage && /on proc/.test(e.message));
  const dir = await scratch();
  await fs.writeFile(path.join(dir, 'victim'), 'v');
  await fs.symlink(path.join(dir, 'victim'), path.join(dir, 'a.cfg'));
  const q = new FilesProvider([path.join(dir, 'ok.cfg'), path.join(dir, 'a.cfg')]);
  await assert.rejects(q.read(), (e: unknown) => e instanceof LbctlError && e.code === 'ESYMLINK' && e.where === path.join(dir, 'a.cfg'));
  assert.deepEqual((await fs.readdir(dir)).sort(), ['a.cfg', 'victim']);
  const r = new FilesProvider([path.join(dir, 'ok.cfg')]);
  assert.deepEqual(await r.read(), [{ path: path.join(dir, 'ok.cfg'), kind: 'absent' }]);
});

test('plan: the same text but other bytes is a change; before/after carry mode, owner and sizes', async () => {
  const dir = await scratch();
  const f = path.join(dir, 'x.cfg');
  await fs.writeFile(f, Buffer.from([0x61, 0xff, 0x0a])); // invalid UTF-8: decodes to "a\uFFFD\n"
  await fs.chmod(f, 0o640);
  const p = new FilesProvider([f]);
  const desired: ManagedFile[] = [{ path: f, content: 'a\uFFFD\n' }];
  const plan = p.plan(await p.read(), desired);
  assert.equal(plan.length, 1, 'bytes differ: planned');
  const st = await fs.stat(f);
  assert.deepEqual(plan[0].before, { mode: '0640', uid: st.uid, gid: st.gid, bytes: 3 });
  assert.deepEqual(plan[0].after, { mode: '0640', uid: st.uid, gid: st.gid, bytes: 5 });
  assert.deepEqual(plan[0].command, ['cp', f, f]);
  assert.equal(plan[0].reason, 'content differs');
  // Four octal digits whatever the mode, as `stat -c %04a` shows it: 0000, not 00.
  await fs.chmod(f, 0o000);
  assert.deepEqual(p.plan(await p.read(), desired)[0].before, { mode: '0000', uid: st.uid, gid: st.gid, bytes: 3 });
  const fresh = p.plan([], [{ path: path.join(dir, 'n'), content: 'é', mode: 0o604 }]);
  assert.deepEqual(fresh[0].after, { mode: '0604', bytes: 2 });
  assert.equal(fresh[0].reason, 'not there');
  assert.equal(newFileMode({ path: 'x', content: '', secret: true, mode: 0o644 }), 0o600);
  assert.equal(newFileMode({ path: 'x', content: '' }), 0o644);
  assert.equal(unifiedDiff('a', 'b', '', 'x\n').startsWith('--- a\n'), true, 'an empty file is not /dev/null');
});

test('apply: mode of new files, backup only when asked, report with backup and daemon; converged after', async () => {
  const dir = await scratch();
  const [a, b, c] = ['a.cfg', 'b.cfg', 'c.cfg'].map((n) => path.join(dir, n));
  await fs.writeFile(b, 'old b');
  await fs.writeFile(c, 'old c');
  const desired: ManagedFile[] = [
    { path: a, content: 'new a', mode: 0o640, daemon: 'nginx' },
    { path: b, content: 'new b', backup: false },
    { path: c, content: 'new c', daemon: 'haproxy' },
  ];
  const p = new FilesProvider(desired.map((d) => d.path));
  const report = await p.apply(p.plan(await p.read(), desired));
  assert.deepEqual(report, { files: [
    { path: a, action: 'created', backup: undefined, daemon: 'nginx' },
    { path: b, action: 'updated', backup: undefined, daemon: undefined },
    { path: c, action: 'updated', backup: `${c}.lbctl-bak`, daemon: 'haproxy' },
  ] });
  assert.equal((await fs.stat(a)).mode & 0o777, 0o640);
  assert.deepEqual((await fs.readdir(dir)).sort(), ['a.cfg', 'b.cfg', 'c.cfg', 'c.cfg.lbctl-bak']);
  assert.equal(await fs.readFile(`${c}.lbctl-bak`, 'utf8'), 'old c');
  assert.deepEqual(p.plan(await p.read(), desired), []);
});

test('what a plan shows: "+ file" / "~ file" lines, and a diff -u header without an Index line when the label is the path', async () => {
  const dir = await scratch();
  const [a, b] = ['a.cfg', 'b.cfg'].map((n) => path.join(dir, n));
  await fs.writeFile(b, 'one\n');
  const desired: ManagedFile[] = [{ path: a, content: 'new\n' }, { path: b, content: 'two\n' }];
  const p = new FilesProvider(desired.map((d) => d.path));
  const plan = p.plan(await p.read(), desired);
  assert.deepEqual(renderPlan(plan).split('\n'), [`+ file ${a}  (not there)`, `~ file ${b}  (content differs)`, 'Plan: 1 to add, 1 to change, 0 to remove.']);
  // No label: both sides of the diff are the path, where jsdiff would add "Index:" and "====" if asked.
  assert.equal(plan[1].diff, `--- ${b}\n+++ ${b}\n@@ -1,1 +1,1 @@\n-one\n+two\n`);
});
