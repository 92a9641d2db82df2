#!/usr/bin/env node
// Prints each failing test of the given TAP files (node:test's tap reporter) with its error and
// the head of its stack, so the end of a CI log says what failed, not only how many.
// Parents that failed only because a subtest did (failureType subtestsFailed) are left out.
import { readFileSync, existsSync } from 'node:fs';

const MAX_LINES = 120; // per failure: a long diagnostic must not bury the others
const STACK_LINES = 6;

for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) continue;
  const lines = readFileSync(file, 'utf8').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*)$/.exec(lines[i]);
    if (!m) continue;
    const pad = m[1] + '  ';
    const block = [];
    let j = i + 1;
    if (lines[j] === `${pad}---`) {
      for (j++; j < lines.length && lines[j] !== `${pad}...`; j++) block.push(lines[j].slice(pad.length));
    }
    const field = (name) => {
      const k = block.findIndex((l) => l.startsWith(`${name}:`));
      if (k < 0) return [];
      const first = block[k].slice(name.length + 1).trim();
      if (first !== '|-' && first !== '|' && first !== '>-') return [first.replace(/^'(.*)'$/, '$1')];
      const out = [];
      for (let n = k + 1; n < block.length && /^(\s{2}|$)/.test(block[n]); n++) out.push(block[n].slice(2));
      return out;
    };
    if (field('failureType')[0] === 'subtestsFailed') continue;
    const out = [`✖ ${m[2]}  (${file}${field('location').length ? `, ${field('location')[0]}` : ''})`];
    for (const l of field('error')) out.push(`    ${l}`);
    const stack = field('stack').slice(0, STACK_LINES);
    if (stack.length) out.push('    at:', ...stack.map((l) => `      ${l}`));
    if (out.length > MAX_LINES) out.splice(MAX_LINES, out.length - MAX_LINES, `    … ${out.length - MAX_LINES} more lines in ${file}`);
    console.log(out.join('\n'));
  }
}
