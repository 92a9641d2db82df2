/**
 * Managed files as a converge provider: read() what is at each path (refusing symlinks,
 * directories and kernel file systems before anything is written), a pure plan() that compares
 * contents and carries a unified diff, and apply() that replaces every changed file or none
 * (src/util/fs.ts replaceFiles). An empty plan writes nothing.
 */
import path from 'node:path';
import { createTwoFilesPatch } from 'diff';
import { readFileState, refusePseudoFs, replaceFiles, type FileState } from '../util/fs.js';
import type { Change, Provider } from './change.js';

export interface ManagedFile {
  path: string;
  content: string;
  /** Holds secrets (keepalived auth_pass): a new file is created 0600. */
  secret?: boolean;
  /** Mode of a new file when not secret (default 0644). A replaced file keeps its mode. */
  mode?: number;
  /** Keep the replaced content as PATH.lbctl-bak (default true). */
  backup?: boolean;
  /** Name of the new side in a diff, e.g. "generated/lb1/haproxy.cfg" (default: the path). */
  label?: string;
  /** The daemon that reads this file, for daemon actions. */
  daemon?: string;
}

export interface FileChange extends Change {
  kind: 'file';
  file: ManagedFile;
  actual: FileState;
  /** Unified diff, actual -> desired ("" for a file with identical content, never planned). */
  diff: string;
}

export interface AppliedFile { path: string; action: 'created' | 'updated'; backup?: string; daemon?: string }
export interface FilesReport { files: AppliedFile[] }

const octal = (m: number) => `0${(m & 0o7777).toString(8).padStart(3, '0')}`;

export function newFileMode(f: ManagedFile): number {
  return f.secret ? 0o600 : f.mode ?? 0o644;
}

/** Unified diff (as `diff -u`) from `before` to `after`; "" when equal. A missing file is /dev/null. */
export function unifiedDiff(oldLabel: string, newLabel: string, before: string | undefined, after: string): string {
  if (before === after) return '';
  // FILE_HEADERS_ONLY: "--- a / +++ b" like diff -u, without jsdiff's Index:/==== lines.
  return createTwoFilesPatch(before === undefined ? '/dev/null' : oldLabel, newLabel, before ?? '', after, undefined, undefined, {
    context: 3, headerOptions: { includeIndex: false, includeUnderline: false, includeFileHeaders: true },
  });
}

export class FilesProvider implements Provider<FileState[], ManagedFile[], FileChange, FilesReport> {
  constructor(private readonly paths: readonly string[]) {}

  /** The state of every path; throws (one line, path named) on what lbctl must not write through. */
  async read(): Promise<FileState[]> {
    for (const dir of new Set(this.paths.map((p) => path.dirname(path.resolve(p))))) await refusePseudoFs(dir);
    const out: FileState[] = [];
    for (const p of this.paths) out.push(await readFileState(p));
    return out;
  }

  plan(actual: FileState[], desired: ManagedFile[]): FileChange[] {
    const byPath = new Map(actual.map((a) => [a.path, a]));
    const changes: FileChange[] = [];
    for (const f of desired) {
      const a = byPath.get(f.path) ?? { path: f.path, kind: 'absent' as const };
      const label = f.label ?? f.path;
      if (a.kind === 'absent') {
        changes.push({
          action: '+', kind: 'file', id: f.path, reason: 'not there', file: f, actual: a,
          command: ['install', '-m', octal(newFileMode(f)), label, f.path],
          after: { mode: octal(newFileMode(f)), bytes: Buffer.byteLength(f.content) },
          diff: unifiedDiff(f.path, label, undefined, f.content),
        });
        continue;
      }
      const old = a.content.toString('utf8');
      if (old === f.content && Buffer.from(f.content).equals(a.content)) continue;
      changes.push({
        action: '~', kind: 'file', id: f.path, reason: 'content differs', file: f, actual: a,
        // cp onto an existing file keeps its mode and owner, as lbctl does.
        command: ['cp', label, f.path],
        before: { mode: octal(a.mode), uid: a.uid, gid: a.gid, bytes: a.content.length },
        after: { mode: octal(a.mode), uid: a.uid, gid: a.gid, bytes: Buffer.byteLength(f.content) },
        diff: unifiedDiff(f.path, label, old, f.content),
      });
    }
    return changes;
  }

  async apply(changes: FileChange[]): Promise<FilesReport> {
    if (changes.length === 0) return { files: [] };
    const r = await replaceFiles(changes.map((c) => ({
      path: c.file.path, content: Buffer.from(c.file.content), before: c.actual, backup: c.file.backup !== false, mode: newFileMode(c.file),
    })));
    return {
      files: changes.map((c, i) => ({ path: c.file.path, action: c.action === '+' ? 'created' : 'updated', backup: r.files[i]?.backup, daemon: c.file.daemon })),
    };
  }
}
