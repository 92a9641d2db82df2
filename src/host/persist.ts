import { promises as fs } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../util/fs.js';
import type { ItemResult, Target } from './types.js';

/** Every file lbctl writes for --persist starts with this line; unprep removes only such files. */
export const OWNER_MARK = '# Managed by lbctl';

export interface PersistSpec {
  target: Target;
  /** e.g. "realserver prep --mode dr". */
  invocation: string;
  description: string;
  sysctls: Array<{ key: string; value: string; why?: string }>;
  /** Commands the boot unit runs (argv without the ip binary path). */
  start: string[][];
  stop: string[][];
  modules: string[];
  /** Unit ordering: directors wait for their interface, real servers only need lo/tunl0. */
  afterDevice?: string;
}

export interface PersistFile { rel: string; content?: string; symlinkTo?: string }

/** Absolute binary paths: older systemd (< 239) requires them in Exec lines; merged-/usr distros have both. */
const IP = '/usr/sbin/ip';
const MODPROBE = '/usr/sbin/modprobe';

export function persistPaths(target: Target): { sysctl: string; unit: string; wants: string; modules?: string } {
  return {
    sysctl: `etc/sysctl.d/90-lbctl-${target}.conf`,
    unit: `etc/systemd/system/lbctl-${target}.service`,
    wants: `etc/systemd/system/multi-user.target.wants/lbctl-${target}.service`,
    // Only TUN real servers need a module at boot (ipip, for tunl0).
    ...(target === 'realserver' ? { modules: `etc/modules-load.d/lbctl-${target}.conf` } : {}),
  };
}

function header(spec: PersistSpec): string {
  return `${OWNER_MARK} (lbctl ${spec.invocation}): ${spec.description}.\n`
    + `# lbctl replaces this file whole and removes it on \`lbctl ${spec.target} unprep --persist\`; edits are lost.\n`;
}

/** The files --persist writes, rendered (pure: tested against golden text). */
export function renderPersist(spec: PersistSpec): PersistFile[] {
  const p = persistPaths(spec.target);
  const files: PersistFile[] = [];
  if (spec.sysctls.length > 0) {
    const lines = spec.sysctls.map((s) => (s.why ? `# ${s.why}\n` : '') + `${s.key} = ${s.value}`);
    files.push({ rel: p.sysctl, content: header(spec) + '\n' + lines.join('\n') + '\n' });
  }
  if (spec.modules.length > 0) {
    files.push({ rel: p.modules!, content: header(spec) + spec.modules.join('\n') + '\n' });
  }
  if (spec.start.length > 0) {
    const after = ['systemd-sysctl.service', 'systemd-modules-load.service'];
    const unit = [
      '[Unit]',
      `Description=lbctl ${spec.target}: ${spec.description}`,
      spec.target === 'realserver'
        ? '# The ARP sysctls must be in force before the VIP appears, or the host answers ARP for it.'
        : '# The VIP alias goes on once its interface exists; sysctls come first.',
      `After=${after.join(' ')}`,
      ...(spec.afterDevice
        ? [`After=sys-subsystem-net-devices-${spec.afterDevice}.device network.target`, `BindsTo=sys-subsystem-net-devices-${spec.afterDevice}.device`]
        : ['Before=network-pre.target', 'Wants=network-pre.target']),
      '',
      '[Service]',
      'Type=oneshot',
      'RemainAfterExit=yes',
      ...spec.modules.map((m) => `ExecStartPre=-${MODPROBE} ${m}`),
      // `ip addr replace` is idempotent: a restart does not fail on "File exists".
      ...spec.start.map((argv) => `ExecStart=${IP} ${argv.join(' ')}`),
      ...spec.stop.map((argv) => `ExecStop=-${IP} ${argv.join(' ')}`),
      '',
      '[Install]',
      'WantedBy=multi-user.target',
      '',
    ].join('\n');
    files.push({ rel: p.unit, content: header(spec) + unit });
    files.push({ rel: p.wants, symlinkTo: '/' + p.unit });
  }
  return files;
}

async function isOurs(file: string, symlinkTo?: string): Promise<'ours' | 'foreign' | 'absent'> {
  try {
    const st = await fs.lstat(file);
    if (st.isSymbolicLink()) return (await fs.readlink(file)) === symlinkTo ? 'ours' : 'foreign';
    const head = (await fs.readFile(file, 'utf8')).slice(0, OWNER_MARK.length);
    return head === OWNER_MARK ? 'ours' : 'foreign';
  } catch (e: any) {
    if (e.code === 'ENOENT') return 'absent';
    throw e;
  }
}

/**
 * Bring the files under root to `files`; a file of this target lbctl no longer wants (say the
 * modules-load file after switching from tun to dr) is removed, if it carries the owner mark.
 */
export async function applyPersist(root: string, target: Target, files: PersistFile[], dryRun: boolean): Promise<ItemResult[]> {
  const out: ItemResult[] = [];
  const wanted = new Set(files.map((f) => f.rel));
  for (const f of files) {
    const abs = path.join(root, f.rel);
    if (f.symlinkTo !== undefined) {
      let cur: string | null = null;
      try { cur = await fs.readlink(abs); } catch (e: any) { if (e.code !== 'ENOENT' && e.code !== 'EINVAL') throw e; }
      const changed = cur !== f.symlinkTo;
      if (changed && !dryRun) {
        await fs.mkdir(path.dirname(abs), { recursive: true });
        const tmp = `${abs}.lbctl-tmp-${process.pid}`;
        await fs.rm(tmp, { force: true });
        await fs.symlink(f.symlinkTo, tmp);
        await fs.rename(tmp, abs);
      }
      out.push({ kind: 'file', item: abs, before: cur, after: f.symlinkTo, action: changed ? (cur === null ? 'created' : 'updated') : 'unchanged', changed, note: 'enables the unit (what systemctl enable does)' });
      continue;
    }
    let cur: string | null = null;
    try { cur = await fs.readFile(abs, 'utf8'); } catch (e: any) { if (e.code !== 'ENOENT') throw e; }
    const changed = cur !== f.content;
    let note: string | undefined;
    if (changed && !dryRun) {
      const w = await writeFileAtomic(abs, f.content!);
      if (w.backup) note = `previous content saved to ${w.backup}`;
    }
    out.push({ kind: 'file', item: abs, before: cur === null ? null : 'present', after: 'present', action: changed ? (cur === null ? 'created' : 'updated') : 'unchanged', changed, note });
  }
  for (const rel of Object.values(persistPaths(target)) as string[]) {
    if (wanted.has(rel)) continue;
    const abs = path.join(root, rel);
    const owner = await isOurs(abs, '/' + persistPaths(target).unit);
    if (owner === 'absent') continue;
    if (owner === 'foreign') {
      out.push({ kind: 'file', item: abs, before: 'present', after: 'present', action: 'kept', changed: false, note: 'not written by lbctl (no owner mark): left alone' });
      continue;
    }
    if (!dryRun) await fs.rm(abs, { force: true });
    out.push({ kind: 'file', item: abs, before: 'present', after: null, action: 'deleted', changed: true });
  }
  return out;
}

/** Remove every --persist file of a target that lbctl wrote. */
export async function removePersist(root: string, target: Target, dryRun: boolean): Promise<ItemResult[]> {
  const out: ItemResult[] = [];
  for (const rel of Object.values(persistPaths(target)) as string[]) {
    const abs = path.join(root, rel);
    const owner = await isOurs(abs, '/' + persistPaths(target).unit);
    if (owner === 'absent') { out.push({ kind: 'file', item: abs, before: null, after: null, action: 'absent', changed: false }); continue; }
    if (owner === 'foreign') { out.push({ kind: 'file', item: abs, before: 'present', after: 'present', action: 'kept', changed: false, note: 'not written by lbctl (no owner mark): left alone' }); continue; }
    if (!dryRun) await fs.rm(abs, { force: true });
    out.push({ kind: 'file', item: abs, before: 'present', after: null, action: 'deleted', changed: true });
  }
  return out;
}
