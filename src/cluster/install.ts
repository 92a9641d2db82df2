/**
 * Install one node's generated files under ROOT (/ by default), and show how they differ from
 * what is installed. Order: validate the spec, run the daemons' checks on the new files, then
 * write each changed file atomically with a backup, then reload the daemons whose file
 * changed. Any failure before the write leaves the installed files untouched.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { CheckFailedError, UnavailableError } from '../cli/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { reloadHaproxy, type ReloadResult } from '../haproxy/config-reload.js';
import { reloadKeepalived } from '../keepalived/reload.js';
import type { NetnsMode } from '../keepalived/config-check.js';
import { checkNodeFiles } from './check.js';
import { compileSpec, type DaemonFile } from './generate.js';

export const INSTALL_PATHS: Record<DaemonFile, string> = {
  'haproxy.cfg': '/etc/haproxy/haproxy.cfg',
  'keepalived.conf': '/etc/keepalived/keepalived.conf',
};

export interface InstalledFile {
  file: DaemonFile;
  path: string;
  action: 'created' | 'updated' | 'unchanged';
  changed: boolean;
  backup?: string;
  reload?: ReloadResult;
}

export interface InstallResult { node: string; root: string; dryRun: boolean; changed: boolean; files: InstalledFile[]; warnings: string[] }

export interface InstallOptions {
  node: string;
  root?: string;
  dryRun?: boolean;
  reload?: boolean;
  netns?: NetnsMode;
  haproxyPidfile?: string;
  keepalivedPidfile?: string;
}

async function readOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fs.readFile(p, 'utf8');
  } catch (e: any) {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  }
}

export async function installNode(specFile: string, opts: InstallOptions): Promise<InstallResult> {
  const root = path.resolve(opts.root ?? '/');
  const compiled = await compileSpec(specFile, opts.node);
  const node = compiled.nodes[0];
  const checks = await checkNodeFiles(node, opts.netns);
  const failed = checks.find((c) => !c.ok);
  if (failed) {
    throw new CheckFailedError(`${failed.errors[0] ?? `${failed.file} failed its daemon check`}`, { where: `${node.node}/${failed.file}`, hint: 'nothing was installed; fix the spec and run lbctl config check', code: 'EDAEMONCHECK' });
  }
  const result: InstallResult = { node: node.node, root, dryRun: Boolean(opts.dryRun), changed: false, files: [], warnings: checks.flatMap((c) => c.warnings.map((w) => `${c.file}: ${w}`)) };
  for (const f of node.files) {
    const target = path.join(root, INSTALL_PATHS[f.name]);
    const old = await readOrUndefined(target);
    const action = old === undefined ? 'created' : old === f.content ? 'unchanged' : 'updated';
    const entry: InstalledFile = { file: f.name, path: target, action, changed: action !== 'unchanged' };
    if (entry.changed && !opts.dryRun) {
      const w = await writeFileAtomic(target, f.content, { mode: 0o644 });
      entry.backup = w.backup;
    }
    result.files.push(entry);
  }
  result.changed = result.files.some((f) => f.changed);
  if (opts.reload && !opts.dryRun) {
    for (const f of result.files.filter((x) => x.changed)) {
      f.reload = f.file === 'haproxy.cfg'
        ? await reloadHaproxy({ pidfile: opts.haproxyPidfile })
        : await reloadKeepalived({ pidfile: opts.keepalivedPidfile });
    }
  }
  return result;
}

export interface FileDiff { file: DaemonFile; path: string; state: 'absent' | 'differs' | 'same'; diff: string }
export interface DiffResult { node: string; root: string; changed: boolean; files: FileDiff[] }

/** Unified diff (diff -u) of installed against generated, per file. */
export async function diffNode(specFile: string, opts: { node: string; root?: string }): Promise<DiffResult> {
  const root = path.resolve(opts.root ?? '/');
  const compiled = await compileSpec(specFile, opts.node);
  const node = compiled.nodes[0];
  const files: FileDiff[] = [];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbctl-diff-'));
  try {
    for (const f of node.files) {
      const target = path.join(root, INSTALL_PATHS[f.name]);
      const old = await readOrUndefined(target);
      if (old === f.content) { files.push({ file: f.name, path: target, state: 'same', diff: '' }); continue; }
      const a = path.join(dir, 'installed');
      const b = path.join(dir, 'generated');
      await fs.writeFile(a, old ?? '');
      await fs.writeFile(b, f.content);
      let r;
      try {
        r = await execa('diff', ['-u', '--label', old === undefined ? '/dev/null' : target, '--label', `generated/${node.node}/${f.name}`, a, b], { reject: false });
      } catch (e: any) {
        throw new UnavailableError(`cannot run diff: ${e.shortMessage ?? e.message}`, { hint: 'install diffutils' });
      }
      if (r.exitCode !== 1) throw new UnavailableError(`diff failed: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`, { hint: 'install diffutils' });
      files.push({ file: f.name, path: target, state: old === undefined ? 'absent' : 'differs', diff: String(r.stdout) });
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
  return { node: node.node, root, changed: files.some((f) => f.state !== 'same'), files };
}
