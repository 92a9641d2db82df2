/**
 * ha: pacemaker with real daemons: one two-node corosync + pacemaker cluster booted in
 * namespaces from lbctl's generated files (test/support/pacemaker-lab.ts), a client probing the
 * VIP every 100 ms. Standby moves the VIP and haproxy, online + move brings them back, power-off
 * of the holder moves them to the survivor. The VIP is never held by both nodes. Each case prints
 * its outage (first failed probe to the first good one).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { PacemakerLab, pacemakerSpec, outage, type NodeName, type Probe } from '../support/pacemaker-lab.js';
import { sleep } from '../support/keepalived-lab.js';

let lab: PacemakerLab;
let prober: { samples: Probe[]; stop: () => Promise<void> } | undefined;

before(async () => {
  lab = await PacemakerLab.create();
  await lab.install(pacemakerSpec());
  await lab.boot('pl1');
  await lab.boot('pl2');
  await lab.waitOnline(60_000);
  await lab.loadResources();
  await waitAnswer('pl1', 60_000);
  prober = lab.startProber(100);
}, { timeout: 180_000 });

after(async () => {
  await prober?.stop().catch(() => undefined);
  await lab?.destroy();
});

async function waitAnswer(node: NodeName, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const p = await lab.probe();
    if (p.ok && p.node === node && p.holders.length === 1 && p.holders[0] === node) return;
    await sleep(200);
  }
  throw new Error(`the VIP did not answer from ${node} within ${ms} ms`);
}

async function report(label: string, t0: number, want: NodeName): Promise<number> {
  // The prober samples every 100 ms: let it record the answer waitAnswer just saw.
  await sleep(500);
  const o = outage(prober!.samples, t0, want);
  assert.ok(o, `${label}: no probe answered from ${want}`);
  process.stderr.write(`# ${label}: outage ${o.ms} ms (${o.failed} failed probes), answered by ${want} ${o.firstGood!.t - t0} ms after the command\n`);
  return o.ms;
}

function neverTwice(): void {
  const both = prober!.samples.filter((s) => s.holders.length > 1);
  assert.equal(both.length, 0, `VIP held by both nodes in ${both.length} probes`);
}

test('ha standby pl1 --wait moves the VIP and haproxy to pl2', { timeout: 90_000 }, async () => {
  const t0 = Date.now();
  const r = await lab.lbctlIn('pl1', ['ha', 'standby', 'pl1', '--wait', '--json']);
  assert.equal(r.exitCode, 0, String(r.stderr));
  assert.equal(JSON.parse(String(r.stdout)).changed, true);
  await waitAnswer('pl2', 15_000);
  await report('standby pl1', t0, 'pl2');
  const again = await lab.lbctlIn('pl1', ['ha', 'standby', 'pl1', '--json']);
  assert.equal(JSON.parse(String(again.stdout)).changed, false, 'a second standby changes nothing');
  neverTwice();
});

test('ha online pl1 + ha move brings them back to pl1', { timeout: 90_000 }, async () => {
  const on = await lab.lbctlIn('pl2', ['ha', 'online', 'pl1', '--wait', '--json']);
  assert.equal(on.exitCode, 0, String(on.stderr));
  // Stickiness keeps the group on pl2 once pl1 is back: the move is explicit.
  await sleep(500);
  const t0 = Date.now();
  const mv = await lab.lbctlIn('pl2', ['ha', 'move', 'pllab-lb', 'pl1', '--wait', '--json']);
  assert.equal(mv.exitCode, 0, String(mv.stdout) + String(mv.stderr));
  await waitAnswer('pl1', 15_000);
  await report('move back to pl1', t0, 'pl1');
  neverTwice();
});

test('power-off of the holder moves the VIP and haproxy to the survivor', { timeout: 90_000 }, async () => {
  await sleep(1000);
  const t0 = Date.now();
  await lab.powerOff('pl1');
  await waitAnswer('pl2', 30_000);
  const ms = await report('power-off pl1', t0, 'pl2');
  assert.ok(ms < 10_000, `power-off outage ${ms} ms`);
  neverTwice();
});
