import { AbortedError, NotFoundError, PermissionError, RejectedError, TimeoutError, UsageError } from '../cli/errors.js';
import {
  OneShotChannel, RuntimeSession, abortable, abortableSleep, checkAnswer, expectEmpty, formatAddress, notHaproxy, resolveSocket,
  type RuntimeAddress, type RuntimeChannel,
} from './runtime.js';
import {
  AdminFlag, capabilitiesOf, parseServersState, parseShowBackend, parseShowInfo, parseShowStat, parseVersion,
  type HaproxyVersion, type InfoRecord, type RuntimeCapabilities, type ServerState, type StatRow, type StatTypeName,
} from './stat.js';

/**
 * The operations behind `lbctl haproxy ...`. Each one reads state first, changes only what
 * differs, and reads back afterwards so a reported change is one haproxy actually made.
 */

export interface ConnectOptions { socket?: string; timeoutMs?: number }

/** Send a read command and parse its answer; an unparsable answer means the peer is not haproxy. */
export async function readParsed<T>(ch: RuntimeChannel, command: string, parse: (text: string) => T): Promise<T> {
  const answer = checkAnswer(ch.address, command, await ch.send(command));
  try { return parse(answer); } catch { throw notHaproxy(ch.address, answer, command); }
}

/** Identify the peer: `show info` must come from haproxy. */
export async function identify(ch: RuntimeChannel): Promise<{ info: InfoRecord; version: HaproxyVersion; capabilities: RuntimeCapabilities }> {
  const info = await readParsed(ch, 'show info', (text) => {
    const parsed = parseShowInfo(text);
    if (!/haproxy/i.test(String(parsed.Name))) throw new Error('not haproxy');
    parseVersion(String(parsed.Version));
    return parsed;
  });
  const version = parseVersion(String(info.Version));
  return { info, version, capabilities: capabilitiesOf(version) };
}

/**
 * A prompt-mode session kept open by a long-lived host (the interactive shell): commands for the
 * same address use it instead of connecting, and do not close it.
 */
let shared: RuntimeSession | undefined;
export function keepSessionOpen(session?: RuntimeSession): void { shared = session; }
function sharedFor(address: Parameters<typeof formatAddress>[0]): RuntimeSession | undefined {
  return shared && !shared.closed && formatAddress(shared.address) === formatAddress(address) ? shared : undefined;
}
/** Close a session unless it is the shared one. */
async function release(session: RuntimeSession): Promise<void> {
  if (session !== shared) await session.close();
}

async function oneShot(opts: ConnectOptions): Promise<RuntimeChannel> {
  const { address } = await resolveSocket(opts.socket);
  return sharedFor(address) ?? new OneShotChannel(address, opts.timeoutMs);
}

const readStat = (ch: RuntimeChannel, filter = '') => readParsed(ch, `show stat${filter}`, parseShowStat);
const readServers = (ch: RuntimeChannel) => readParsed(ch, 'show servers state', parseServersState);
const readBackends = (ch: RuntimeChannel) => readParsed(ch, 'show backend', parseShowBackend);

// ---------------------------------------------------------------- read-only commands

export interface InfoResult { socket: string; version: HaproxyVersion; capabilities: RuntimeCapabilities; info: InfoRecord }

export async function haproxyInfo(opts: ConnectOptions): Promise<InfoResult> {
  const ch = await oneShot(opts);
  const id = await identify(ch);
  return { socket: formatAddress(ch.address), ...id };
}

export interface StatResult { socket: string; rows: StatRow[] }

export async function haproxyStat(opts: ConnectOptions & { backend?: string; type?: StatTypeName }): Promise<StatResult> {
  const ch = await oneShot(opts);
  let rows = await readStat(ch);
  if (opts.backend) {
    rows = rows.filter((r) => r.pxname === opts.backend);
    if (!rows.length) throw new NotFoundError(`no backend or frontend "${opts.backend}" on ${formatAddress(ch.address)}`, { code: 'ENOBACKEND', hint: 'see lbctl haproxy backends' });
  }
  if (opts.type) rows = rows.filter((r) => r.type === opts.type);
  return { socket: formatAddress(ch.address), rows };
}

export interface HealthRow {
  backend: string;
  server: string;
  status: string;
  /** down: failing health checks; maint/drain: set by an operator; up; nocheck. */
  state: 'up' | 'down' | 'maint' | 'drain' | 'nocheck' | 'other';
  checkStatus: string | null;
  checkCode: number | null;
  checkDurationMs: number | null;
  lastCheck: string | null;
  /** Seconds since the last UP/DOWN transition. */
  secondsInState: number | null;
  downtimeSeconds: number | null;
  failedChecks: number | null;
}
export interface HealthResult { socket: string; ok: boolean; up: number; down: number; maint: number; servers: HealthRow[] }

export function healthState(status: string): HealthRow['state'] {
  if (/^DOWN/.test(status)) return 'down';
  if (/^MAINT/.test(status)) return 'maint';
  if (/^(DRAIN|NOLB)/.test(status)) return 'drain';
  if (/^UP/.test(status)) return 'up';
  if (/^no check/.test(status)) return 'nocheck';
  return 'other';
}

export async function haproxyHealth(opts: ConnectOptions & { backend?: string }): Promise<HealthResult> {
  const { rows, socket } = await haproxyStat({ ...opts, type: 'server' });
  const servers = rows.map((r): HealthRow => ({
    backend: r.pxname,
    server: r.svname,
    status: r.status ?? '',
    state: healthState(r.status ?? ''),
    checkStatus: r.check_status,
    checkCode: r.check_code,
    checkDurationMs: r.check_duration,
    lastCheck: r.last_chk,
    secondsInState: r.lastchg,
    downtimeSeconds: r.downtime,
    failedChecks: r.chkfail,
  }));
  const count = (s: HealthRow['state']) => servers.filter((x) => x.state === s).length;
  return { socket, ok: count('down') === 0, up: count('up') + count('nocheck'), down: count('down'), maint: count('maint') + count('drain'), servers };
}

export interface BackendSummary {
  name: string; status: string | null; mode: string | null; algo: string | null;
  servers: number; up: number; down: number; maint: number; drain: number;
  weight: number | null; sessions: number | null; totalSessions: number | null;
}

export async function haproxyBackends(opts: ConnectOptions): Promise<{ socket: string; backends: BackendSummary[] }> {
  const ch = await oneShot(opts);
  const names = await readBackends(ch);
  const rows = await readStat(ch);
  const backends = names.map((name): BackendSummary => {
    const be = rows.find((r) => r.pxname === name && r.type === 'backend');
    const srv = rows.filter((r) => r.pxname === name && r.type === 'server').map((r) => healthState(r.status ?? ''));
    return {
      name, status: be?.status ?? null, mode: (be?.mode as string) ?? null, algo: (be?.algo as string) ?? null,
      servers: srv.length, up: srv.filter((s) => s === 'up' || s === 'nocheck').length, down: srv.filter((s) => s === 'down').length,
      maint: srv.filter((s) => s === 'maint').length, drain: srv.filter((s) => s === 'drain').length,
      weight: be?.weight ?? null, sessions: be?.scur ?? null, totalSessions: be?.stot ?? null,
    };
  });
  return { socket: formatAddress(ch.address), backends };
}

// ---------------------------------------------------------------- writes

export type CliLevel = 'user' | 'operator' | 'admin' | 'unknown';
export interface OpenSession { session: RuntimeSession; version: HaproxyVersion; capabilities: RuntimeCapabilities; level: CliLevel; where: string }

/**
 * Resolve the socket, enter prompt mode and identify haproxy: the entry point for anything
 * that keeps a connection open (the write commands here, the interactive shell). The caller
 * closes the session.
 */
export async function openRuntimeSession(opts: ConnectOptions): Promise<OpenSession> {
  const { address, where } = await resolveSocket(opts.socket);
  const session = sharedFor(address) ?? await RuntimeSession.open(address, opts.timeoutMs);
  try {
    const { version, capabilities } = await identify(session);
    let level: CliLevel = 'unknown';
    if (capabilities.cliLevel) {
      const answer = (await session.send('show cli level')).trim();
      if (answer === 'user' || answer === 'operator' || answer === 'admin') level = answer;
    }
    return { session, version, capabilities, level, where };
  } catch (e) {
    await release(session);
    throw e;
  }
}

/** openRuntimeSession, refusing (PermissionError) a socket below `minLevel` before any write. */
export async function openAdminSession(opts: ConnectOptions, minLevel: 'admin' | 'operator' = 'admin'): Promise<OpenSession> {
  const open = await openRuntimeSession(opts);
  const rank = (l: CliLevel) => ({ user: 0, operator: 1, admin: 2, unknown: 2 })[l];
  // An old haproxy without `show cli level` ("unknown") is caught by its "Permission denied" answer instead.
  if (rank(open.level) < rank(minLevel)) {
    await release(open.session);
    throw new PermissionError(`${formatAddress(open.session.address)} (from ${open.where}) is a "level ${open.level}" socket; this needs level ${minLevel}`, { code: 'ESOCKLEVEL', hint: `use a "stats socket ... level ${minLevel}" socket` });
  }
  return open;
}

/** haproxy object names: letters, digits and "-_.:" (so nothing can inject into a CLI line). */
const NAME_RE = /^[A-Za-z0-9_.:-]+$/;

export function parseServerRef(ref: string): { backend: string; server: string } {
  const m = /^([^/]+)\/([^/]+)$/.exec(ref);
  if (!m || !NAME_RE.test(m[1]) || !NAME_RE.test(m[2])) {
    throw new UsageError(`"${ref}" is not BACKEND/SERVER`, { code: 'ESERVERREF', hint: 'e.g. app/web1; names use letters, digits and -_.:' });
  }
  return { backend: m[1], server: m[2] };
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

export interface TargetSpec { refs: string[]; allIn?: string; except?: string[] }

/** Resolve BACKEND/SERVER refs or --all-in/--except against the live server list. */
export function resolveTargets(spec: TargetSpec, servers: ServerState[], backends: string[], socket: string): ServerState[] {
  const hint = 'see lbctl haproxy backends';
  const findBackend = (b: string) => {
    if (!backends.includes(b)) throw new NotFoundError(`no backend "${b}" on ${socket}`, { code: 'ENOBACKEND', hint });
  };
  const out: ServerState[] = [];
  for (const ref of spec.refs) {
    const { backend, server } = parseServerRef(ref);
    findBackend(backend);
    const s = servers.find((x) => x.backend === backend && x.server === server);
    if (!s) {
      const names = servers.filter((x) => x.backend === backend).map((x) => x.server);
      throw new NotFoundError(`no server "${server}" in backend "${backend}" on ${socket}`, { code: 'ENOSERVER', hint: names.length ? `servers: ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', ...' : ''}` : 'the backend has no servers' });
    }
    out.push(s);
  }
  if (spec.allIn !== undefined) {
    if (!NAME_RE.test(spec.allIn)) throw new UsageError(`"${spec.allIn}" is not a backend name`, { code: 'EUSAGE', hint: 'names use letters, digits and -_.:' });
    findBackend(spec.allIn);
    const except = (spec.except ?? []).flatMap((e) => e.split(',')).map((e) => e.trim()).filter(Boolean).map(globToRegExp);
    const matched = servers.filter((x) => x.backend === spec.allIn && !except.some((re) => re.test(x.server)));
    if (!matched.length) {
      throw new NotFoundError(`--all-in ${spec.allIn}${spec.except?.length ? ` --except ${spec.except.join(',')}` : ''} matches no server on ${socket}`, { code: 'ENOSERVER', hint: 'check the backend name and the --except patterns' });
    }
    out.push(...matched.filter((m) => !out.includes(m)));
  }
  if (!out.length) throw new UsageError('name a server (BACKEND/SERVER) or use --all-in BACKEND', { code: 'EUSAGE' });
  return out;
}

export type ServerAction = 'enable' | 'disable' | 'drain' | 'ready' | 'maint';

const FM = AdminFlag.ForcedMaint;
const FD = AdminFlag.ForcedDrain;
/** Each action: the CLI command and the admin state it leaves (checked before and after). */
export const SERVER_ACTIONS: Record<ServerAction, { command: (ref: string) => string; satisfied: (admin: number) => boolean }> = {
  enable: { command: (r) => `enable server ${r}`, satisfied: (a) => (a & FM) === 0 },
  disable: { command: (r) => `disable server ${r}`, satisfied: (a) => (a & FM) !== 0 },
  maint: { command: (r) => `set server ${r} state maint`, satisfied: (a) => (a & FM) !== 0 && (a & FD) === 0 },
  drain: { command: (r) => `set server ${r} state drain`, satisfied: (a) => (a & FD) !== 0 && (a & FM) === 0 },
  ready: { command: (r) => `set server ${r} state ready`, satisfied: (a) => (a & (FM | FD)) === 0 },
};

/** The admin state in one word: maint, drain or ready. */
export function adminWord(s: ServerState): 'maint' | 'drain' | 'ready' {
  return s.maint ? 'maint' : s.drain ? 'drain' : 'ready';
}

/** One server's state as every runtime write reports it (state and weight writes alike). */
export interface ServerView { admin: 'maint' | 'drain' | 'ready'; op: string; weight: number }
export interface ServerChange {
  backend: string; server: string; action: 'updated' | 'unchanged'; changed: boolean;
  /** The configured weight (what N% is relative to). */
  initialWeight: number;
  before: ServerView; after: ServerView;
}
export interface DrainWait { waitedSeconds: number; sessions: number }
/** The one result shape of `haproxy server enable|disable|drain|ready|maint|weight`. */
export interface ServerStateResult {
  socket: string; command: ServerAction | 'weight'; changed: boolean;
  /** True when nothing was written: `after` is what a real run would leave. */
  dryRun: boolean;
  servers: ServerChange[]; wait?: DrainWait;
}

export interface ServerStateOptions extends ConnectOptions, TargetSpec {
  action: ServerAction;
  /** drain only: wait until the drained servers have no sessions. */
  wait?: boolean;
  waitTimeoutMs?: number;
  pollMs?: number;
  onProgress?: (sessions: number, elapsedMs: number, servers: string[]) => void;
  /** Interrupts the command (Ctrl-C in the shell): no further write, and the drain wait stops. */
  signal?: AbortSignal;
  /** Read and predict only: the same result a real run would give, nothing sent but reads. */
  dryRun?: boolean;
}

/** The view a server takes in a result. */
function viewOf(s: ServerState): ServerView {
  return { admin: adminWord(s), op: s.opState, weight: s.weight };
}

/** srv_check_state bit: a health check is configured (haproxy's CHK_ST_CONFIGURED). */
const CHECK_CONFIGURED = 0x02;

/** Each action's effect on the admin bits: what a dry run predicts haproxy will leave. */
const ADMIN_AFTER: Record<ServerAction, (admin: number) => number> = {
  enable: (a) => a & ~FM,
  disable: (a) => a | FM,
  maint: (a) => (a | FM) & ~FD,
  drain: (a) => (a | FD) & ~FM,
  ready: (a) => a & ~(FM | FD),
};

/**
 * The state a write leaves, as haproxy reports it right after: maintenance stops the server;
 * leaving it, haproxy runs it at once unless its health check has already counted it down
 * (check health 0), in which case it stays stopped until the checks say otherwise.
 */
function predictState(s: ServerState, action: ServerAction): ServerState {
  const adminState = ADMIN_AFTER[action](s.adminState);
  const maint = (adminState & (FM | AdminFlag.InheritedMaint | AdminFlag.ResolutionMaint | AdminFlag.HostnameMaint)) !== 0;
  const drain = (adminState & (FD | AdminFlag.InheritedDrain)) !== 0;
  const leaving = s.maint && s.opState === 'stopped';
  const opState = maint ? 'stopped' : leaving && ((s.checkState & CHECK_CONFIGURED) === 0 || s.checkHealth > 0) ? 'running' : s.opState;
  return { ...s, adminState, maint, drain, opState };
}

function serverChange(t: ServerState, a: ServerState, changed: boolean): ServerChange {
  return {
    backend: t.backend, server: t.server, action: changed ? 'updated' : 'unchanged', changed,
    initialWeight: t.initialWeight, before: viewOf(t), after: viewOf(a),
  };
}

export async function setServerState(opts: ServerStateOptions): Promise<ServerStateResult> {
  if (opts.wait && opts.action !== 'drain') throw new UsageError('--wait only applies to drain', { code: 'EUSAGE' });
  // Validate names before touching the socket.
  opts.refs.forEach(parseServerRef);
  const dryRun = opts.dryRun === true;
  // A dry run only reads, but it predicts an admin write: refuse a socket that could not make it.
  const { session } = await openAdminSession(opts);
  const socket = formatAddress(session.address);
  try {
    const before = await readServers(session);
    const targets = resolveTargets(opts, before, await readBackends(session), socket);
    const spec = SERVER_ACTIONS[opts.action];
    const todo = targets.filter((t) => !spec.satisfied(t.adminState));
    if (dryRun) {
      const servers = targets.map((t) => (todo.includes(t) ? serverChange(t, predictState(t, opts.action), true) : serverChange(t, t, false)));
      return { socket, command: opts.action, changed: todo.length > 0, dryRun, servers };
    }
    const done: string[] = [];
    for (const t of todo) {
      if (opts.signal?.aborted) {
        const left = todo.slice(done.length).map((x) => `${x.backend}/${x.server}`).join(', ');
        throw new AbortedError(`interrupted during "${opts.action}": ${done.length ? `${done.join(', ')} changed, ` : 'nothing changed, '}${left} left as before`, { code: 'EINTERRUPTED' });
      }
      const command = spec.command(`${t.backend}/${t.server}`);
      expectEmpty(session.address, command, await session.send(command));
      done.push(`${t.backend}/${t.server}`);
    }
    const after = todo.length ? await readServers(session) : before;
    const servers = targets.map((t): ServerChange => {
      const a = after.find((x) => x.backend === t.backend && x.server === t.server) ?? t;
      if (!spec.satisfied(a.adminState)) {
        throw new RejectedError(`haproxy accepted "${opts.action}" for ${t.backend}/${t.server} but it is still ${adminWord(a)}`, { code: 'EREJECTED', hint: 'the server may track another server or be set by DNS; check lbctl haproxy stat' });
      }
      return serverChange(t, a, a.adminState !== t.adminState);
    });
    const result: ServerStateResult = { socket, command: opts.action, changed: servers.some((s) => s.changed), dryRun, servers };
    if (opts.wait) result.wait = await waitForNoSessions(session, targets, opts);
    return result;
  } finally {
    await release(session);
  }
}

/**
 * Poll `show stat` until every target's scur is 0; TimeoutError (left draining) if not, and
 * AbortedError (left draining, polling stopped) when opts.signal aborts.
 */
async function waitForNoSessions(session: RuntimeSession, targets: ServerState[], opts: ServerStateOptions): Promise<DrainWait> {
  const started = Date.now();
  const timeoutMs = opts.waitTimeoutMs ?? 300_000;
  const backendIds = [...new Set(targets.map((t) => t.backendId))];
  const names = targets.map((t) => `${t.backend}/${t.server}`).join(', ');
  let sessions = -1;
  const interrupted = () => new AbortedError(`interrupted while waiting for ${names} to drain${sessions >= 0 ? ` (${sessions} session(s) left)` : ''}; left in drain`, { code: 'EINTERRUPTED', hint: 'drain --wait again to keep waiting, or ready to undo' });
  for (;;) {
    let count = 0;
    for (const id of backendIds) {
      // Only this backend's server rows: cheap even with thousands of servers.
      const rows = await abortable(readStat(session, ` ${id} 4 -1`), opts.signal, interrupted);
      for (const r of rows) if (targets.some((t) => t.backendId === id && t.server === r.svname)) count += r.scur ?? 0;
    }
    sessions = count;
    const elapsed = Date.now() - started;
    opts.onProgress?.(sessions, elapsed, targets.map((t) => `${t.backend}/${t.server}`));
    if (sessions === 0) return { waitedSeconds: Math.round(elapsed / 100) / 10, sessions };
    if (elapsed >= timeoutMs) {
      throw new TimeoutError(`${names} still had ${sessions} session(s) after ${Math.round(timeoutMs / 100) / 10}s; left in drain`, { code: 'EDRAINTIMEOUT', hint: 'raise --timeout, or disable the server to cut them off' });
    }
    await abortableSleep(Math.min(opts.pollMs ?? 200, Math.max(10, timeoutMs - elapsed)), opts.signal, interrupted);
  }
}

/** Parse "N" or "N%" (validated before any connection). */
export function parseWeightSpec(text: string): { value: number; percent: boolean } {
  const m = /^(\d{1,6})(%?)$/.exec(text.trim());
  if (!m) throw new UsageError(`weight "${text}" is not a number 0-256 or a percentage like 50%`, { code: 'EWEIGHT', hint: 'weights run 0-256' });
  const value = Number(m[1]);
  if (!m[2] && value > 256) throw new UsageError(`weight ${value} is out of range`, { code: 'EWEIGHT', hint: 'weights run 0-256' });
  return { value, percent: m[2] === '%' };
}

/** `haproxy server weight` reports in the same shape as the state writes. */
export type WeightResult = ServerStateResult;

export async function setServerWeight(opts: ConnectOptions & { ref: string; weight: string; dryRun?: boolean }): Promise<WeightResult> {
  const ref = parseServerRef(opts.ref);
  const spec = parseWeightSpec(opts.weight);
  const dryRun = opts.dryRun === true;
  const { session } = await openAdminSession(opts);
  const socket = formatAddress(session.address);
  try {
    const servers = await readServers(session);
    const [t] = resolveTargets({ refs: [opts.ref] }, servers, await readBackends(session), socket);
    // haproxy computes relative weights as initial * N / 100, integer division.
    const target = spec.percent ? Math.floor((t.initialWeight * spec.value) / 100) : spec.value;
    if (target > 256) throw new UsageError(`${opts.weight} of initial weight ${t.initialWeight} is ${target}, above 256`, { code: 'EWEIGHT', hint: 'weights run 0-256' });
    const result = (a: ServerState, changed: boolean): WeightResult => ({ socket, command: 'weight', changed, dryRun, servers: [serverChange(t, a, changed)] });
    if (t.weight === target) return result(t, false);
    if (dryRun) return result({ ...t, weight: target }, true);
    const command = `set weight ${ref.backend}/${ref.server} ${spec.value}${spec.percent ? '%' : ''}`;
    expectEmpty(session.address, command, await session.send(command));
    const a = (await readServers(session)).find((x) => x.backend === t.backend && x.server === t.server) ?? t;
    if (a.weight !== target) throw new RejectedError(`haproxy accepted "${command}" but the weight is ${a.weight}, not ${target}`, { code: 'EREJECTED' });
    return result(a, a.weight !== t.weight);
  } finally {
    await release(session);
  }
}

/** Counters `clear counters` resets (max values) and the extra ones `clear counters all` resets. */
const MAX_COUNTERS = ['qmax', 'smax', 'rate_max', 'req_rate_max', 'conn_rate_max', 'qtime_max', 'ctime_max', 'rtime_max', 'ttime_max'];
const ALL_COUNTERS = [...MAX_COUNTERS, 'stot', 'bin', 'bout', 'dreq', 'dresp', 'ereq', 'econ', 'eresp', 'wretr', 'wredis', 'lbtot',
  'hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other', 'req_tot', 'cli_abrt', 'srv_abrt', 'conn_tot'];

export interface ClearResult { socket: string; all: boolean; changed: boolean; dryRun: boolean; action: 'cleared' | 'unchanged'; before: number; after: number }

/** Sum of the counters in scope: 0 means there is nothing to clear. */
export function counterTotal(rows: StatRow[], all: boolean): number {
  const fields = all ? ALL_COUNTERS : MAX_COUNTERS;
  let total = 0;
  for (const r of rows) for (const f of fields) { const v = r[f]; if (typeof v === 'number') total += v; }
  return total;
}

export async function clearCounters(opts: ConnectOptions & { all: boolean; dryRun?: boolean }): Promise<ClearResult> {
  const dryRun = opts.dryRun === true;
  const { session } = await openAdminSession(opts, opts.all ? 'admin' : 'operator');
  const socket = formatAddress(session.address);
  try {
    const before = counterTotal(await readStat(session), opts.all);
    if (before === 0) return { socket, all: opts.all, changed: false, dryRun, action: 'unchanged', before, after: before };
    // A real run leaves what traffic adds meanwhile; zero is what the clear itself leaves.
    if (dryRun) return { socket, all: opts.all, changed: true, dryRun, action: 'cleared', before, after: 0 };
    const command = opts.all ? 'clear counters all' : 'clear counters';
    expectEmpty(session.address, command, await session.send(command));
    const after = counterTotal(await readStat(session), opts.all);
    // Live traffic can add to counters straight away; what matters is that they went down.
    if (after >= before) throw new RejectedError(`haproxy accepted "${command}" but the counters did not go down (${before} -> ${after})`, { code: 'EREJECTED' });
    return { socket, all: opts.all, changed: true, dryRun, action: 'cleared', before, after };
  } finally {
    await release(session);
  }
}

export type { RuntimeAddress };
