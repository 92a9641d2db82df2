/**
 * `lbctl apply` on this machine (no IPVS here): real servers in fresh namespaces (DR prep, a NAT
 * default route through the director, removal of only what lbctl added), and a proxy node's
 * files under --root checked by the real haproxy. Namespaces ap-*, ports 19100-19199.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { Ajv2020 as Ajv } from 'ajv/dist/2020.js';
import { lbctlRoot, runLbctl } from '../../src/cli/inprocess.js';

const NS = ['ap-rs1', 'ap-rs2'];
let tmp = '';

async function ns(name: string, addr: string, gateway: string) {
  await execa('ip', ['netns', 'add', name]);
  const ip = (...a: string[]) => execa('ip', ['-n', name, ...a]);
  await ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
  await ip('link', 'set', 'lo', 'up');
  await ip('link', 'set', 'eth0', 'up');
  await ip('link', 'set', 'eth1', 'up');
  await ip('addr', 'add', addr, 'dev', 'eth0');
  await ip('route', 'add', 'default', 'via', gateway);
}

before(async () => {
  for (const n of NS) await execa('ip', ['netns', 'del', n], { reject: false });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'ap-host-'));
  process.env.LBCTL_STATE_DIR = path.join(tmp, 'state');
  process.env.LBCTL_LOCK_DIR = path.join(tmp, 'locks');
  await ns('ap-rs1', '10.91.0.11/24', '10.91.0.254');
  await ns('ap-rs2', '10.91.0.12/24', '10.91.0.254');
});
after(async () => {
  for (const n of NS) await execa('ip', ['netns', 'del', n], { reject: false });
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

const spec = (rs1: object, rs2: object, extra: object = {}) => ({
  cluster: 'ap',
  nodes: [{ name: 'lb1', address: '10.91.0.1/24', interface: 'eth0' }],
  director: { mode: 'dr', nodes: [] },
  real_servers: [{ name: 'rs1', address: '10.91.0.11/24', interface: 'eth0', ...rs1 }, { name: 'rs2', address: '10.91.0.12/24', interface: 'eth0', ...rs2 }],
  ...extra,
});

async function write(name: string, doc: object): Promise<string> {
  const f = path.join(tmp, name);
  await fs.writeFile(f, YAML.stringify(doc));
  return f;
}

let validatePlan: ((doc: unknown) => boolean) & { errors?: unknown } | undefined;
/** Every --json document of apply and plan matches schemas/plan.schema.json. */
async function assertSchema(doc: unknown): Promise<void> {
  if (!validatePlan) {
    const schema = JSON.parse(await fs.readFile(path.join(lbctlRoot(), 'schemas', 'plan.schema.json'), 'utf8'));
    validatePlan = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  assert.ok(validatePlan(doc), JSON.stringify(validatePlan.errors));
}

async function apply(file: string, node: string, ...more: string[]) {
  const r = await runLbctl(['apply', file, '--node', node, ...more, '--json']);
  assert.equal(r.exitCode, 0, r.stderr + r.stdout);
  await assertSchema(r.json);
  return r.json;
}

const loAddrs = async (n: string) => (await execa('ip', ['-n', n, '-4', '-o', 'addr', 'show', 'dev', 'lo'])).stdout;
const defaultRoute = async (n: string) => (await execa('ip', ['-n', n, '-4', 'route', 'show', 'default'])).stdout.trim();

test('real servers from the spec: DR prep, NAT route via the director; second apply "No changes."; what leaves the spec is removed only if lbctl added it', async () => {
  const v1 = await write('v1.yaml', spec({ mode: 'dr', vips: ['10.91.0.100'] }, { mode: 'nat', gateway: '10.91.0.1' }));
  const r1 = await apply(v1, 'rs1', '--netns', 'ap-rs1');
  assert.deepEqual(r1.roles, ['realserver']);
  assert.match(await loAddrs('ap-rs1'), /10\.91\.0\.100\/32 .*lo:0/);
  const r2 = await apply(v1, 'rs2', '--netns', 'ap-rs2');
  assert.deepEqual(r2.plan.changes.map((c: any) => `${c.action} ${c.kind} ${c.id}`), ['~ route default via 10.91.0.1']);
  assert.match(await defaultRoute('ap-rs2'), /^default via 10\.91\.0\.1 dev eth0/);
  for (const [node, n] of [['rs1', 'ap-rs1'], ['rs2', 'ap-rs2']]) {
    const again = await apply(v1, node, '--netns', n);
    assert.equal(again.changed, false);
    assert.equal(again.plan.summary, 'No changes.');
    const plan = await runLbctl(['plan', v1, '--node', node, '--netns', n, '--exit-code']);
    assert.equal(plan.exitCode, 0, plan.stdout);
  }
  // A VIP put on lo by hand stays; the spec's VIP changes; rs2 becomes a DR real server.
  await execa('ip', ['-n', 'ap-rs1', 'addr', 'add', '10.91.0.200/32', 'dev', 'lo']);
  const v2 = await write('v2.yaml', spec({ mode: 'dr', vips: ['10.91.0.101'] }, { mode: 'dr', vips: ['10.91.0.101'] }));
  const p = await runLbctl(['plan', v2, '--node', 'rs1', '--netns', 'ap-rs1', '--exit-code', '--json']);
  assert.equal(p.exitCode, 10);
  await assertSchema(p.json);
  assert.deepEqual(p.json.plan.changes.map((c: any) => `${c.action} ${c.kind} ${c.id}`), ['- address 10.91.0.100/32 dev lo', '+ address 10.91.0.101/32 dev lo']);
  await apply(v2, 'rs1', '--netns', 'ap-rs1');
  const lo = await loAddrs('ap-rs1');
  assert.ok(!lo.includes('10.91.0.100/'), lo);
  assert.match(lo, /10\.91\.0\.101\/32/);
  assert.match(lo, /10\.91\.0\.200\/32/, 'the hand-made VIP is left alone');
  const back = await apply(v2, 'rs2', '--netns', 'ap-rs2');
  assert.ok(back.plan.changes.some((c: any) => c.kind === 'route' && c.action === '-'), JSON.stringify(back.plan.changes));
  assert.match(await defaultRoute('ap-rs2'), /^default via 10\.91\.0\.254 /, 'the route lbctl replaced is back');
});

test('a proxy node: files under --root checked by haproxy, written once; a file haproxy refuses changes nothing', async () => {
  const root = path.join(tmp, 'root');
  await fs.mkdir(root);
  const haproxy = { listens: [{ name: 'web', bind: ['127.0.0.1:19100'], mode: 'http', servers: [{ name: 'a', address: '127.0.0.1:19101' }] }] };
  const good = await write('proxy.yaml', spec({ mode: 'dr', vips: ['10.91.0.101'] }, { mode: 'dr', vips: ['10.91.0.101'] }, { haproxy }));
  const first = await apply(good, 'lb1', '--root', root, '--no-reload');
  assert.deepEqual(first.plan.changes.map((c: any) => `${c.action} ${c.kind}`), ['+ file']);
  assert.match(first.plan.changes[0].diff, /listen web/);
  const cfg = path.join(root, 'etc/haproxy/haproxy.cfg');
  const st = await fs.stat(cfg);
  assert.equal((await apply(good, 'lb1', '--root', root, '--no-reload')).plan.summary, 'No changes.');
  assert.equal((await fs.stat(cfg)).mtimeMs, st.mtimeMs, 'a second apply writes nothing');
  const bad = await write('proxy-bad.yaml', spec({ mode: 'dr', vips: ['10.91.0.101'] }, { mode: 'dr', vips: ['10.91.0.101'] }, { haproxy: { ...haproxy, global: { extra: ['no-such-keyword 1'] } } }));
  const r = await runLbctl(['apply', bad, '--node', 'lb1', '--root', root, '--no-reload']);
  assert.equal(r.exitCode, 9, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /haproxy\.cfg:\d+/);
  assert.equal((await fs.stat(cfg)).mtimeMs, st.mtimeMs, 'nothing written');
});
