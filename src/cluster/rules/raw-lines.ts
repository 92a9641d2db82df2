import type { SpecPath } from '../load.js';
import type { SpecRule } from './rule.js';

/** Quotes a raw line leaves open would swallow what follows it in the generated file. */
export function unbalancedQuotes(line: string): boolean {
  let dq = 0;
  let sq = 0;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\\') { i++; continue; }
    if (line[i] === '"' && sq % 2 === 0) dq++;
    else if (line[i] === "'" && dq % 2 === 0) sq++;
  }
  return dq % 2 === 1 || sq % 2 === 1;
}

/** Every `extra:` list in the spec, wherever the schema allows one. */
function eachExtra(value: unknown, path: SpecPath, fn: (lines: string[], path: SpecPath) => void): void {
  if (Array.isArray(value)) { value.forEach((v, i) => eachExtra(v, [...path, i], fn)); return; }
  if (value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value)) {
    if (k === 'extra' && Array.isArray(v)) fn(v as string[], [...path, k]);
    else eachExtra(v, [...path, k], fn);
  }
}

export const balancedQuotesInRawLines: SpecRule = {
  name: 'balanced-quotes-in-raw-lines',
  doc: 'every raw `extra:` line closes the quotes it opens',
  check(spec, report) {
    eachExtra(spec, [], (lines, path) => lines.forEach((l, j) => {
      if (unbalancedQuotes(l)) report([...path, j], 'unbalanced quotes in a raw line', 'close the quote');
    }));
  },
};
