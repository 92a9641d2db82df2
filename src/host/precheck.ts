import { promises as fs, constants } from 'node:fs';
import path from 'node:path';
import { PermissionError, RejectedError, UsageError } from '../cli/errors.js';

/** --root must be an existing directory: a typo must not create a tree somewhere else. */
export async function checkRoot(root: string): Promise<void> {
  let st;
  try { st = await fs.stat(root); } catch (e: any) {
    if (e.code === 'ENOENT') throw new UsageError(`--root ${root} does not exist`, { code: 'ENOROOTDIR', where: '--root', hint: 'create it first, or give the directory the image or container is built in' });
    if (e.code === 'ENOTDIR') throw new UsageError(`--root ${root}: a part of the path is not a directory`, { code: 'ENOROOTDIR', where: '--root' });
    if (e.code === 'EACCES') throw new PermissionError(`--root ${root} cannot be read: ${e.code}`, { where: '--root', hint: 'run as root' });
    throw e;
  }
  if (!st.isDirectory()) throw new UsageError(`--root ${root} is not a directory`, { code: 'ENOROOTDIR', where: '--root' });
}

/**
 * Can `file` be created or replaced (temp file + rename in its directory)? Walks up to the
 * deepest existing directory: every existing part must be a directory, and that one writable
 * (a read-only mount says EROFS even to root). Checked for every file before the first change.
 */
export async function checkWritable(file: string): Promise<void> {
  let dir = path.dirname(file);
  for (;;) {
    let st;
    try { st = await fs.stat(dir); } catch (e: any) {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') {
        const up = path.dirname(dir);
        if (up === dir) throw e;
        dir = up;
        continue;
      }
      throw e;
    }
    if (!st.isDirectory()) throw new RejectedError(`cannot write ${file}: ${dir} is not a directory`, { code: 'ENOTDIR', where: file, hint: `move ${dir} away` });
    break;
  }
  try { await fs.access(dir, constants.W_OK); } catch (e: any) {
    const why = e.code === 'EROFS' ? 'is on a read-only file system' : `is not writable (${e.code})`;
    throw new PermissionError(`cannot write ${file}: ${dir} ${why}`, { code: e.code, where: file, hint: 'use a writable --root, or remount it read-write' });
  }
}
