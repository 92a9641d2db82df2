/**
 * The measuring loop shared by the keepalived-pair failover benches (bench/failover.ts with
 * haproxy, bench/failover-nginx.ts with haproxy and nginx side by side): with a client probing
 * the VIP, kill the proxy on the MASTER and time the first request answered via the BACKUP.
 */
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { generateFiles } from '../../src/cluster/generate.js';
import { FailoverLab, LAB_NET, sleep, type ClientSample } from '../../test/support/keepalived-lab.js';

export type LabNode = 'lb1' | 'lb2';

export interface FailoverRun {
  failoverMs: number;
  /** Requests started after the first success via the BACKUP, and how many of them failed. */
  requestsAfter: number;
  failedAfter: number;
  /** Requests that failed between the kill and that first success. */
  failedBefore: number;
}

export interface ProxyOps {
  /** Start the proxy on a node from the generated files in `gen` (DIR/<node>/<file>). */
  start(lab: FailoverLab, node: LabNode, gen: string): Promise<void>;
  kill(lab: FailoverLab, node: LabNode): Promise<void>;
}

export function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
}

export function stats(xs: number[]) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { min: s[0], median: q(0.5), max: s[s.length - 1], mean: Math.round(s.reduce((a, b) => a + b, 0) / s.length) };
}

/** One lab from `specText`, `runs` kills of the MASTER's proxy, the lab torn down even on failure. */
export async function measureFailovers(label: string, specText: string, proxy: ProxyOps, runs: number, prefix?: string): Promise<FailoverRun[]> {
  const lab = await FailoverLab.create(prefix);
  const results: FailoverRun[] = [];
  try {
    const spec = path.join(lab.dir, 'lab.yaml');
    await fs.writeFile(spec, specText);
    const gen = path.join(lab.dir, 'gen');
    await generateFiles(spec, { out: gen });
    await lab.startBackends();
    await proxy.start(lab, 'lb1', gen);
    await proxy.start(lab, 'lb2', gen);
    await lab.startKeepalived('lb1', path.join(gen, 'lb1', 'keepalived.conf'));
    await lab.startKeepalived('lb2', path.join(gen, 'lb2', 'keepalived.conf'));
    for (let i = 0; i < runs; i++) {
      await lab.waitVip('lb1', 20_000);
      await lab.waitAnsweredVia(LAB_NET.lb1, 15_000);
      // A random phase against keepalived's 1 s check interval, like a real crash.
      await sleep(300 + Math.floor(Math.random() * 1000));
      const client = lab.startClient(20, 300);
      await sleep(300);
      const t0 = Date.now();
      await proxy.kill(lab, 'lb1');
      let first: ClientSample | undefined;
      const deadline = Date.now() + 15_000;
      while (!first && Date.now() < deadline) {
        await sleep(20);
        first = client.samples.find((s) => s.t >= t0 && s.ok && s.body?.endsWith(`via ${LAB_NET.lb2}`));
      }
      await sleep(1500);
      await client.stop();
      if (!first) throw new Error(`${label} run ${i + 1}: no request succeeded via lb2 within 15 s`);
      const firstOk = first;
      const after = client.samples.filter((s) => s.t > firstOk.t);
      const run: FailoverRun = {
        failoverMs: firstOk.done - t0,
        failedAfter: after.filter((s) => !s.ok).length,
        requestsAfter: after.length,
        failedBefore: client.samples.filter((s) => s.t >= t0 && s.t <= firstOk.t && !s.ok).length,
      };
      results.push(run);
      process.stderr.write(`  ${label} run ${i + 1}: ${run.failoverMs} ms, ${run.failedAfter}/${run.requestsAfter} failed after the move\n`);
      await proxy.start(lab, 'lb1', gen);
    }
  } finally {
    await lab.destroy();
  }
  return results;
}

/** haproxy as the proxy: the lab's own start/kill. */
export const haproxyOps: ProxyOps = {
  start: async (lab, node, gen) => { await lab.startHaproxy(node, path.join(gen, node, 'haproxy.cfg')); },
  kill: (lab, node) => lab.killHaproxy(node),
};
