// The in-process per-rule work of a restore (parse the rules text, validate the table, encode
// every write as netlink bytes) in two or more built checkouts (npm run build:test), interleaved,
// each round in a fresh process, medians side by side with the ratio to the first.
//   node bench/rules-path-ab.mjs [--rounds N] [--node-flags "--no-opt --no-sparkplug"] BEFORE AFTER...
// --no-opt --no-sparkplug keeps V8 in its interpreter, nearer to what a short process runs under qemu TCG.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
let rounds = 5;
let flags = ['--no-opt', '--no-sparkplug'];
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--rounds') rounds = Number(args[++i]);
  else if (args[i] === '--node-flags') flags = args[++i].split(/\s+/).filter(Boolean);
  else dirs.push(args[i]);
}
if (dirs.length < 2) { console.error('usage: node bench/rules-path-ab.mjs [--rounds N] [--node-flags F] BEFORE AFTER...'); process.exit(2); }

const tmp = mkdtempSync(join(tmpdir(), 'lbctl-rules-ab-'));
const L = [];
for (let s = 0; s < 200; s++) {
  const v = `10.200.${(s >> 8) & 255}.${s & 255}:80`;
  L.push(`-A -t ${v} -s wrr`);
  for (let d = 0; d < 10; d++) L.push(`-a -t ${v} -r 10.99.${s & 255}.${d + 1}:8080 -m -w ${1 + (d % 4)}`);
}
writeFileSync(join(tmp, 'r2000.txt'), L.join('\n') + '\n');
const child = join(tmp, 'child.mjs');
writeFileSync(child, `
import { readFileSync } from 'node:fs';
const [dir, file] = process.argv.slice(2);
const { parseRules } = await import(dir + '/build/src/ipvs/rules.js');
const { validateTable } = await import(dir + '/build/src/ipvs/validate.js');
const { opRequest } = await import(dir + '/build/src/ipvs/netlink/ipvs.js');
const { encodeAttrs } = await import(dir + '/build/src/ipvs/netlink/attrs.js');
const text = readFileSync(file, 'utf8');
const t0 = performance.now(); const t = parseRules(text, 'r'); const t1 = performance.now();
validateTable(t); const t2 = performance.now();
for (const s of t.services) {
  encodeAttrs('cmd', opRequest({ kind: 'addService', service: s }).attrs);
  for (const d of s.destinations) encodeAttrs('cmd', opRequest({ kind: 'addDest', service: s, dest: d }).attrs);
}
const t3 = performance.now();
console.log(JSON.stringify({ parse: t1 - t0, validate: t2 - t1, encode: t3 - t2 }));
`);
const got = dirs.map(() => ({ parse: [], validate: [], encode: [] }));
for (let r = 0; r < rounds; r++) {
  dirs.forEach((d, i) => {
    const m = JSON.parse(execFileSync(process.execPath, [...flags, child, d, join(tmp, 'r2000.txt')], { encoding: 'utf8' }));
    for (const k of Object.keys(m)) got[i][k].push(m[k]);
  });
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
console.log(`2,000 real servers (2,200 lines), ${rounds} interleaved rounds, node ${flags.join(' ') || '(no flags)'}: medians`);
for (const k of ['parse', 'validate', 'encode']) {
  const base = med(got[0][k]);
  console.log(`${k.padEnd(9)} ${dirs.map((d, i) => `${d}: ${med(got[i][k]).toFixed(1)} ms (${(med(got[i][k]) / base).toFixed(2)}x)`).join('   ')}`);
}
