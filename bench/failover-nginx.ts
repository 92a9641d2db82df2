/**
 * bench/failover-nginx: the keepalived pair's failover with nginx as the proxy, side by side
 * with the haproxy pair, in one run: time from killing the proxy on the MASTER to the first
 * successful request through the VIP answered via the BACKUP, and the requests that failed
 * after it. Both pairs use the same lab (test/support/keepalived-lab.ts, namespaces ng*-), the
 * same backends and lbctl's default proxy check (chk_haproxy / chk_nginx).
 *
 *   node build/bench/failover-nginx.js [--runs N] [--json]
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { generateFiles } from '../src/cluster/generate.js';
import { FailoverLab, LAB_NET, labSpec, sleep, type ClientSample } from '../test/support/keepalived-lab.js';
import { killNginx, nginxLabSpec, startLabNginx, type RunningNginx } from '../test/support/nginx-lab.js';

type Engine = 'haproxy' | 'nginx';
interface Run { failoverMs: number; failedAfter: number; requestsAfter: number }

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

async function scenario(engine: Engine, runs: number): Promise<Run[]> {
  const lab = await FailoverLab.create(`ng${randomBytes(2).toString('hex')}-`);
  const results: Run[] = [];
  try {
    const spec = path.join(lab.dir, 'lab.yaml');
    await fs.writeFile(spec, engine === 'nginx' ? nginxLabSpec() : labSpec());
    const out = path.join(lab.dir, 'gen');
    await generateFiles(spec, { out });
    const cfg = (n: string, f: string) => path.join(out, n, f);
    const proxies: Partial<Record<'lb1' | 'lb2', RunningNginx>> = {};
    const start = async (node: 'lb1' | 'lb2') => {
      if (engine === 'nginx') proxies[node] = await startLabNginx(lab, node, cfg(node, 'nginx.conf'));
      else await lab.startHaproxy(node, cfg(node, 'haproxy.cfg'));
    };
    const kill = async (node: 'lb1' | 'lb2') => (engine === 'nginx' ? killNginx(proxies[node]!) : lab.killHaproxy(node));
    await lab.startBackends();
    await start('lb1');
    await start('lb2');
    await lab.startKeepalived('lb1', cfg('lb1', 'keepalived.conf'));
    await lab.startKeepalived('lb2', cfg('lb2', 'keepalived.conf'));
    for (let i = 0; i < runs; i++) {
      await lab.waitVip('lb1', 20_000);
      await lab.waitAnsweredVia(LAB_NET.lb1, 15_000);
      // A random phase against keepalived's 1 s check interval, like a real crash.
      await sleep(300 + Math.floor(Math.random() * 1000));
      const client = lab.startClient(20, 300);
      await sleep(300);
      const t0 = Date.now();
      await kill('lb1');
      let first: ClientSample | undefined;
      const deadline = Date.now() + 15_000;
      while (!first && Date.now() < deadline) {
        await sleep(20);
        first = client.samples.find((s) => s.t >= t0 && s.ok && s.body?.endsWith(`via ${LAB_NET.lb2}`));
      }
      await sleep(1500);
      await client.stop();
      if (!first) throw new Error(`${engine} run ${i + 1}: no request succeeded via lb2 within 15 s`);
      const after = client.samples.filter((s) => s.t > first!.t);
      const run = { failoverMs: first.done - t0, failedAfter: after.filter((s) => !s.ok).length, requestsAfter: after.length };
      results.push(run);
      process.stderr.write(`  ${engine} run ${i + 1}: ${run.failoverMs} ms, ${run.failedAfter}/${run.requestsAfter} failed after the move\n`);
      await start('lb1');
    }
  } finally {
    await lab.destroy();
  }
  return results;
}

function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  return { min: s[0], median: s[Math.floor(s.length / 2)], max: s[s.length - 1] };
}

async function main(): Promise<void> {
  const runs = arg('--runs', 5);
  process.stderr.write(`failover-nginx bench: ${runs} run(s) per engine\n`);
  const res: Record<Engine, Run[]> = { haproxy: await scenario('haproxy', runs), nginx: await scenario('nginx', runs) };
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
