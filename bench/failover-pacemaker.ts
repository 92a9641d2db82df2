/**
 * bench/failover-pacemaker: outage of the pacemaker pair (test/support/pacemaker-lab.ts, two
 * real nodes from lbctl's generated files) for a planned move (`lbctl ha standby --wait` on the
 * holder) and for a power-off of the holder (fenced by the survivor), median over N runs, printed beside the keepalived
 * pair's figure measured in the same run by bench/failover (run as a child, its --json output).
 * Outage: first failed probe (every 100 ms from the client) to the first good one from the other node.
 * Goal (issue 16): planned move median <= the keepalived pair's (1.05 s), power-off < 3 s.
 *
 * Each power-off meets a settled cluster (PacemakerLab.waitSettled): until 2026-12-01 it followed
 * the previous run's rejoin at once, and the runs where the survivor's proxy had not started yet
 * were the slow half (docs/DEV.md, the power-off timeline; bench/pacemaker-timeline).
 *
 * The power-off outage starts with corosync's failure detection (token + consensus; two nodes:
 * consensus = 0.2 x token, src/pacemaker/model.ts):
 * `--tokens 1000,500` measures the power-off once per token value, side by side, so the
 * trade-off a shorter token buys is printed, not guessed.
 *
 *   node build/bench/failover-pacemaker.js [--runs N] [--keepalived-runs N] [--tokens MS[,MS...]] [--json]
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { PacemakerLab, pacemakerSpec, outage, waitAnswer, type NodeName } from '../test/support/pacemaker-lab.js';
import { sleep } from '../test/support/keepalived-lab.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const other = (n: NodeName): NodeName => (n === 'pk1' ? 'pk2' : 'pk1');

async function cluster<T>(fn: (lab: PacemakerLab) => Promise<T>, token = 1000): Promise<T> {
  const lab = await PacemakerLab.create();
  try {
    await lab.install(pacemakerSpec(lab.dir, { token }));
    await lab.boot('pk1');
    await lab.boot('pk2');
    await lab.waitOnline(90_000);
    await lab.loadResources();
    await waitAnswer(lab, 'pk1', 60_000);
    return await fn(lab);
  } finally {
    await lab.destroy();
  }
}

async function measure(lab: PacemakerLab, from: NodeName, act: () => Promise<unknown>): Promise<number> {
  const prober = lab.startProber(100);
  await sleep(500);
  const t0 = Date.now();
  await act();
  await waitAnswer(lab, other(from), 30_000);
  await sleep(500);
  await prober.stop();
  const o = outage(prober.samples, t0, other(from));
  if (!o) throw new Error('no answer from the other node');
  if (prober.samples.some((s) => s.holders.length > 1)) throw new Error('the VIP was held by both nodes');
  return o.ms;
}

async function main(): Promise<void> {
  const runs = arg('--runs', 3);
  const kaRuns = arg('--keepalived-runs', 3);
  const tokens = (() => { const i = process.argv.indexOf('--tokens'); return i >= 0 ? process.argv[i + 1].split(',').map(Number) : [1000]; })();
  const planned: number[] = [];
  const powerOffBy = new Map<number, number[]>();
  // Planned moves: standby the holder, then bring it back online for the next run (stickiness keeps the group where it is).
  await cluster(async (lab) => {
    let holder: NodeName = 'pk1';
    for (let i = 0; i < runs; i++) {
      const h = holder;
      await waitAnswer(lab, h, 60_000);
      const ms = await measure(lab, h, () => lab.lbctlIn(h, ['ha', 'standby', h, '--wait']));
      planned.push(ms);
      process.stderr.write(`  planned move ${i + 1}: ${ms} ms\n`);
      await lab.lbctlIn(other(h), ['ha', 'online', h, '--wait']);
      holder = other(h);
    }
  });
  // Power-off of the holder: the survivor fences it (the lab's fence agent) and takes over; the
  // dead node is booted again and rejoins before the next run, which powers off the new holder.
  for (const token of tokens) {
    const powerOff: number[] = [];
    powerOffBy.set(token, powerOff);
    await cluster(async (lab) => {
      let holder: NodeName = 'pk1';
      await waitAnswer(lab, holder, 60_000);
      for (let i = 0; i < runs; i++) {
        const h = holder;
        // A power-off of a healthy pair: right after a rejoin, the survivor's own probes and proxy
        // start are still to come, and the outage would wait for them (docs/DEV.md).
        await lab.waitSettled(120_000);
        await waitAnswer(lab, h, 30_000);
        const ms = await measure(lab, h, () => lab.powerOff(h));
        powerOff.push(ms);
        process.stderr.write(`  power-off ${i + 1} (token ${token} ms): ${ms} ms\n`);
        await lab.boot(h);
        await lab.waitOnline(120_000);
        holder = other(h);
      }
    }, token);
  }
  const powerOff = powerOffBy.get(tokens[0])!;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const ka = await execa(process.execPath, [path.join(here, 'failover.js'), '--runs', String(kaRuns), '--compare-runs', '0', '--json'], { reject: false });
  const kaMedian: number | undefined = (() => { try { return JSON.parse(String(ka.stdout)).defaults.median; } catch { return undefined; } })();
  const load = (await fs.readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');
  const report = { runs, load_average: load, planned_ms: planned, planned_median_ms: median(planned), power_off_ms: powerOff, power_off_median_ms: median(powerOff),
    power_off_by_token: Object.fromEntries([...powerOffBy].map(([t, xs]) => [t, { runs_ms: xs, median_ms: median(xs) }])), keepalived_median_ms: kaMedian };
  if (process.argv.includes('--json')) { console.log(JSON.stringify(report, null, 2)); return; }
  console.log(`load average at the end: ${load}`);
  console.log(`pacemaker pair (proxy layout: clone, fencing: the lab's fence agent), ${runs} runs each (outage: first failed probe to first good one, probes every 100 ms):`);
  console.log(`  planned move (ha standby --wait): median ${report.planned_median_ms} ms  [${planned.join(', ')}]  goal <= 1050 ms`);
  for (const [t, xs] of powerOffBy) console.log(`  power-off of the holder, token ${String(t).padStart(4)} ms: median ${median(xs)} ms  [${xs.join(', ')}]  goal < 3000 ms`);
  console.log(`keepalived pair (bench/failover, kill haproxy on MASTER), ${kaRuns} runs: median ${kaMedian ?? 'n/a'} ms`);
  if (kaMedian !== undefined) console.log(`  pacemaker planned move / keepalived: ${(report.planned_median_ms / kaMedian).toFixed(2)}x`);
}

await main();
