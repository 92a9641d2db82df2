import { CheckFailedError, InputError, LbctlError, type ErrorOptions } from '../cli/errors.js';
import { ExitCode } from '../cli/exit-codes.js';

/** `config diff --exit-code`: an install would change files (exit 10). */
export class ChangesPendingError extends LbctlError {
  constructor(message: string, opts?: ErrorOptions) { super(message, ExitCode.ChangesPending, { code: 'ECHANGES', ...opts }); }
}

/** One line per finding, so `--json` output keeps all of them, not just the first. */
export interface FindingJson { kind: string; where: string; path?: string; message: string; hint?: string }

/** Spec findings (exit 3): the first is the message, all are in `findings` under --json. */
export class SpecFindingsError extends InputError {
  constructor(message: string, readonly findings: FindingJson[], opts?: ErrorOptions) { super(message, opts); }
  toJSON() { return { ...super.toJSON(), findings: this.findings }; }
}

/** Daemon or pair findings (exit 9), likewise. */
export class CheckFindingsError extends CheckFailedError {
  constructor(message: string, readonly findings: FindingJson[], opts?: ErrorOptions) { super(message, opts); }
  toJSON() { return { ...super.toJSON(), findings: this.findings }; }
}
