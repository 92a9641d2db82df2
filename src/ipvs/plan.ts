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
import { destinationDiff, destinationKey, sameValue, serviceDiff, serviceKey, serviceLabel, type Destination, type IpvsTable, type VirtualService } from './model.js';
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

/**
 * Identity of a real server within its service, for the planner's maps only: address and port
 * as destinationKey, without its IPv6 test and brackets (addresses are canonical here).
 */
const destId = (d: Destination): string => d.port + ' ' + d.address;

/** serviceDiff(a, w).length === 0, without making the list. */
function sameService(a: VirtualService, w: VirtualService): boolean {
  return a.scheduler === w.scheduler && a.persistence === w.persistence && a.netmask === w.netmask && a.onePacket === w.onePacket
    && (a.pe ?? undefined) === (w.pe ?? undefined) && sameValue(a.schedFlags, w.schedFlags);
}

/** destinationDiff(a, w).length === 0, without making the list. */
function sameDestination(a: Destination, w: Destination): boolean {
  return a.forward === w.forward && a.weight === w.weight && a.upperThreshold === w.upperThreshold && a.lowerThreshold === w.lowerThreshold
    && (a.tunType ?? undefined) === (w.tunType ?? undefined) && (a.tunPort ?? undefined) === (w.tunPort ?? undefined) && (a.tunCsum ?? undefined) === (w.tunCsum ?? undefined);
}

/**
 * A no-op plan of tens of thousands of real servers is the common run (a periodic re-apply), so
 * each key is made once, nothing is allocated for a real server that does not differ, and the
 * changes are sorted by service without comparing keys per pair.
 */
export function plan(actual: IpvsTable, desired: IpvsTable, opts: PlanOptions = {}): IpvsTableChange[] {
  const gone = [opts.removeReason ?? 'not in the desired state'];
  const changes: IpvsTableChange[] = [];
  // The changes of one service are made together: [service key, first change] per service with any.
  const groups: Array<{ key: string; start: number }> = [];
  const have = new Map<string, VirtualService>();
  for (const s of actual.services) have.set(serviceKey(s), s);
  const want = new Map<string, VirtualService>();
  for (const s of desired.services) want.set(serviceKey(s), s);
  for (const [key, w] of want) {
    const first = changes.length;
    const a = have.get(key);
    if (!a) {
      changes.push(change('+', w, undefined, ['new service']));
      for (const d of w.destinations) changes.push(change('+', w, d, ['new real server']));
    } else {
      if (!sameService(a, w)) {
        // The quick test is strict where sameValue is lenient (null as undefined): the list decides.
        const sd = serviceDiff(a, w);
        if (sd.length) changes.push(change('~', w, undefined, sd, a));
      }
      const ad = new Map<string, Destination>();
      for (const d of a.destinations) ad.set(destId(d), d);
      const wd = new Map<string, Destination>();
      for (const d of w.destinations) wd.set(destId(d), d);
      let matched = 0;
      for (const [dk, d] of wd) {
        const cur = ad.get(dk);
        if (!cur) changes.push(change('+', w, d, ['new real server']));
        else {
          matched++;
          if (!sameDestination(cur, d)) {
            const dd = destinationDiff(cur, d);
            if (dd.length) changes.push(change('~', w, d, dd, cur));
          }
        }
      }
      if (!opts.merge && matched < ad.size) {
        for (const [dk, d] of ad) if (!wd.has(dk)) changes.push(change('-', a, d, gone, d));
      }
    }
    if (changes.length > first) groups.push({ key, start: first });
  }
  if (!opts.merge) {
    for (const [key, a] of have) {
      if (!want.has(key)) { groups.push({ key, start: changes.length }); changes.push(change('-', a, undefined, gone, a)); }
    }
  }
  return sortChanges(changes, groups);
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

/** The apply rank of a change (ORDER), without making a string per look-up. */
const RANK: Record<IpvsTableChange['kind'], Record<ChangeAction, number>> = {
  service: { '+': ORDER['+service'], '~': ORDER['~service'], '-': ORDER['-service'] },
  destination: { '+': ORDER['+destination'], '~': ORDER['~destination'], '-': ORDER['-destination'] },
};
const rankOf = (c: IpvsTableChange): number => RANK[c.kind][c.action];

/** Stable: by rank, equal ranks in their order (a bucket per rank). */
function byRank<T extends IpvsTableChange>(cs: T[]): T[] {
  let sorted = true;
  for (let i = 1; i < cs.length && sorted; i++) if (rankOf(cs[i - 1]) > rankOf(cs[i])) sorted = false;
  if (sorted) return cs;
  const buckets: T[][] = [[], [], [], [], [], []];
  for (const c of cs) buckets[rankOf(c)].push(c);
  return buckets.flat() as T[];
}

/** By service key, then apply rank, then as planned. `groups` holds each service's changes, contiguous in `cs`. */
function sortChanges(cs: IpvsTableChange[], groups: Array<{ key: string; start: number }>): IpvsTableChange[] {
  const spans = groups.map((g, i) => ({ key: g.key, start: g.start, end: i + 1 < groups.length ? groups[i + 1].start : cs.length }));
  spans.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : 0));
  const out: IpvsTableChange[] = [];
  for (const g of spans) for (const c of byRank(cs.slice(g.start, g.end))) out.push(c);
  return out;
}

export const isTableChange = (c: IpvsChange): c is IpvsTableChange => c.kind !== 'timeout';

/** One change's kernel write. What it replaces rides along, so a failed batch is undone without another read. */
function opOf(c: IpvsTableChange): Op {
  const kind = OP_KIND[c.kind][c.action];
  return c.previous ? { kind, service: c.service, dest: c.dest, previous: c.previous } : { kind, service: c.service, dest: c.dest };
}

/** Kernel writes for a plan (its timeout changes aside), in a safe apply order (all service adds before any destination). */
export function toOps(changes: readonly IpvsChange[]): Op[] {
  return byRank(changes.filter(isTableChange)).map(opOf);
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
