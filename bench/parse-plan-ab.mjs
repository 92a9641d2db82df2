// The JavaScript of a whole `lbctl restore` apart from the kernel: read + parse + validate the
// rules text, plan it against an empty table and apply it to a driver that does nothing (restore
// onto an empty table), and plan it against an equal table (the no-op re-apply). Two or more
// built checkouts (npm run build:test), interleaved, each round in a fresh process; medians side
// by side with the ratio to the first.
//   node bench/parse-plan-ab.mjs [--rounds N] [--servers 2000] [--node-flags F] BEFORE AFTER...
// --no-opt --no-sparkplug (the default) keeps V8 in its interpreter, nearer to qemu TCG.
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
let rounds = 5;
let servers = 2000;
let flags = ['--no-opt', '--no-sparkplug'];
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--rounds') rounds = Number(args[++i]);
  else if (args[i] === '--servers') servers = Number(args[++i]);
  else if (args[i] === '--node-flags') flags = args[++i].split(/\s+/).filter(Boolean);
  else dirs.push(args[i]);
}
if (dirs.length < 2) { console.error('usage: node bench/parse-plan-ab.mjs [--rounds N] [--servers N] [--node-flags F] BEFORE AFTER...'); process.exit(2); }

const tmp = mkdtempSync(join(tmpdir(), 'pa8-ab-'));
const L = [];
const nsvc = Math.ceil(servers / 10);
for (let s = 0; s < nsvc; s++) {
  const v = `10.200.${(s >> 8) & 255}.${s & 255}:80`;
  L.push(s % 3 ? `-A -t ${v} -s wrr` : `-A -t ${v} -s sh -p 300 -M 255.255.255.0 -b sh-port`);
  for (let d = 0; d < 10; d++) L.push(`-a -t ${v} -r 10.${99 + (s >> 8)}.${s & 255}.${d + 1}:8080 -m -w ${1 + (d % 4)}`);
}
const rules = join(tmp, 'rules.txt');
writeFileSync(rules, L.join('\n') + '\n');
const child = join(tmp, 'child.mjs');
writeFileSync(child, `
const [dir, file] = process.argv.slice(2);
const { loadDesired } = await import(dir + '/build/src/ipvs/restore.js');
const { validateTable } = await import(dir + '/build/src/ipvs/validate.js');
const { plan } = await import(dir + '/build/src/ipvs/plan.js');
const { applyPlan } = await import(dir + '/build/src/ipvs/provider.js');
const { parseRules } = await import(dir + '/build/src/ipvs/rules.js');
const { readFileSync } = await import('node:fs');
const t0 = performance.now();
const t = await loadDesired(file);
const t1 = performance.now();
validateTable(t);
const t2 = performance.now();
const changes = plan({ services: [] }, t);
await applyPlan({ apply: async () => {}, setTimeouts: async () => {} }, changes, { origin: true });
const t3 = performance.now();
// The kernel's side of a no-op: as the driver would return it (trusted rules text, a separate model).
const actual = parseRules(readFileSync(file, 'utf8'), 'k', { trusted: true });
const t4 = performance.now();
const noop = plan(actual, t);
const t5 = performance.now();
if (noop.length || changes.length !== ${L.length}) throw new Error('bad plan ' + noop.length + ' ' + changes.length);
console.log(JSON.stringify({ load: t1 - t0, validate: t2 - t1, 'plan+apply': t3 - t2, 'noop plan': t5 - t4 }));
`);
const keys = ['load', 'validate', 'plan+apply', 'noop plan'];
const got = dirs.map(() => Object.fromEntries(keys.map((k) => [k, []])));
for (let r = 0; r < rounds; r++) {
  dirs.forEach((d, i) => {
    const m = JSON.parse(execFileSync(process.execPath, [...flags, child, d, rules], { encoding: 'utf8' }));
    for (const k of keys) got[i][k].push(m[k]);
  });
}
rmSync(tmp, { recursive: true, force: true });
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
console.log(`${servers} real servers (${L.length} lines), ${rounds} interleaved rounds, node ${flags.join(' ') || '(no flags)'}: medians`);
for (const k of keys) {
  const base = med(got[0][k]);
  console.log(`${k.padEnd(11)} ${dirs.map((d, i) => `${d}: ${med(got[i][k]).toFixed(1)} ms (${(med(got[i][k]) / base).toFixed(2)}x)`).join('   ')}`);
}
