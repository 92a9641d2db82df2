import type { planJson } from '../converge/change.js';

export type RealServerMode = 'dr' | 'tun';
export type DirectorMode = 'nat' | 'dr' | 'tun';
export type Target = 'realserver' | 'director';

export type Action =
  | 'updated' | 'unchanged' | 'added' | 'removed' | 'absent'
  | 'restored' | 'kept' | 'created' | 'deleted' | 'loaded';

/** One setting, address, link or file and what prep/unprep did (or, with --dry-run, would do) to it. */
export interface ItemResult {
  kind: 'sysctl' | 'address' | 'link' | 'module' | 'file' | 'route';
  /** "net.ipv4.conf.all.arp_ignore", "10.0.0.100/32 dev lo", "link lo", "/etc/sysctl.d/...". */
  item: string;
  /** Sysctl values are numbers in JSON. */
  before: string | number | null;
  after: string | number | null;
  action: Action;
  changed: boolean;
  /** The command equivalent to the change (argv), as --dry-run prints it. */
  command?: string[];
  note?: string;
}

export interface HostChangeResult {
  target: Target;
  operation: 'prep' | 'unprep';
  mode: string | null;
  netns: string | null;
  dryRun: boolean;
  /** With --dry-run: whether anything would change. */
  changed: boolean;
  vips: string[];
  dev: string | null;
  items: ItemResult[];
  /** The commands run (or, with --dry-run, that would run), shell-quoted, in order. */
  commands: string[];
  summary: { changed: number; unchanged: number };
  notes: string[];
  /** The plan (planJson): every change with its reason and equivalent command. */
  plan: ReturnType<typeof planJson>;
}

export type Severity = 'ok' | 'warn' | 'fail';

export interface CheckItem {
  item: string;
  kind: 'sysctl' | 'effective' | 'address' | 'route' | 'link';
  expected: string;
  actual: string | number | null;
  severity: Severity;
  reason?: string;
}

export interface CheckResult {
  target: Target;
  mode: string;
  netns: string | null;
  ok: boolean;
  verdict: string;
  vips: string[];
  dev: string | null;
  items: CheckItem[];
  problems: number;
  warnings: number;
}
