/**
 * ha: pacemaker with the real tools, no running cluster: `config check` runs corosync -t,
 * crm_verify, crm configure verify, crm_simulate and the fence agents' metadata on the
 * example; a wrong fence parameter is a spec finding at its file:line; a broken corosync.conf
 * and a wrong OCF parameter are caught; the CIB load plans nothing the second time; the ha
 * operations refuse unknown names and are idempotent, against a CIB file (CIB_file).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { parseSpec } from '../../src/cluster/load.js';
import { expandPacemaker } from '../../src/pacemaker/model.js';
import { checkCib, checkCorosync } from '../../src/pacemaker/check.js';
import { renderCorosync } from '../../src/pacemaker/corosync.js';
import { renderCib } from '../../src/pacemaker/resources.js';
import { applyCib, planCib, readScopes } from '../../src/pacemaker/install.js';
import { lbctl } from '../support/keepalived-lab.js';

const root = lbctlRoot();
const exampleFile = path.join(root, 'examples', 'pacemaker-haproxy.yaml');
const example = await fs.readFile(exampleFile, 'utf8');
const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pm-offline-'));
after(async () => { await fs.rm(dir, { recursive: true, force: true }); });
const model = expandPacemaker(parseSpec(example, 'x.yaml').spec!)!;

test('config check accepts the example: every generated file passes its tool', { timeout: 120_000 }, async () => {
  const r = await lbctl(['config', 'check', exampleFile, '--json']);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.json.ok, true);
  const files = r.json.files.map((f: { node: string; file: string; ok: boolean }) => `${f.node}/${f.file}:${f.ok}`).sort();
  assert.deepEqual(files, ['server1/cib.xml:true', 'server1/corosync.conf:true', 'server1/haproxy.cfg:true', 'server1/resources.crm:true',
    'server4/cib.xml:true', 'server4/corosync.conf:true', 'server4/haproxy.cfg:true', 'server4/resources.crm:true']);
});

test('a wrong fence agent parameter: exit 3, one line at the parameter\'s file:line', { timeout: 60_000 }, async () => {
  const spec = path.join(dir, 'bad-param.yaml');
  await fs.writeFile(spec, example.replace('lanplus: 1 }', 'lanplusx: 1 }'));
  const r = await lbctl(['config', 'check', spec]);
  assert.equal(r.exitCode, 3, r.stderr);
  const line = example.split('\n').findIndex((l) => l.includes('172.25.29.201')) + 1;
  assert.match(r.stderr, new RegExp(`bad-param\\.yaml:${line}:\\d+: pacemaker\\.fencing\\[0\\]\\.params\\.lanplusx: fence_ipmilan has no parameter "lanplusx"`));
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('an unknown node: exit 3 at file:line, before any tool runs', async () => {
  const spec = path.join(dir, 'bad-node.yaml');
  await fs.writeFile(spec, example.replace('preferred_node: server1', 'preferred_node: server9'));
  const r = await lbctl(['config', 'check', spec]);
  assert.equal(r.exitCode, 3);
  const line = example.split('\n').findIndex((l) => l.includes('preferred_node')) + 1;
  assert.match(r.stderr, new RegExp(`bad-node\\.yaml:${line}:\\d+: pacemaker\\.preferred_node: unknown node "server9"`));
});

test('a broken corosync.conf is caught by corosync -t; the rendered one passes', { timeout: 60_000 }, async () => {
  const good = renderCorosync(model, []);
  assert.deepEqual(await checkCorosync(model, good), { ok: true, errors: [], warnings: [] });
  const bad = await checkCorosync(model, good.replace('transport: knet', 'transport: knetx'));
  assert.equal(bad.ok, false);
  assert.match(bad.errors[0], /corosync\.conf: .*Invalid transport type/);
  // A ring address that is not on this node's list of nodes: corosync refuses to start.
  const none = await checkCorosync({ ...model, nodes: model.nodes.map((n) => ({ ...n, ring: ['10.95.9.9'] })) }, good.replace(/ring0_addr: 172\.25\.29\.1$/m, 'ring0_addr: 10.95.9.8'));
  assert.equal(none.ok, false, JSON.stringify(none));
});

test('a wrong OCF parameter in the CIB is caught by crm configure verify', { timeout: 60_000 }, async () => {
  const cib = renderCib(model, []);
  const r = await checkCib(model, cib.replace('name="cidr_netmask"', 'name="cidr_netmaskx"'));
  assert.equal(r.ok, false);
  assert.ok(r.errors.some((e) => /cidr_netmaskx/.test(e)), JSON.stringify(r.errors));
});

test('CIB load: the first plan loads the owned scopes, the second plans nothing, a changed spec replaces one scope', { timeout: 60_000 }, async () => {
  const file = path.join(dir, 'cib-load.xml');
  await fs.writeFile(file, (await execa('cibadmin', ['--empty'])).stdout);
  process.env.CIB_file = file;
  try {
    const first = planCib(await readScopes(), model);
    assert.deepEqual(first.map((c) => c.id), ['crm_config', 'resources', 'constraints', 'rsc_defaults']);
    await applyCib(first);
    assert.deepEqual(planCib(await readScopes(), model), []);
    const changed = planCib(await readScopes(), { ...model, stickiness: 200 });
    assert.deepEqual(changed.map((c) => `${c.action}${c.id}`), ['~rsc_defaults']);
  } finally {
    delete process.env.CIB_file;
  }
});

test('ha standby/online against a CIB file: idempotent, unknown node exit 4', { timeout: 180_000 }, async () => {
  const file = path.join(dir, 'cib-ops.xml');
  await fs.copyFile(path.join(root, 'test', 'fixtures', 'pacemaker', 'cib-running.xml'), file);
  const env = { ...process.env, CIB_file: file };
  const run = (args: string[]) => execa('node', [path.join(root, 'bin', 'run.js'), ...args], { env, reject: false });
  const unknown = await run(['ha', 'standby', 'server9']);
  assert.equal(unknown.exitCode, 4);
  assert.match(unknown.stderr, /node server9 is not in the cluster \(use one of: server1, server4\)/);
  const a = JSON.parse((await run(['ha', 'standby', 'server4', '--json'])).stdout);
  assert.equal(a.changed, true);
  const b = JSON.parse((await run(['ha', 'standby', 'server4', '--json'])).stdout);
  assert.equal(b.changed, false);
  assert.equal(JSON.parse((await run(['ha', 'status', '--json'])).stdout).nodes.find((n: { name: string }) => n.name === 'server4').standby, true);
  assert.equal(JSON.parse((await run(['ha', 'online', 'server4', '--json'])).stdout).changed, true);
  assert.equal(JSON.parse((await run(['ha', 'online', 'server4', '--json'])).stdout).changed, false);
});

test('ha move against a CIB file: the first move updates, the same move again is unchanged', { timeout: 120_000 }, async () => {
  const file = path.join(dir, 'cib-move.xml');
  await fs.copyFile(path.join(root, 'test', 'fixtures', 'pacemaker', 'cib-running.xml'), file);
  const env = { ...process.env, CIB_file: file };
  const move = async (node: string) => {
    const r = await execa('node', [path.join(root, 'bin', 'run.js'), 'ha', 'move', 'article002-lb', node, '--json'], { env, reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const first = await move('server4');
  assert.deepEqual([first.changed, first.action], [true, 'updated']);
  const again = await move('server4');
  assert.deepEqual([again.changed, again.action, again.command], [false, 'unchanged', undefined]);
  assert.match((await execa('cibadmin', ['--query', '--scope', 'constraints'], { env })).stdout, /id="cli-prefer-article002-lb"[^>]*node="server4"/);
});

test('config install --root of an acknowledged fencing: none spec: exit 0, the warning printed, a second run changes nothing', { timeout: 360_000 }, async () => {
  const spec = path.join(dir, 'no-fencing.yaml');
  const fencing = example.slice(example.indexOf('  fencing:'), example.indexOf('haproxy:\n'));
  await fs.writeFile(spec, example.replace(fencing, '  fencing: none\n  acknowledge_no_fencing: true\n'));
  const target = path.join(dir, 'no-fencing-root');
  const first = await lbctl(['config', 'install', spec, '--node', 'server1', '--root', target]);
  assert.equal(first.exitCode, 0, first.stderr);
  assert.match(first.stderr, /note: cib\.xml: fencing: none: without fencing both nodes can hold the VIP/);
  assert.doesNotMatch(first.stderr, /lack of quorum/);
  assert.match(await fs.readFile(path.join(target, 'etc', 'lbctl', 'pacemaker', 'resources.crm'), 'utf8'), /stonith-enabled=false/);
  const again = await lbctl(['config', 'install', spec, '--node', 'server1', '--root', target, '--json']);
  assert.equal(again.exitCode, 0, again.stderr);
  assert.equal(again.json.changed, false);
  assert.ok(again.json.warnings.some((w: string) => /fencing: none/.test(w)), JSON.stringify(again.json.warnings));
});
