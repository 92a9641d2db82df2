/**
 * Daemon actions as a converge provider: a reload is planned only for a daemon whose file the
 * files plan changes, so an empty files plan reloads nothing. read() finds how each daemon would
 * be reloaded (systemd unit or pid file) without touching it; apply() reloads, in plan order.
 */
import { readFile } from 'node:fs/promises';
import { haproxyReloadProblem, reloadHaproxy, systemdActive, type ReloadResult } from '../haproxy/config-reload.js';
import { keepalivedReloadProblem, reloadKeepalived } from '../keepalived/reload.js';
import { nginxReloadProblem, reloadNginx } from '../nginx/reload.js';
import type { Change, Provider } from './change.js';
import type { FileChange } from './files.js';

export type DaemonName = 'haproxy' | 'keepalived' | 'nginx';

export interface DaemonTarget { daemon: DaemonName; pidfile?: string; unit?: string }
export interface DaemonState {
  daemon: DaemonName; method: 'systemctl' | 'signal'; unit: string; pidfile?: string; pid?: number;
  /** Why a reload would fail, known before anything is written (not running, no master). */
  problem?: Error;
}
export interface DaemonChange extends Change { kind: 'daemon'; daemon: DaemonName; target: DaemonTarget }
export interface DaemonReport { reloads: Array<{ daemon: DaemonName; result: ReloadResult }> }

const DEFAULT_PIDFILE: Record<DaemonName, string> = { haproxy: '/run/haproxy.pid', keepalived: '/run/keepalived.pid', nginx: '/run/nginx.pid' };
const SIGNAL: Record<DaemonName, string> = { haproxy: '-USR2', keepalived: '-HUP', nginx: '-HUP' };

export class DaemonProvider implements Provider<DaemonState[], FileChange[], DaemonChange, DaemonReport> {
  constructor(private readonly targets: readonly DaemonTarget[]) {}

  async read(): Promise<DaemonState[]> {
    const out: DaemonState[] = [];
    for (const t of this.targets) {
      const unit = t.unit ?? t.daemon;
      if (!t.pidfile && (await systemdActive(unit))) { out.push({ daemon: t.daemon, method: 'systemctl', unit }); continue; }
      const pidfile = t.pidfile ?? DEFAULT_PIDFILE[t.daemon];
      const pid = Number((await readFile(pidfile, 'utf8').catch(() => '')).trim().split(/\s+/)[0]);
      const problem = t.daemon === 'haproxy' ? await haproxyReloadProblem(pidfile) : t.daemon === 'nginx' ? await nginxReloadProblem(pidfile) : await keepalivedReloadProblem(pidfile);
      out.push({ daemon: t.daemon, method: 'signal', unit, pidfile, pid: Number.isInteger(pid) && pid > 1 ? pid : undefined, problem });
    }
    return out;
  }

  /** A reload for each daemon that reads a file the files plan changes. */
  plan(actual: DaemonState[], fileChanges: FileChange[]): DaemonChange[] {
    const changes: DaemonChange[] = [];
    for (const state of actual) {
      const files = fileChanges.filter((c) => c.file.daemon === state.daemon).map((c) => c.id);
      if (files.length === 0) continue;
      // Refused here, in the plan, so that no file is written for a reload that cannot happen.
      if (state.problem) throw state.problem;
      const target = this.targets.find((t) => t.daemon === state.daemon)!;
      changes.push({
        action: '~', kind: 'daemon', id: state.daemon, daemon: state.daemon, target,
        reason: `reload: ${files.join(', ')} changed`,
        command: state.method === 'systemctl' ? ['systemctl', 'reload', state.unit] : ['kill', SIGNAL[state.daemon], state.pid ? String(state.pid) : `<pid in ${state.pidfile}>`],
      });
    }
    return changes;
  }

  async apply(changes: DaemonChange[]): Promise<DaemonReport> {
    const reloads: DaemonReport['reloads'] = [];
    for (const c of changes) {
      const result = c.daemon === 'haproxy'
        ? await reloadHaproxy({ pidfile: c.target.pidfile, unit: c.target.unit })
        : c.daemon === 'nginx' ? await reloadNginx({ pidfile: c.target.pidfile, unit: c.target.unit })
        : await reloadKeepalived({ pidfile: c.target.pidfile, unit: c.target.unit });
      reloads.push({ daemon: c.daemon, result });
    }
    return { reloads };
  }
}
