/**
 * The JSON contract and the error mapping every lbctl command shares, without oclif: the
 * command classes (src/cli/base.ts) and the oclif-free fast path of `restore` (src/cli/fast.ts)
 * both print through these, so the two paths cannot drift apart.
 */
import { LbctlError, UsageError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { fsError, isFsError } from '../util/fs.js';
import { errorLine } from './output.js';

/** What every JSON document lbctl prints starts with (results and errors alike). */
export interface ContractFields { changed: boolean; msg: string }

/** `changed` and `msg` first, then the result as the command returned it. */
export function withContract(json: unknown, message: (r: Record<string, unknown>) => string): unknown {
  if (!json || typeof json !== 'object' || Array.isArray(json)) return json;
  const r = json as Record<string, unknown>;
  if ('error' in r && typeof r.msg === 'string') return r;
  const changed = r.changed === true;
  const msg = typeof r.msg === 'string' ? r.msg : message(r);
  return { changed, msg, ...r };
}

/** The JSON of an error: nothing changed, and `msg` is the line a person would have seen. */
export function errorJson(err: LbctlError): ContractFields & { error: ReturnType<LbctlError['toJSON']> } {
  return { changed: false, msg: err.oneLine(), error: err.toJSON() };
}

/**
 * A result's one line: the command's own human line when it printed exactly one; otherwise a
 * sentence from the result's shape (what changed, or how many items a read returned).
 */
export function contractMessage(id: string, result: Record<string, unknown>, humanLines: string[]): string {
  const name = id.replace(/:/g, ' ');
  if (humanLines.length === 1) return `${name}: ${humanLines[0].trim().replace(/\s{2,}/g, ' ')}`;
  if ('changed' in result) {
    const dry = result.dryRun === true;
    const last = humanLines.at(-1)?.trim();
    const verdict = result.changed === true ? (dry ? 'changes would be made' : 'changed') : 'no changes';
    // Multi-line human output ends with its summary line when it has one ("2 file(s) differ.").
    return last && /^(No changes|Plan:|\d+ (of \d+ )?\S+ (would|to|differ|written|changed))/i.test(last) ? `${name}: ${last}` : `${name}: ${verdict}`;
  }
  for (const [key, value] of Object.entries(result)) {
    if (Array.isArray(value)) return `${name}: ${value.length} ${key}`;
  }
  if (typeof result.ok === 'boolean') return `${name}: ${result.ok ? 'OK' : 'problems found'}`;
  return `${name}: OK`;
}

/** Normalise anything thrown into an LbctlError (oclif parse errors become usage errors). */
export function toLbctlError(err: unknown): LbctlError {
  if (err instanceof LbctlError) return err;
  const e = err as Error & { oclif?: { exit?: number }; code?: string };
  const msg = (e?.message ?? String(err)).split('\n').map((l) => l.trim()).filter(Boolean);
  if (e && (e.oclif?.exit === 2 || /^(Unexpected argument|Nonexistent flag|Missing required|Expected |Parsing --|--\S+=\S+ cannot also be provided|The following error occurred)/.test(msg[0] ?? ''))) {
    const first = msg.filter((l) => !/^See more help with/.test(l)).join(' ');
    return new UsageError(first, { code: 'EUSAGE', hint: 'see --help' });
  }
  // An OS error about a path (EISDIR, ENOSPC, EROFS, ...) that no caller worded: still one line
  // naming the path, with its class's exit code, never Internal.
  if (isFsError(err)) {
    const se = err as { path?: string; dest?: string; syscall?: string };
    return fsError(err, se.dest ?? se.path ?? '(unknown path)', se.syscall ?? 'file operation');
  }
  if (e && (e.code === 'EACCES' || e.code === 'EPERM')) {
    return new LbctlError(msg.join(' '), ExitCode.Permission, { code: e.code, hint: 'run as root' });
  }
  return new LbctlError(msg.join(' ') || 'unknown error', ExitCode.Internal, { code: 'EINTERNAL', hint: 'rerun with DEBUG=1 and report it' });
}


/**
 * Print an error the one way lbctl prints errors (one line on stderr, or the JSON error document
 * on stdout under --json; the stack only with DEBUG) and return its exit code.
 */
export function reportError(err: unknown, json: boolean): number {
  const lbErr = toLbctlError(err);
  const stack = (err as Error | undefined)?.stack;
  if (process.env.DEBUG && stack) process.stderr.write(stack + '\n');
  if (json) process.stdout.write(JSON.stringify(errorJson(lbErr), null, 2) + '\n');
  else process.stderr.write(errorLine(lbErr.oneLine()) + '\n');
  return lbErr.exitCode;
}
