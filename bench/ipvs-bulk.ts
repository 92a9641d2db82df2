/**
 * bench/ipvs-bulk: bulk IPVS writes, side by side, inside the kernel lab (needs root + IPVS).
 *   (a) lbctl's netlink driver: read the (empty) table, plan, apply the ops (pipelined, an ACK
 *       per change); (a') the same with ACK mode "errors" (one barrier ACK per window);
 *   (b) ipvsadm-restore fed the same rules;
 *   (c) one ipvsadm process per rule, as the source articles do it (only up to 1,000).
 * Then, with the largest table loaded: a no-op re-apply (read + plan + zero writes) against
 * one full dump (`ipvsadm -Sn`, and lbctl's own read), and a single weight change.
 * Last, whole processes, as a script or Ansible would call them (node and lbctl's start-up
 * included): `lbctl restore FILE` vs `ipvsadm-restore < FILE` for 2,000 and 10,000 real servers
 * (goals: <= 1.0x and <= 0.6x), and a no-op `lbctl restore FILE` of 10,000 vs one `ipvsadm -Sn`
 * (goal <= 1.2x).
 *
 *   bash test/lab/run.sh -- node build/bench/ipvs-bulk.js
 *   LBCTL_BENCH_QUICK=1 ... (CI: sizes 100 and 500, (c) up to 100)
 *   --json  prints the results as JSON; --processes-only  only the whole-process rows
 */
import { execa } from 'execa';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openNetlinkDriver } from '../src/ipvs/netlink/index.js';
import { parseRules } from '../src/ipvs/rules.js';
import { plan, toOps } from '../src/ipvs/plan.js';

const quick = process.env.LBCTL_BENCH_QUICK === '1';
const json = process.argv.includes('--json');
const SIZES = quick ? [100, 500] : [100, 1000, 10000];
const PER_PROCESS_MAX = quick ? 100 : 1000;
const PER_SERVICE = 10;
/** (a), (a') and (b) run this many times, interleaved, and the best time counts: the lab shares a busy host. */
const REPS = Number(process.env.LBCTL_BENCH_REPS ?? (quick ? 1 : 3));

const now = () => Number(process.hrtime.bigint()) / 1e6;
const log = (s: string) => { if (!json) console.log(s); };

/** N real servers, 10 per service, as ipvsadm-save -n would write them. */
function rulesFor(n: number): string {
  const lines: string[] = [];
  for (let s = 0; s < n / PER_SERVICE; s++) {
    const vip = `10.${200 + (s >> 16)}.${(s >> 8) & 255}.${s & 255}:80`;
    lines.push(`-A -t ${vip} -s wrr`);
    for (let d = 0; d < PER_SERVICE; d++) lines.push(`-a -t ${vip} -r 10.99.${s & 255}.${d + 1}:8080 -m -w ${1 + (d % 4)}`);
  }
  return lines.join('\n') + '\n';
}

async function ipvsadm(args: string[], input?: string): Promise<string> {
  return (await execa('ipvsadm', args, { input, env: { LC_ALL: 'C' } })).stdout;
}

async function countServers(): Promise<number> {
  return (await ipvsadm(['-Sn'])).split('\n').filter((l) => l.startsWith('-a ')).length;
}

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = now();
  const r = await fn();
  return [now() - t, r];
}

interface SizeResult { servers: number; rules: number; netlinkMs: number; netlinkErrorsAckMs: number; restoreMs: number; perProcessMs?: number; aOverB: number; a2OverB: number; cOverA?: number }

const lbctlBin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'run.js');
const PROCESS_SIZES = quick ? [200, 1000] : [2000, 10000];

interface ProcessResult { servers: number; lbctlMs: number; restoreMs: number; ratio: number }

/** Whole processes: node + lbctl start-up + read + plan + apply, against ipvsadm-restore < FILE. */
async function wholeProcesses(restoreBin: string | undefined): Promise<{ sizes: ProcessResult[]; noop: { servers: number; lbctlMs: number; dumpMs: number; ratio: number } }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lbs4-bulk-'));
  try {
    const sizes: ProcessResult[] = [];
    let file = '';
    log('');
    log(`whole processes, best of ${REPS} interleaved: (p) node bin/run.js restore FILE  vs  (q) ${restoreBin ?? 'ipvsadm -R'} < FILE`);
    log(`${'servers'.padStart(8)} ${'(p) lbctl'.padStart(12)} ${'(q) restore'.padStart(12)} ${'p/q'.padStart(6)}`);
    for (const n of PROCESS_SIZES) {
      file = path.join(dir, `rules-${n}.txt`);
      writeFileSync(file, rulesFor(n));
      const ps: number[] = [], qs: number[] = [];
      for (let rep = 0; rep < REPS; rep++) {
        await ipvsadm(['-C']);
        const [p, r] = await timed(() => execa(process.execPath, [lbctlBin, 'restore', file], { reject: false }));
        if (r.exitCode !== 0) throw new Error(`lbctl restore exited ${r.exitCode}: ${r.stderr}`);
        if (await countServers() !== n) throw new Error(`(p) left ${await countServers()} real servers, expected ${n}`);
        ps.push(p);
        await ipvsadm(['-C']);
        const [q] = await timed(() => (restoreBin ? execa(restoreBin, [], { inputFile: file }) : execa('ipvsadm', ['-R'], { inputFile: file })));
        if (await countServers() !== n) throw new Error(`(q) left ${await countServers()} real servers, expected ${n}`);
        qs.push(q);
      }
      const r = { servers: n, lbctlMs: round(Math.min(...ps)), restoreMs: round(Math.min(...qs)), ratio: round(Math.min(...ps) / Math.min(...qs), 2) };
      sizes.push(r);
      log(`${String(n).padStart(8)} ${ms(r.lbctlMs).padStart(12)} ${ms(r.restoreMs).padStart(12)} ${r.ratio.toFixed(2).padStart(6)}`);
    }
    // The largest file is loaded (by (q), equal to what lbctl would write): re-apply is a no-op.
    const n = PROCESS_SIZES[PROCESS_SIZES.length - 1];
    await execa(process.execPath, [lbctlBin, 'restore', file]); // untimed: state = exactly what lbctl wants
    const ps: number[] = [], ds: number[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const [p, r] = await timed(() => execa(process.execPath, [lbctlBin, 'restore', file, '--json'], { reject: false }));
      if (r.exitCode !== 0 || JSON.parse(r.stdout).changed !== false) throw new Error(`no-op lbctl restore: exit ${r.exitCode}, ${r.stdout.slice(0, 200)} ${r.stderr}`);
      ps.push(p);
      ds.push((await timed(() => execa('ipvsadm', ['-Sn'], { env: { LC_ALL: 'C' } })))[0]);
    }
    const noop = { servers: n, lbctlMs: round(Math.min(...ps)), dumpMs: round(Math.min(...ds)), ratio: round(Math.min(...ps) / Math.min(...ds), 2) };
    log(`no-op node bin/run.js restore FILE of ${n}: ${ms(noop.lbctlMs)} vs one ipvsadm -Sn process ${ms(noop.dumpMs)}: ${noop.ratio.toFixed(2)}x (goal <= 1.2x)`);
    log(`goals: p/q <= 1.0x at ${PROCESS_SIZES[0]}, <= 0.6x at ${n}`);
    await ipvsadm(['-C']);
    return { sizes, noop };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const restoreBinary = existsSync('/usr/sbin/ipvsadm-restore') || existsSync('/sbin/ipvsadm-restore') ? 'ipvsadm-restore' : undefined;
  if (process.argv.includes('--processes-only')) {
    const processes = await wholeProcesses(restoreBinary);
    if (json) console.log(JSON.stringify({ quick, processes }, null, 2));
    return;
  }
  const driver = await openNetlinkDriver({ acks: 'each' });
  const driverErr = await openNetlinkDriver({ acks: 'errors' });
  const restoreBin = existsSync('/usr/sbin/ipvsadm-restore') || existsSync('/sbin/ipvsadm-restore') ? 'ipvsadm-restore' : undefined;
  const results: SizeResult[] = [];
  log(`ipvs-bulk: ${quick ? 'quick mode, ' : ''}sizes ${SIZES.join(', ')} real servers (${PER_SERVICE} per service); kernel ${(await execa('uname', ['-r'])).stdout}`);
  log(`best of ${REPS} for (a), (a'), (b); (a') = netlink with one barrier ACK per window instead of one per change`);
  log(`${'servers'.padStart(8)} ${'rules'.padStart(6)} ${'(a) netlink'.padStart(12)} ${"(a') errACK".padStart(12)} ${'(b) restore'.padStart(12)} ${'(c) 1/rule'.padStart(12)} ${'a/b'.padStart(6)} ${"a'/b".padStart(6)} ${'c/a'.padStart(7)}`);
  // Warm-up, untimed: loads ip_vs_wrr (the kernel loads a scheduler module on first use) and
  // lets V8 compile the encoder, so the first size measures steady state for every contender.
  await ipvsadm(['-C']);
  await driver.apply(toOps(plan(await driver.getTable(), parseRules(rulesFor(200)))));
  await driver.getTable();
  await ipvsadm(['-C']);
  let lastDesired = parseRules('');
  for (const n of SIZES) {
    const text = rulesFor(n);
    const desired = parseRules(text, `bench-${n}`);
    const ruleLines = text.trim().split('\n');

    const runA = async (acks: 'each' | 'errors') => {
      await ipvsadm(['-C']);
      const [ms] = await timed(async () => {
        const ops = toOps(plan(await driver.getTable(), desired));
        await (acks === 'each' ? driver : driverErr).apply(ops);
      });
      if (await countServers() !== n) throw new Error(`(a${acks === 'each' ? '' : "'"}) left ${await countServers()} real servers, expected ${n}`);
      return ms;
    };
    const runB = async () => {
      await ipvsadm(['-C']);
      const [ms] = await timed(async () => {
        if (restoreBin) await execa(restoreBin, [], { input: text });
        else await ipvsadm(['-R'], text);
      });
      if (await countServers() !== n) throw new Error(`(b) left ${await countServers()} real servers, expected ${n}`);
      return ms;
    };
    const as: number[] = [], a2s: number[] = [], bs: number[] = [];
    for (let rep = 0; rep < REPS; rep++) { as.push(await runA('each')); a2s.push(await runA('errors')); bs.push(await runB()); }
    const aMs = Math.min(...as), a2Ms = Math.min(...a2s), bMs = Math.min(...bs);

    let cMs: number | undefined;
    if (n <= PER_PROCESS_MAX) {
      await ipvsadm(['-C']);
      [cMs] = await timed(async () => {
        for (const line of ruleLines) await execa('ipvsadm', line.split(' '));
      });
      if (await countServers() !== n) throw new Error(`(c) left ${await countServers()} real servers, expected ${n}`);
    }
    const r: SizeResult = { servers: n, rules: ruleLines.length, netlinkMs: round(aMs), netlinkErrorsAckMs: round(a2Ms), restoreMs: round(bMs), perProcessMs: cMs === undefined ? undefined : round(cMs), aOverB: round(aMs / bMs, 2), a2OverB: round(a2Ms / bMs, 2), cOverA: cMs === undefined ? undefined : round(cMs / aMs, 1) };
    results.push(r);
    log(`${String(n).padStart(8)} ${String(r.rules).padStart(6)} ${ms(aMs).padStart(12)} ${ms(a2Ms).padStart(12)} ${ms(bMs).padStart(12)} ${(cMs === undefined ? '-' : ms(cMs)).padStart(12)} ${r.aOverB.toFixed(2).padStart(6)} ${r.a2OverB.toFixed(2).padStart(6)} ${(r.cOverA === undefined ? '-' : r.cOverA.toFixed(1)).padStart(7)}`);
    lastDesired = desired;
  }

  // The largest table is loaded (by (b) or (c)); converge once through lbctl so state = desired.
  await driver.apply(toOps(plan(await driver.getTable(), lastDesired)));
  const biggest = SIZES[SIZES.length - 1];
  const dumps: number[] = [];
  const reads: number[] = [];
  const noops: number[] = [];
  let noopWrites = 0;
  for (let i = 0; i < 3; i++) {
    dumps.push((await timed(() => ipvsadm(['-Sn'])))[0]);
    reads.push((await timed(() => driver.getTable()))[0]);
    const before = driver.writes;
    noops.push((await timed(async () => { await driver.apply(toOps(plan(await driver.getTable(), lastDesired))); }))[0]);
    noopWrites += driver.writes - before;
  }
  const dumpMs = Math.min(...dumps);
  const readMs = Math.min(...reads);
  const noopMs = Math.min(...noops);

  const changed = structuredClone(lastDesired);
  const target = changed.services[Math.floor(changed.services.length / 2)].destinations[3];
  target.weight += 10;
  const before = driver.writes;
  const [oneMs] = await timed(async () => { await driver.apply(toOps(plan(await driver.getTable(), changed))); });
  const oneWrites = driver.writes - before;
  const verify = (await ipvsadm(['-Sn'])).includes(`-r ${target.address}:${target.port} -m -w ${target.weight}`);
  await ipvsadm(['-C']);
  await driver.close();
  await driverErr.close();
  const processes = await wholeProcesses(restoreBin);

  const summary = {
    quick, sizes: results, processes,
    noop: { servers: biggest, writes: noopWrites, ms: round(noopMs), ipvsadmDumpMs: round(dumpMs), netlinkReadMs: round(readMs), overIpvsadmDump: round(noopMs / dumpMs, 2), overNetlinkRead: round(noopMs / readMs, 2) },
    singleChange: { servers: biggest, writes: oneWrites, ms: round(oneMs), applied: verify },
  };
  if (json) { console.log(JSON.stringify(summary, null, 2)); return; }
  log('');
  log(`no-op re-apply of ${biggest}: ${noopWrites} writes, ${ms(noopMs)} vs one full dump: ipvsadm -Sn ${ms(dumpMs)} (x${summary.noop.overIpvsadmDump}), lbctl read ${ms(readMs)} (x${summary.noop.overNetlinkRead}); target <= 1.2x, 0 writes`);
  log(`single weight change among ${biggest}: ${oneWrites} write(s), ${ms(oneMs)}, ${verify ? 'applied' : 'NOT applied'}; target exactly 1`);
  const ok = noopWrites === 0 && oneWrites === 1 && verify;
  if (!ok) process.exitCode = 1;
}

function round(x: number, digits = 0): number { const f = 10 ** digits; return Math.round(x * f) / f; }
function ms(x: number): string { return x >= 10000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`; }

main().catch((e) => { console.error(`ipvs-bulk: ${e?.message ?? e}`); process.exit(1); });
