/**
 * Every file lbctl writes goes through here. A write never leaves a half-written file, never
 * follows a symlink it did not expect, keeps the replaced file's mode, owner and group (a
 * root:haproxy 0640 haproxy.cfg stays so; a 0600 keepalived.conf stays 0600), keeps the old
 * content as FILE.lbctl-bak with the same mode and owner, and either replaces every file of a
 * set or none of them (replaceFiles).
 *
 * Test-only switch: LBCTL_FAULT=rename:K makes the K-th rename of a staged file onto its target,
 * within one replaceFiles call, fail, so tests can prove that a multi-file install is all or
 * none. Nothing else reads it.
 */
import { constants, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lazyCrypto } from './builtin.js';
import { getSystemErrorName } from 'node:util';
import { LbctlError, NotFoundError, PermissionError, RejectedError, UsageError } from '../cli/errors.js';

export interface WriteResult { path: string; changed: boolean; backup?: string }
export interface WriteOptions {
  /** Mode of a new file (default 0644; 0600 with secret). A replaced file keeps its own mode. */
  mode?: number;
  /** The content holds secrets (keepalived auth_pass): a new file is created 0600. */
  secret?: boolean;
  /** Keep the replaced content as FILE.lbctl-bak (default true). */
  backup?: boolean;
  /** Owner of a new file (default: the caller's); a replaced file keeps its own. */
  owner?: { uid: number; gid: number };
}

/** A file lbctl refuses to read this much of: configs are kilobytes. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// errno -> one line and a documented exit code

const ERRNO: Record<string, { what: string; exit: 'usage' | 'notfound' | 'permission' | 'rejected'; hint: string }> = {
  EISDIR: { what: 'is a directory where a file belongs', exit: 'rejected', hint: 'move the directory away or choose another path' },
  ENOTDIR: { what: 'a component of the path is not a directory', exit: 'rejected', hint: 'a regular file sits where a directory belongs: move it or choose another path' },
  ENOTEMPTY: { what: 'is a non-empty directory where a file belongs', exit: 'rejected', hint: 'move the directory away or choose another path' },
  EROFS: { what: 'read-only file system', exit: 'rejected', hint: 'remount it read-write or choose another path' },
  ENOSPC: { what: 'no space left on device', exit: 'rejected', hint: 'free some space and run it again' },
  EDQUOT: { what: 'disk quota exceeded', exit: 'rejected', hint: 'free some space or raise the quota' },
  EFBIG: { what: 'file too large for the file system', exit: 'rejected', hint: 'choose another path' },
  EIO: { what: 'input/output error', exit: 'rejected', hint: 'check the disk (dmesg)' },
  ELOOP: { what: 'is a symbolic link (or a loop of them) where lbctl expects a file', exit: 'rejected', hint: 'replace the link with a regular file or choose another path' },
  EMLINK: { what: 'too many links', exit: 'rejected', hint: 'choose another path' },
  ETXTBSY: { what: 'file is busy', exit: 'rejected', hint: 'stop whatever runs it and retry' },
  EBUSY: { what: 'device or resource busy', exit: 'rejected', hint: 'it may be a mount point: choose another path' },
  EXDEV: { what: 'crosses file systems', exit: 'rejected', hint: 'choose another path' },
  EEXIST: { what: 'already exists', exit: 'rejected', hint: 'move it away and retry' },
  ENXIO: { what: 'no such device', exit: 'rejected', hint: 'choose a regular file' },
  EINVAL: { what: 'the file system refused the operation', exit: 'rejected', hint: 'choose a path on a regular file system' },
  EOPNOTSUPP: { what: 'operation not supported by the file system', exit: 'rejected', hint: 'choose a path on a regular file system' },
  ENAMETOOLONG: { what: 'file name too long', exit: 'usage', hint: 'use a shorter path' },
  ENOENT: { what: 'does not exist', exit: 'notfound', hint: 'check the path' },
  EACCES: { what: 'permission denied', exit: 'permission', hint: 'run as root or fix the permissions of the path' },
  EPERM: { what: 'operation not permitted', exit: 'permission', hint: 'run as root, or check for immutable (chattr +i) files' },
};

/** The errno name of a Node system error ("ENOSPC"), from its number when it has one. */
export function errnoName(err: unknown): string | undefined {
  const e = err as { errno?: number; code?: string };
  if (typeof e?.errno === 'number' && e.errno < 0) {
    try {
      const name = getSystemErrorName(e.errno);
      if (/^E[A-Z0-9]+$/.test(name)) return name;
    } catch { /* not a system errno */ }
    // libuv has no name for some (EDQUOT): the kernel's own table does.
    const byNumber = Object.entries(os.constants.errno).find(([, n]) => n === -e.errno!);
    if (byNumber) return byNumber[0];
  }
  return typeof e?.code === 'string' && /^E[A-Z0-9]+$/.test(e.code) ? e.code : undefined;
}

/** True for errors the OS raised about a path (what fsError knows how to word). */
export function isFsError(err: unknown): boolean {
  const name = errnoName(err);
  return name !== undefined && name in ERRNO && typeof (err as { syscall?: unknown }).syscall === 'string';
}

/**
 * One line for an OS error on `file`: "write /etc/x: read-only file system (remount ...)",
 * with the exit code of its class. `doing` is the verb ("write", "read", "create directory").
 */
export function fsError(err: unknown, file: string, doing: string, extraHint?: string): LbctlError {
  if (err instanceof LbctlError) return err;
  const name = errnoName(err) ?? 'EIO';
  const known = ERRNO[name];
  const what = known?.what ?? `${name} (${(err as Error)?.message ?? String(err)})`;
  const hint = [known?.hint ?? 'see the error name', extraHint].filter(Boolean).join('; ');
  const opts = { code: name, where: file, hint, cause: err };
  const message = `${doing}: ${what}`;
  switch (known?.exit) {
    case 'usage': return new UsageError(message, opts);
    case 'notfound': return new NotFoundError(message, opts);
    case 'permission': return new PermissionError(message, opts);
    default: return new RejectedError(message, opts);
  }
}

// ---------------------------------------------------------------------------------------------
// Paths

/** statfs f_type of file systems whose "files" are kernel interfaces, not storage. */
const PSEUDO_FS: Record<number, string> = {
  0x9fa0: 'proc', 0x62656572: 'sysfs', 0x64626720: 'debugfs', 0x74726163: 'tracefs', 0x27e0eb: 'cgroup',
  0x63677270: 'cgroup2', 0x73636673: 'securityfs', 0xcafe4a11: 'bpf', 0x6165676c: 'pstore',
  0x62656570: 'configfs', 0xde5e81e4: 'efivarfs', 0xf97cff8c: 'selinuxfs', 0x1cd1: 'devpts',
};

/** The nearest existing ancestor of p (p itself when it exists), following symlinks. */
async function nearestExisting(p: string): Promise<string> {
  let cur = path.resolve(p);
  for (;;) {
    try { await fs.stat(cur); return cur; } catch (e) {
      const name = errnoName(e);
      if (name !== 'ENOENT' && name !== 'ENOTDIR') throw fsError(e, cur, 'look up');
    }
    const up = path.dirname(cur);
    if (up === cur) return cur;
    cur = up;
  }
}

/**
 * Refuse to write under /proc, /sys and the like: their "files" are kernel knobs, and Node's
 * recursive mkdir spins forever there. `label` names the flag the path came from.
 */
export async function refusePseudoFs(p: string, label?: string): Promise<void> {
  const existing = await nearestExisting(p);
  let type: number;
  try { type = Number((await fs.statfs(existing)).type); } catch (e) { throw fsError(e, existing, 'inspect'); }
  let real = existing;
  try { real = await fs.realpath(existing); } catch { /* statfs decided */ }
  const under = /^\/(proc|sys)(\/|$)/.exec(real)?.[1];
  const kind = PSEUDO_FS[type >>> 0] ?? (under === 'sys' ? 'sysfs' : under);
  if (kind) {
    throw new UsageError(`${label ?? 'the path'} is on ${kind}, a kernel interface, not a place for files`, { code: 'EPSEUDOFS', where: p, hint: 'choose a directory on a real file system' });
  }
}

/**
 * mkdir -p that never loops: walks down from the nearest existing ancestor, which must be a
 * directory. Returns the directories it created (deepest last) so a rollback can remove them.
 */
export async function ensureDir(dir: string, mode = 0o755): Promise<string[]> {
  const abs = path.resolve(dir);
  const existing = await nearestExisting(abs);
  const st = await fs.stat(existing).catch((e) => { throw fsError(e, existing, 'look up'); });
  if (!st.isDirectory()) throw fsError(Object.assign(new Error('ENOTDIR'), { code: 'ENOTDIR', syscall: 'mkdir' }), existing, 'create directory');
  const created: string[] = [];
  const rest = path.relative(existing, abs).split(path.sep).filter(Boolean);
  let cur = existing;
  for (const part of rest) {
    cur = path.join(cur, part);
    try {
      await fs.mkdir(cur, mode);
      created.push(cur);
    } catch (e) {
      if (errnoName(e) !== 'EEXIST') throw fsError(e, cur, 'create directory');
      const again = await fs.stat(cur).catch((e2) => { throw fsError(e2, cur, 'look up'); });
      if (!again.isDirectory()) throw fsError(Object.assign(new Error('ENOTDIR'), { code: 'ENOTDIR', syscall: 'mkdir' }), cur, 'create directory');
    }
  }
  return created;
}

// ---------------------------------------------------------------------------------------------
// Reading what is there

export type FileState =
  | { path: string; kind: 'absent' }
  | { path: string; kind: 'file'; content: Buffer; mode: number; uid: number; gid: number; ino: number };

/**
 * What is at `file`, without following a symlink there. A symlink, a directory or a special
 * file where lbctl manages a regular file is refused (one line, the path named).
 */
export async function readFileState(file: string): Promise<FileState> {
  let st;
  try { st = await fs.lstat(file); } catch (e) {
    if (errnoName(e) === 'ENOENT') return { path: file, kind: 'absent' };
    throw fsError(e, file, 'read');
  }
  if (st.isSymbolicLink()) {
    const to = await fs.readlink(file).catch(() => '?');
    throw new RejectedError(`read: is a symbolic link (to ${to}); lbctl does not write through links it did not create`, { code: 'ESYMLINK', where: file, hint: 'replace the link with a regular file, or choose another path' });
  }
  if (st.isDirectory()) throw fsError(Object.assign(new Error('EISDIR'), { code: 'EISDIR', syscall: 'open' }), file, 'read');
  if (!st.isFile()) throw new RejectedError('read: is not a regular file (device, FIFO or socket)', { code: 'ENOTREG', where: file, hint: 'move it away or choose another path' });
  if (st.size > MAX_FILE_BYTES) throw new RejectedError(`read: ${st.size} bytes is more than lbctl reads (${MAX_FILE_BYTES})`, { code: 'EFBIG', where: file, hint: 'move it away or choose another path' });
  let fh;
  try {
    // O_NONBLOCK: a FIFO swapped in after lstat must not hang us; O_NOFOLLOW: nor a symlink.
    fh = await fs.open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    throw fsError(e, file, 'read');
  }
  try {
    const fst = await fh.stat();
    if (!fst.isFile() || fst.ino !== st.ino) throw new RejectedError('read: the file changed while lbctl read it', { code: 'ERACE', where: file, hint: 'run it again' });
    const content = await fh.readFile();
    return { path: file, kind: 'file', content, mode: fst.mode & 0o7777, uid: fst.uid, gid: fst.gid, ino: fst.ino };
  } catch (e) {
    throw fsError(e, file, 'read');
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing a set of files: all or none

export interface ReplaceItem {
  path: string;
  content: Buffer;
  /** What readFileState saw; the new file takes its mode/owner/group. */
  before: FileState;
  /** Keep the replaced content as PATH.lbctl-bak. */
  backup: boolean;
  /** Mode of a new file. */
  mode: number;
  /** Owner of a new file (default: the caller's). */
  owner?: { uid: number; gid: number };
}

export interface ReplaceReport { files: Array<{ path: string; backup?: string }> }

function faultAt(): number | undefined {
  const m = /^rename:(\d+)$/.exec(process.env.LBCTL_FAULT ?? '');
  return m ? Number(m[1]) : undefined;
}

function scratchName(file: string, what: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.lbctl-${what}-${process.pid}-${lazyCrypto().randomBytes(4).toString('hex')}`);
}

async function fsyncDir(dir: string): Promise<void> {
  let fh;
  try {
    fh = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    await fh.sync();
  } catch (e) {
    // Some file systems cannot fsync a directory; the rename itself has happened.
    if (!['EINVAL', 'EBADF', 'EISDIR'].includes(errnoName(e) ?? '')) throw fsError(e, dir, 'sync directory');
  } finally {
    await fh?.close();
  }
}

/** Write `content` to a new scratch file next to `target` with the given mode and owner, synced. */
async function stageFile(target: string, what: string, content: Buffer, mode: number, owner?: { uid: number; gid: number }): Promise<string> {
  const tmp = scratchName(target, what);
  const fh = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    if (owner) {
      const st = await fh.stat();
      if (st.uid !== owner.uid || st.gid !== owner.gid) await fh.chown(owner.uid, owner.gid);
    }
    // After chown (which clears set-id bits), and explicit so the umask does not decide.
    await fh.chmod(mode);
    await fh.writeFile(content);
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw e;
  }
  await fh.close();
  return tmp;
}

/**
 * A second name for the replaced file, so it can be put back exactly (same inode: content, mode,
 * owner) and become the backup. Falls back to a copy where the file system has no hard links.
 */
async function keepOld(item: ReplaceItem): Promise<string> {
  if (item.before.kind !== 'file') throw new Error('keepOld of an absent file');
  const keep = scratchName(item.path, 'old');
  try {
    await fs.link(item.path, keep);
    return keep;
  } catch (e) {
    if (!['EPERM', 'EOPNOTSUPP', 'EMLINK', 'EXDEV', 'ENOSYS'].includes(errnoName(e) ?? '')) throw e;
  }
  const b = item.before;
  return stageFile(item.path, 'old', b.content, b.mode, { uid: b.uid, gid: b.gid });
}

function plural(n: number, word: string): string { return `${n} ${word}${n === 1 ? '' : 's'}`; }

/**
 * Replace every item's file, or none. Stages every new file next to its target first (mode,
 * owner, content, fsync); only when all are staged renames them in order; if a rename fails
 * midway, the files already replaced are put back (rename of the kept inode) and created ones
 * removed. Backups are hard links to the replaced inodes, renamed into place, so a symlink
 * planted at PATH.lbctl-bak is replaced, never written through.
 */
export async function replaceFiles(items: ReplaceItem[]): Promise<ReplaceReport> {
  const createdDirs: string[] = [];
  const staged: string[] = [];
  const scratch: string[] = [];
  const oldBackups = new Map<string, string>();
  const backupsWritten: string[] = [];
  const cleanup = async () => {
    for (const f of scratch) await fs.unlink(f).catch(() => undefined);
    for (const d of [...createdDirs].reverse()) await fs.rmdir(d).catch(() => undefined);
  };

  // 1. Stage everything. A failure here has changed nothing that stays.
  let current = items[0]?.path ?? '';
  try {
    for (const item of items) {
      current = item.path;
      createdDirs.push(...await ensureDir(path.dirname(item.path)));
      const b = item.before;
      const tmp = b.kind === 'file'
        ? await stageFile(item.path, 'new', item.content, b.mode, { uid: b.uid, gid: b.gid })
        : await stageFile(item.path, 'new', item.content, item.mode, item.owner);
      staged.push(tmp);
      scratch.push(tmp);
      if (item.backup && b.kind === 'file') {
        current = `${item.path}.lbctl-bak`;
        const bst = await fs.lstat(current).catch((e) => { if (errnoName(e) === 'ENOENT') return undefined; throw e; });
        if (bst?.isDirectory()) throw Object.assign(new Error('EISDIR'), { code: 'EISDIR', syscall: 'rename' });
        // The backup being replaced (a file, or whatever link was planted there) is kept as is,
        // so a rollback can put it back.
        if (bst) {
          const keep = scratchName(item.path, 'oldbak');
          await fs.link(current, keep);
          scratch.push(keep);
          oldBackups.set(item.path, keep);
        }
      }
    }
  } catch (e) {
    await cleanup();
    throw fsError(e, current, current.endsWith('.lbctl-bak') ? 'write backup' : 'write', 'nothing was changed');
  }

  // 2. Commit: rename each staged file onto its target, keeping the old inode for a rollback.
  const committed: Array<{ item: ReplaceItem; keep?: string }> = [];
  const report: ReplaceReport = { files: [] };
  const fault = faultAt();
  let renameCount = 0;
  try {
    for (const [i, item] of items.entries()) {
      current = item.path;
      const now = await readKind(item.path);
      if (now !== item.before.kind) {
        throw new RejectedError(`write: changed while lbctl was writing (was ${item.before.kind}, now ${now})`, { code: 'ERACE', where: item.path, hint: 'run it again' });
      }
      const keep = item.before.kind === 'file' ? await keepOld(item) : undefined;
      if (keep) scratch.push(keep);
      renameCount++;
      if (fault !== undefined && renameCount === fault) {
        throw new RejectedError(`replace: injected fault (LBCTL_FAULT=rename:${fault})`, { code: 'EFAULT_INJECTED', where: item.path, hint: 'a test-only switch: unset LBCTL_FAULT' });
      }
      await fs.rename(staged[i], item.path);
      scratch.splice(scratch.indexOf(staged[i]), 1);
      committed.push({ item, keep });
    }
    // 3. Backups: the kept inode gets the name PATH.lbctl-bak (rename replaces whatever is there).
    for (const c of committed) {
      current = `${c.item.path}.lbctl-bak`;
      if (c.keep && c.item.backup) {
        const bak = `${c.item.path}.lbctl-bak`;
        const link = scratchName(c.item.path, 'bak');
        try { await fs.link(c.keep, link); } catch { await fs.copyFile(c.keep, link, constants.COPYFILE_EXCL); await copyOwnerMode(c.item, link); }
        scratch.push(link);
        await fs.rename(link, bak);
        scratch.splice(scratch.indexOf(link), 1);
        backupsWritten.push(c.item.path);
        report.files.push({ path: c.item.path, backup: bak });
      } else {
        report.files.push({ path: c.item.path });
      }
    }
    for (const dir of new Set(items.map((i) => path.dirname(i.path)))) await fsyncDir(dir);
  } catch (e) {
    const failed = fsError(e, current, current.endsWith('.lbctl-bak') ? 'write backup' : 'replace');
    const notRestored: string[] = [];
    for (const p of [...backupsWritten].reverse()) {
      const bak = `${p}.lbctl-bak`;
      const prev = oldBackups.get(p);
      try {
        if (prev) { await fs.rename(prev, bak); scratch.splice(scratch.indexOf(prev), 1); } else await fs.unlink(bak);
      } catch {
        notRestored.push(bak);
      }
    }
    for (const c of [...committed].reverse()) {
      try {
        if (c.keep) {
          await fs.rename(c.keep, c.item.path);
          scratch.splice(scratch.indexOf(c.keep), 1);
        } else {
          await fs.unlink(c.item.path);
        }
      } catch {
        notRestored.push(c.item.path);
        // Left on disk for the operator: the message points at it.
        if (c.keep) scratch.splice(scratch.indexOf(c.keep), 1);
      }
    }
    await cleanup();
    const total = items.length;
    const state = notRestored.length === 0
      ? `nothing was changed: ${committed.length ? `the ${plural(committed.length, 'file')} already replaced ${committed.length === 1 ? 'was' : 'were'} restored, ` : ''}all ${plural(total, 'file')} as before`
      : `PARTIAL: could not restore ${notRestored.join(', ')} (it has the new content; the old one is in a .lbctl-old-* file next to it)`;
    throw new LbctlError(`${failed.message}; ${state}`, failed.exitCode, { code: failed.code, where: failed.where, hint: failed.hint?.replace(/; nothing was changed$/, ''), cause: e });
  }
  for (const f of scratch) await fs.unlink(f).catch(() => undefined);
  return report;
}

async function copyOwnerMode(item: ReplaceItem, file: string): Promise<void> {
  if (item.before.kind !== 'file') return;
  await fs.chown(file, item.before.uid, item.before.gid);
  await fs.chmod(file, item.before.mode);
}

async function readKind(file: string): Promise<FileState['kind'] | 'other'> {
  const st = await fs.lstat(file).catch((e) => { if (errnoName(e) === 'ENOENT') return undefined; throw e; });
  if (!st) return 'absent';
  return st.isFile() ? 'file' : 'other';
}

// ---------------------------------------------------------------------------------------------
// One file

/**
 * Write `content` to `file` atomically, keeping the replaced file's mode, owner and group and
 * (unless backup:false) its content as FILE.lbctl-bak. Returns changed:false and touches
 * nothing when the content is already identical.
 */
export async function writeFileAtomic(file: string, content: string | Buffer, opts: WriteOptions = {}): Promise<WriteResult> {
  const buf = typeof content === 'string' ? Buffer.from(content) : content;
  await refusePseudoFs(path.dirname(path.resolve(file)));
  const before = await readFileState(file);
  if (before.kind === 'file' && before.content.equals(buf)) return { path: file, changed: false };
  const r = await replaceFiles([{ path: file, content: buf, before, backup: opts.backup !== false, mode: opts.secret ? 0o600 : opts.mode ?? 0o644, owner: opts.owner }]);
  return { path: file, changed: true, backup: r.files[0]?.backup };
}

/** Remove a file; changed:false when it was already absent. */
export async function removeFile(file: string): Promise<{ path: string; changed: boolean }> {
  try { await fs.unlink(file); return { path: file, changed: true }; } catch (e) {
    if (errnoName(e) === 'ENOENT') return { path: file, changed: false };
    throw fsError(e, file, 'remove');
  }
}
