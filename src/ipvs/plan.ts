/**
 * The one IPVS planner: plan(actual, desired) -> IpvsChange[], the shared Change of
 * src/converge/change.ts (typed action, kind, id, human reason, equivalent ipvsadm argv) carrying
 * the typed service/real server it is about. Pure: no I/O. Defaults are filled before this is
 * called (the parsers and drivers return complete models), never inside it.
 *
 * Every IPVS door plans here: restore, the single service/server commands, `lbctl plan/apply`
 * (provider.ts). toOps() compiles a plan into driver ops, the internal form that batches and
 * rolls back; renderPlan/planJson are the rules-file view restore has always printed.
 */
import { color } from '../cli/output.js';
import type { Change } from '../converge/change.js';
import { destinationDiff, destinationKey, serviceDiff, serviceKey, serviceLabel, type Destination, type IpvsTable, type VirtualService } from './model.js';
import { printDestination, printService } from './rules.js';
import { opToRule } from './ipvsadm.js';
import type { Op, OpKind, Timeouts } from './driver.js';

export type ChangeAction = Change['action'];

/** A change to the table: one virtual service or one real server. */
export interface IpvsTableChange extends Change {
  kind: 'service' | 'destination';
  /** The service as desired; for '-' as it is in the kernel, with its real servers (what a rollback re-adds). */
  service: VirtualService;
  dest?: Destination;
  /** Each differing field ("weight 1 -> 3"), or why it is added or removed; `reason` joins them. */
  reasons: string[];
  /** For '~' and '-': the service or real server as it is now, whole (what a failed batch is rolled back to). */
  previous?: VirtualService | Destination;
}

/** A change to the connection timeouts (ipvsadm --set). */
export interface IpvsTimeoutChange extends Change {
  kind: 'timeout';
  timeouts: Partial<Timeouts>;
}

export type IpvsChange = IpvsTableChange | IpvsTimeoutChange;

export interface PlanOptions {
  /** Only add and update; never delete (restore --merge). */
  merge?: boolean;
  /** The reason given for removals (default "not in the desired state"). */
  removeReason?: string;
}

const OP_KIND: Record<IpvsTableChange['kind'], Record<ChangeAction, OpKind>> = {
  service: { '+': 'addService', '~': 'editService', '-': 'delService' },
  destination: { '+': 'addDest', '~': 'editDest', '-': 'delDest' },
};

/** The fields a person reads in before/after: no real-server list, no counters. */
function fields(x: VirtualService | Destination): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(x)) if (k !== 'destinations' && k !== 'stats') out[k] = v;
  return out;
}

/**
 * The words for people (id, reason, argv, before/after) are made when first read, on the
 * prototype: a restore of 10,000 real servers plans them all, and only a dry run or `lbctl plan`
 * shows them. Made eagerly they cost a restore of 10,000 several times its planning time.
 */
class TableChange implements IpvsTableChange {
  readonly kind: IpvsTableChange['kind'];
  dest?: Destination;
  previous?: VirtualService | Destination;
  constructor(readonly action: ChangeAction, readonly service: VirtualService, dest: Destination | undefined, readonly reasons: string[], previous?: VirtualService | Destination) {
    this.kind = dest ? 'destination' : 'service';
    if (dest) this.dest = dest;
    if (previous) this.previous = previous;
  }
  get id(): string {
    const svc = serviceLabel(this.service);
    return this.dest ? `${svc} -> ${destinationKey(this.dest)}` : svc;
  }
  get reason(): string { return this.reasons.join('; '); }
  /** What `ipvsadm` would be given for this change: the op's rule line, word by word. */
  get command(): string[] { return ['ipvsadm', ...opToRule(opOf(this)).split(' ')]; }
  get before(): unknown { return this.previous ? fields(this.previous) : undefined; }
  get after(): unknown { return this.action === '-' ? undefined : fields(this.dest ?? this.service); }
  /** JSON sees the shared Change's fields too, not only the own ones. */
  toJSON() {
    const { action, kind, id, reason, command, before, after, service, dest, reasons, previous } = this;
    return { action, kind, id, reason, command, before, after, service, dest, reasons, previous };
  }
}

function change(action: ChangeAction, service: VirtualService, dest: Destination | undefined, reasons: string[], previous?: VirtualService | Destination): IpvsTableChange {
  return new TableChange(action, service, dest, reasons, previous);
}

export function plan(actual: IpvsTable, desired: IpvsTable, opts: PlanOptions = {}): IpvsTableChange[] {
  const gone = [opts.removeReason ?? 'not in the desired state'];
  const changes: IpvsTableChange[] = [];
  const have = new Map(actual.services.map((s) => [serviceKey(s), s]));
  const want = new Map(desired.services.map((s) => [serviceKey(s), s]));
  for (const [key, w] of want) {
    const a = have.get(key);
    if (!a) {
      changes.push(change('+', w, undefined, ['new service']));
      for (const d of w.destinations) changes.push(change('+', w, d, ['new real server']));
      continue;
    }
    const sd = serviceDiff(a, w);
    if (sd.length) changes.push(change('~', w, undefined, sd, a));
    const ad = new Map(a.destinations.map((d) => [destinationKey(d), d]));
    const wd = new Map(w.destinations.map((d) => [destinationKey(d), d]));
    for (const [dk, d] of wd) {
      const cur = ad.get(dk);
      if (!cur) changes.push(change('+', w, d, ['new real server']));
      else {
        const dd = destinationDiff(cur, d);
        if (dd.length) changes.push(change('~', w, d, dd, cur));
      }
    }
    if (!opts.merge) {
      for (const [dk, d] of ad) if (!wd.has(dk)) changes.push(change('-', a, d, gone, d));
    }
  }
  if (!opts.merge) {
    for (const [key, a] of have) if (!want.has(key)) changes.push(change('-', a, undefined, gone, a));
  }
  return sortChanges(changes);
}

const TIMEOUT_KEYS = ['tcp', 'tcpfin', 'udp'] as const;

/** Only the fields given (and non-zero) are compared; 0 keeps the kernel's value, as ipvsadm --set. */
export function planTimeouts(actual: Timeouts | undefined, desired: Partial<Timeouts> | undefined): IpvsTimeoutChange[] {
  const t = desired ?? {};
  const diff = TIMEOUT_KEYS.filter((k) => t[k] && actual && actual[k] !== t[k]);
  if (!diff.length) return [];
  const cur = actual!;
  const set = Object.fromEntries(diff.map((k) => [k, t[k]])) as Partial<Timeouts>;
  return [{
    action: '~', kind: 'timeout', id: 'tcp tcpfin udp', timeouts: set,
    reason: diff.map((k) => `${k} ${cur[k]} -> ${t[k]}`).join('; '),
    command: ['ipvsadm', '--set', String(t.tcp || 0), String(t.tcpfin || 0), String(t.udp || 0)],
    before: { tcp: cur.tcp, tcpfin: cur.tcpfin, udp: cur.udp }, after: { ...cur, ...set },
  }];
}

const ORDER: Record<string, number> = {
  // Apply order: services first so destinations have a parent; removals of destinations
  // before additions so an edit of forwarding never collides; whole services last.
  '+service': 0, '~service': 1, '-destination': 2, '~destination': 3, '+destination': 4, '-service': 5,
};

function sortChanges(cs: IpvsTableChange[]): IpvsTableChange[] {
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

export const isTableChange = (c: IpvsChange): c is IpvsTableChange => c.kind !== 'timeout';

/** One change's kernel write. What it replaces rides along, so a failed batch is undone without another read. */
function opOf(c: IpvsTableChange): Op {
  const kind = OP_KIND[c.kind][c.action];
  return c.previous ? { kind, service: c.service, dest: c.dest, previous: c.previous } : { kind, service: c.service, dest: c.dest };
}

/** Kernel writes for a plan (its timeout changes aside), in a safe apply order (all service adds before any destination). */
export function toOps(changes: readonly IpvsChange[]): Op[] {
  const rank = (c: IpvsTableChange) => ORDER[c.action + c.kind];
  return changes.filter(isTableChange).sort((a, b) => rank(a) - rank(b)).map(opOf);
}

export interface PlanSummary { add: number; change: number; destroy: number }

export function summarize(changes: readonly IpvsChange[]): PlanSummary {
  return {
    add: changes.filter((c) => c.action === '+').length,
    change: changes.filter((c) => c.action === '~').length,
    destroy: changes.filter((c) => c.action === '-').length,
  };
}

/** The rule a table change is about, as ipvsadm-save writes it. */
export function ruleOf(c: IpvsTableChange): string {
  return c.kind === 'service' ? printService(c.service) : printDestination(c.service, c.dest!);
}

/** Rules-file view of a plan (restore): one rule per change, then a summary line, or "No changes.". */
export function renderPlan(changes: readonly IpvsTableChange[]): string {
  if (!changes.length) return 'No changes.';
  const lines = changes.map((c) => {
    const sym = c.action === '+' ? color.green('+') : c.action === '~' ? color.yellow('~') : color.red('-');
    const why = c.action === '~' ? `  (${c.reasons.join('; ')})` : '';
    return `${sym} ${ruleOf(c)}${why}`;
  });
  const s = summarize(changes);
  lines.push(`Plan: ${s.add} to add, ${s.change} to change, ${s.destroy} to delete.`);
  return lines.join('\n');
}

/** JSON rules-file view of a plan (restore --json; schemas/restore.json). */
export function planJson(changes: readonly IpvsTableChange[]) {
  return {
    changes: changes.map((c) => ({
      action: c.action,
      kind: c.kind,
      service: serviceLabel(c.service),
      destination: c.dest ? destinationKey(c.dest) : undefined,
      rule: ruleOf(c),
      reasons: c.reasons,
    })),
    summary: summarize(changes),
  };
}
