/**
 * plan(actual, desired) -> changes. Pure: no I/O. Defaults are filled before this is called
 * (the parsers and drivers return complete models), never inside it.
 */
import { color } from '../cli/output.js';
import { destinationDiff, destinationKey, serviceDiff, serviceKey, serviceLabel, type Destination, type IpvsTable, type VirtualService } from './model.js';
import { printDestination, printService } from './rules.js';
import type { Op } from './driver.js';

export type ChangeAction = '+' | '~' | '-';

export interface Change {
  action: ChangeAction;
  kind: 'service' | 'destination';
  service: VirtualService;
  dest?: Destination;
  /** Why: the differing fields ("weight 1 -> 3"), or "not in the kernel" / "not in the file". */
  reasons: string[];
  /** For '~': the service or destination as it is now (what a failed batch is rolled back to). */
  before?: VirtualService | Destination;
}

export interface PlanOptions {
  /** Only add and update; never delete (restore --merge). */
  merge?: boolean;
}

export function plan(actual: IpvsTable, desired: IpvsTable, opts: PlanOptions = {}): Change[] {
  const changes: Change[] = [];
  const have = new Map(actual.services.map((s) => [serviceKey(s), s]));
  const want = new Map(desired.services.map((s) => [serviceKey(s), s]));
  for (const [key, w] of want) {
    const a = have.get(key);
    if (!a) {
      changes.push({ action: '+', kind: 'service', service: w, reasons: ['new service'] });
      for (const d of w.destinations) changes.push({ action: '+', kind: 'destination', service: w, dest: d, reasons: ['new real server'] });
      continue;
    }
    const sd = serviceDiff(a, w);
    if (sd.length) changes.push({ action: '~', kind: 'service', service: w, reasons: sd, before: a });
    const ad = new Map(a.destinations.map((d) => [destinationKey(d), d]));
    const wd = new Map(w.destinations.map((d) => [destinationKey(d), d]));
    for (const [dk, d] of wd) {
      const cur = ad.get(dk);
      if (!cur) changes.push({ action: '+', kind: 'destination', service: w, dest: d, reasons: ['new real server'] });
      else {
        const dd = destinationDiff(cur, d);
        if (dd.length) changes.push({ action: '~', kind: 'destination', service: w, dest: d, reasons: dd, before: cur });
      }
    }
    if (!opts.merge) {
      for (const [dk, d] of ad) if (!wd.has(dk)) changes.push({ action: '-', kind: 'destination', service: a, dest: d, reasons: ['not in the desired state'] });
    }
  }
  if (!opts.merge) {
    for (const [key, a] of have) if (!want.has(key)) changes.push({ action: '-', kind: 'service', service: a, reasons: ['not in the desired state'] });
  }
  return sortChanges(changes);
}

const ORDER: Record<string, number> = {
  // Apply order: services first so destinations have a parent; removals of destinations
  // before additions so an edit of forwarding never collides; whole services last.
  '+service': 0, '~service': 1, '-destination': 2, '~destination': 3, '+destination': 4, '-service': 5,
};

function sortChanges(cs: Change[]): Change[] {
  return cs
    .map((c, i) => ({ c, i }))
    .sort((x, y) => {
      const sx = serviceKey(x.c.service), sy = serviceKey(y.c.service);
      if (sx !== sy) return sx < sy ? -1 : 1;
      const ox = ORDER[x.c.action + x.c.kind], oy = ORDER[y.c.action + y.c.kind];
      if (ox !== oy) return ox - oy;
      return x.i - y.i;
    })
    .map((x) => x.c);
}

/** Kernel writes for a plan, in a safe apply order (all service adds before any destination). */
export function toOps(changes: Change[]): Op[] {
  const rank = (c: Change) => ORDER[c.action + c.kind];
  return [...changes].sort((a, b) => rank(a) - rank(b)).map((c) => {
    const kind = c.kind === 'service'
      ? ({ '+': 'addService', '~': 'editService', '-': 'delService' } as const)[c.action]
      : ({ '+': 'addDest', '~': 'editDest', '-': 'delDest' } as const)[c.action];
    // What each op replaces rides along, so a failed batch is undone without another read.
    const previous = c.action === '~' ? c.before : c.action === '-' ? (c.kind === 'service' ? c.service : c.dest) : undefined;
    return previous ? { kind, service: c.service, dest: c.dest, previous } : { kind, service: c.service, dest: c.dest };
  });
}

export interface PlanSummary { add: number; change: number; destroy: number }

export function summarize(changes: Change[]): PlanSummary {
  return {
    add: changes.filter((c) => c.action === '+').length,
    change: changes.filter((c) => c.action === '~').length,
    destroy: changes.filter((c) => c.action === '-').length,
  };
}

/** Human view of a plan: one line per change, then a summary line, or "No changes.". */
export function renderPlan(changes: Change[]): string {
  if (!changes.length) return 'No changes.';
  const lines = changes.map((c) => {
    const sym = c.action === '+' ? color.green('+') : c.action === '~' ? color.yellow('~') : color.red('-');
    const rule = c.kind === 'service' ? printService(c.service) : printDestination(c.service, c.dest!);
    const why = c.action === '~' ? `  (${c.reasons.join('; ')})` : '';
    return `${sym} ${rule}${why}`;
  });
  const s = summarize(changes);
  lines.push(`Plan: ${s.add} to add, ${s.change} to change, ${s.destroy} to delete.`);
  return lines.join('\n');
}

/** JSON view of a plan. */
export function planJson(changes: Change[]) {
  return {
    changes: changes.map((c) => ({
      action: c.action,
      kind: c.kind,
      service: serviceLabel(c.service),
      destination: c.dest ? destinationKey(c.dest) : undefined,
      rule: c.kind === 'service' ? printService(c.service) : printDestination(c.service, c.dest!),
      reasons: c.reasons,
    })),
    summary: summarize(changes),
  };
}
