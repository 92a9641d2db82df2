// Prints a Stryker JSON report's score and its surviving (and no-coverage) mutants, one a line:
//   node stryker/survivors.mjs reports/mutation/fs.json [FROM-TO]
// Score as Stryker computes it: killed + timeout over all valid mutants.
import { readFileSync } from 'node:fs';

const [file, range] = process.argv.slice(2);
const [from, to] = range ? range.split('-').map(Number) : [0, Infinity];
const report = JSON.parse(readFileSync(file, 'utf8'));
for (const [name, f] of Object.entries(report.files)) {
  const ms = f.mutants.filter((m) => m.location.start.line >= from && m.location.start.line <= to);
  const count = (s) => ms.filter((m) => m.status === s).length;
  const detected = count('Killed') + count('Timeout');
  const undetected = count('Survived') + count('NoCoverage');
  const valid = detected + undetected;
  console.log(`${name}: ${valid} mutants, ${count('Killed')} killed, ${count('Timeout')} timeout, ${count('Survived')} survived, ${count('NoCoverage')} no coverage, `
    + `${count('CompileError') + count('RuntimeError')} errors; score ${valid ? ((100 * detected) / valid).toFixed(1) : 'n/a'}%`);
  const lines = f.source.split('\n');
  for (const m of ms.filter((x) => x.status === 'Survived' || x.status === 'NoCoverage').sort((a, b) => a.location.start.line - b.location.start.line)) {
    const l = m.location.start.line;
    const orig = lines[l - 1].slice(m.location.start.column - 1, m.location.start.line === m.location.end.line ? m.location.end.column - 1 : undefined);
    console.log(`  ${l}:${m.location.start.column} ${m.mutatorName} ${JSON.stringify(orig.slice(0, 60))} -> ${JSON.stringify((m.replacement ?? '').slice(0, 60))}`);
  }
}
