/**
 * bench/pacemaker-timeline: where a power-off's outage goes. Powers off the VIP holder of the
 * lab pair (test/support/pacemaker-lab.ts) N times, like bench/failover-pacemaker, and for each
 * run prints, relative to the power-off, the survivor's own log events (corosync and pacemaker,
 * millisecond timestamps), the harness's fence, the client's neighbour entry for the VIP and
 * the probes. Copies the logs to --keep DIR when given.
 *
 * Without --settle the next power-off follows the rejoin of the node powered off before as soon
 * as it is online (what bench/failover-pacemaker did until 2026-12-01); with it, once the cluster
 * has settled (PacemakerLab.waitSettled).
 *
 *   node build/bench/pacemaker-timeline.js [--runs N] [--token MS] [--settle] [--consensus MS|default] [--keep DIR] [--json]
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { PacemakerLab, pacemakerSpec, outage, waitAnswer, PL_NET, type NodeName } from '../test/support/pacemaker-lab.js';
import { sleep } from '../test/support/keepalived-lab.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const other = (n: NodeName): NodeName => (n === 'pk1' ? 'pk2' : 'pk1');

/** The events that place an outage, as the survivor logged them (first match after t0 each). */
const EVENTS: Array<[string, RegExp]> = [
  ['corosync: token lost', /A processor failed, forming new configuration|Token has not been received/],
  ['corosync: membership formed', /A new membership .* was formed/],
  ['pacemaker: peer lost', /pacemaker-controld.*(state is now lost|Our peer on the DC .* is dead|left the cluster)/],
  ['controld: election', /pacemaker-controld.*State transition \S+ -> S_ELECTION/],
  ['controld: DC (integration)', /pacemaker-controld.*State transition \S+ -> S_INTEGRATION/],
  ['controld: join finalized', /pacemaker-controld.*State transition \S+ -> S_FINALIZE_JOIN/],
  ['controld: policy engine', /pacemaker-controld.*State transition \S+ -> S_POLICY_ENGINE/],
  ['schedulerd: fencing scheduled', /pacemaker-schedulerd.*(will be fenced|Scheduling node \S+ for fencing|Fence \(\w+\))/],
  ['schedulerd: transition calculated', /pacemaker-schedulerd.*Calculated transition/],
  ['controld: fence requested', /pacemaker-controld.*(Requesting fencing|Initiating .*fencing|te_fence_node)/],
  ['fenced: fence asked', /pacemaker-fenced.*(wants to fence|Requesting that .* perform)/],
  ['fenced: fence done', /pacemaker-fenced.*Operation '\w+' .*targeting \S+ (by|on) \S+ .*(OK|returned: 0)/],
  ['controld: fence confirmed', /pacemaker-controld.*(Peer \S+ was terminated|fencing of \S+ .* succeeded|was fenced)/],
  ['controld: vip start asked', /pacemaker-controld.*(Requesting local execution of start operation for vip|Initiating start operation vip)/],
  ['controld: vip started', /pacemaker-controld.*Result of start operation for vip on \S+: (ok|OK)/],
  ['IPaddr2: address added', /IPaddr2\(vip\).*Adding inet address/],
  ['controld: haproxy started', /pacemaker-controld.*Result of start operation for haproxy on \S+: (ok|OK)/],
];

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** "Dec 01 07:25:19.123" (pacemaker's and corosync's hires form), UTC, this year. */
function stamp(line: string): number | undefined {
  const m = /^(\w{3}) (\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?/.exec(line);
  if (!m) return undefined;
  const frac = m[6] ? Number(`0.${m[6]}`) * 1000 : 0;
  return Date.UTC(new Date().getUTCFullYear(), MONTHS.indexOf(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])) + Math.round(frac);
}

async function logLines(lab: PacemakerLab, n: NodeName): Promise<Array<{ t: number; line: string }>> {
  const out: Array<{ t: number; line: string }> = [];
  for (const f of ['var/log/pacemaker/pacemaker.log', 'var/log/corosync/corosync.log']) {
    const text = await fs.readFile(path.join(lab.dir, n, f), 'utf8').catch(() => '');
    for (const line of text.split('\n')) { const t = stamp(line); if (t !== undefined) out.push({ t, line }); }
  }
  return out.sort((a, b) => a.t - b.t);
}

/** The client's neighbour entry for the VIP, polled: each change with its time. */
function neighWatch(): { seen: Array<{ t: number; state: string }>; stop: () => Promise<void> } {
  const seen: Array<{ t: number; state: string }> = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const r = await execa('ip', ['-n', 'pk-cl', 'neigh', 'show', PL_NET.vip], { reject: false });
      const s = String(r.stdout).trim().replace(`${PL_NET.vip} dev eth0 `, '');
      if (seen.at(-1)?.state !== s) seen.push({ t: Date.now(), state: s });
      await sleep(50);
    }
  })();
  return { seen, stop: async () => { running = false; await loop; } };
}

async function main(): Promise<void> {
  const runs = Number(arg('--runs') ?? 4);
  const token = Number(arg('--token') ?? 1000);
  const keep = arg('--keep');
  const extra = arg('--extra')?.split(';').filter(Boolean);
  const report: unknown[] = [];
  const lab = await PacemakerLab.create();
  try {
    await lab.install(pacemakerSpec(lab.dir, { token, pacemakerExtra: extra }));
    // --consensus MS|default: an A/B of corosync's consensus on the same build (the installed
    // file edited, lab only): "default" removes the line (corosync then uses 1.2 x token).
    const consensus = arg('--consensus');
    if (consensus !== undefined) {
      for (const n of ['pk1', 'pk2']) {
        const f = path.join(lab.dir, n, 'etc/corosync/corosync.conf');
        const text = (await fs.readFile(f, 'utf8')).replace(/^\tconsensus: \d+\n/m, '');
        await fs.writeFile(f, consensus === 'default' ? text : text.replace(/^(\ttoken: \d+\n)/m, `$1\tconsensus: ${consensus}\n`));
      }
    }
    await lab.boot('pk1');
    await lab.boot('pk2');
    await lab.waitOnline(90_000);
    await lab.loadResources();
    await waitAnswer(lab, 'pk1', 60_000);
    if (process.argv.includes('--settle')) await lab.waitSettled(120_000);
    // What corosync runs with (corosync.conf's values, or its defaults where the file has none).
    const cmap = await lab.exec('pk1', ['corosync-cmapctl', '-g', 'runtime.config.totem.token'], { timeout: 10_000 });
    const cons = await lab.exec('pk1', ['corosync-cmapctl', '-g', 'runtime.config.totem.consensus'], { timeout: 10_000 });
    process.stderr.write(`${String(cmap.stdout).trim()}; ${String(cons.stdout).trim()}\n`);
    let holder: NodeName = 'pk1';
    for (let i = 0; i < runs; i++) {
      const h = holder;
      const s = other(h);
      const dc = String((await lab.exec(s, ['crm_mon', '-1', '--output-as=xml'], { timeout: 10_000 })).stdout).match(/<current_dc [^>]*name="(pk\d)"/)?.[1];
      const prober = lab.startProber(100);
      const neigh = neighWatch();
      await sleep(500);
      const t0 = Date.now();
      await lab.powerOff(h);
      await waitAnswer(lab, s, 30_000);
      await sleep(500);
      await prober.stop();
      await neigh.stop();
      const o = outage(prober.samples, t0, s);
      const lines = (await logLines(lab, s)).filter((l) => l.t >= t0 - 15_000 && l.t <= t0 + 15_000);
      const events = EVENTS.map(([name, re]) => { const l = lines.find((x) => x.t >= t0 - 200 && re.test(x.line)); return [name, l ? l.t - t0 : undefined] as const; });
      const fence = lab.fenced.find((f) => f.node === h && f.start >= t0);
      const firstBad = prober.samples.find((p) => p.t >= t0 && !p.ok);
      const row = {
        run: i + 1, powered_off: h, dc_before: dc, outage_ms: o?.ms, first_failed_probe: firstBad ? firstBad.t - t0 : undefined, first_good_probe: o?.firstGood ? o.firstGood.t - t0 : undefined,
        vip_on_survivor: prober.samples.find((p) => p.t >= t0 && p.holders.includes(s))?.heldAt,
        harness_fence: fence ? { start: fence.start - t0, done: fence.t - t0 } : undefined,
        events: Object.fromEntries(events),
        neigh: neigh.seen.filter((x) => x.t >= t0 - 200).map((x) => `${x.t - t0}: ${x.state}`),
      };
      if (row.vip_on_survivor) row.vip_on_survivor -= t0;
      report.push(row);
      if (keep) {
        const d = path.join(keep, `run${i + 1}-${h}-off`);
        await fs.mkdir(d, { recursive: true });
        await fs.writeFile(path.join(d, `${s}.log`), lines.map((l) => `${l.t - t0}\t${l.line}`).join('\n'));
        await fs.writeFile(path.join(d, 'probes.txt'), prober.samples.filter((p) => p.t >= t0 - 500).map((p) => `${p.t - t0}/${p.heldAt - t0}: ${p.ok ? p.node : 'x'} [${p.holders.join(',')}]`).join('\n'));
      }
      if (!process.argv.includes('--json')) console.log(JSON.stringify(row));
      await lab.boot(h);
      await lab.waitOnline(120_000);
      // As bench/failover-pacemaker does, unless --settle: the next power-off right after the rejoin.
      if (process.argv.includes('--settle')) await lab.waitSettled(120_000);
      holder = s;
    }
  } finally {
    await lab.destroy();
  }
  if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
}

await main();
