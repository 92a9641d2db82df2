/**
 * bench/ecmp: the active-active tier of examples/tier-ecmp.yaml in the kernel lab (issue 17),
 * side by side with the rr anchor in one run. For each scheduler and each way a director leaves
 * (BGP withdrawal by its health gate; link loss), 100 long-lived connections: how many survive
 * the leave and the rejoin, and how long the router's route takes to drop the director and to
 * take it back: from the leave (the maintenance file the health gate reads; eth0 down as the
 * kernel reported it) to the router's route event, both stamped by `ip -ts monitor` in the guest
 * (test/kernel/lib/tier-monitor.ts). The poll column is the same drop seen by polling `ip route`
 * from node, each poll an exec that takes seconds in the TCG guest: an upper bound only.
 * Withdrawal and link loss are measured with BFD (300 ms x 3) and, after FRR is restarted
 * everywhere without it, with BGP timers 1/3 s only; the rr anchor runs in that second setting
 * (survival depends on the scheduler, not on how fast the route drops).
 *
 *   bash test/lab/run.sh -- node build/bench/ecmp.js [--json]
 */
import { printRules } from '../src/ipvs/rules.js';
import { buildTier, failoverCase, SPREAD_BURST, spreadError, trace, type Tier } from '../test/kernel/lib/tier-lab.js';

type Row = Awaited<ReturnType<typeof failoverCase>> & { scheduler: string; bfd: boolean };
const rows: Row[] = [];
const rr = (t: Tier) => t.setScheduler((d) => printRules({ services: d.table.services.map((s) => ({ ...s, scheduler: 'rr', schedFlags: [] })) }));
let spread: Record<string, number> = {};
let second: Record<string, { text: string; changed: boolean }> = {};
const secs = (ms: number | null) => (ms === null ? 'not seen' : `${(ms / 1000).toFixed(2)} s`);

// One build: BFD on, mh cases; FRR restarted everywhere without BFD, mh cases; then the rr anchor.
const tier = await buildTier();
/** One case; each row goes to stderr as it comes, so a run cut short still leaves its figures. */
async function row(scheduler: string, bfd: boolean, how: 'withdraw' | 'link') {
  const r = { scheduler, bfd, ...await failoverCase(tier, how) };
  rows.push(r);
  trace(`row ${JSON.stringify(r)}`);
}
try {
  await tier.waitNexthops(3);
  second = Object.fromEntries(tier.secondApply);
  trace(`second apply ${JSON.stringify(second)}`);
  for (const how of ['link', 'withdraw'] as const) await row('mh -b mh-port', true, how);
  await tier.restartFrr(false);
  for (const how of ['link', 'withdraw'] as const) await row('mh -b mh-port', false, how);
  await rr(tier);
  for (const how of ['withdraw', 'link'] as const) await row('rr (anchor)', false, how);
  // Last: 1000 short connections took over 120 s in a loaded guest (the spread is the test's claim).
  if (!process.argv.includes('--no-spread')) {
    spread = (await tier.client.ask<{ servers: Record<string, number> }>(`burst ${SPREAD_BURST}`)).servers;
    trace(`spread ${JSON.stringify(spread)}`);
  }
} finally {
  await tier.stop();
}

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ secondApply: second, spread, spreadError: spreadError(spread), rows })}\n`);
} else {
  const out = [
    ...Object.entries(second).map(([d, r]) => `second lbctl apply on ${d}: changed ${r.changed}, "${r.text.trim().split('\n').pop()}"`),
    `new connections (${SPREAD_BURST}, mh -b mh-port): ${JSON.stringify(spread)}, worst ${(spreadError(spread) * 100).toFixed(1)}% off even`,
    '| scheduler | director leaves by | BFD | on the leaving director | alive after leave | alive after rejoin | route drop (monitor) | route back (monitor) | drop seen by polling |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.scheduler} | ${r.how === 'withdraw' ? 'BGP withdrawal (gate)' : 'link loss'} | ${r.bfd ? 'yes' : 'no'} | ${r.onDirector} | ${r.survived}/${r.total} | ${r.survivedRejoin}/${r.total} | ${secs(r.dropMs)} | ${secs(r.rejoinMs)} | ${secs(r.pollDropMs)} |`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}
process.exit(0);
