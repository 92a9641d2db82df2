/**
 * `lbctl config install` and `config diff` for real: files under --root, idempotent
 * ("unchanged", no backup), --dry-run writes nothing, and --reload reloads a master-worker
 * haproxy (SIGUSR2) and keepalived (SIGHUP) running in a namespace. The new config must take
 * effect (a new response header, a new VIP seen with ip addr) while a response that was
 * streaming through the old haproxy worker completes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { FailoverLab, LAB_NET, labSpec, lbctl, sleep } from '../support/keepalived-lab.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

const NEW_VIP = '10.77.0.101';

async function hasAddr(lab: FailoverLab, ns: 'lb1', addr: string): Promise<boolean> {
  const out = (await execa('ip', ['-n', lab.ns(ns), '-j', '-4', 'addr', 'show', 'dev', 'eth0'])).stdout;
  return (JSON.parse(out) as Array<{ addr_info: Array<{ local: string }> }>).some((i) => i.addr_info.some((a) => a.local === addr));
}

test('install: atomic, idempotent, dry-run, diff, and --reload without dropping a connection', { timeout: 300_000 }, async () => {
  const lab = await FailoverLab.create();
  try {
    const root = path.join(lab.dir, 'root');
    const spec = path.join(lab.dir, 'lab.yaml');
    await fs.writeFile(spec, labSpec());
    const hcfg = path.join(root, 'etc/haproxy/haproxy.cfg');
    const kcfg = path.join(root, 'etc/keepalived/keepalived.conf');

    // First install creates both files; a second one changes nothing.
    const first = await lbctl(['config', 'install', spec, '--node', 'lb1', '--root', root, '--json']);
    assert.equal(first.exitCode, 0, first.stderr);
    assert.deepEqual(first.json.files.map((f: any) => f.action), ['created', 'created']);
    const again = await lbctl(['config', 'install', spec, '--node', 'lb1', '--root', root]);
    assert.equal(again.exitCode, 0);
    assert.match(again.stdout, /^unchanged$/m);
    assert.equal(await fs.access(`${hcfg}.lbctl-bak`).then(() => true, () => false), false, 'no backup when nothing changed');
    const noDiff = await lbctl(['config', 'diff', spec, '--node', 'lb1', '--root', root, '--exit-code']);
    assert.equal(noDiff.exitCode, 0);
    assert.match(noDiff.stdout, /No changes\./);

    // Run the daemons from the installed files: haproxy in master-worker mode.
    await lab.startBackends();
    const master = await lab.startHaproxy('lb1', hcfg, { masterWorker: true });
    await lab.startKeepalived('lb1', kcfg);
    await lab.waitVip('lb1');

    // The new spec: a response header from haproxy and a second VIP.
    await fs.writeFile(spec, labSpec({ backendExtra: ['http-response set-header X-Lbctl-Gen v2'] }).replace(`vips: [${LAB_NET.vip}/24]`, `vips: [${LAB_NET.vip}/24, ${NEW_VIP}/24]`));
    const before = await fs.readFile(hcfg, 'utf8');

    const dry = await lbctl(['config', 'install', spec, '--node', 'lb1', '--root', root, '--dry-run', '--json']);
    assert.equal(dry.exitCode, 0, dry.stderr);
    assert.equal(dry.json.changed, true);
    assert.deepEqual(dry.json.files.map((f: any) => f.action), ['updated', 'updated']);
    assert.equal(await fs.readFile(hcfg, 'utf8'), before, 'dry run wrote nothing');

    const diff = await lbctl(['config', 'diff', spec, '--node', 'lb1', '--root', root, '--exit-code']);
    assert.equal(diff.exitCode, ExitCode.ChangesPending);
    assert.match(diff.stdout, /^\+\s+http-response set-header X-Lbctl-Gen v2$/m);
    assert.match(diff.stdout, new RegExp(`^\\+\\s+${NEW_VIP.replace(/\./g, '\\.')}/24$`, 'm'));

    // A slow response (3 s) through the old worker, started before the reload.
    const slow = execa('ip', ['netns', 'exec', lab.ns('cl'), 'curl', '-sS', '--max-time', '15', `http://${LAB_NET.lb1}/slow`], { reject: false });
    await sleep(700);

    const inst = await lbctl(['config', 'install', spec, '--node', 'lb1', '--root', root, '--reload', '--json',
      '--haproxy-pidfile', lab.pidfile('lb1', 'haproxy'), '--keepalived-pidfile', lab.pidfile('lb1', 'keepalived')]);
    assert.equal(inst.exitCode, 0, inst.stdout + inst.stderr);
    const [hf, kf] = inst.json.files;
    assert.equal(hf.action, 'updated');
    assert.equal(hf.reload.method, 'signal');
    assert.equal(hf.reload.pid, master);
    assert.equal(kf.reload.method, 'signal');
    assert.equal(await fs.readFile(`${hcfg}.lbctl-bak`, 'utf8'), before, 'the replaced file is kept as backup');

    // The new haproxy config took effect: the header is on new responses.
    let header = false;
    for (let i = 0; i < 40 && !header; i++) {
      const r = await execa('ip', ['netns', 'exec', lab.ns('cl'), 'curl', '-sSi', '--max-time', '2', `http://${LAB_NET.vip}/`], { reject: false });
      header = /^x-lbctl-gen: v2\r?$/im.test(String(r.stdout));
      if (!header) await sleep(100);
    }
    assert.ok(header, 'new responses carry the header from the new config');
    // keepalived took the new config: the second VIP is on lb1.
    let vip = false;
    for (let i = 0; i < 100 && !vip; i++) { vip = await hasAddr(lab, 'lb1', NEW_VIP); if (!vip) await sleep(100); }
    assert.ok(vip, `${NEW_VIP} appeared after SIGHUP`);
    // The connection established before the reload was not dropped.
    const s = await slow;
    assert.equal(s.exitCode, 0, String(s.stderr));
    assert.match(String(s.stdout), /^\.{30} done be[12]$/);

    // Installed == generated now.
    const after = await lbctl(['config', 'install', spec, '--node', 'lb1', '--root', root, '--reload', '--json']);
    assert.equal(after.json.changed, false);
    assert.equal(after.json.files.every((f: any) => f.reload === undefined), true, 'nothing changed, nothing reloaded');
  } finally {
    await lab.destroy();
  }
});

test('reload refuses a haproxy without a master (a reload would drop connections)', { timeout: 180_000 }, async () => {
  const lab = await FailoverLab.create();
  try {
    const root = path.join(lab.dir, 'root');
    const spec = path.join(lab.dir, 'lab.yaml');
    await fs.writeFile(spec, labSpec());
    assert.equal((await lbctl(['config', 'install', spec, '--node', 'lb1', '--root', root])).exitCode, 0);
    await lab.startHaproxy('lb1', path.join(root, 'etc/haproxy/haproxy.cfg'));
    await fs.writeFile(spec, labSpec({ backendExtra: ['http-response set-header X-Lbctl-Gen v3'] }));
    const hcfg = path.join(root, 'etc/haproxy/haproxy.cfg');
    const before = await fs.readFile(hcfg, 'utf8');
    const r = await lbctl(['config', 'install', spec, '--node', 'lb1', '--root', root, '--reload', '--haproxy-pidfile', lab.pidfile('lb1', 'haproxy')]);
    assert.equal(r.exitCode, ExitCode.Rejected, r.stderr);
    assert.match(r.stderr, /not a master-worker haproxy/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    // Refused in the plan, before anything was written: a reload that cannot happen writes nothing.
    assert.equal(await fs.readFile(hcfg, 'utf8'), before);
    assert.equal(await fs.access(`${hcfg}.lbctl-bak`).then(() => true, () => false), false);
  } finally {
    await lab.destroy();
  }
});
