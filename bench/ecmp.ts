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
import { buildTier, failoverCase, spreadError, type Tier } from '../test/kernel/lib/tier-lab.js';

type Row = Awaited<ReturnType<typeof failoverCase>> & { scheduler: string; bfd: boolean };
const rows: Row[] = [];
const rr = (t: Tier) => t.setScheduler((d) => printRules({ services: d.table.services.map((s) => ({ ...s, scheduler: 'rr', schedFlags: [] })) }));
let spread: Record<string, number> = {};
const secs = (ms: number | null) => (ms === null ? 'not seen' : `${(ms / 1000).toFixed(2)} s`);

// One build: BFD on, mh cases; FRR restarted everywhere without BFD, mh cases; then the rr anchor.
const tier = await buildTier();
try {
  await tier.waitNexthops(3);
  spread = (await tier.client.ask<{ servers: Record<string, number> }>('burst 1000')).servers;
  for (const how of ['withdraw', 'link'] as const) rows.push({ scheduler: 'mh -b mh-port', bfd: true, ...await failoverCase(tier, how) });
  await tier.restartFrr(false);
  for (const how of ['withdraw', 'link'] as const) rows.push({ scheduler: 'mh -b mh-port', bfd: false, ...await failoverCase(tier, how) });
  await rr(tier);
  for (const how of ['withdraw', 'link'] as const) rows.push({ scheduler: 'rr (anchor)', bfd: false, ...await failoverCase(tier, how) });
} finally {
  await tier.stop();
}

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ spread, spreadError: spreadError(spread), rows })}\n`);
} else {
  const out = [
    `new connections (1000, mh -b mh-port): ${JSON.stringify(spread)}, worst ${(spreadError(spread) * 100).toFixed(1)}% off even`,
    '| scheduler | director leaves by | BFD | on the leaving director | alive after leave | alive after rejoin | route drop (monitor) | route back (monitor) | drop seen by polling |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.scheduler} | ${r.how === 'withdraw' ? 'BGP withdrawal (gate)' : 'link loss'} | ${r.bfd ? 'yes' : 'no'} | ${r.onDirector} | ${r.survived}/${r.total} | ${r.survivedRejoin}/${r.total} | ${secs(r.dropMs)} | ${secs(r.rejoinMs)} | ${secs(r.pollDropMs)} |`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}
process.exit(0);
