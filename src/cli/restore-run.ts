/**
 * What `lbctl restore` does once its flags are known, without oclif: the command class
 * (commands/restore.ts) and the fast path (src/cli/fast.ts) both call runRestore, so a restore
 * behaves the same whichever path parsed its argv.
 */
import type { IpvsDriver } from '../ipvs/driver.js';
import type { RulesFormat } from '../ipvs/formats.js';
import { renderPlan, type planJson } from '../ipvs/plan.js';
import { loadDesired, restore } from '../ipvs/restore.js';
import { DRIVER_NAMES } from '../ipvs/select.js';
import { parseDuration } from '../util/duration.js';
import { progressAllowed } from './output.js';

export type RestoreCommandResult = { changed: boolean; dryRun: boolean } & ReturnType<typeof planJson>;

export interface RestoreFlags {
  file: string;
  'dry-run'?: boolean; merge?: boolean; drain?: boolean; timeout: string; format?: string; 'allow-empty'?: boolean;
  driver?: string; 'lock-timeout'?: string;
}

export interface RestoreContext {
  /** The driver (taking the table's lock first unless --dry-run): IpvsSession.ipvs. */
  ipvs(flags: RestoreFlags): Promise<IpvsDriver>;
  /** Human output (silent under --json). */
  human(text: string): void;
  json: boolean;
  signal: AbortSignal;
}

export async function runRestore(flags: RestoreFlags, ctx: RestoreContext): Promise<RestoreCommandResult> {
  const drainTimeoutMs = parseDuration(flags.timeout, '--timeout');
  const desired = await loadDesired(flags.file, flags.format as RulesFormat | undefined, { allowEmpty: flags['allow-empty'] });
  const r = await restore(await ctx.ipvs(flags), desired, {
    dryRun: flags['dry-run'], merge: flags.merge, drain: flags.drain, drainTimeoutMs, allowEmpty: flags['allow-empty'], signal: ctx.signal, progress: progressAllowed(ctx.json),
  });
  if (flags['dry-run']) ctx.human(renderPlan(r.changes));
  else ctx.human(r.changes.length ? `${renderPlan(r.changes).replace(/^Plan:/m, 'Applied:')}` : 'No changes.');
  // The JSON view of the plan (every change by its rule) is made only if read: printed under
  // --json, never for human output. Same keys in the same order as a plain object.
  const result = {} as RestoreCommandResult;
  for (const key of ['changes', 'summary'] as const) {
    Object.defineProperty(result, key, { enumerable: true, configurable: true, get: () => r.plan[key] });
  }
  // A dry run's `changed` is the real run's: whether the plan has changes (--exit-code exits 10 on it).
  result.changed = r.changed || r.changes.length > 0;
  result.dryRun = r.dryRun;
  return result;
}

/**
 * restore's flags as the fast path reads them (kind, allowed values, default, environment
 * variable). The oclif command declares the same flags for help and the slow path;
 * test/unit/fast-restore.test.ts fails when the two disagree.
 */
export const RESTORE_FLAGS: Record<string, { kind: 'boolean' | 'string'; options?: readonly string[]; default?: string; env?: string }> = {
  'dry-run': { kind: 'boolean' },
  merge: { kind: 'boolean' },
  drain: { kind: 'boolean' },
  timeout: { kind: 'string', default: '300' },
  format: { kind: 'string', options: ['rules', 'yaml', 'json'] },
  'allow-empty': { kind: 'boolean' },
  'exit-code': { kind: 'boolean' },
  driver: { kind: 'string', options: DRIVER_NAMES, default: 'auto', env: 'LBCTL_DRIVER' },
  'lock-timeout': { kind: 'string', default: '30s' },
  json: { kind: 'boolean' },
};
