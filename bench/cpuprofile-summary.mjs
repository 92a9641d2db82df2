#!/usr/bin/env node
// Summarise a V8 .cpuprofile (node --cpu-prof): self time by file and by function, top N.
//   node bench/cpuprofile-summary.mjs FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';
const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
// timeDeltas[i] is the time before samples[i]: attribute it to that sample's node.
for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const total = (p.endTime - p.startTime) / 1000;
const fileOf = (n) => (n.callFrame.url || `(${n.callFrame.functionName || 'program'})`).replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/');
const agg = (key) => {
  const m = new Map();
  for (const [id, us] of self) { const k = key(byId.get(id)); m.set(k, (m.get(k) ?? 0) + us / 1000); }
  return [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
};
console.log(`${file}: ${total.toFixed(0)} ms profiled, ${p.samples.length} samples`);
console.log('-- self time by file');
for (const [k, ms] of agg(fileOf)) console.log(`${ms.toFixed(0).padStart(8)} ms ${(100 * ms / total).toFixed(1).padStart(5)}%  ${k}`);
console.log('-- self time by function');
for (const [k, ms] of agg((n) => `${n.callFrame.functionName || '(anon)'} ${fileOf(n)}:${n.callFrame.lineNumber + 1}`)) console.log(`${ms.toFixed(0).padStart(8)} ms ${(100 * ms / total).toFixed(1).padStart(5)}%  ${k}`);
// Inclusive time by function (a function counted once per stack, however deep it recurses).
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const incl = new Map();
for (const [id, us] of self) {
  const seen = new Set();
  for (let x = id; x !== undefined; x = parent.get(x)) {
    const n = byId.get(x);
    const k = `${n.callFrame.functionName || '(anon)'} ${fileOf(n)}:${n.callFrame.lineNumber + 1}`;
    if (seen.has(k)) continue;
    seen.add(k);
    incl.set(k, (incl.get(k) ?? 0) + us / 1000);
  }
}
console.log('-- inclusive time by function');
for (const [k, ms] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.INCL_TOP ?? 40))) console.log(`${ms.toFixed(0).padStart(8)} ms ${(100 * ms / total).toFixed(1).padStart(5)}%  ${k}`);
