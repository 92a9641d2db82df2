import { actionWord, color, table } from '../cli/output.js';
import type { BackendSummary, ClearResult, HealthResult, InfoResult, ServerStateResult, StatResult } from './runtime-ops.js';

/** Human views of the runtime commands' results (the JSON view is the result itself). */

/** Colour a haproxy status word the way hatop does. */
export function statusColor(status: string | null): string {
  const s = status ?? '';
  if (/^(UP|OPEN)/.test(s)) return color.green(s);
  if (/^DOWN|^FULL|^STOP/.test(s)) return color.red(s);
  if (/^(MAINT|DRAIN|NOLB)/.test(s)) return color.yellow(s);
  return color.dim(s || '-');
}

const n = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : String(v));

/** Bytes in a short unit, like hatop. */
export function bytes(v: number | null): string {
  if (v === null) return '-';
  const units = ['', 'K', 'M', 'G', 'T'];
  let x = v;
  let i = 0;
  while (x >= 1024 && i < units.length - 1) { x /= 1024; i++; }
  return i === 0 ? String(v) : `${x.toFixed(x < 10 ? 1 : 0)}${units[i]}`;
}

/** Seconds as "3d4h", "5m12s". */
export function duration(sec: number | null): string {
  if (sec === null) return '-';
  const d = Math.floor(sec / 86400), h = Math.floor((sec % 86400) / 3600), m = Math.floor((sec % 3600) / 60), s = sec % 60;
  if (d) return `${d}d${h}h`;
  if (h) return `${h}h${m}m`;
  if (m) return `${m}m${s}s`;
  return `${s}s`;
}

export function renderInfo(r: InfoResult): string {
  const i = r.info;
  const rows = [
    ['socket', r.socket], ['version', r.version.text], ['pid', n(i.Pid as number)], ['uptime', String(i.Uptime ?? '-')],
    ['threads', n(i.Nbthread as number)], ['connections', `${n(i.CurrConns as number)} current, ${n(i.CumConns as number)} total, max ${n(i.Maxconn as number)}`],
    ['requests', n(i.CumReq as number)], ['rates', `${n(i.ConnRate as number)} conn/s, ${n(i.SessRate as number)} sess/s`],
  ];
  return table(rows.map(([k, v]) => [color.bold(k), v]), { align: ['left', 'left'] });
}

export function renderStat(r: StatResult): string {
  const head = ['NAME', 'TYPE', 'STATUS', 'W', 'CHECK', 'QCUR', 'SCUR', 'SMAX', 'SLIM', 'STOT', 'RATE', 'BIN', 'BOUT', 'ERR', 'LASTCHG'];
  const rows = r.rows.map((x) => [
    x.type === 'server' ? `  ${x.pxname}/${x.svname}` : x.pxname,
    x.type, statusColor(x.status), n(x.weight), x.check_status ? `${x.check_status}${x.check_code ? `/${x.check_code}` : ''}` : '-',
    n(x.qcur), n(x.scur), n(x.smax), n(x.slim), n(x.stot), n(x.rate), bytes(x.bin), bytes(x.bout),
    n((x.ereq ?? 0) + (x.econ ?? 0) + (x.eresp ?? 0)), duration(x.lastchg),
  ]);
  return table(rows, { head, align: ['left', 'left', 'left', 'right', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'] });
}

export function renderHealth(r: HealthResult): string {
  const rows = r.servers.map((s) => [
    `${s.backend}/${s.server}`, statusColor(s.status), s.checkStatus ?? '-', s.checkDurationMs === null ? '-' : `${s.checkDurationMs}ms`,
    s.lastCheck ?? '-', duration(s.secondsInState), n(s.failedChecks),
  ]);
  const summary = `${r.up} up, ${r.down} down, ${r.maint} in maintenance/drain`;
  return `${table(rows, { head: ['SERVER', 'STATUS', 'CHECK', 'TOOK', 'LAST CHECK', 'IN STATE', 'FAILS'], align: ['left', 'left', 'left', 'right', 'left', 'right', 'right'] })}\n${r.ok ? color.green(summary) : color.red(summary)}`;
}

export function renderBackends(list: BackendSummary[]): string {
  const rows = list.map((b) => [b.name, statusColor(b.status), b.mode ?? '-', b.algo ?? '-', `${b.up}/${b.servers}`, n(b.down), n(b.maint + b.drain), n(b.weight), n(b.sessions), n(b.totalSessions)]);
  return table(rows, { head: ['BACKEND', 'STATUS', 'MODE', 'ALGO', 'UP', 'DOWN', 'MAINT', 'WEIGHT', 'SCUR', 'STOT'], align: ['left', 'left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'] });
}

export function renderServerState(r: ServerStateResult): string {
  const word = (s: ServerStateResult['servers'][number]) => (r.dryRun && s.changed ? `would be ${s.action}` : s.action);
  const detail = (s: ServerStateResult['servers'][number]) => {
    const field = r.command === 'weight' ? (v: typeof s.after) => `weight ${v.weight}` : (v: typeof s.after) => v.admin;
    return `${s.changed ? `${field(s.before)} -> ${field(s.after)}` : `already ${field(s.after)}`} (${r.command === 'weight' ? `initial ${s.initialWeight}` : s.after.op})`;
  };
  const lines = r.servers.map((s) => `${actionWord(word(s))}  ${s.backend}/${s.server}  ${detail(s)}`);
  if (r.wait) lines.push(`drained: no sessions left after ${r.wait.waitedSeconds}s`);
  return lines.join('\n');
}

export function renderClear(r: ClearResult): string {
  const what = r.all ? 'all counters' : 'max counters';
  return r.changed ? `${color.yellow(r.dryRun ? 'would be cleared' : 'cleared')}  ${what}` : `${actionWord('unchanged')}  ${what} already zero`;
}
