/**
 * Reload a running haproxy after its config file changed, without dropping connections:
 * `systemctl reload haproxy` when systemd runs it, else SIGUSR2 to the master of a
 * master-worker haproxy (-W/-Ws), which starts new workers on the new file while the old
 * ones finish their connections. A haproxy without a master cannot be reloaded in place.
 */
import { promises as fs } from 'node:fs';
import { execa } from 'execa';
import { NotFoundError, RejectedError, TimeoutError } from '../cli/errors.js';

export interface ReloadResult { daemon: string; method: 'systemctl' | 'signal'; pid?: number; detail: string }

export async function systemdActive(unit: string): Promise<boolean> {
  try {
    const r = await execa('systemctl', ['is-active', '--quiet', unit], { reject: false, timeout: 5000 });
    return r.exitCode === 0;
  } catch {
    return false;
  }
}

export async function readPidfile(file: string, daemon: string): Promise<number> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e: any) {
    if (e.code === 'ENOENT') throw new NotFoundError(`${daemon} pid file ${file} does not exist: is ${daemon} running?`, { hint: `start ${daemon}, or give its pid file with --${daemon}-pidfile` });
    throw e;
  }
  const pid = Number(text.trim().split(/\s+/)[0]);
  if (!Number.isInteger(pid) || pid <= 1) throw new NotFoundError(`${file} holds no pid`, { hint: `give ${daemon}'s pid file` });
  try {
    process.kill(pid, 0);
  } catch {
    throw new NotFoundError(`${daemon} pid ${pid} from ${file} is not running`, { hint: `start ${daemon}` });
  }
  return pid;
}

/** Child pids of `pid`, read from /proc (the workers of a haproxy master). */
export async function childPids(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (const ent of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(ent)) continue;
    try {
      const stat = await fs.readFile(`/proc/${ent}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(ent));
    } catch { /* gone */ }
  }
  return out.sort((a, b) => a - b);
}

async function isMasterWorker(pid: number): Promise<boolean> {
  const argv = (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')).split('\0');
  if (argv.some((a) => a === '-W' || a === '-Ws' || a === '-sW')) return true;
  // "master-worker" in the global section: the master shows as "haproxy -f ..." with workers under it.
  const children = await childPids(pid);
  for (const c of children) {
    const cargv = (await fs.readFile(`/proc/${c}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (cargv[0] && /haproxy/.test(cargv[0])) return true;
  }
  return false;
}

/**
 * Why a reload by signal would fail, found before any file is written (pid file missing, pid not
 * running, haproxy without a master): the error reloadHaproxy would throw, or undefined.
 */
export async function haproxyReloadProblem(pidfile: string): Promise<Error | undefined> {
  try {
    const pid = await readPidfile(pidfile, 'haproxy');
    if (!(await isMasterWorker(pid))) return notMasterWorker(pid);
  } catch (e) {
    return e as Error;
  }
  return undefined;
}

function notMasterWorker(pid: number): RejectedError {
  return new RejectedError(`haproxy pid ${pid} is not a master-worker haproxy: a reload would drop connections`, { hint: 'run haproxy with -W (or master_worker: true in the spec), or restart it by hand' });
}

export async function reloadHaproxy(opts: { pidfile?: string; unit?: string; waitMs?: number } = {}): Promise<ReloadResult> {
  const unit = opts.unit ?? 'haproxy';
  if (!opts.pidfile && (await systemdActive(unit))) {
    const r = await execa('systemctl', ['reload', unit], { reject: false, all: true });
    if (r.exitCode !== 0) throw new RejectedError(`systemctl reload ${unit} failed: ${String(r.all).trim()}`, { hint: `see journalctl -u ${unit}` });
    return { daemon: 'haproxy', method: 'systemctl', detail: `systemctl reload ${unit}` };
  }
  const pidfile = opts.pidfile ?? '/run/haproxy.pid';
  const pid = await readPidfile(pidfile, 'haproxy');
  if (!(await isMasterWorker(pid))) throw notMasterWorker(pid);
  const before = new Set(await childPids(pid));
  process.kill(pid, 'SIGUSR2');
  // The master re-executes itself on the new file and forks a new worker: wait for it.
  const deadline = Date.now() + (opts.waitMs ?? 10_000);
  while (Date.now() < deadline) {
    const now = await childPids(pid);
    const fresh = now.filter((c) => !before.has(c));
    if (fresh.length) return { daemon: 'haproxy', method: 'signal', pid, detail: `SIGUSR2 to master ${pid}; new worker ${fresh.join(',')}` };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new TimeoutError(`haproxy master ${pid} started no new worker after SIGUSR2`, { hint: 'check the haproxy log: the master keeps the old workers when the new file fails' });
}
