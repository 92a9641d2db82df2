import path from 'node:path';
import type { Target } from './types.js';

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

/** Absolute paths of every file --persist may write for a target, under root. */
export function persistScope(root: string, target: Target): string[] {
  return (Object.values(persistPaths(target)) as string[]).map((rel) => path.join(root, rel));
}

/** The files to write, with absolute paths under root. */
export function persistWant(root: string, files: PersistFile[]): Array<{ path: string; content?: string; symlinkTo?: string }> {
  return files.map((f) => ({ path: path.join(root, f.rel), content: f.content, symlinkTo: f.symlinkTo }));
}

/** The addresses an lbctl-written unit puts on at boot (they are lbctl's, even when the /run records are gone). */
export function unitAddresses(content: string | undefined): Array<{ dev: string; address: string; prefix: number }> {
  if (!content?.startsWith(OWNER_MARK)) return [];
  const out: Array<{ dev: string; address: string; prefix: number }> = [];
  for (const m of content.matchAll(/^ExecStart=\S*ip addr replace (\d+\.\d+\.\d+\.\d+)\/(\d+) dev (\S+)/gm)) out.push({ address: m[1], prefix: Number(m[2]), dev: m[3] });
  return out;
}

/** The mode recorded in an lbctl-written file's header ("lbctl realserver prep --mode tun"). */
export function persistedMode(content: string | undefined): string | undefined {
  if (!content?.startsWith(OWNER_MARK)) return undefined;
  return /^# Managed by lbctl \(lbctl \w+ prep --mode (\w+)\)/.exec(content)?.[1];
}
