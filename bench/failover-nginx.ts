/**
 * bench/failover-nginx: the keepalived pair's failover with nginx as the proxy, side by side
 * with the haproxy pair, in one run: time from killing the proxy on the MASTER to the first
 * successful request through the VIP answered via the BACKUP, and the requests that failed
 * after it. Both pairs use the same lab (test/support/keepalived-lab.ts, namespaces ng*-), the
 * same backends and lbctl's default proxy check (chk_haproxy / chk_nginx).
 *
 *   node build/bench/failover-nginx.js [--runs N] [--json]
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { labSpec } from '../test/support/keepalived-lab.js';
import { killNginx, nginxLabSpec, startLabNginx, type RunningNginx } from '../test/support/nginx-lab.js';
import { arg, haproxyOps, measureFailovers, stats, type FailoverRun, type LabNode, type ProxyOps } from './lib/failover.js';

type Engine = 'haproxy' | 'nginx';

function nginxOps(): ProxyOps {
  const running: Partial<Record<LabNode, RunningNginx>> = {};
  return {
    start: async (lab, node, gen) => { running[node] = await startLabNginx(lab, node, path.join(gen, node, 'nginx.conf')); },
    kill: async (_lab, node) => killNginx(running[node]!),
  };
}

const scenario = (engine: Engine, runs: number): Promise<FailoverRun[]> =>
  measureFailovers(engine, engine === 'nginx' ? nginxLabSpec() : labSpec(), engine === 'nginx' ? nginxOps() : haproxyOps, runs, `ng${randomBytes(2).toString('hex')}-`);

async function main(): Promise<void> {
  const runs = arg('--runs', 5);
  process.stderr.write(`failover-nginx bench: ${runs} run(s) per engine\n`);
  const res: Record<Engine, FailoverRun[]> = { haproxy: await scenario('haproxy', runs), nginx: await scenario('nginx', runs) };
  const h = stats(res.haproxy.map((r) => r.failoverMs));
  const n = stats(res.nginx.map((r) => r.failoverMs));
  const failed = (e: Engine) => res[e].reduce((a, r) => a + r.failedAfter, 0);
  const total = (e: Engine) => res[e].reduce((a, r) => a + r.requestsAfter, 0);
  const report = { runs, haproxy: { ...h, failed_after_move: failed('haproxy'), runs: res.haproxy }, nginx: { ...n, failed_after_move: failed('nginx'), runs: res.nginx }, ratio_nginx_to_haproxy: +(n.median / h.median).toFixed(2) };
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(report, null, 2));
    return;
  }
  console.log(`failover (kill the proxy on MASTER -> first success via BACKUP), ${runs} runs each:`);
  console.log(`  haproxy pair: min ${h.min} ms  median ${h.median} ms  max ${h.max} ms  failed after the move ${failed('haproxy')}/${total('haproxy')}`);
  console.log(`  nginx pair:   min ${n.min} ms  median ${n.median} ms  max ${n.max} ms  failed after the move ${failed('nginx')}/${total('nginx')}`);
  console.log(`  nginx / haproxy (median): ${report.ratio_nginx_to_haproxy}x`);
}

await main();
