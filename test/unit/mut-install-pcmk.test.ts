/**
 * installNode (src/cluster/install.ts) for an `ha: pacemaker` node under a temp --root, the part
 * Stryker found untested (the pcmk step: whether installPacemaker runs, with the dry run passed
 * on, and when its report makes the install `changed`). The pacemaker files' offline checks
 * run corosync, crm_verify, crm, crm_simulate, cibadmin and ip from PATH: here stand-ins that
 * accept every file, put first on PATH for these tests only (the real checks have their own
 * tests). Under a temp root installPacemaker only creates the authkey: its reload and CIB steps
 * need root '/' and a running cluster (host tests). Temp dirs: /tmp/m2-pcmk-*.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkBehaviour, useFakeDaemonChecks } from '../support/fake-daemons.js';
import { installSpec } from '../support/install-spec.js';

process.env.LBCTL_LOCK_DIR = path.join(useFakeDaemonChecks(), 'locks');
const { installNode } = await import('../../src/cluster/install.js');

const checkout = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const tools = mkdtempSync(path.join(os.tmpdir(), 'm2-pcmk-tools-'));
process.once('exit', () => rmSync(tools, { recursive: true, force: true }));
for (const t of ['ip', 'corosync', 'crm_verify', 'crm', 'crm_simulate', 'cibadmin']) writeFileSync(path.join(tools, t), '#!/bin/sh\nexit 0\n', { mode: 0o755 });

async function withStandIns<T>(fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PATH;
  process.env.PATH = `${tools}:${saved}`;
  try { return await fn(); } finally { process.env.PATH = saved; }
}

async function pcmkCase(): Promise<{ dir: string; spec: string; root: string; key: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'm2-pcmk-'));
  const spec = path.join(dir, 'spec.yaml');
  await fs.copyFile(path.join(checkout, 'examples', 'pacemaker-haproxy.yaml'), spec);
  const root = path.join(dir, 'root');
  return { dir, spec, root, key: path.join(root, 'etc/corosync/authkey') };
}

const exists = (p: string) => fs.lstat(p).then(() => true, () => false);

test('ha: pacemaker: the dry run creates no authkey but says it would; the install creates it 0400; the repeat changes nothing; a lost authkey alone is a change', async (t) => {
  checkBehaviour({});
  const c = await pcmkCase();
  t.after(() => fs.rm(c.dir, { recursive: true, force: true }));
  const opts = { node: 'server1', root: c.root, netns: 'never' as const, lockTimeoutMs: 1000 };
  await withStandIns(async () => {
    const dry = await installNode(c.spec, { ...opts, dryRun: true });
    assert.deepEqual(dry.pacemaker, { authkey: 'created', corosyncReloaded: false, cib: [], clusterRunning: false });
    assert.equal(dry.changed, true);
    assert.equal(await exists(c.key), false, 'a dry run writes no authkey');
    assert.equal(await exists(c.root), false, 'nor anything else');

    const r = await installNode(c.spec, opts);
    assert.equal(r.pacemaker?.authkey, 'created');
    assert.equal(r.changed, true);
    assert.equal((await fs.stat(c.key)).mode & 0o777, 0o400);
    assert.ok(r.files.some((f) => f.file === 'corosync.conf' && f.changed));

    const again = await installNode(c.spec, opts);
    assert.deepEqual(again.pacemaker, { authkey: 'unchanged', corosyncReloaded: false, cib: [], clusterRunning: false });
    assert.equal(again.changed, false, 'nothing to do: not changed');
    assert.ok(again.files.every((f) => !f.changed));

    // The files as they are, the authkey gone: the authkey alone makes it a change.
    await fs.rm(c.key);
    const key = await installNode(c.spec, opts);
    assert.ok(key.files.every((f) => !f.changed));
    assert.equal(key.pacemaker?.authkey, 'created');
    assert.equal(key.changed, true);
    const dryKey = await fs.rm(c.key).then(() => installNode(c.spec, { ...opts, dryRun: true }));
    assert.deepEqual([dryKey.changed, dryKey.pacemaker?.authkey, await exists(c.key)], [true, 'created', false]);
  });
});

test('a node without pacemaker gets no pacemaker step: no report, no authkey', async (t) => {
  checkBehaviour({});
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'm2-pcmk-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const c = await installSpec(dir);
  const r = await installNode(c.spec, { node: 'lb1', root: c.root, netns: 'never', lockTimeoutMs: 1000 });
  assert.equal(r.pacemaker, undefined);
  assert.equal(await exists(path.join(c.root, 'etc/corosync')), false);
});
