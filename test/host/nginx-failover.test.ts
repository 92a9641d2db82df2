/**
 * A keepalived + nginx pair in network namespaces (the failover lab of
 * test/support/keepalived-lab.ts, namespaces prefixed ng*-): nginx.conf and keepalived.conf
 * from `lbctl config generate`, lbctl's default chk_nginx asking each node's own nginx on its
 * loopback health listener. Killing nginx on the MASTER moves the VIP, and requests through it
 * succeed via the BACKUP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { FailoverLab, LAB_NET, lbctl } from '../support/keepalived-lab.js';
import { killNginx, nginxLabSpec, startLabNginx } from '../support/nginx-lab.js';

test('keepalived + nginx: kill nginx on the MASTER, the VIP moves and requests succeed via the BACKUP', { timeout: 90_000 }, async () => {
  const lab = await FailoverLab.create(`ng${randomBytes(2).toString('hex')}-`);
  try {
    const spec = path.join(lab.dir, 'lab.yaml');
    await fs.writeFile(spec, nginxLabSpec());
    const out = path.join(lab.dir, 'gen');
    const gen = await lbctl(['config', 'generate', spec, '--out', out, '--json']);
    assert.equal(gen.exitCode, 0, gen.stderr);
    assert.deepEqual(gen.json.files.map((f: any) => `${f.node}/${f.name}`).sort(), ['lb1/keepalived.conf', 'lb1/nginx.conf', 'lb2/keepalived.conf', 'lb2/nginx.conf']);
    const cfg = (node: string, f: string) => path.join(out, node, f);
    assert.match(await fs.readFile(cfg('lb1', 'keepalived.conf'), 'utf8'), /vrrp_script chk_nginx/);

    await lab.startBackends();
    const n1 = await startLabNginx(lab, 'lb1', cfg('lb1', 'nginx.conf'));
    await startLabNginx(lab, 'lb2', cfg('lb2', 'nginx.conf'));
    await lab.startKeepalived('lb1', cfg('lb1', 'keepalived.conf'));
    await lab.startKeepalived('lb2', cfg('lb2', 'keepalived.conf'));

    await lab.waitVip('lb1');
    await lab.waitAnsweredVia(LAB_NET.lb1);
    const before = [];
    for (let i = 0; i < 6; i++) before.push(await lab.request('/', 2));
    assert.ok(before.every((r) => r.ok));
    assert.deepEqual(new Set(before.map((r) => r.body)), new Set([`be1 via ${LAB_NET.lb1}`, `be2 via ${LAB_NET.lb1}`]));

    await killNginx(n1);
    const moved = await lab.waitVip('lb2');
    await lab.waitAnsweredVia(LAB_NET.lb2);
    const afterMove = [];
    for (let i = 0; i < 6; i++) afterMove.push(await lab.request('/', 2));
    assert.ok(afterMove.every((r) => r.ok), JSON.stringify(afterMove));
    assert.ok(afterMove.every((r) => r.body.endsWith(`via ${LAB_NET.lb2}`)));
    assert.ok(moved < 5000, `VIP took ${moved} ms to move`);
    assert.match(await lab.keepalivedLog('lb1'), /VRRP_Script\(chk_nginx\) failed/);

    // nginx back on lb1: the check rises and lb1 takes the VIP back.
    await startLabNginx(lab, 'lb1', cfg('lb1', 'nginx.conf'));
    await lab.waitVip('lb1');
    await lab.waitAnsweredVia(LAB_NET.lb1);
  } finally {
    await lab.destroy();
  }
});
