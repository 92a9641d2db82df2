import { LbctlError, type ErrorOptions } from '../cli/errors.js';
import { ExitCode } from '../cli/exit-codes.js';

/** `config diff --exit-code`: an install would change files (exit 10). */
export class ChangesPendingError extends LbctlError {
  constructor(message: string, opts?: ErrorOptions) { super(message, ExitCode.ChangesPending, { code: 'ECHANGES', ...opts }); }
}
