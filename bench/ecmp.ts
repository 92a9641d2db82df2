/**
 * bench/ecmp: the active-active tier of examples/tier-ecmp.yaml in the kernel lab (issue 17),
 * side by side with the rr anchor in one run. For each scheduler and each way a director leaves
 * (BGP withdrawal by its health gate; link loss), 100 long-lived connections: how many survive
 * the leave and the rejoin, and how long the router's route takes to drop the director (from
 * the action to the route holding two next hops; polled, each poll an `ip route` exec) and to
 * take it back. Link loss is measured with BFD (300 ms x 3) and without (BGP timers 1/3 s).
 *
 *   bash test/lab/run.sh -- node build/bench/ecmp.js [--json]
 */
import { printRules } from '../src/ipvs/rules.js';
import { buildTier, failoverCase, spreadError, type Tier } from '../test/kernel/lib/tier-lab.js';

type Row = Awaited<ReturnType<typeof failoverCase>> & { scheduler: string; bfd: boolean };
const rows: Row[] = [];
const rr = (t: Tier) => t.setScheduler((d) => printRules({ services: d.table.services.map((s) => ({ ...s, scheduler: 'rr', schedFlags: [] })) }));
let spread: Record<string, number> = {};

for (const bfd of [true, false]) {
  const tier = await buildTier({ bfd });
  try {
    await tier.waitNexthops(3);
    if (bfd) {
      spread = (await tier.client.ask<{ servers: Record<string, number> }>('burst 1000')).servers;
      rows.push({ scheduler: 'mh -b mh-port', bfd, ...await failoverCase(tier, 'withdraw') });
    }
    rows.push({ scheduler: 'mh -b mh-port', bfd, ...await failoverCase(tier, 'link') });
    await rr(tier);
    if (bfd) rows.push({ scheduler: 'rr (anchor)', bfd, ...await failoverCase(tier, 'withdraw') });
    rows.push({ scheduler: 'rr (anchor)', bfd, ...await failoverCase(tier, 'link') });
  } finally {
    await tier.stop();
  }
}

if (process.argv.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ spread, spreadError: spreadError(spread), rows })}\n`);
} else {
  const out = [
    `new connections (1000, mh -b mh-port): ${JSON.stringify(spread)}, worst ${(spreadError(spread) * 100).toFixed(1)}% off even`,
    '| scheduler | director leaves by | BFD | on the leaving director | alive after leave | alive after rejoin | route drop | route back |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.scheduler} | ${r.how === 'withdraw' ? 'BGP withdrawal (gate)' : 'link loss'} | ${r.bfd ? 'yes' : 'no'} | ${r.onDirector} | ${r.survived}/${r.total} | ${r.survivedRejoin}/${r.total} | ${(r.dropMs / 1000).toFixed(2)} s | ${(r.rejoinMs / 1000).toFixed(2)} s |`),
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}
process.exit(0);
