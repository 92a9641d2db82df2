import { actionWord, color, table } from '../cli/output.js';
import { renderPlan } from '../converge/change.js';
import type { CheckResult, HostChangeResult, ItemResult } from './types.js';

const show = (v: string | number | null): string => (v === null ? '-' : String(v));

function change(i: ItemResult): string {
  if (i.kind === 'file') return i.note ?? '';
  if (!i.changed) return show(i.after ?? i.before);
  return `${show(i.before)} -> ${show(i.after)}`;
}

/** Human view of prep/unprep: one row per item and the summary; a dry run shows the plan. */
export function renderChange(r: HostChangeResult): string {
  const where = r.netns ? ` in netns ${r.netns}` : '';
  const head = `${r.target} ${r.operation}${r.mode ? ` (${r.mode})` : ''}${where}${r.dryRun ? ' (dry run: nothing changed)' : ''}`;
  // A dry run is the plan: one line per change with its reason and the command that does it.
  if (r.dryRun) return [head, renderPlan(r.plan.changes, { commands: true }), ...r.notes.map((n) => color.yellow(`note: ${n}`))].join('\n');
  // Files get their own table: their long paths would otherwise stretch every row.
  const rows = r.items.filter((i) => i.kind !== 'file').map((i) => [actionWord(i.action), i.item, change(i)]);
  const files = r.items.filter((i) => i.kind === 'file').map((i) => [actionWord(i.action), i.item, change(i)]);
  const out = [head, rows.length ? table(rows, { align: ['left', 'left', 'left'] }) : '  nothing to do'];
  if (files.length) out.push('files:', table(files, { align: ['left', 'left', 'left'] }));
  for (const n of r.notes) out.push(color.yellow(`note: ${n}`));
  out.push(r.changed
    ? `${r.summary.changed} changed, ${r.summary.unchanged} unchanged.`
    : r.operation === 'prep' ? 'unchanged: everything is already in place.' : 'unchanged: nothing to undo.');
  return out.join('\n');
}

/** Human view of check: every item with its state, then the verdict. */
export function renderCheck(r: CheckResult): string {
  const mark = { ok: color.green('ok'), warn: color.yellow('warn'), fail: color.red('FAIL') } as const;
  const rows = r.items.map((i) => [mark[i.severity], i.item, show(i.actual), `want ${i.expected}`, i.severity === 'ok' ? '' : i.reason ?? '']);
  const where = r.netns ? ` in netns ${r.netns}` : '';
  return [`${r.target} check (${r.mode})${where}`, table(rows, { align: ['left', 'left', 'right', 'left', 'left'] }), r.ok ? color.green(r.verdict) : color.red(r.verdict)].join('\n');
}
