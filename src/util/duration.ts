import { UsageError } from '../cli/errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * The one duration syntax of every --timeout-like flag: "500ms", "90s", "2m", "1h", or a bare
 * number of seconds (what the flags took before, so scripts keep working). Returns milliseconds.
 */
export function parseDuration(text: string, flag: string, opts: { min?: number; max?: number } = {}): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag} "${text}" is not a duration`, { code: 'EBADDURATION', where: flag, hint: 'e.g. 500ms, 90s, 2m, 1h (a bare number is seconds)' });
  const ms = Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']);
  const min = opts.min ?? 1;
  const max = opts.max ?? 7 * 24 * 3_600_000;
  if (ms < min || ms > max) throw new UsageError(`${flag} ${text} is out of range`, { code: 'EBADDURATION', where: flag, hint: `use ${formatDuration(min)} to ${formatDuration(max)}` });
  return ms;
}

export function formatDuration(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
