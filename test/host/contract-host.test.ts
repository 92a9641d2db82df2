/**
 * The JSON contract for the commands only root can run for real: real-server and director prep,
 * check, unprep, and plan, in network namespaces. Each --json document validates against its
 * schema (test/support/contract.ts); the dry run reports the changes the real run then makes.
 * The unit contract test counts CHECKED_IN_HOST_SUITE as covered, so this file fails when it
 * leaves one of them out.
 *
 * Names: namespaces an-ct-*, temp dirs an-ct-*, addresses 10.95.1.0/24.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CHECKED_IN_HOST_SUITE, runContract as run, validated } from '../support/contract.js';
import { deleteNamespaces, vethNamespace } from '../support/netns.js';

const NS_RS = 'an-ct-rs';
const NS_DIR = 'an-ct-dir';

describe('host prep and plan: --json against the schemas', () => {
  let work = '';
  before(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'an-ct-'));
    process.env.LBCTL_STATE_DIR = path.join(work, 'state');
    process.env.LBCTL_LOCK_DIR = path.join(work, 'locks');
    for (const [i, ns] of [NS_RS, NS_DIR].entries()) await vethNamespace(ns, `10.95.1.${11 + i}/24`, '10.95.1.254');
  });
  after(async () => {
    delete process.env.LBCTL_STATE_DIR;
    delete process.env.LBCTL_LOCK_DIR;
    await deleteNamespaces([NS_RS, NS_DIR]);
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  /** --dry-run --exit-code (10, nothing applied), the real run (same changes), the second run (unchanged). */
  async function converge(argv: string[]) {
    const dry = await run([...argv, '--dry-run', '--exit-code']);
    assert.equal(dry.exitCode, 10, `${argv.join(' ')}: ${dry.stdout}`);
    const real = await run(argv);
    assert.equal(real.exitCode, 0, real.stdout);
    assert.equal(real.json.changed, true);
    const ids = (d: any) => d.items.filter((i: any) => i.changed).map((i: any) => i.item);
    assert.deepEqual(ids(dry.json), ids(real.json), `${argv.join(' ')}: the dry run and the real run differ`);
    const again = await run([...argv, '--exit-code']);
    assert.equal(again.exitCode, 0, again.stdout);
    assert.equal(again.json.changed, false);
  }

  test('realserver and director prep, check, unprep; plan of a spec node; errors', async () => {
    const rs = ['--vip', '10.95.1.100', '--dev', 'eth0', '--netns', NS_RS];
    await converge(['realserver', 'prep', ...rs]);
    const rsCheck = await run(['realserver', 'check', ...rs]);
    assert.equal(rsCheck.exitCode, 0, rsCheck.stdout);
    assert.equal(rsCheck.json.ok, true);
    await converge(['realserver', 'unprep', ...rs]);
    // After unprep the check finds problems: still a result (exit 9), not an error.
    const rsBad = await run(['realserver', 'check', ...rs]);
    assert.equal(rsBad.exitCode, 9, rsBad.stdout);
    assert.equal(rsBad.json.ok, false);

    const dir = ['--mode', 'nat', '--netns', NS_DIR];
    await converge(['director', 'prep', ...dir]);
    // This host's kernel has no IPVS: the check reports that (exit 9) in the result's shape.
    const dirCheck = await run(['director', 'check', ...dir]);
    assert.ok([0, 9].includes(dirCheck.exitCode), dirCheck.stdout);
    await converge(['director', 'unprep', ...dir]);

    const spec = path.join(work, 'cluster.yaml');
    await fs.writeFile(spec, [
      'cluster: an', 'nodes: [{ name: lb1, address: 10.95.1.1/24, interface: eth0 }]', 'director: { mode: dr, nodes: [] }',
      'real_servers: [{ name: rs1, address: 10.95.1.11/24, interface: eth0, mode: dr, vips: [10.95.1.100] }]', ''].join('\n'));
    const plan = await run(['plan', spec, '--node', 'rs1', '--netns', NS_RS, '--exit-code']);
    assert.equal(plan.exitCode, 10, plan.stdout);
    assert.ok(plan.json.plan.changes.some((c: any) => c.id === '10.95.1.100/32 dev lo' || /10\.95\.1\.100/.test(c.id)), plan.stdout);

    for (const bad of [['realserver', 'prep', '--vip', '10.95.1.999', '--netns', NS_RS], ['director', 'prep', '--mode', 'nat', '--netns', 'an-ct-none'], ['plan', spec, '--node', 'nope']]) {
      const r = await run(bad);
      assert.ok([2, 3, 4].includes(r.exitCode), `${bad.join(' ')}: exit ${r.exitCode}`);
      assert.equal(r.json.changed, false);
    }
    assert.deepEqual(CHECKED_IN_HOST_SUITE.filter((id) => !validated.has(id)), [], 'commands this file must validate');
  });
});
