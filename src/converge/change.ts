/**
 * The one converge pattern (see docs/ARCHITECTURE.md). Every kind of state lbctl manages (IPVS
 * table, host settings, managed files, daemon actions) is brought to its desired state in three
 * steps, as Terraform's providers do:
 *
 *   read()                        the actual state, no writes
 *   plan(actual, desired)         pure: Change[] (nothing when actual already is desired)
 *   apply(changes)                performs exactly those changes, in order; [] writes nothing
 *
 * Single commands and `lbctl apply` are thin layers over providers; `--dry-run` renders the plan.
 */

export type ChangeAction = '+' | '~' | '-';

export interface Change {
  action: ChangeAction;
  /** The kind of state: 'sysctl', 'address', 'route', 'module', 'link', 'file', 'daemon', 'service', 'destination', ... */
  kind: string;
  /** What is changed, unique within a kind: a sysctl key, "10.0.0.5/32 dev lo", a path, "haproxy". */
  id: string;
  /** Why, in words: "wanted 2, is 0", "not in the kernel", "lbctl added it". */
  reason: string;
  /** The equivalent shell command, as ops people would type it (argv; rendered, never run through a shell). */
  command?: string[];
  before?: unknown;
  after?: unknown;
}

/** A provider for one kind of state. `Desired` is what the caller asks for; `Actual` what read() saw. */
export interface Provider<Actual, Desired, C extends Change = Change, Report = unknown> {
  read(): Promise<Actual>;
  plan(actual: Actual, desired: Desired): C[];
  apply(changes: C[]): Promise<Report>;
}

const WORD: Record<ChangeAction, string> = { '+': 'add', '~': 'change', '-': 'remove' };

export function planSummary(changes: readonly Change[]): string {
  if (changes.length === 0) return 'No changes.';
  const n = (a: ChangeAction) => changes.filter((c) => c.action === a).length;
  return `Plan: ${n('+')} to add, ${n('~')} to change, ${n('-')} to remove.`;
}

/** Quote one argv word for display the way a POSIX shell would read it back. */
export function shellWord(w: string): string {
  return /^[\w@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** The human view: one line per change ("+ sysctl net.ipv4.conf.lo.arp_ignore = 1  (wanted 1, is 0)"), then the summary. */
export function renderPlan(changes: readonly Change[], opts: { commands?: boolean } = {}): string {
  const lines = changes.map((c) => {
    const head = `${c.action} ${c.kind} ${c.id}`;
    const cmd = opts.commands && c.command ? `\n    $ ${c.command.map(shellWord).join(' ')}` : '';
    return `${head}  (${c.reason})${cmd}`;
  });
  return [...lines, planSummary(changes)].join('\n');
}

/** The JSON view: the changes as they are, plus counts. */
export function planJson(changes: readonly Change[]) {
  return {
    changed: changes.length > 0,
    summary: planSummary(changes),
    counts: { add: changes.filter((c) => c.action === '+').length, change: changes.filter((c) => c.action === '~').length, remove: changes.filter((c) => c.action === '-').length },
    changes: changes.map((c) => ({ action: c.action, verb: WORD[c.action], kind: c.kind, id: c.id, reason: c.reason, command: c.command, before: c.before, after: c.after })),
  };
}
