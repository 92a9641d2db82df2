/**
 * Typed parsers for the HAProxy runtime API's read commands: `show stat` (CSV), `show info`,
 * `show servers state` and `show backend`. Pure functions over the text haproxy sends, so
 * they are unit-tested on captured output and reused by the interactive shell.
 */

/** `show stat` row types (the CSV `type` column). */
export const StatType = { frontend: 0, backend: 1, server: 2, listener: 3 } as const;
export type StatTypeName = keyof typeof StatType;
const STAT_TYPE_NAMES: StatTypeName[] = ['frontend', 'backend', 'server', 'listener'];

/**
 * CSV columns that carry text. Every other column is a number (or empty, which becomes null).
 * An explicit list, not a guess from the value, so a server named "42" stays a string.
 */
const STAT_STRING_FIELDS = new Set([
  'pxname', 'svname', 'status', 'check_status', 'last_chk', 'last_agt', 'agent_status',
  'check_desc', 'agent_desc', 'addr', 'cookie', 'mode', 'algo', 'tracked', '-',
]);

export type StatValue = string | number | null;

/** One `show stat` row. The named fields are the ones lbctl reads; all columns are present. */
export interface StatRow {
  pxname: string;
  svname: string;
  /** frontend, backend, server or listener (from the numeric `type` column). */
  type: StatTypeName;
  status: string | null;
  weight: number | null;
  scur: number | null;
  smax: number | null;
  slim: number | null;
  stot: number | null;
  qcur: number | null;
  qmax: number | null;
  bin: number | null;
  bout: number | null;
  econ: number | null;
  eresp: number | null;
  ereq: number | null;
  lastchg: number | null;
  downtime: number | null;
  chkfail: number | null;
  chkdown: number | null;
  check_status: string | null;
  check_code: number | null;
  check_duration: number | null;
  last_chk: string | null;
  rate: number | null;
  iid: number | null;
  sid: number | null;
  act: number | null;
  bck: number | null;
  addr: string | null;
  [field: string]: StatValue;
}

const cellNumber = (c: string | undefined): StatValue => {
  if (c === undefined || c === '') return null;
  const n = Number(c);
  return Number.isFinite(n) ? n : c;
};
const cellString = (c: string | undefined): StatValue => (c === undefined || c === '' ? null : c);
const cellType = (c: string | undefined): StatTypeName | undefined => STAT_TYPE_NAMES[Number(c)];

type RowBuilder = (cells: string[]) => Record<string, StatValue | undefined>;
const rowBuilders = new Map<string, RowBuilder>();

/**
 * One generated object literal per CSV header: every row then shares one hidden class, which
 * makes parsing and JSON.stringify of thousands of rows about 3x faster than adding keys one
 * by one (see bench/haproxy-runtime). Keys are JSON-quoted, so no header text can inject code.
 */
function rowBuilder(fields: string[]): RowBuilder {
  const key = fields.join(',');
  let build = rowBuilders.get(key);
  if (!build) {
    // A computed key for "__proto__": as a plain literal key it would set the row's prototype.
    const parts = fields.map((f, i) => `${f === '__proto__' ? `[${JSON.stringify(f)}]` : JSON.stringify(f)}: ${f === 'type' ? 'typ' : STAT_STRING_FIELDS.has(f) ? 'str' : 'num'}(c[${i}])`);
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    build = new Function('num', 'str', 'typ', `return (c) => ({ ${parts.join(', ')} });`)(cellNumber, cellString, cellType) as RowBuilder;
    // One haproxy has one header; a peer sending ever-new ones must not grow this cache.
    if (rowBuilders.size >= 16) rowBuilders.clear();
    rowBuilders.set(key, build);
  }
  return build;
}

const MAX_STAT_FIELDS = 2000;

/** Parse the CSV of `show stat`. Throws on text that is not a stat dump (caller says what answered). */
export function parseShowStat(text: string): StatRow[] {
  const lines = text.split('\n');
  const headerLine = lines[0] ?? '';
  if (!headerLine.startsWith('# pxname,')) throw new Error('not a "show stat" CSV (no "# pxname," header)');
  const fields = headerLine.slice(2).split(',');
  // The header ends with a comma: drop the empty trailing column name.
  if (fields[fields.length - 1] === '') fields.pop();
  // haproxy 2.x has about 100 columns; thousands is a peer sending something else.
  if (fields.length > MAX_STAT_FIELDS) throw new Error(`not a "show stat" CSV (${fields.length} columns)`);
  const build = rowBuilder(fields);
  const hasType = fields.includes('type');
  const rows: StatRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]) continue;
    const row = build(lines[i].split(','));
    // haproxy before 1.5 has no type column: infer it from the name.
    if (!hasType || row.type === undefined) row.type = row.svname === 'FRONTEND' ? 'frontend' : row.svname === 'BACKEND' ? 'backend' : 'server';
    rows.push(row as StatRow);
  }
  return rows;
}

/** `show info` keys whose values stay text even when they look numeric. */
const INFO_STRING_KEYS = new Set(['Name', 'Version', 'Release_date', 'Uptime', 'node', 'description', 'Tainted', 'Build info']);

export interface InfoRecord {
  Name: string;
  Version: string;
  Pid?: number;
  Uptime_sec?: number;
  CurrConns?: number;
  [key: string]: string | number | undefined;
}

const MAX_INFO_KEYS = 1000;

/** Parse `show info` ("Key: value" lines). Numeric values become numbers. */
export function parseShowInfo(text: string): InfoRecord {
  const info: Record<string, string | number> = {};
  let keys = 0;
  for (const line of text.split('\n')) {
    const at = line.indexOf(': ');
    if (at <= 0) continue;
    // haproxy 2.x prints about 70 keys; an object with many thousands gets slow to build.
    if (++keys > MAX_INFO_KEYS) throw new Error(`not a "show info" answer (more than ${MAX_INFO_KEYS} keys)`);
    const key = line.slice(0, at);
    const value = line.slice(at + 2);
    info[key] = !INFO_STRING_KEYS.has(key) && /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  if (info.Name === undefined || info.Version === undefined) throw new Error('not a "show info" answer (no Name/Version)');
  return info as InfoRecord;
}

/** Server admin-state bits (srv_admin_state, include/haproxy/server-t.h). */
export const AdminFlag = {
  ForcedMaint: 0x01,
  InheritedMaint: 0x02,
  ConfigMaint: 0x04,
  ForcedDrain: 0x08,
  InheritedDrain: 0x10,
  ResolutionMaint: 0x20,
  HostnameMaint: 0x40,
} as const;

/** Server operational state (srv_op_state). */
export const OpState = { stopped: 0, starting: 1, running: 2, stopping: 3 } as const;
const OP_STATE_NAMES = ['stopped', 'starting', 'running', 'stopping'] as const;

export interface ServerState {
  backendId: number;
  backend: string;
  serverId: number;
  server: string;
  address: string;
  port: number | null;
  /** srv_op_state as a word. */
  opState: (typeof OP_STATE_NAMES)[number] | 'unknown';
  /** srv_admin_state bit field (see AdminFlag). */
  adminState: number;
  /** Forced or inherited maintenance (what `disable`/`maint` set). */
  maint: boolean;
  /** Forced or inherited drain. */
  drain: boolean;
  weight: number;
  initialWeight: number;
  secondsSinceLastChange: number;
  checkStatus: number;
  checkResult: number;
  checkHealth: number;
  checkState: number;
  agentState: number;
}

/** Parse `show servers state [backend]` (format version 1, haproxy 1.6+). */
export function parseServersState(text: string): ServerState[] {
  const lines = text.split('\n');
  if ((lines[0] ?? '').trim() !== '1' || !(lines[1] ?? '').startsWith('# be_id ')) {
    throw new Error('not a "show servers state" answer (format version 1 expected)');
  }
  const names = lines[1].slice(2).trim().split(/\s+/);
  // Column positions once, not per cell: a wide header must not make parsing quadratic.
  const column = new Map<string, number>();
  names.forEach((n, i) => { if (!column.has(n)) column.set(n, i); });
  const out: ServerState[] = [];
  for (const line of lines.slice(2)) {
    if (!line.trim()) continue;
    const cells = line.trim().split(/\s+/);
    const get = (name: string): string => { const i = column.get(name); return i === undefined ? '' : cells[i] ?? ''; };
    const num = (name: string): number => Number(get(name));
    const admin = num('srv_admin_state');
    const port = get('srv_port');
    out.push({
      backendId: num('be_id'),
      backend: get('be_name'),
      serverId: num('srv_id'),
      server: get('srv_name'),
      address: get('srv_addr'),
      port: /^\d+$/.test(port) ? Number(port) : null,
      opState: OP_STATE_NAMES[num('srv_op_state')] ?? 'unknown',
      adminState: admin,
      maint: (admin & (AdminFlag.ForcedMaint | AdminFlag.InheritedMaint | AdminFlag.ResolutionMaint | AdminFlag.HostnameMaint)) !== 0,
      drain: (admin & (AdminFlag.ForcedDrain | AdminFlag.InheritedDrain)) !== 0,
      weight: num('srv_uweight'),
      initialWeight: num('srv_iweight'),
      secondsSinceLastChange: num('srv_time_since_last_change'),
      checkStatus: num('srv_check_status'),
      checkResult: num('srv_check_result'),
      checkHealth: num('srv_check_health'),
      checkState: num('srv_check_state'),
      agentState: num('srv_agent_state'),
    });
  }
  return out;
}

/** Parse `show backend` ("# name" then one backend per line). */
export function parseShowBackend(text: string): string[] {
  const lines = text.split('\n');
  if (!(lines[0] ?? '').startsWith('# name')) throw new Error('not a "show backend" answer');
  return lines.slice(1).map((l) => l.trim()).filter(Boolean);
}

/** Parse `get weight b/s`: "2 (initial 3)". */
export function parseGetWeight(text: string): { weight: number; initial: number } {
  const m = /^(\d+) \(initial (\d+)\)/.exec(text.trim());
  if (!m) throw new Error(`unexpected "get weight" answer: ${text.trim()}`);
  return { weight: Number(m[1]), initial: Number(m[2]) };
}

export interface HaproxyVersion { text: string; major: number; minor: number; patch: number }

/** "2.6.12-1+deb12u4" -> {2, 6, 12}. */
export function parseVersion(text: string): HaproxyVersion {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(text.trim());
  if (!m) throw new Error(`unrecognised haproxy version "${text}"`);
  return { text: text.trim(), major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

export interface RuntimeCapabilities {
  /** `show servers state` and `set server ... state` (1.6). */
  serverState: boolean;
  /** `show backend` (1.7). */
  showBackend: boolean;
  /** `show cli level` (2.0), so the level is known before any write. */
  cliLevel: boolean;
  /** `agg_server_status` etc. in show stat (2.4+, informational). */
  aggregatedStatus: boolean;
}

/** What this haproxy's runtime API supports, by version. */
export function capabilitiesOf(v: HaproxyVersion): RuntimeCapabilities {
  const at = (major: number, minor: number) => v.major > major || (v.major === major && v.minor >= minor);
  return { serverState: at(1, 6), showBackend: at(1, 7), cliLevel: at(2, 0), aggregatedStatus: at(2, 4) };
}
