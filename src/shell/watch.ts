import os from 'node:os';
import { UsageError } from '../cli/errors.js';
import { loadConfig, runLbctl } from '../cli/inprocess.js';
import { resolvePrefix, treeOf } from './resolve.js';

/**
 * `watch <command>`: run a read command every N seconds and redraw its output in place, with
 * the cells that changed since the last frame in reverse video (like `watch -d`, per cell).
 * q, Esc or Ctrl-C ends the view. The frames come from the command itself, run in-process,
 * so the view is exactly that command's output.
 */

export interface WatchArgv { argv: string[]; intervalSec: number; count?: number }

/** Take watch's own -n/--interval SECS (and --count N) out of argv, wherever they are. */
export function splitWatchArgv(args: string[]): WatchArgv {
  const argv: string[] = [];
  let intervalSec = 2;
  let count: number | undefined;
  const num = (v: string | undefined, flag: string, min: number): number => {
    const n = Number(v);
    if (v === undefined || !/^\d+(\.\d+)?$/.test(v) || n < min) throw new UsageError(`"${v ?? ''}" is not a number of at least ${min}`, { code: 'EUSAGE', where: flag, hint: flag === '--count' ? 'e.g. --count 3' : 'e.g. -n 1 or -n 0.5' });
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { argv.push(...args.slice(i + 1)); break; }
    let m: RegExpExecArray | null;
    if (a === '-n' || a === '--interval') intervalSec = num(args[++i], '--interval', 0.1);
    else if ((m = /^(?:-n|--interval=)(.+)$/.exec(a))) intervalSec = num(m[1], '--interval', 0.1);
    else if (a === '--count') count = num(args[++i], '--count', 1);
    else if ((m = /^--count=(.+)$/.exec(a))) count = num(m[1], '--count', 1);
    else argv.push(a);
  }
  return { argv, intervalSec, count };
}

/**
 * What watch may re-run: commands that only read. Watch repeats its command every few seconds,
 * so a write there would be repeated too; an allow-list keeps new commands out until someone
 * decides they are read-only.
 */
export const WATCHABLE: ReadonlySet<string> = new Set([
  'list', 'haproxy:stat', 'haproxy:info', 'haproxy:backends', 'haproxy:health', 'timeout:show', 'daemon:status', 'ha:status',
  'director:check', 'realserver:check', 'config:diff', 'config:check',
]);

export function assertWatchable(id: string, words: string[]): void {
  if (WATCHABLE.has(id)) return;
  const hint = `watch one of: ${[...WATCHABLE].map((c) => c.replace(/:/g, ' ')).join(', ')}`;
  if (id === 'watch' || id === 'shell' || id.startsWith('!')) throw new UsageError(`cannot watch "${words.join(' ')}"`, { code: 'EWATCHREAD', hint });
  throw new UsageError(`watch re-runs read commands only, and "${words.join(' ')}" changes state`, { code: 'EWATCHREAD', hint });
}

// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[0-9;]*m/g;
export const stripAnsi = (s: string): string => s.replace(SGR, '');

/** Cells of a frame: each line split on runs of spaces (the tables are space-aligned). */
export function cellsOf(lines: string[]): string[][] {
  return lines.map((l) => stripAnsi(l).split(/ +/).filter(Boolean));
}

/** Mark in reverse video every cell that differs from the previous frame (none on the first). */
export function highlightChanges(lines: string[], prev?: string[][]): string[] {
  if (!prev) return lines;
  return lines.map((line, i) => {
    let j = 0;
    return line.split(/( +)/).map((part) => {
      const text = stripAnsi(part);
      if (!text || /^ +$/.test(part)) return part;
      const changed = prev[i]?.[j] !== text;
      j++;
      return changed ? `\x1b[7m${text}\x1b[27m` : part;
    }).join('');
  });
}

export interface WatchResult { command: string; intervalSeconds: number; frames: number; exitCode: number }

export async function runWatch(args: string[], io: { stdin: NodeJS.ReadStream; stdout: NodeJS.WriteStream } = { stdin: process.stdin, stdout: process.stdout }): Promise<WatchResult> {
  const { argv, intervalSec, count } = splitWatchArgv(args);
  if (!argv.length) throw new UsageError('watch needs a command to run', { code: 'EUSAGE', hint: 'e.g. watch list --rate -n 1, watch haproxy stat' });
  const config = await loadConfig();
  const { id, words, args: rest } = resolvePrefix(treeOf(config, false), argv);
  assertWatchable(id, words);
  if (rest.includes('--json')) throw new UsageError('watch redraws the human view; --json is for one-shot reads', { code: 'EUSAGE', where: '--json' });
  const full = [...words, ...rest];
  const command = full.join(' ');
  const tty = Boolean(io.stdout.isTTY);
  const host = os.hostname().split('.')[0];
  let prev: string[][] | undefined;
  let frames = 0;
  let stop = false;
  let wake: () => void = () => {};
  const end = () => { stop = true; wake(); };

  const keys = (d: Buffer) => { const k = d.toString(); if (k[0] === 'q' || k[0] === 'Q' || k[0] === '\x1b' || k[0] === '\x03') end(); };
  const rawKeys = tty && io.stdin.isTTY;
  if (rawKeys) { io.stdin.setRawMode(true); io.stdin.resume(); io.stdin.on('data', keys); }
  process.on('SIGINT', end);
  // Alternate screen, no cursor, no line wrap: each frame overwrites the last, the prompt comes back intact.
  if (tty) io.stdout.write('\x1b[?1049h\x1b[?25l\x1b[?7l');
  let exitCode = 0;
  let lastCode = 0;
  try {
    for (;;) {
      const started = Date.now();
      const r = await runLbctl(full);
      if (frames === 0 && r.exitCode === 2) { process.stderr.write(r.stderr); exitCode = 2; break; }
      const body = (r.stdout + (r.exitCode ? r.stderr : '')).replace(/\n+$/, '').split('\n');
      frames++;
      const title = `Every ${intervalSec}s: lbctl ${command}${r.exitCode ? `  (exit ${r.exitCode})` : ''}`;
      const right = `${host}: ${new Date().toLocaleTimeString('en-GB')}${tty ? '   q: back' : ''}`;
      if (tty) {
        const cols = io.stdout.columns || 80;
        const header = title.length + right.length + 2 <= cols ? `${title}${' '.repeat(cols - title.length - right.length)}${right}` : title;
        const shown = highlightChanges(body, prev);
        io.stdout.write(`\x1b[H${[header, '', ...shown].map((l) => `${l}\x1b[K`).join('\n')}\x1b[J`);
      } else {
        io.stdout.write(`${frames > 1 ? '\n' : ''}${title}  ${right}\n\n${body.map(stripAnsi).join('\n')}\n`);
      }
      prev = cellsOf(body);
      lastCode = r.exitCode;
      if (stop || (count !== undefined && frames >= count)) break;
      const wait = Math.max(0, intervalSec * 1000 - (Date.now() - started));
      await new Promise<void>((resolve) => { const t = setTimeout(resolve, wait); wake = () => { clearTimeout(t); resolve(); }; });
      if (stop) break;
    }
  } finally {
    process.off('SIGINT', end);
    if (rawKeys) { io.stdin.off('data', keys); io.stdin.setRawMode(false); io.stdin.pause(); }
    if (tty) io.stdout.write('\x1b[?7h\x1b[?25h\x1b[?1049l');
  }
  // Ended by a key: the view did its job. Ended by --count: the last frame's exit code.
  if (!exitCode && !stop) exitCode = lastCode;
  return { command, intervalSeconds: intervalSec, frames, exitCode };
}
