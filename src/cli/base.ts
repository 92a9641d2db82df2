import { Command, Errors } from '@oclif/core';
import { LbctlError, UsageError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { errorLine, warnLine } from './output.js';
import { fsError, isFsError } from '../util/fs.js';

/**
 * Every lbctl command extends this. It gives --json (oclif's enableJsonFlag), maps every
 * error to one line plus a documented exit code in one place, and never prints a stack
 * trace unless DEBUG is set.
 *
 * Commands return a plain object from run(); oclif prints it under --json. Human output is
 * printed by the command itself through this.human(), which is silent under --json.
 */
export abstract class LbctlCommand extends Command {
  static enableJsonFlag = true;

  /**
   * Plain JSON on stdout. oclif's default colour-tokenises the whole document, which costs more
   * than the command itself on large outputs (e.g. 1,000 HAProxy servers); stdout stays pure JSON.
   */
  logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }

  /** Print human output (skipped under --json). */
  protected human(text: string): void {
    if (!this.jsonEnabled()) this.log(text);
  }

  /** A warning on stderr (also under --json, where stdout must stay pure JSON). */
  protected note(text: string): void {
    process.stderr.write(warnLine(text) + '\n');
  }

  protected async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    // An oclif exit (this.exit(n)) is not an error to print.
    if (err instanceof Errors.ExitError) throw err;
    const lbErr = toLbctlError(err);
    if (process.env.DEBUG && err.stack) process.stderr.write(err.stack + '\n');
    if (this.jsonEnabled()) {
      process.stdout.write(JSON.stringify({ error: lbErr.toJSON() }, null, 2) + '\n');
    } else {
      process.stderr.write(errorLine(lbErr.oneLine()) + '\n');
    }
    this.exit(lbErr.exitCode);
  }
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
