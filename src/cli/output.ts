import chalk from 'chalk';

/** Colour only on a TTY and when NO_COLOR is unset; chalk handles FORCE_COLOR. */
export const color = chalk;

export function errorLine(msg: string): string {
  return `${color.red('lbctl: error:')} ${msg}`;
}
export function warnLine(msg: string): string {
  return `${color.yellow('lbctl: note:')} ${msg}`;
}

/** The word for an idempotent action, coloured. */
export function actionWord(action: string): string {
  // A dry run's "would be updated" takes the colour of the action it predicts.
  const predicted = /^would be (\S+)$/.exec(action)?.[1];
  if (predicted) return actionWord(predicted).replace(predicted, action);
  switch (action) {
    case 'created': case 'added': return color.green(action);
    case 'updated': case 'changed': return color.yellow(action);
    case 'deleted': case 'removed': return color.red(action);
    default: return color.dim(action);
  }
}

export interface TableOptions { head?: string[]; align?: Array<'left' | 'right' | 'center'> }

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
/** Printed width: colour codes take no room (lbctl's cells are ASCII plus chalk's SGR codes). */
const visibleWidth = (s: string): number => s.replace(ANSI, '').length;

function pad(text: string, width: number, align: 'left' | 'right' | 'center' = 'left'): string {
  const room = width - visibleWidth(text);
  if (room <= 0) return text;
  if (align === 'right') return ' '.repeat(room) + text;
  if (align === 'center') { const left = Math.floor(room / 2); return ' '.repeat(left) + text + ' '.repeat(room - left); }
  return text + ' '.repeat(room);
}

/**
 * A borderless table like ipvsadm/hatop output: columns as wide as their widest cell, two
 * spaces apart, no trailing blanks; a cell may hold several lines. The one renderer of lbctl
 * (it replaced cli-table3, the same layout, which took over a second for the 1,000-row
 * `haproxy stat` of a large haproxy and cost every command its load time).
 */
export function table(rows: string[][], opts: TableOptions = {}): string {
  const all = (opts.head?.length ? [opts.head, ...rows] : rows).map((r) => r.map((c) => String(c ?? '').split('\n')));
  const widths: number[] = [];
  for (const r of all) r.forEach((lines, i) => { for (const l of lines) widths[i] = Math.max(widths[i] ?? 0, visibleWidth(l)); });
  const out: string[] = [];
  for (const r of all) {
    const height = Math.max(1, ...r.map((lines) => lines.length));
    for (let k = 0; k < height; k++) {
      out.push(r.map((lines, i) => pad(lines[k] ?? '', widths[i], opts.align?.[i])).join('  ').trimEnd());
    }
  }
  return out.join('\n');
}

/** Is progress output allowed (TTY, not --json)? */
export function progressAllowed(json: boolean): boolean {
  return !json && Boolean(process.stderr.isTTY);
}

/** A progress line on stderr that redraws in place on a TTY and is silent otherwise. */
export class Progress {
  private active = false;
  constructor(private readonly enabled: boolean) {}
  update(text: string): void {
    if (!this.enabled) return;
    this.active = true;
    process.stderr.write(`\r\x1b[2K${text}`);
  }
  done(text?: string): void {
    if (!this.enabled) return;
    if (this.active) process.stderr.write('\r\x1b[2K');
    if (text) process.stderr.write(text + '\n');
    this.active = false;
  }
}

// eslint-disable-next-line no-control-regex
const ANSI_ALL = /\x1b\[[0-9;?]*[A-Za-z]/g;
/** Text without colour codes (for the JSON `msg`, which must read the same on any terminal). */
export function plainText(text: string): string {
  return text.replace(ANSI_ALL, '');
}
