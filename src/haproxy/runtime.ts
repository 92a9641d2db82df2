import net from 'node:net';
import { promises as fs, statSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { AbortedError, NotFoundError, PermissionError, RejectedError, UnavailableError, UsageError } from '../cli/errors.js';

/**
 * HAProxy runtime-API client (the "stats socket"): a unix socket or host:port.
 *
 * Two ways to talk to it:
 *  - runtimeCommand(): one command per connection, the way `echo cmd | socat` does it;
 *  - RuntimeSession: prompt mode, one connection for many commands (read-modify-read-back
 *    flows and the interactive shell). Each answer ends at haproxy's "\n> " prompt.
 * Both implement RuntimeChannel, so the operations in runtime-ops.ts take either.
 */

export type RuntimeAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export interface RuntimeChannel {
  readonly address: RuntimeAddress;
  /** Send one command, resolve with haproxy's raw answer text (bounded: see answerLimit). */
  send(command: string): Promise<string>;
  close(): Promise<void>;
}

export const DEFAULT_HAPROXY_CFG = '/etc/haproxy/haproxy.cfg';
/** How long to wait for a whole answer (a deadline, not per chunk) before deciding the peer is not (a working) haproxy. */
export const DEFAULT_TIMEOUT_MS = 5000;

const MiB = 1024 * 1024;
/**
 * The most bytes one answer may have. A peer that sends more is not a haproxy answering this
 * command (a flood would otherwise grow the process until it dies). `show stat` of 10,000
 * servers is about 6 MiB, so the bulk cap leaves a wide margin.
 */
export const ANSWER_LIMITS = { bulk: 64 * MiB, info: 1 * MiB, line: 64 * 1024 } as const;

export function answerLimit(command: string): number {
  if (/^show (stat|servers|backend)\b/.test(command)) return ANSWER_LIMITS.bulk;
  if (/^show info\b/.test(command)) return ANSWER_LIMITS.info;
  return ANSWER_LIMITS.line;
}

function formatBytes(n: number): string {
  return n >= MiB ? `${n / MiB} MiB` : `${n / 1024} KiB`;
}

function tooBig(address: RuntimeAddress, command: string, limit: number): UnavailableError {
  return new UnavailableError(`${formatAddress(address)} sent more than ${formatBytes(limit)} in answer to "${command}": not a HAProxy runtime answer`, { code: 'EANSWERSIZE', hint: 'is it the haproxy "stats socket"? check --socket' });
}

export function formatAddress(a: RuntimeAddress): string {
  return a.kind === 'unix' ? a.path : `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
}

/**
 * Parse a socket address as users and haproxy.cfg write it: "/run/haproxy.sock", "unix@/p",
 * "127.0.0.1:9999", "ipv4@127.0.0.1:9999", "[::1]:9999", "ipv6@::1:9999", ":9999".
 */
export function parseRuntimeAddress(text: string): RuntimeAddress {
  let t = text.trim();
  const family = /^(unix|ipv4|ipv6|tcp|tcp4|tcp6)@/.exec(t)?.[1];
  if (family) t = t.slice(family.length + 1);
  if (family === 'unix' || (!family && (t.startsWith('/') || t.startsWith('.')))) {
    if (!t) throw new UsageError(`empty socket path in "${text}"`, { code: 'ESOCKADDR', hint: 'give a path like /run/haproxy/admin.sock or host:port' });
    return { kind: 'unix', path: t };
  }
  const m = /^(?:\[([^\]]+)\]|(.*)):(\d{1,5})$/.exec(t);
  if (m) {
    const port = Number(m[3]);
    let host = m[1] ?? m[2] ?? '';
    // A wildcard bind ("*:9999", ":9999", "0.0.0.0:9999") is reached on loopback.
    if (host === '' || host === '*' || host === '0.0.0.0') host = '127.0.0.1';
    if (host === '::') host = '::1';
    if (port < 1 || port > 65535) throw new UsageError(`bad port in socket address "${text}"`, { code: 'ESOCKADDR', hint: 'port 1-65535' });
    return { kind: 'tcp', host, port };
  }
  if (family) throw new UsageError(`cannot parse socket address "${text}"`, { code: 'ESOCKADDR', hint: 'use /path/to/sock or host:port' });
  return { kind: 'unix', path: t };
}

/**
 * The `stats socket` lines of a haproxy.cfg (global section), admin level first.
 * Returns [] when there are none.
 */
export function statsSocketsFromConfig(cfgText: string): Array<{ address: string; level: string; line: number }> {
  const found: Array<{ address: string; level: string; line: number }> = [];
  let section = '';
  cfgText.split('\n').forEach((raw, i) => {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    if (!line) return;
    const words = line.split(/\s+/);
    if (/^\S/.test(raw) && ['global', 'defaults', 'frontend', 'backend', 'listen', 'peers', 'resolvers', 'userlist', 'program', 'mailers', 'cache', 'ring', 'http-errors'].includes(words[0])) {
      section = words[0];
      return;
    }
    if (section === 'global' && words[0] === 'stats' && words[1] === 'socket' && words[2]) {
      const li = words.indexOf('level');
      // haproxy's default level for a stats socket is "user".
      found.push({ address: words[2], level: li > 0 ? words[li + 1] ?? 'user' : 'user', line: i + 1 });
    }
  });
  const rank = (l: string) => (l === 'admin' ? 0 : l === 'operator' ? 1 : 2);
  return found.sort((a, b) => rank(a.level) - rank(b.level));
}

export interface ResolvedSocket { address: RuntimeAddress; source: 'flag' | 'env' | 'config'; where: string }

/**
 * Where the runtime socket is: --socket, then LBCTL_HAPROXY_SOCKET, then the `stats socket`
 * line of haproxy.cfg (LBCTL_HAPROXY_CFG overrides /etc/haproxy/haproxy.cfg, for tests).
 */
export async function resolveSocket(flag?: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedSocket> {
  if (flag) return { address: parseRuntimeAddress(flag), source: 'flag', where: '--socket' };
  if (env.LBCTL_HAPROXY_SOCKET) return { address: parseRuntimeAddress(env.LBCTL_HAPROXY_SOCKET), source: 'env', where: 'LBCTL_HAPROXY_SOCKET' };
  const cfg = env.LBCTL_HAPROXY_CFG || DEFAULT_HAPROXY_CFG;
  let text: string;
  try {
    text = await fs.readFile(cfg, 'utf8');
  } catch (e: any) {
    if (e.code === 'EACCES') throw new PermissionError(`cannot read ${cfg} to find the runtime socket`, { code: 'ESOCKPERM', hint: 'run as root or pass --socket' });
    throw new UnavailableError(`no HAProxy runtime socket given and ${cfg} is missing`, { code: 'ENOSOCKET', hint: 'pass --socket PATH|HOST:PORT or set LBCTL_HAPROXY_SOCKET' });
  }
  const sockets = statsSocketsFromConfig(text);
  if (!sockets.length) {
    throw new UnavailableError(`no "stats socket" line in the global section of ${cfg}`, { code: 'ENOSOCKET', hint: 'add "stats socket /run/haproxy/admin.sock level admin" or pass --socket' });
  }
  return { address: parseRuntimeAddress(sockets[0].address), source: 'config', where: `${cfg}:${sockets[0].line}` };
}

/** Map a connect/IO error to the one-line error users see. */
export function connectionError(err: NodeJS.ErrnoException, address: RuntimeAddress): Error {
  const where = formatAddress(address);
  switch (err.code) {
    case 'ENOENT':
      return new UnavailableError(`no HAProxy runtime socket at ${where}`, { code: 'ENOSOCKET', hint: 'is haproxy running? pass --socket or set LBCTL_HAPROXY_SOCKET' });
    case 'ECONNREFUSED':
      // Linux refuses a connect() to a path that exists but is not a socket.
      if (address.kind === 'unix' && existsNotSocket(address.path)) {
        return new UnavailableError(`${where} is not a socket`, { code: 'ENOTHAPROXY', hint: 'point --socket at haproxy\'s "stats socket"' });
      }
      return new UnavailableError(`nothing is listening on ${where}`, { code: 'ENOSOCKET', hint: 'haproxy is not running or the socket is stale; check --socket' });
    case 'EACCES':
    case 'EPERM':
      return new PermissionError(`permission denied connecting to ${where}`, { code: 'ESOCKPERM', hint: 'run as root or as a member of the socket\'s group' });
    case 'ENOTSOCK':
      return new UnavailableError(`${where} is not a socket`, { code: 'ENOTHAPROXY', hint: 'point --socket at haproxy\'s "stats socket"' });
    default:
      return new UnavailableError(`cannot talk to ${where}: ${err.message}`, { code: 'ENOSOCKET', hint: 'check --socket' });
  }
}

function existsNotSocket(p: string): boolean {
  try { return !statSync(p).isSocket(); } catch { return false; }
}

/** A short, printable excerpt of what a peer answered, for "that is not haproxy" messages. */
export function excerpt(text: string): string {
  const first = text.split('\n').map((l) => l.trim()).find(Boolean) ?? '';
  // eslint-disable-next-line no-control-regex
  const clean = first.replace(/[\x00-\x1f\x7f]/g, '?');
  return clean.length > 60 ? `${clean.slice(0, 57)}...` : clean;
}

/** "<socket> answered <excerpt> to <command>: not the HAProxy runtime API". */
export function notHaproxy(address: RuntimeAddress, answer: string, command: string): UnavailableError {
  const what = answer.trim() ? `answered "${excerpt(answer)}"` : 'answered nothing';
  return new UnavailableError(`${formatAddress(address)} ${what} to "${command}": not the HAProxy runtime API`, { code: 'ENOTHAPROXY', hint: 'point --socket at haproxy\'s "stats socket"' });
}

function noAnswer(address: RuntimeAddress, ms: number, partial: string): UnavailableError {
  const what = partial.trim() ? ` (it sent "${excerpt(partial)}")` : '';
  return new UnavailableError(`${formatAddress(address)} did not answer like haproxy within ${ms / 1000}s${what}`, { code: 'ENOTHAPROXY', hint: 'is it the haproxy "stats socket"? check --socket' });
}

function assertOneLine(command: string): void {
  // A newline or ';' would smuggle a second command into the CLI.
  if (/[\r\n;]/.test(command)) throw new UsageError(`refusing to send a runtime command containing a newline or ";": ${JSON.stringify(command)}`, { code: 'EUSAGE' });
}

function dial(address: RuntimeAddress): net.Socket {
  return address.kind === 'unix' ? net.connect({ path: address.path }) : net.connect({ host: address.host, port: address.port });
}

/** One command, one connection (haproxy closes after answering in non-interactive mode). */
export function runtimeCommand(address: RuntimeAddress, command: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    assertOneLine(command);
    const limit = answerLimit(command);
    const sock = dial(address);
    const chunks: Buffer[] = [];
    let bytes = 0;
    let settled = false;
    const text = () => Buffer.concat(chunks).toString('utf8');
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err); else resolve(text());
    };
    const timer = setTimeout(() => finish(noAnswer(address, timeoutMs, text())), timeoutMs);
    sock.on('connect', () => sock.end(`${command}\n`));
    sock.on('data', (d: Buffer) => {
      if (settled) return;
      bytes += d.length;
      if (bytes > limit) { finish(tooBig(address, command, limit)); return; }
      chunks.push(d);
    });
    sock.on('end', () => finish());
    sock.on('close', () => finish());
    sock.on('error', (e: NodeJS.ErrnoException) => {
      // A peer that hangs up before reading everything (an HTTP server) resets: judge what it sent, if anything.
      if (e.code === 'ECONNRESET' || e.code === 'EPIPE') finish();
      else finish(connectionError(e, address));
    });
  });
}

/** A RuntimeChannel that opens a fresh connection per command. */
export class OneShotChannel implements RuntimeChannel {
  constructor(readonly address: RuntimeAddress, private readonly timeoutMs = DEFAULT_TIMEOUT_MS) {}
  send(command: string): Promise<string> { return runtimeCommand(this.address, command, this.timeoutMs); }
  async close(): Promise<void> { /* nothing held open */ }
}

const PROMPT = '\n> ';

/**
 * Prompt-mode session: `prompt` once, then commands on the same connection. Commands are
 * queued, so callers may fire several without awaiting each. Answers are returned in the
 * same form runtimeCommand() gives (text plus the trailing empty line).
 */
export class RuntimeSession implements RuntimeChannel {
  private buffer = '';
  /** Bytes of the answer being read (the buffer is decoded text). */
  private bytes = 0;
  private readonly decoder = new StringDecoder('utf8');
  private waiter?: { resolve: (s: string) => void; reject: (e: Error) => void; command: string; timer: NodeJS.Timeout; limit: number };
  private queue: Promise<unknown> = Promise.resolve();
  private closedError?: Error;

  private constructor(readonly address: RuntimeAddress, private readonly sock: net.Socket, private readonly timeoutMs: number) {
    sock.on('data', (d: Buffer) => this.onData(d));
    sock.on('error', (e: NodeJS.ErrnoException) => this.fail(this.buffer ? notHaproxy(address, this.buffer, this.waiter?.command ?? 'prompt') : connectionError(e, address)));
    sock.on('close', () => this.fail(this.waiter ? notHaproxy(address, this.buffer, this.waiter.command) : new UnavailableError(`${formatAddress(address)} closed the session`, { code: 'ECLOSED' })));
  }

  /** Connect and enter prompt mode; fails with a one-line error if the peer is not haproxy. */
  static async open(address: RuntimeAddress, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<RuntimeSession> {
    const sock = dial(address);
    await new Promise<void>((resolve, reject) => {
      const onErr = (e: NodeJS.ErrnoException) => reject(connectionError(e, address));
      sock.once('error', onErr);
      sock.once('connect', () => { sock.off('error', onErr); resolve(); });
    });
    const session = new RuntimeSession(address, sock, timeoutMs);
    const greeting = await session.exchange('prompt');
    if (greeting.trim() !== '') throw notHaproxy(address, greeting, 'prompt');
    return session;
  }

  send(command: string): Promise<string> {
    try { assertOneLine(command); } catch (e) { return Promise.reject(e); }
    const next = this.queue.then(() => this.exchange(command));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** True once the socket is gone (haproxy drops idle prompt sessions after its "stats timeout"). */
  get closed(): boolean {
    return this.sock.destroyed || this.closedError !== undefined;
  }

  async close(): Promise<void> {
    if (this.sock.destroyed) return;
    this.closedError = new UnavailableError('session closed', { code: 'ECLOSED' });
    await new Promise<void>((resolve) => { this.sock.once('close', () => resolve()); this.sock.end('quit\n'); setTimeout(() => { this.sock.destroy(); resolve(); }, 500).unref(); });
  }

  private exchange(command: string): Promise<string> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(noAnswer(this.address, this.timeoutMs, this.buffer)), this.timeoutMs);
      this.waiter = { resolve, reject, command, timer, limit: answerLimit(command) };
      this.buffer = '';
      this.bytes = 0;
      this.sock.write(`${command}\n`);
    });
  }

  private onData(chunk: Buffer): void {
    this.bytes += chunk.length;
    // Nothing is expected between answers, so unasked-for data gets the smallest cap.
    const limit = this.waiter?.limit ?? ANSWER_LIMITS.line;
    if (this.bytes > limit) { this.fail(tooBig(this.address, this.waiter?.command ?? '(no command)', limit)); return; }
    this.buffer += this.decoder.write(chunk);
    // The prompt can only be at the very end of an answer; nothing haproxy prints starts a line with "> ".
    if (!this.waiter || !this.buffer.endsWith(PROMPT)) return;
    const w = this.waiter;
    this.waiter = undefined;
    clearTimeout(w.timer);
    const answer = this.buffer.slice(0, -2);
    this.buffer = '';
    this.bytes = 0;
    w.resolve(answer);
  }

  private fail(err: Error): void {
    this.closedError ??= err;
    this.sock.destroy();
    const w = this.waiter;
    this.waiter = undefined;
    if (w) { clearTimeout(w.timer); w.reject(err); }
  }
}

/**
 * Turn haproxy's error answers into lbctl errors; return the answer when it is not one.
 * haproxy answers errors in-band as text, with no status code.
 */
export function checkAnswer(address: RuntimeAddress, command: string, answer: string): string {
  const first = answer.trim().split('\n')[0] ?? '';
  if (/^Permission denied/i.test(first)) {
    return fail(new PermissionError(`"${command.split(' ').slice(0, 2).join(' ')}" is not allowed on ${formatAddress(address)}: the socket level is too low`, { code: 'ESOCKLEVEL', hint: 'use a "stats socket ... level admin" socket' }));
  }
  if (/^Unknown command/i.test(first)) {
    return fail(new UnavailableError(`haproxy at ${formatAddress(address)} does not know "${command}"`, { code: 'EUNSUPPORTED', hint: 'this haproxy version is too old for it' }));
  }
  if (/^No such (backend|server)/i.test(first) || /^Can't find (backend|server)/i.test(first)) {
    return fail(new NotFoundError(`${first.replace(/\.$/, '')} for "${command}" on ${formatAddress(address)}`, { code: 'ENOTFOUND', hint: 'see lbctl haproxy backends' }));
  }
  return answer;
}

/** A command that should answer nothing (set/enable/disable): any text is haproxy refusing it. */
export function expectEmpty(address: RuntimeAddress, command: string, answer: string): void {
  checkAnswer(address, command, answer);
  const text = answer.trim();
  if (text) throw new RejectedError(`haproxy refused "${command}": ${text.split('\n')[0]}`, { code: 'EREJECTED' });
}

function fail(e: Error): never { throw e; }

/**
 * Settle with `work`, or reject with an AbortedError as soon as `signal` aborts. The work
 * itself is not stopped (a prompt-mode answer still arrives and is consumed by its session),
 * but the caller stops and sends nothing more.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal | undefined, what: () => AbortedError): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) return Promise.reject(what());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(what());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

/** A pause that ends early (rejecting) when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined, what: () => AbortedError): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const sleep = new Promise<void>((r) => { timer = setTimeout(r, ms); });
  return abortable(sleep, signal, what).finally(() => clearTimeout(timer));
}

