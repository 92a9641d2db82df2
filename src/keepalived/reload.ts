/**
 * Reload keepalived after keepalived.conf changed: `systemctl reload keepalived` when systemd
 * runs it, else SIGHUP to the parent process from its pid file. keepalived re-reads the file
 * and keeps VRRP state for instances that did not change.
 */
import { execa } from 'execa';
import { RejectedError } from '../cli/errors.js';
import { readPidfile, systemdActive, type ReloadResult } from '../haproxy/config-reload.js';

export async function reloadKeepalived(opts: { pidfile?: string; unit?: string } = {}): Promise<ReloadResult> {
  const unit = opts.unit ?? 'keepalived';
  if (!opts.pidfile && (await systemdActive(unit))) {
    const r = await execa('systemctl', ['reload', unit], { reject: false, all: true });
    if (r.exitCode !== 0) throw new RejectedError(`systemctl reload ${unit} failed: ${String(r.all).trim()}`, { hint: `see journalctl -u ${unit}` });
    return { daemon: 'keepalived', method: 'systemctl', detail: `systemctl reload ${unit}` };
  }
  const pid = await readPidfile(opts.pidfile ?? '/run/keepalived.pid', 'keepalived');
  process.kill(pid, 'SIGHUP');
  return { daemon: 'keepalived', method: 'signal', pid, detail: `SIGHUP to ${pid}` };
}

/** Why a reload by signal would fail (no pid file, pid not running), found before any write. */
export async function keepalivedReloadProblem(pidfile: string): Promise<Error | undefined> {
  return readPidfile(pidfile, 'keepalived').then(() => undefined, (e: Error) => e);
}
