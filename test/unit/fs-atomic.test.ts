/**
 * src/util/fs.ts: atomic writes that keep modes, never write through symlinks, replace a set of
 * files all or none (LBCTL_FAULT=rename:K), and word every OS error as one line with a
 * documented exit code. Ownership (chown) is covered by test/host/files-safety.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fsError, readFileState, replaceFiles, writeFileAtomic } from '../../src/util/fs.js';
import { toLbctlError } from '../../src/cli/base.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { LbctlError } from '../../src/cli/errors.js';

async function scratch(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'lbf3-unit-'));
}
const modeOf = async (p: string) => (await fs.lstat(p)).mode & 0o7777;

async function rejects(p: Promise<unknown>): Promise<LbctlError> {
  try { await p; } catch (e) { assert.ok(e instanceof LbctlError, `an LbctlError, got ${String(e)}`); return e; }
  assert.fail('expected a rejection');
}

test('new files: 0644 by default, 0600 when secret, whatever the umask', async () => {
  const dir = await scratch();
  const old = process.umask(0o000);
  try {
    await writeFileAtomic(path.join(dir, 'a'), 'x');
    await writeFileAtomic(path.join(dir, 'k'), 'auth_pass s3cret', { secret: true });
  } finally { process.umask(old); }
  assert.equal(await modeOf(path.join(dir, 'a')), 0o644);
  assert.equal(await modeOf(path.join(dir, 'k')), 0o600);
});

test('a replaced file keeps its mode; its backup has the old content and the same mode', async () => {
  const dir = await scratch();
  for (const mode of [0o600, 0o640, 0o755]) {
    const f = path.join(dir, `f${mode.toString(8)}`);
    await fs.writeFile(f, 'old\n');
    await fs.chmod(f, mode);
    const r = await writeFileAtomic(f, 'new\n', { mode: 0o644 });
    assert.equal(r.changed, true);
    assert.equal(await fs.readFile(f, 'utf8'), 'new\n');
    assert.equal(await modeOf(f), mode, `mode ${mode.toString(8)} kept`);
    assert.equal(r.backup, `${f}.lbctl-bak`);
    assert.equal(await fs.readFile(`${f}.lbctl-bak`, 'utf8'), 'old\n');
    assert.equal(await modeOf(`${f}.lbctl-bak`), mode, 'backup keeps the mode');
  }
  assert.deepEqual((await fs.readdir(dir)).filter((n) => n.includes('lbctl-') && !n.endsWith('.lbctl-bak')), [], 'no scratch files left');
});

test('identical content: unchanged, no backup, same inode', async () => {
  const dir = await scratch();
  const f = path.join(dir, 'same');
  await fs.writeFile(f, 'x');
  const ino = (await fs.stat(f)).ino;
  assert.deepEqual(await writeFileAtomic(f, 'x'), { path: f, changed: false });
  assert.equal((await fs.stat(f)).ino, ino);
  await assert.rejects(fs.access(`${f}.lbctl-bak`));
});

test('a symlink at the target is refused and its target untouched', async () => {
  const dir = await scratch();
  const victim = path.join(dir, 'victim');
  await fs.writeFile(victim, 'precious');
  const f = path.join(dir, 'haproxy.cfg');
  await fs.symlink(victim, f);
  const e = await rejects(writeFileAtomic(f, 'evil'));
  assert.equal(e.exitCode, ExitCode.Rejected);
  assert.equal(e.where, f);
  assert.match(e.oneLine(), /symbolic link/);
  assert.equal(await fs.readFile(victim, 'utf8'), 'precious');
  assert.equal(await fs.readlink(f), victim, 'the link itself is left as it was');
});

test('a symlink planted at the backup path is replaced, never written through', async () => {
  const dir = await scratch();
  const victim = path.join(dir, 'shadow');
  await fs.writeFile(victim, 'precious');
  const f = path.join(dir, 'keepalived.conf');
  await fs.writeFile(f, 'old');
  await fs.chmod(f, 0o600);
  await fs.symlink(victim, `${f}.lbctl-bak`);
  await writeFileAtomic(f, 'new');
  assert.equal(await fs.readFile(victim, 'utf8'), 'precious', 'the link target is untouched');
  const bst = await fs.lstat(`${f}.lbctl-bak`);
  assert.ok(bst.isFile(), 'the backup is a regular file now');
  assert.equal(bst.mode & 0o7777, 0o600);
  assert.equal(await fs.readFile(`${f}.lbctl-bak`, 'utf8'), 'old');
});

test('a directory at the target, a file where a directory belongs, /proc: one line each, never Internal', async () => {
  const dir = await scratch();
  await fs.mkdir(path.join(dir, 'isdir'));
  const e1 = await rejects(writeFileAtomic(path.join(dir, 'isdir'), 'x'));
  assert.equal(e1.code, 'EISDIR');
  assert.equal(e1.exitCode, ExitCode.Rejected);
  assert.equal(e1.where, path.join(dir, 'isdir'));

  await fs.writeFile(path.join(dir, 'plain'), 'x');
  const e2 = await rejects(writeFileAtomic(path.join(dir, 'plain', 'sub', 'f'), 'x'));
  assert.equal(e2.code, 'ENOTDIR');
  assert.equal(e2.exitCode, ExitCode.Rejected);
  assert.match(e2.where ?? '', /plain/);

  const t0 = Date.now();
  const e3 = await rejects(writeFileAtomic('/proc/lbf3-x/y/z', 'x'));
  assert.equal(e3.exitCode, ExitCode.Usage);
  assert.match(e3.message, /on proc/);
  assert.ok(Date.now() - t0 < 2000, 'fails fast');
  const e4 = await rejects(writeFileAtomic('/sys/kernel/lbf3-x', 'x'));
  assert.match(e4.message, /on sysfs/);
});

test('replaceFiles: a failing k-th rename leaves every file as before (content, mode, inode)', async () => {
  const dir = await scratch();
  const paths = ['c', 'a', 'b'].map((n) => path.join(dir, n));
  // paths[0] does not exist: created by the first rename, removed by the rollback.
  await fs.writeFile(paths[1], 'A0'); await fs.chmod(paths[1], 0o640);
  await fs.writeFile(paths[2], 'B0'); await fs.chmod(paths[2], 0o600);
  const snap = async () => Promise.all(paths.map(async (p) => {
    const st = await fs.lstat(p).catch(() => undefined);
    return st ? { p, ino: st.ino, mode: st.mode & 0o7777, content: await fs.readFile(p, 'utf8') } : { p, absent: true };
  }));
  const before = await snap();
  const items = async () => Promise.all(paths.map(async (p, i) => ({ path: p, content: Buffer.from(`new${i}`), before: await readFileState(p), backup: true, mode: 0o644 })));
  for (const k of [1, 2, 3]) {
    process.env.LBCTL_FAULT = `rename:${k}`;
    try {
      const e = await rejects(replaceFiles(await items()));
      assert.equal(e.exitCode, ExitCode.Rejected);
      assert.match(e.oneLine(), /injected fault/);
      assert.match(e.oneLine(), /nothing was changed/);
      if (k > 1) assert.match(e.oneLine(), new RegExp(`the ${k - 1} files? already replaced (was|were) restored`));
    } finally {
      delete process.env.LBCTL_FAULT;
    }
    assert.deepEqual(await snap(), before, `fault at rename ${k}: all as before`);
    assert.deepEqual((await fs.readdir(dir)).sort(), ['a', 'b'], 'no scratch files or backups left');
  }
  await replaceFiles(await items());
  assert.deepEqual(await Promise.all(paths.map((p) => fs.readFile(p, 'utf8'))), ['new0', 'new1', 'new2']);
  assert.equal(await modeOf(paths[0]), 0o644);
  assert.equal(await modeOf(paths[1]), 0o640);
  assert.equal(await modeOf(paths[2]), 0o600);
});

test('a directory at the backup path: refused, and the target is restored', async () => {
  const dir = await scratch();
  const f = path.join(dir, 'cfg');
  await fs.writeFile(f, 'old');
  await fs.mkdir(`${f}.lbctl-bak`);
  const e = await rejects(writeFileAtomic(f, 'new'));
  assert.equal(e.code, 'EISDIR');
  assert.equal(e.where, `${f}.lbctl-bak`);
  assert.match(e.oneLine(), /nothing was changed/);
  assert.equal(await fs.readFile(f, 'utf8'), 'old');
});

test('errno mapping: each OS error names the path and has its documented exit code', () => {
  const table: Array<[string, number]> = [
    ['EISDIR', ExitCode.Rejected], ['ENOTDIR', ExitCode.Rejected], ['EROFS', ExitCode.Rejected], ['ENOSPC', ExitCode.Rejected],
    ['EDQUOT', ExitCode.Rejected], ['ELOOP', ExitCode.Rejected], ['EIO', ExitCode.Rejected], ['ENAMETOOLONG', ExitCode.Usage],
    ['EACCES', ExitCode.Permission], ['EPERM', ExitCode.Permission], ['ENOENT', ExitCode.NotFound],
  ];
  const errno: Record<string, number> = { EISDIR: -21, ENOTDIR: -20, EROFS: -30, ENOSPC: -28, EDQUOT: -122, ELOOP: -40, EIO: -5, ENAMETOOLONG: -36, EACCES: -13, EPERM: -1, ENOENT: -2 };
  for (const [code, exit] of table) {
    // As Node raises them: errno (negative), code, syscall, path. The name comes from the errno.
    const raw = Object.assign(new Error(`${code}: x`), { errno: errno[code], code: 'WRONG', syscall: 'open', path: '/some/where' });
    const e = toLbctlError(raw);
    assert.equal(e.exitCode, exit, code);
    assert.equal(e.code, code);
    assert.equal(e.where, '/some/where');
    assert.equal(e.oneLine().split('\n').length, 1);
    assert.equal(fsError(raw, '/p', 'write').exitCode, exit);
  }
  const renamed = toLbctlError(Object.assign(new Error('EXDEV'), { errno: -18, code: 'EXDEV', syscall: 'rename', path: '/a/tmp', dest: '/b/target' }));
  assert.equal(renamed.where, '/b/target', 'rename errors name the target');
  assert.equal(toLbctlError(new TypeError('a bug')).exitCode, ExitCode.Internal, 'real bugs stay Internal');
});
