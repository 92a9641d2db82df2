import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface WriteResult { path: string; changed: boolean; backup?: string }

/**
 * Write `content` to `file` atomically (temp file in the same directory, fsync, rename).
 * When the file exists with other content it is first copied to `file.lbctl-bak`.
 * Returns changed:false (and touches nothing) when the content is already identical.
 */
export async function writeFileAtomic(file: string, content: string | Buffer, opts: { mode?: number; backup?: boolean } = {}): Promise<WriteResult> {
  const buf = typeof content === 'string' ? Buffer.from(content) : content;
  let old: Buffer | undefined;
  try { old = await fs.readFile(file); } catch (e: any) { if (e.code !== 'ENOENT') throw e; }
  if (old && old.equals(buf)) return { path: file, changed: false };
  await fs.mkdir(path.dirname(file), { recursive: true });
  let backup: string | undefined;
  if (old && opts.backup !== false) {
    backup = `${file}.lbctl-bak`;
    await fs.writeFile(backup, old);
  }
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.lbctl-tmp-${process.pid}`);
  const fh = await fs.open(tmp, 'w', opts.mode ?? 0o644);
  try {
    await fh.writeFile(buf);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
  return { path: file, changed: true, backup };
}

/** Remove a file; changed:false when it was already absent. */
export async function removeFile(file: string): Promise<{ path: string; changed: boolean }> {
  try { await fs.unlink(file); return { path: file, changed: true }; } catch (e: any) {
    if (e.code === 'ENOENT') return { path: file, changed: false };
    throw e;
  }
}
