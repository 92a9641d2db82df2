/**
 * A directory tree as data, to prove that a failed command changed nothing: every path with its
 * type, mode, uid/gid, a regular file's content, a symlink's target. Mount points are entered
 * (the tree is what a user sees under the directory).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface TreeEntry { path: string; type: string; mode: string; uid: number; gid: number; content?: string; link?: string }

export async function snapshotTree(dir: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const walk = async (rel: string) => {
    const abs = path.join(dir, rel);
    const st = await fs.lstat(abs);
    const type = st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'dir' : st.isFile() ? 'file' : st.isFIFO() ? 'fifo' : 'other';
    const e: TreeEntry = { path: rel || '.', type, mode: (st.mode & 0o7777).toString(8), uid: st.uid, gid: st.gid };
    if (type === 'file') e.content = (await fs.readFile(abs)).toString('base64');
    if (type === 'symlink') e.link = await fs.readlink(abs);
    out.push(e);
    if (type === 'dir') for (const name of (await fs.readdir(abs)).sort()) await walk(path.join(rel, name));
  };
  await walk('');
  return out;
}
