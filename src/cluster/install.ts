/**
 * Install one node's generated files under ROOT (/ by default), and show how they differ from
 * what is installed. Order: validate the spec, run the daemons' checks on the new files, read
 * what is installed (refusing symlinks, directories, kernel file systems), plan; then, holding
 * the lock of the config root, replace every changed file or none, then reload only the daemons
 * whose file changed. Any failure before the last step leaves the installed files untouched.
 */
import path from 'node:path';
import { CheckFailedError, LbctlError } from '../cli/errors.js';
import { planJson } from '../converge/change.js';
import { DaemonProvider, type DaemonChange } from '../converge/daemon.js';
import { FilesProvider, type FileChange, type ManagedFile } from '../converge/files.js';
import type { ReloadResult } from '../haproxy/config-reload.js';
import type { NetnsMode } from '../keepalived/config-check.js';
import { fsError, isFsError, refusePseudoFs } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import { checkNodeFiles } from './check.js';
import { compileSpec, holdsSecret, type DaemonFile, type NodeFiles } from './generate.js';
import { PACEMAKER_INSTALL_PATHS } from '../pacemaker/files.js';
import { installPacemaker, type PacemakerInstallReport } from '../pacemaker/install.js';

export const INSTALL_PATHS: Record<DaemonFile, string> = {
  'haproxy.cfg': '/etc/haproxy/haproxy.cfg',
  'keepalived.conf': '/etc/keepalived/keepalived.conf',
  'nginx.conf': '/etc/nginx/nginx.conf',
  'frr.conf': '/etc/frr/frr.conf',
  ...PACEMAKER_INSTALL_PATHS,
};

// FRR is reloaded by its own tools (frr-reload.py): lbctl installs frr.conf and leaves the daemons be.
const DAEMON_OF: Partial<Record<DaemonFile, 'haproxy' | 'keepalived' | 'nginx'>> = { 'haproxy.cfg': 'haproxy', 'keepalived.conf': 'keepalived', 'nginx.conf': 'nginx' };

export interface InstalledFile {
  file: DaemonFile;
  path: string;
  action: 'created' | 'updated' | 'unchanged';
  changed: boolean;
  /** Unified diff of the change ("" when unchanged). */
  diff: string;
  backup?: string;
  reload?: ReloadResult;
}

export interface InstallResult {
  node: string;
  root: string;
  dryRun: boolean;
  changed: boolean;
  files: InstalledFile[];
  warnings: string[];
  /** The plan (files, then daemon reloads), as planJson renders it. */
  plan: ReturnType<typeof planJson>;
  /** ha: pacemaker: the authkey, corosync reload and the CIB load (src/pacemaker/install.ts). */
  pacemaker?: PacemakerInstallReport;
}

export interface InstallOptions {
  node: string;
  root?: string;
  dryRun?: boolean;
  reload?: boolean;
  netns?: NetnsMode;
  haproxyPidfile?: string;
  keepalivedPidfile?: string;
  nginxPidfile?: string;
  /** How long to wait for another lbctl installing into the same root (ms, default 30 s). */
  lockTimeoutMs?: number;
}

export function managedFiles(node: NodeFiles, root: string): ManagedFile[] {
  return node.files.map((f) => ({
    path: path.join(root, f.installPath ?? INSTALL_PATHS[f.name]), content: f.content, secret: holdsSecret(f.name, f.content),
    label: `generated/${node.node}/${f.name}`, daemon: DAEMON_OF[f.name],
  }));
}

export async function installNode(specFile: string, opts: InstallOptions): Promise<InstallResult> {
  const root = path.resolve(opts.root ?? '/');
  const compiled = await compileSpec(specFile, opts.node);
  const node = compiled.nodes[0];
  const desired = managedFiles(node, root);
  const files = new FilesProvider(desired.map((f) => f.path));
  // Cheap refusals first (kernel file system, symlink or directory at a target), before the
  // daemons' checks; the plan itself is made again under the lock.
  await refusePseudoFs(root, '--root');
  await files.read();
  const checks = await checkNodeFiles(node, opts.netns);
  const failed = checks.find((c) => !c.ok);
  if (failed) {
    throw new CheckFailedError(`${failed.errors[0] ?? `${failed.file} failed its daemon check`}`, { where: `${node.node}/${failed.file}`, hint: 'nothing was installed; fix the spec and run lbctl config check', code: 'EDAEMONCHECK' });
  }
  const warnings = checks.flatMap((c) => c.warnings.map((w) => `${c.file}: ${w}`));
  const daemons = new DaemonProvider([
    { daemon: 'haproxy', pidfile: opts.haproxyPidfile },
    { daemon: 'keepalived', pidfile: opts.keepalivedPidfile },
    { daemon: 'nginx', pidfile: opts.nginxPidfile },
  ]);

  const planAll = async () => {
    const fileChanges = files.plan(await files.read(), desired);
    const daemonChanges = opts.reload ? daemons.plan(await daemons.read(), fileChanges) : [];
    return { fileChanges, daemonChanges };
  };
  const describe = (fileChanges: FileChange[], daemonChanges: DaemonChange[]): InstallResult => ({
    node: node.node, root, dryRun: Boolean(opts.dryRun), changed: fileChanges.length > 0, warnings,
    files: node.files.map((f, i) => {
      const c = fileChanges.find((x) => x.id === desired[i].path);
      const action = !c ? 'unchanged' : c.action === '+' ? 'created' : 'updated';
      return { file: f.name, path: desired[i].path, action, changed: Boolean(c), diff: c?.diff ?? '' };
    }),
    plan: planJson([...fileChanges, ...daemonChanges]),
  });

  const pcmk = async (r: InstallResult) => {
    if (node.pacemaker) r.pacemaker = await installPacemaker(node.pacemaker, { root, dryRun: r.dryRun, reload: Boolean(opts.reload), corosyncChanged: r.files.some((f) => f.file === 'corosync.conf' && f.changed) });
    if (r.pacemaker && (r.pacemaker.authkey === 'created' || r.pacemaker.corosyncReloaded || r.pacemaker.cib.length)) r.changed = true;
    return r;
  };
  if (opts.dryRun) {
    const { fileChanges, daemonChanges } = await planAll();
    return pcmk(describe(fileChanges, daemonChanges));
  }
  return withLock(`config@${root}`, opts.lockTimeoutMs ?? 30_000, async () => {
    // Planned under the lock: another install may have changed the files while we waited.
    const { fileChanges, daemonChanges } = await planAll();
    const result = describe(fileChanges, daemonChanges);
    const applied = await files.apply(fileChanges);
    for (const a of applied.files) {
      const entry = result.files.find((f) => f.path === a.path);
      if (entry) entry.backup = a.backup;
    }
    try {
      const done = await daemons.apply(daemonChanges);
      for (const r of done.reloads) {
        const entry = result.files.find((f) => DAEMON_OF[f.file] === r.daemon);
        if (entry) entry.reload = r.result;
      }
    } catch (caught) {
      // An OS error from a reload (a pid file turned directory) must say what was installed too.
      const e = isFsError(caught) ? fsError(caught, (caught as { path?: string }).path ?? 'a pid file', 'reload: read') : caught;
      if (!(e instanceof LbctlError)) throw e;
      const installed = applied.files.map((f) => f.path).join(', ');
      throw new LbctlError(`${e.message} (the new files are installed: ${installed})`, e.exitCode, { code: e.code, where: e.where, hint: e.hint, cause: e });
    }
    return pcmk(result);
  });
}

export interface FileDiff { file: DaemonFile; path: string; state: 'absent' | 'differs' | 'same'; diff: string }
export interface DiffResult { node: string; root: string; changed: boolean; files: FileDiff[] }

/** Unified diff (as diff -u) of installed against generated, per file. */
export async function diffNode(specFile: string, opts: { node: string; root?: string }): Promise<DiffResult> {
  const root = path.resolve(opts.root ?? '/');
  const compiled = await compileSpec(specFile, opts.node);
  const node = compiled.nodes[0];
  await refusePseudoFs(root, '--root');
  const desired = managedFiles(node, root);
  const provider = new FilesProvider(desired.map((f) => f.path));
  const changes = provider.plan(await provider.read(), desired);
  const files: FileDiff[] = node.files.map((f, i) => {
    const c = changes.find((x) => x.id === desired[i].path);
    return { file: f.name, path: desired[i].path, state: !c ? 'same' : c.action === '+' ? 'absent' : 'differs', diff: c?.diff ?? '' };
  });
  return { node: node.node, root, changed: changes.length > 0, files };
}
