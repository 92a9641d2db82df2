import { Command, Errors, Flags } from '@oclif/core';
import { ExitCode } from './exit-codes.js';
import { plainText, warnLine } from './output.js';
import { contractMessage, reportError, withContract } from './contract.js';

export { contractMessage, errorJson, toLbctlError, type ContractFields } from './contract.js';

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
    process.stdout.write(`${JSON.stringify(withContract(json, (r) => this.message(r)), null, 2)}\n`);
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
    this.exit(reportError(err, this.jsonEnabled()));
  }
}

/**
 * A dry run's result with `changed` as the real run would report it. Some domain functions say
 * `changed: false` for a dry run (nothing was changed); the contract says what would be.
 */
export function predicted<T extends { changed: boolean; dryRun: boolean }>(result: T, wouldChange: boolean): T {
  return result.dryRun ? { ...result, changed: wouldChange } : result;
}
