/**
 * Reload nginx after its file changed: `systemctl reload nginx` when systemd runs it, else
 * SIGHUP to the master from its pid file (what `nginx -s reload` sends). The master checks the
 * new file itself and keeps its old workers when the file fails, so a reload counts as done
 * only when a new worker appears.
 */
import { execa } from 'execa';
import { RejectedError, TimeoutError } from '../cli/errors.js';
import { childPids, readPidfile, systemdActive, type ReloadResult } from '../haproxy/config-reload.js';

export const NGINX_PIDFILE = '/run/nginx.pid';

export async function reloadNginx(opts: { pidfile?: string; unit?: string; waitMs?: number } = {}): Promise<ReloadResult> {
  const unit = opts.unit ?? 'nginx';
  if (!opts.pidfile && (await systemdActive(unit))) {
    const r = await execa('systemctl', ['reload', unit], { reject: false, all: true });
    if (r.exitCode !== 0) throw new RejectedError(`systemctl reload ${unit} failed: ${String(r.all).trim()}`, { hint: `see journalctl -u ${unit}` });
    return { daemon: 'nginx', method: 'systemctl', detail: `systemctl reload ${unit}` };
  }
  const pid = await readPidfile(opts.pidfile ?? NGINX_PIDFILE, 'nginx');
  const before = new Set(await childPids(pid));
  process.kill(pid, 'SIGHUP');
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  while (Date.now() < deadline) {
    const fresh = (await childPids(pid)).filter((c) => !before.has(c));
    if (fresh.length) return { daemon: 'nginx', method: 'signal', pid, detail: `SIGHUP to master ${pid}; new worker ${fresh.join(',')}` };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new TimeoutError(`nginx master ${pid} started no new worker after SIGHUP`, { hint: 'check the nginx error log: the master keeps the old workers when the new file fails' });
}

/** Why a reload by signal would fail (no pid file, pid not running), found before any write. */
export async function nginxReloadProblem(pidfile: string): Promise<Error | undefined> {
  return readPidfile(pidfile, 'nginx').then(() => undefined, (e: Error) => e);
}
