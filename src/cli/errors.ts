import { ExitCode } from './exit-codes.js';

export interface ErrorOptions {
  /** Stable machine-readable code, e.g. "ENOSCHED". */
  code?: string;
  /** What the user can do about it. */
  hint?: string;
  /** Where: "file:line:col", a flag name, or a rule. */
  where?: string;
  cause?: unknown;
}

/** Base class of every error lbctl reports to a user. One line, a code and an exit code. */
export class LbctlError extends Error {
  readonly exitCode: number;
  readonly code: string;
  readonly hint?: string;
  readonly where?: string;

  constructor(message: string, exitCode: number, opts: ErrorOptions = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = new.target.name;
    this.exitCode = exitCode;
    this.code = opts.code ?? new.target.name.replace(/Error$/, '').toUpperCase();
    this.hint = opts.hint;
    this.where = opts.where;
  }

  /** The single line a user sees. */
  oneLine(): string {
    const where = this.where ? `${this.where}: ` : '';
    const hint = this.hint ? ` (${this.hint})` : '';
    return `${where}${this.message}${hint}`.replace(/\s*\n\s*/g, ' ');
  }

  toJSON() {
    return { code: this.code, exitCode: this.exitCode, message: this.message, where: this.where, hint: this.hint };
  }
}

export class UsageError extends LbctlError {
  constructor(message: string, opts?: ErrorOptions) { super(message, ExitCode.Usage, opts); }
}
export class InputError extends LbctlError {
  constructor(message: string, opts?: ErrorOptions) { super(message, ExitCode.InvalidInput, opts); }
}
export class NotFoundError extends LbctlError {
  constructor(message: string, opts?: ErrorOptions) { super(message, ExitCode.NotFound, opts); }
}
export class PermissionError extends LbctlError {
  constructor(message: string, opts?: ErrorOptions) { super(message, ExitCode.Permission, opts); }
}
export class UnavailableError extends LbctlError {
  constructor(message: string, opts?: ErrorOptions) { super(message, ExitCode.Unavailable, opts); }
}
export class RejectedError extends LbctlError {
  /** Kernel errno (positive), when the kernel said no. */
  readonly errno?: number;
  constructor(message: string, opts?: ErrorOptions & { errno?: number }) {
    super(message, ExitCode.Rejected, opts);
    this.errno = opts?.errno;
  }
}
export class TimeoutError extends LbctlError {
  constructor(message: string, opts?: ErrorOptions) { super(message, ExitCode.Timeout, opts); }
}
export class CheckFailedError extends LbctlError {
  constructor(message: string, opts?: ErrorOptions) { super(message, ExitCode.CheckFailed, opts); }
}
export class BusyError extends LbctlError {
  constructor(message: string, opts?: ErrorOptions) { super(message, ExitCode.Busy, opts); }
}
export class AbortedError extends LbctlError {
  constructor(message: string, opts?: ErrorOptions) { super(message, ExitCode.Aborted, opts); }
}

/** Position-aware input error, "file:line:col: message". */
export function inputErrorAt(file: string, line: number | undefined, col: number | undefined, message: string, hint?: string): InputError {
  const where = [file, line, col].filter((p) => p !== undefined).join(':');
  return new InputError(message, { where, hint });
}
