import { Command, Errors, Flags } from '@oclif/core';
import { LbctlError, UsageError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { errorLine, plainText, warnLine } from './output.js';
import { fsError, isFsError } from '../util/fs.js';

/**
 * The flags every mutating command takes. A dry run reports the same `changed`, before and after
 * a real run would; --exit-code turns "something changed / would change" into exit 10, which is
 * how scripts and the Ansible modules tell the two apart without parsing.
 */
export const mutatingFlags = {
  'dry-run': Flags.boolean({ summary: 'say what would change (the same result a real run gives), change nothing' }),
  'exit-code': Flags.boolean({ summary: `exit ${ExitCode.ChangesPending} when changes would be made (--dry-run) or were made` }),
};
/** Only --exit-code, for commands whose --dry-run flag says more about what they print. */
export const exitCodeFlag = { 'exit-code': mutatingFlags['exit-code'] };

/** What every JSON document lbctl prints starts with (results and errors alike). */
export interface ContractFields { changed: boolean; msg: string }

/**
 * Every lbctl command extends this. It gives --json (oclif's enableJsonFlag), maps every
 * error to one line plus a documented exit code in one place, and never prints a stack
 * trace unless DEBUG is set.
 *
 * Commands return a plain object from run(); oclif prints it under --json. Human output is
 * printed by the command itself through this.human(), which is silent under --json.
 *
 * The JSON contract lives here, so every command (present and future) gets it without code of
 * its own: each document carries `changed` (false when the result has none, and on errors) and a
 * one-line `msg`; `--exit-code` exits 10 after the result is printed when `changed` is true.
 */
export abstract class LbctlCommand extends Command {
  static enableJsonFlag = true;
  /** What human() printed (or would have, under --json): the source of `msg`. */
  private humanLines: string[] = [];

  /**
   * Plain JSON on stdout. oclif's default colour-tokenises the whole document, which costs more
   * than the command itself on large outputs (e.g. 1,000 HAProxy servers); stdout stays pure JSON.
   */
  logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(this.withContract(json), null, 2)}\n`);
  }

  /** Print human output (skipped under --json). */
  protected human(text: string): void {
    this.humanLines.push(...plainText(text).split('\n').filter((l) => l.trim() !== ''));
    if (!this.jsonEnabled()) this.log(text);
  }

  /** A warning on stderr (also under --json, where stdout must stay pure JSON). */
  protected note(text: string): void {
    process.stderr.write(warnLine(text) + '\n');
  }

  /** The one-line summary of a result; a command with a better sentence overrides this. */
  protected message(result: Record<string, unknown>): string {
    return contractMessage(this.id ?? 'lbctl', result, this.humanLines);
  }

  /** `changed` and `msg` first, then the result as the command returned it. */
  private withContract(json: unknown): unknown {
    if (!json || typeof json !== 'object' || Array.isArray(json)) return json;
    const r = json as Record<string, unknown>;
    if ('error' in r && typeof r.msg === 'string') return r;
    const changed = r.changed === true;
    const msg = typeof r.msg === 'string' ? r.msg : this.message(r);
    return { changed, msg, ...r };
  }

  async _run<T>(): Promise<T> {
    const result = await super._run<T>();
    const r = result as { changed?: unknown } | undefined;
    if (r?.changed === true && this.exitCodeWanted()) this.exit(ExitCode.ChangesPending);
    return result;
  }

  /** --exit-code before any `--` (the flag is declared by the commands that take it). */
  private exitCodeWanted(): boolean {
    const end = this.argv.indexOf('--');
    const at = this.argv.indexOf('--exit-code');
    return at !== -1 && (end === -1 || at < end);
  }

  protected async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    // An oclif exit (this.exit(n)) is not an error to print.
    if (err instanceof Errors.ExitError) throw err;
    const lbErr = toLbctlError(err);
    if (process.env.DEBUG && err.stack) process.stderr.write(err.stack + '\n');
    if (this.jsonEnabled()) {
      process.stdout.write(JSON.stringify(errorJson(lbErr), null, 2) + '\n');
    } else {
      process.stderr.write(errorLine(lbErr.oneLine()) + '\n');
    }
    this.exit(lbErr.exitCode);
  }
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
 * A dry run's result with `changed` as the real run would report it. Some domain functions say
 * `changed: false` for a dry run (nothing was changed); the contract says what would be.
 */
export function predicted<T extends { changed: boolean; dryRun: boolean }>(result: T, wouldChange: boolean): T {
  return result.dryRun ? { ...result, changed: wouldChange } : result;
}
