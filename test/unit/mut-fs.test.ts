/**
 * src/util/fs.ts refuse and restore paths that fs-atomic.test.ts leaves to chance (mutants
 * survived there: docs/DEV.md "Mutation testing"). Faults the file system will not produce on
 * demand (a rename or link failing midway, a file system without hard links) are injected by
 * replacing one method of node:fs's promises object for one test: fs.ts calls through that
 * object, so the product code runs unchanged around the fault. Temp dirs: /tmp/mu-fs-*.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ensureDir, errnoName, isFsError, readFileState, refusePseudoFs, removeFile, replaceFiles, writeFileAtomic, type ReplaceItem } from '../../src/util/fs.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { rejectsLbctl as rejects, scratchDirs } from '../support/scratch.js';

const scratch = scratchDirs('mu-fs-');

const sysErr = (code: string, syscall: string) => Object.assign(new Error(`${code}: injected`), { code, syscall });

/** Every name in dir with its content, mode and inode (links followed: a planted link shows its target's content). */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of (await fs.readdir(dir)).sort()) {
    const p = path.join(dir, n);
    const st = await fs.lstat(p);
    out[n] = st.isSymbolicLink() ? `link->${await fs.readlink(p)}`
      : st.isDirectory() ? 'dir'
        : `${(st.mode & 0o7777).toString(8)} ino${st.ino} ${await fs.readFile(p, 'utf8')}`;
  }
  return out;
}

async function items(paths: string[], contents: string[], backup = true): Promise<ReplaceItem[]> {
  return Promise.all(paths.map(async (p, i) => ({ path: p, content: Buffer.from(contents[i]), before: await readFileState(p), backup, mode: 0o640 })));
}

/** Make the n-th call (1-based) of fs.<method> whose first argument matches `pick` fail with `code`. */
function failNth(t: TestContext, method: 'rename' | 'link' | 'unlink' | 'open', n: number, code: string, pick: (a: string, b?: string) => boolean = () => true): { calls: () => number } {
  const real = (fs as any)[method].bind(fs);
  let calls = 0;
  t.mock.method(fs, method, async (...args: any[]) => {
    if (pick(String(args[0]), args[1] === undefined ? undefined : String(args[1])) && ++calls === n) throw sysErr(code, method);
    return real(...args);
  });
  return { calls: () => calls };
}

test('a backup rename failing after every target was replaced: targets and old backups put back, nothing left', async (t) => {
  const dir = await scratch();
  const [a, b] = ['a.cfg', 'b.cfg'].map((n) => path.join(dir, n));
  await fs.writeFile(a, 'A0'); await fs.chmod(a, 0o600);
  await fs.writeFile(b, 'B0'); await fs.chmod(b, 0o640);
  await fs.writeFile(`${a}.lbctl-bak`, 'A-older-backup'); // a previous backup: must come back
  const before = await tree(dir);
  const list = await items([a, b], ['A1', 'B1']);
  // The second backup rename (b.cfg.lbctl-bak) fails: a.cfg's backup is already written.
  failNth(t, 'rename', 2, 'EIO', (_from, to) => Boolean(to?.endsWith('.lbctl-bak')));
  const e = await rejects(replaceFiles(list));
  assert.equal(e.exitCode, ExitCode.Rejected);
  assert.equal(e.code, 'EIO');
  assert.equal(e.where, `${b}.lbctl-bak`);
  assert.match(e.message, /^write backup: input\/output error/);
  assert.match(e.oneLine(), /nothing was changed: the 2 files already replaced were restored, all 2 files as before/);
  assert.doesNotMatch(e.hint ?? '', /nothing was changed/, 'the hint is not the state line twice');
  t.mock.restoreAll();
  assert.deepEqual(await tree(dir), before, 'contents, modes, inodes and the older backup as before; no scratch files');
});

test('a backup failing where there was no backup before: the new backup is removed again', async (t) => {
  const dir = await scratch();
  const [a, b] = ['a.cfg', 'b.cfg'].map((n) => path.join(dir, n));
  await fs.writeFile(a, 'A0');
  await fs.writeFile(b, 'B0');
  const before = await tree(dir);
  const list = await items([a, b], ['A1', 'B1']);
  failNth(t, 'rename', 2, 'ENOSPC', (_from, to) => Boolean(to?.endsWith('.lbctl-bak')));
  const e = await rejects(replaceFiles(list));
  assert.equal(e.code, 'ENOSPC');
  t.mock.restoreAll();
  assert.deepEqual(await tree(dir), before);
});

test('a rollback that cannot put a file back says PARTIAL, names it, and keeps its old content next to it', async (t) => {
  const dir = await scratch();
  const [a, b] = ['a.cfg', 'b.cfg'].map((n) => path.join(dir, n));
  await fs.writeFile(a, 'A0');
  await fs.writeFile(b, 'B0');
  const list = await items([a, b], ['A1', 'B1']);
  // Rename 1: a staged onto a.cfg; rename 2: b staged onto b.cfg fails; rename 3 (the rollback of a.cfg) fails too.
  const real = fs.rename.bind(fs);
  let n = 0;
  t.mock.method(fs, 'rename', async (from: string, to: string) => {
    n++;
    if (n === 2) throw sysErr('EIO', 'rename');
    if (n === 3) throw sysErr('EBUSY', 'rename');
    return real(from, to);
  });
  const e = await rejects(replaceFiles(list));
  t.mock.restoreAll();
  assert.equal(e.code, 'EIO');
  assert.match(e.message, /^replace: input\/output error; PARTIAL/);
  assert.match(e.oneLine(), new RegExp(`PARTIAL: could not restore ${a.replace(/[.]/g, '\\.')} \\(it has the new content; the old one is in a \\.lbctl-old-\\* file next to it\\)`));
  assert.doesNotMatch(e.oneLine(), /nothing was changed/);
  assert.equal(await fs.readFile(a, 'utf8'), 'A1');
  assert.equal(await fs.readFile(b, 'utf8'), 'B0', 'the file whose rename failed is as before');
  const old = (await fs.readdir(dir)).filter((x) => x.startsWith('.a.cfg.lbctl-old-'));
  assert.equal(old.length, 1, 'the old content is left for the operator');
  assert.equal(await fs.readFile(path.join(dir, old[0]), 'utf8'), 'A0');
  assert.deepEqual((await fs.readdir(dir)).filter((x) => x.includes('lbctl-new-')), [], 'staged files removed');
});

test('a rollback that cannot remove a created file says PARTIAL too', async (t) => {
  const dir = await scratch();
  const [a, b] = ['new.cfg', 'b.cfg'].map((n) => path.join(dir, n));
  await fs.writeFile(b, 'B0');
  const list = await items([a, b], ['N1', 'B1']);
  failNth(t, 'rename', 2, 'EIO');
  failNth(t, 'unlink', 1, 'EACCES', (p) => p === a);
  const e = await rejects(replaceFiles(list));
  t.mock.restoreAll();
  assert.match(e.oneLine(), /PARTIAL: could not restore .*new\.cfg/);
  assert.equal(await fs.readFile(b, 'utf8'), 'B0');
  assert.deepEqual((await fs.readdir(dir)).sort(), ['b.cfg', 'new.cfg'], 'every scratch file cleaned up');
});

test('no hard links on the file system: the old file and the backup are copies with the old mode; a rollback still restores', async (t) => {
  const dir = await scratch();
  const [a, b] = ['a.cfg', 'b.cfg'].map((n) => path.join(dir, n));
  await fs.writeFile(a, 'A0'); await fs.chmod(a, 0o600);
  await fs.writeFile(b, 'B0'); await fs.chmod(b, 0o640);
  for (const code of ['EPERM', 'EXDEV', 'EOPNOTSUPP']) {
    await t.test(code, async (t2) => {
      const before = await tree(dir);
      process.env.LBCTL_FAULT = 'rename:2';
      try {
        t2.mock.method(fs, 'link', async () => { throw sysErr(code, 'link'); });
        const e = await rejects(replaceFiles(await items([a, b], ['A1', 'B1'])));
        assert.match(e.oneLine(), /the 1 file already replaced was restored, all 2 files as before/);
      } finally { delete process.env.LBCTL_FAULT; }
      t2.mock.restoreAll();
      const after = await tree(dir);
      // A copy put back is a new inode: compare content and mode.
      const strip = (x: Record<string, string>) => Object.fromEntries(Object.entries(x).map(([k, v]) => [k, v.replace(/ ino\d+/, '')]));
      assert.deepEqual(strip(after), strip(before));
    });
  }
  t.mock.method(fs, 'link', async () => { throw sysErr('EXDEV', 'link'); });
  await replaceFiles(await items([a, b], ['A2', 'B2']));
  t.mock.restoreAll();
  assert.equal(await fs.readFile(`${a}.lbctl-bak`, 'utf8'), 'A0');
  assert.equal((await fs.lstat(`${a}.lbctl-bak`)).mode & 0o7777, 0o600, 'copied backup keeps the mode');
  assert.equal((await fs.lstat(`${b}.lbctl-bak`)).mode & 0o7777, 0o640);
  assert.equal((await fs.lstat(a)).mode & 0o7777, 0o600);
  assert.deepEqual((await fs.readdir(dir)).filter((x) => x.startsWith('.')), [], 'no scratch files left');
});

test('a link failing for another reason (EACCES) is not papered over with a copy', async (t) => {
  const dir = await scratch();
  const a = path.join(dir, 'a.cfg');
  await fs.writeFile(a, 'A0');
  const before = await tree(dir);
  failNth(t, 'link', 1, 'EACCES');
  const e = await rejects(replaceFiles(await items([a], ['A1'])));
  t.mock.restoreAll();
  assert.equal(e.exitCode, ExitCode.Permission);
  assert.match(e.oneLine(), /nothing was changed/);
  assert.deepEqual(await tree(dir), before);
});

test('a file that appeared or vanished between read and write: refused (ERACE), nothing written', async () => {
  const dir = await scratch();
  const a = path.join(dir, 'a.cfg');
  const b = path.join(dir, 'b.cfg');
  await fs.writeFile(b, 'B0');
  const list = await items([b, a], ['B1', 'A1']); // a: absent when read
  await fs.writeFile(a, 'appeared');
  const before = await tree(dir);
  const e = await rejects(replaceFiles(list));
  assert.equal(e.code, 'ERACE');
  assert.equal(e.where, a);
  assert.match(e.oneLine(), /changed while lbctl was writing \(was absent, now file\)/);
  assert.match(e.oneLine(), /the 1 file already replaced was restored/);
  assert.deepEqual(await tree(dir), before);

  const gone = await items([b], ['B2']);
  await fs.rm(b);
  await fs.mkdir(b);
  const e2 = await rejects(replaceFiles(gone));
  assert.match(e2.oneLine(), /was file, now other/);
});

test('staging fails on the second file: directories created for the first are removed, nothing left', async () => {
  const dir = await scratch();
  await fs.writeFile(path.join(dir, 'plain'), 'x');
  const list: ReplaceItem[] = [
    { path: path.join(dir, 'new', 'deep', 'a.cfg'), content: Buffer.from('a'), before: { path: '', kind: 'absent' }, backup: true, mode: 0o644 },
    { path: path.join(dir, 'plain', 'sub', 'b.cfg'), content: Buffer.from('b'), before: { path: '', kind: 'absent' }, backup: true, mode: 0o644 },
  ];
  list[0].before = { path: list[0].path, kind: 'absent' };
  list[1].before = { path: list[1].path, kind: 'absent' };
  const e = await rejects(replaceFiles(list));
  assert.equal(e.code, 'ENOTDIR');
  assert.match(e.message, /^create directory: a component of the path is not a directory/);
  assert.deepEqual(await fs.readdir(dir), ['plain'], 'new/deep removed, deepest first');
});

test('a new file gets the item mode; a replaced one its own; the backup goes only where asked', async () => {
  const dir = await scratch();
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  await fs.writeFile(b, 'B0'); await fs.chmod(b, 0o604);
  const list = await items([a, b], ['A1', 'B1'], false);
  const r = await replaceFiles(list);
  assert.deepEqual(r, { files: [{ path: a }, { path: b }] });
  assert.equal((await fs.lstat(a)).mode & 0o7777, 0o640);
  assert.equal((await fs.lstat(b)).mode & 0o7777, 0o604);
  assert.deepEqual((await fs.readdir(dir)).sort(), ['a', 'b'], 'no backup, no scratch');
  const w = await writeFileAtomic(b, 'B2', { backup: false });
  assert.deepEqual(w, { path: b, changed: true, backup: undefined });
  const m = await writeFileAtomic(path.join(dir, 'm'), 'x', { mode: 0o600 });
  assert.equal(m.changed, true);
  assert.equal((await fs.lstat(path.join(dir, 'm'))).mode & 0o7777, 0o600);
  const s = await writeFileAtomic(path.join(dir, 's'), 'x', { secret: true, mode: 0o644 });
  assert.equal(s.changed, true);
  assert.equal((await fs.lstat(path.join(dir, 's'))).mode & 0o7777, 0o600, 'secret wins over mode');
});

test('readFileState refuses a FIFO, an oversized file and a swap after lstat; reads mode, owner, inode', async (t) => {
  const dir = await scratch();
  const { execFileSync } = await import('node:child_process');
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const e1 = await rejects(readFileState(fifo));
  assert.equal(e1.code, 'ENOTREG');
  assert.equal(e1.where, fifo);
  assert.equal(e1.exitCode, ExitCode.Rejected);

  // The size limit at its edge: lstat reports the size (reading 64 MiB would slow every mutant's run).
  const big = path.join(dir, 'big');
  await fs.writeFile(big, 'small');
  const realLstat = fs.lstat.bind(fs);
  for (const [size, refused] of [[64 * 1024 * 1024 + 1, true], [64 * 1024 * 1024, false]] as const) {
    t.mock.method(fs, 'lstat', async (p: string, ...r: any[]) => { const st = await realLstat(p, ...r); if (p === big) st.size = size; return st; });
    if (refused) {
      const e2 = await rejects(readFileState(big));
      assert.equal(e2.code, 'EFBIG');
      assert.match(e2.message, /67108865 bytes is more than lbctl reads \(67108864\)/);
    } else {
      assert.equal((await readFileState(big)).kind, 'file', 'exactly the limit is read');
    }
    t.mock.restoreAll();
  }

  const f = path.join(dir, 'f');
  await fs.writeFile(f, 'hello'); await fs.chmod(f, 0o640);
  const st = await fs.stat(f);
  assert.deepEqual(await readFileState(f), { path: f, kind: 'file', content: Buffer.from('hello'), mode: 0o640, uid: st.uid, gid: st.gid, ino: st.ino });
  assert.deepEqual(await readFileState(path.join(dir, 'none')), { path: path.join(dir, 'none'), kind: 'absent' });

  // Swapped for another file between lstat and open.
  const other = path.join(dir, 'other');
  await fs.writeFile(other, 'other');
  const realOpen = fs.open.bind(fs);
  t.mock.method(fs, 'open', async (p: string, ...rest: any[]) => realOpen(p === f ? other : p, ...rest));
  const e3 = await rejects(readFileState(f));
  t.mock.restoreAll();
  assert.equal(e3.code, 'ERACE');
  assert.match(e3.message, /changed while lbctl read it/);

  // A read error that is not ENOENT is one line naming the path (not "absent").
  t.mock.method(fs, 'lstat', async () => { throw Object.assign(sysErr('EACCES', 'lstat'), { errno: -13 }); });
  const e4 = await rejects(readFileState(f));
  t.mock.restoreAll();
  assert.equal(e4.exitCode, ExitCode.Permission);
  assert.equal(e4.where, f);
  t.mock.method(fs, 'open', async () => { throw Object.assign(sysErr('EMFILE', 'open'), { errno: -24 }); });
  const e5 = await rejects(readFileState(f));
  t.mock.restoreAll();
  assert.equal(e5.where, f);
  assert.match(e5.message, /^read: EMFILE/);
});

test('ensureDir: creates what is missing (deepest last), accepts a directory made meanwhile, refuses a file', async (t) => {
  const dir = await scratch();
  assert.deepEqual(await ensureDir(path.join(dir, 'x', 'y')), [path.join(dir, 'x'), path.join(dir, 'x', 'y')]);
  assert.deepEqual(await ensureDir(path.join(dir, 'x', 'y')), []);
  assert.equal((await fs.stat(path.join(dir, 'x'))).mode & 0o777, 0o755 & ~process.umask());
  // Someone else creates the directory between our look and our mkdir: fine. A file there: refused.
  const realMkdir = fs.mkdir.bind(fs);
  t.mock.method(fs, 'mkdir', async (p: string, m: any) => { await realMkdir(p, m); throw sysErr('EEXIST', 'mkdir'); });
  assert.deepEqual(await ensureDir(path.join(dir, 'race')), []);
  t.mock.restoreAll();
  t.mock.method(fs, 'mkdir', async (p: string) => { await fs.writeFile(p, 'file'); throw sysErr('EEXIST', 'mkdir'); });
  const e = await rejects(ensureDir(path.join(dir, 'race2', 'sub')));
  t.mock.restoreAll();
  assert.equal(e.code, 'ENOTDIR');
  assert.equal(e.where, path.join(dir, 'race2'));
  t.mock.method(fs, 'mkdir', async () => { throw Object.assign(sysErr('EACCES', 'mkdir'), { errno: -13 }); });
  const e2 = await rejects(ensureDir(path.join(dir, 'denied')));
  t.mock.restoreAll();
  assert.equal(e2.exitCode, ExitCode.Permission);
  assert.equal(e2.where, path.join(dir, 'denied'));
  await fs.writeFile(path.join(dir, 'file'), 'x');
  const e3 = await rejects(ensureDir(path.join(dir, 'file')));
  assert.equal(e3.code, 'ENOTDIR');
  assert.equal(e3.where, path.join(dir, 'file'));
});

test('refusePseudoFs: /proc, /sys and a path whose nearest existing ancestor is there; a real dir passes', async () => {
  const dir = await scratch();
  await refusePseudoFs(path.join(dir, 'not', 'yet'));
  const e = await rejects(refusePseudoFs('/proc/sys/net/mu-x', '--out'));
  assert.equal(e.exitCode, ExitCode.Usage);
  assert.equal(e.code, 'EPSEUDOFS');
  assert.equal(e.where, '/proc/sys/net/mu-x');
  assert.match(e.message, /^--out is on proc, a kernel interface/);
  const e2 = await rejects(refusePseudoFs('/sys/mu-x'));
  assert.match(e2.message, /^the path is on sysfs/);
  // Through a symlink into /proc: the real path decides.
  await fs.symlink('/proc/self', path.join(dir, 'toproc'));
  await rejects(refusePseudoFs(path.join(dir, 'toproc', 'mu')));
});

test('removeFile and errno helpers', async () => {
  const dir = await scratch();
  const f = path.join(dir, 'f');
  await fs.writeFile(f, 'x');
  assert.deepEqual(await removeFile(f), { path: f, changed: true });
  assert.deepEqual(await removeFile(f), { path: f, changed: false });
  await fs.mkdir(f);
  const e = await rejects(removeFile(f));
  assert.equal(e.where, f);
  assert.match(e.message, /^remove: /);
  assert.equal(errnoName({ errno: -122 }), 'EDQUOT');
  assert.equal(errnoName({ errno: -2, code: 'WRONG' }), 'ENOENT');
  assert.equal(errnoName({ code: 'ENOSPC' }), 'ENOSPC');
  assert.equal(errnoName({ code: 'bad' }), undefined);
  assert.equal(errnoName({ errno: 5, code: 'EIO' }), 'EIO', 'a positive errno is not a system errno: the code decides');
  assert.equal(isFsError(sysErr('EROFS', 'open')), true);
  assert.equal(isFsError({ code: 'EROFS' }), false, 'no syscall: not an OS error about a path');
  assert.equal(isFsError(sysErr('EWHATEVER', 'open')), false);
});

test('a backup that cannot be put back either: PARTIAL names both the file and the backup', async (t) => {
  const dir = await scratch();
  const [a, b] = ['a.cfg', 'b.cfg'].map((n) => path.join(dir, n));
  await fs.writeFile(a, 'A0');
  await fs.writeFile(b, 'B0');
  await fs.writeFile(`${a}.lbctl-bak`, 'A-old-bak');
  const list = await items([a, b], ['A1', 'B1']);
  const real = fs.rename.bind(fs);
  let backupRenames = 0;
  t.mock.method(fs, 'rename', async (from: string, to: string) => {
    if (to.endsWith('.lbctl-bak') && ++backupRenames >= 2) throw sysErr('EIO', 'rename'); // b's backup, then a's old backup going back
    if (to === a && from.includes('lbctl-old-')) throw sysErr('EBUSY', 'rename'); // a's old content going back
    return real(from, to);
  });
  const e = await rejects(replaceFiles(list));
  t.mock.restoreAll();
  assert.ok(e.message.startsWith(`write backup: input/output error; PARTIAL: could not restore ${a}.lbctl-bak, ${a} (`), e.message);
});

test('refused at staging (nothing renamed yet): the line says so without "already replaced"; the verb names the backup or the file', async (t) => {
  const dir = await scratch();
  const f = path.join(dir, 'cfg');
  await fs.writeFile(f, 'old');
  await fs.mkdir(`${f}.lbctl-bak`);
  const renames = failNth(t, 'rename', 999, 'EIO');
  const e = await rejects(writeFileAtomic(f, 'new'));
  assert.equal(renames.calls(), 0, 'refused before any rename');
  assert.equal(e.message, 'write backup: is a directory where a file belongs');
  assert.equal(e.hint, 'move the directory away or choose another path; nothing was changed');
  t.mock.restoreAll();

  // The backup path cannot even be looked at: refused (not taken for "no backup yet").
  const realLstat = fs.lstat.bind(fs);
  t.mock.method(fs, 'lstat', async (p: string, ...r: any[]) => { if (p === `${f}.lbctl-bak`) throw Object.assign(sysErr('EACCES', 'lstat'), { errno: -13 }); return realLstat(p, ...r); });
  await fs.rmdir(`${f}.lbctl-bak`);
  const e2 = await rejects(replaceFiles(await items([f], ['new'])));
  t.mock.restoreAll();
  assert.equal(e2.exitCode, ExitCode.Permission);
  assert.equal(e2.where, `${f}.lbctl-bak`);
  assert.equal(await fs.readFile(f, 'utf8'), 'old');

  // The staged file cannot be created: "write", the target named.
  const realOpen = fs.open.bind(fs);
  t.mock.method(fs, 'open', async (p: string, ...r: any[]) => { if (String(p).includes('.lbctl-new-')) throw Object.assign(sysErr('EACCES', 'open'), { errno: -13 }); return realOpen(p, ...r); });
  const e3 = await rejects(replaceFiles(await items([f], ['new'])));
  t.mock.restoreAll();
  assert.equal(e3.message, 'write: permission denied');
  assert.equal(e3.where, f);
  assert.deepEqual((await fs.readdir(dir)).sort(), ['cfg']);
});

test('the target cannot be looked at when committing: refused, not taken for absent', async (t) => {
  const dir = await scratch();
  const f = path.join(dir, 'new.cfg');
  const list = await items([f], ['x']);
  const realLstat = fs.lstat.bind(fs);
  t.mock.method(fs, 'lstat', async (p: string, ...r: any[]) => { if (p === f) throw Object.assign(sysErr('EACCES', 'lstat'), { errno: -13 }); return realLstat(p, ...r); });
  const e = await rejects(replaceFiles(list));
  t.mock.restoreAll();
  assert.equal(e.exitCode, ExitCode.Permission);
  await assert.rejects(fs.access(f), 'not created');
});

test('the state line: exact words for 0 and 1 files replaced, 1 and 2 in the set; the injected fault has its own code', async () => {
  const dir = await scratch();
  const [a, b] = ['a', 'b'].map((n) => path.join(dir, n));
  await fs.writeFile(a, 'A0');
  await fs.writeFile(b, 'B0');
  for (const [k, set, tail] of [
    [1, [a, b], 'nothing was changed: all 2 files as before'],
    [1, [a], 'nothing was changed: all 1 file as before'],
    [2, [a, b], 'nothing was changed: the 1 file already replaced was restored, all 2 files as before'],
  ] as const) {
    process.env.LBCTL_FAULT = `rename:${k}`;
    try {
      const e = await rejects(replaceFiles(await items([...set], set.map(() => 'new'))));
      assert.equal(e.code, 'EFAULT_INJECTED');
      assert.equal(e.where, set[k - 1]);
      assert.equal(e.hint, 'a test-only switch: unset LBCTL_FAULT');
      assert.equal(e.message, `replace: injected fault (LBCTL_FAULT=rename:${k}); ${tail}`);
    } finally { delete process.env.LBCTL_FAULT; }
  }
  assert.equal(await fs.readFile(a, 'utf8'), 'A0');
});

test('as root: a backup copied (no hard links) gets the replaced file\'s owner and group', { skip: process.getuid?.() !== 0 ? 'needs root to chown' : false }, async (t) => {
  const dir = await scratch();
  const f = path.join(dir, 'h.cfg');
  await fs.writeFile(f, 'old');
  await fs.chown(f, 65534, 65534);
  await fs.chmod(f, 0o640);
  t.mock.method(fs, 'link', async () => { throw sysErr('EXDEV', 'link'); });
  await writeFileAtomic(f, 'new');
  t.mock.restoreAll();
  const st = await fs.lstat(`${f}.lbctl-bak`);
  assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [65534, 65534, 0o640]);
  const cur = await fs.lstat(f);
  assert.deepEqual([cur.uid, cur.gid, cur.mode & 0o7777], [65534, 65534, 0o640]);
});
