/**
 * A spec rule: one check the schema cannot express (relations between fields, across the
 * nodes of a pair). Rules only report; checkSpec (index.ts) runs them all and orders the
 * findings by position in the file.
 */
import type { SpecPath } from '../load.js';
import type { ClusterSpec } from '../types.js';

/** Report a problem at a spec path: what is wrong, and what to do. */
export type Report = (path: SpecPath, message: string, hint?: string) => void;

export interface SpecRule {
  /** Stable kebab-case id. */
  name: string;
  /** One line: what a spec that passes this rule guarantees. */
  doc: string;
  check: (spec: ClusterSpec, report: Report) => void;
}

/** Index pairs [first, later] of items whose key repeats (undefined keys are skipped). */
export function dupes<T>(items: readonly T[], key: (t: T) => string | undefined): Array<[number, number]> {
  const first = new Map<string, number>();
  const out: Array<[number, number]> = [];
  items.forEach((it, i) => {
    const k = key(it);
    if (k === undefined) return;
    const seen = first.get(k);
    if (seen !== undefined) out.push([seen, i]);
    else first.set(k, i);
  });
  return out;
}
