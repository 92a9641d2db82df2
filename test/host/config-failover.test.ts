/**
 * Failover end to end, in network namespaces on a bridge (src/keepalived/lab.ts): haproxy and
 * keepalived run from files `lbctl config generate` wrote, with the generated defaults.
 * The VIP's place is read with `ip addr` in both namespaces; client requests go through it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { FailoverLab, LAB_NET, labSpec, lbctl, sleep } from '../support/keepalived-lab.js';

/** A few requests; the set of (backend, load balancer) pairs that answered. */
async function probe(lab: FailoverLab, n = 6): Promise<{ bodies: string[]; failures: number }> {
  const bodies: string[] = [];
  let failures = 0;
  for (let i = 0; i < n; i++) {
    const r = await lab.request('/', 2);
    if (r.ok) bodies.push(r.body); else failures++;
  }
  return { bodies, failures };
}


test('failover: kill haproxy, restart it, stop keepalived; the VIP follows and requests succeed', { timeout: 90_000 }, async () => {
  const lab = await FailoverLab.create();
  try {
    const spec = path.join(lab.dir, 'lab.yaml');
    await fs.writeFile(spec, labSpec());
    const out = path.join(lab.dir, 'gen');
    const gen = await lbctl(['config', 'generate', spec, '--out', out, '--json']);
    assert.equal(gen.exitCode, 0, gen.stderr);
    assert.equal(gen.json.files.length, 4);
    const cfg = (node: string, f: string) => path.join(out, node, f);

    await lab.startBackends();
    await lab.startHaproxy('lb1', cfg('lb1', 'haproxy.cfg'));
    await lab.startHaproxy('lb2', cfg('lb2', 'haproxy.cfg'));
    await lab.startKeepalived('lb1', cfg('lb1', 'keepalived.conf'));
    await lab.startKeepalived('lb2', cfg('lb2', 'keepalived.conf'));

    // 1. lb1 is MASTER; the client reaches both backends through the VIP, via lb1.
    await lab.waitVip('lb1');
    await lab.waitAnsweredVia(LAB_NET.lb1);
    const p1 = await probe(lab);
    assert.equal(p1.failures, 0);
    assert.deepEqual(new Set(p1.bodies), new Set([`be1 via ${LAB_NET.lb1}`, `be2 via ${LAB_NET.lb1}`]));

    // 2. Kill haproxy on the MASTER: the VIP moves to lb2 and requests succeed via lb2.
    await lab.killHaproxy('lb1');
    const moved = await lab.waitVip('lb2');
    assert.equal(await lab.hasVip('lb1'), false);
    assert.equal(await lab.hasVip('lb2'), true);
    await lab.waitAnsweredVia(LAB_NET.lb2);
    const p2 = await probe(lab);
    assert.equal(p2.failures, 0);
    assert.deepEqual(new Set(p2.bodies), new Set([`be1 via ${LAB_NET.lb2}`, `be2 via ${LAB_NET.lb2}`]));
    assert.ok(moved < 5000, `VIP took ${moved} ms to move`);

    // 3. Restart haproxy on lb1: the check rises again and lb1 preempts the VIP back.
    await lab.startHaproxy('lb1', cfg('lb1', 'haproxy.cfg'));
    await lab.waitVip('lb1');
    await lab.waitAnsweredVia(LAB_NET.lb1);
    assert.equal((await probe(lab, 4)).failures, 0);

    // 4. Stop keepalived on the MASTER: same again.
    await lab.stopKeepalived('lb1');
    await lab.waitVip('lb2');
    await lab.waitAnsweredVia(LAB_NET.lb2);
    const p4 = await probe(lab);
    assert.equal(p4.failures, 0);
    assert.ok(p4.bodies.every((b) => b.endsWith(`via ${LAB_NET.lb2}`)));

    // Both logs tell the same story as ip addr.
    assert.match(await lab.keepalivedLog('lb2'), /\(VI_1\) Entering MASTER STATE/);
    assert.match(await lab.keepalivedLog('lb1'), /VRRP_Script\(chk_haproxy\) failed/);
  } finally {
    await lab.destroy();
  }
});
