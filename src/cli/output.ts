import chalk from 'chalk';
import Table from 'cli-table3';

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
  switch (action) {
    case 'created': case 'added': return color.green(action);
    case 'updated': case 'changed': return color.yellow(action);
    case 'deleted': case 'removed': return color.red(action);
    default: return color.dim(action);
  }
}

export interface TableOptions { head?: string[]; align?: Array<'left' | 'right' | 'center'> }

/** A borderless table like ipvsadm/hatop output. */
export function table(rows: string[][], opts: TableOptions = {}): string {
  const t = new Table({
    head: opts.head ?? [],
    colAligns: opts.align ?? [],
    style: { head: [], border: [], compact: true, 'padding-left': 0, 'padding-right': 2 },
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '',
    },
  });
  for (const r of rows) t.push(r);
  return t.toString().split('\n').map((l) => l.trimEnd()).join('\n');
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
