/**
 * The daemons' own checks: every file generated from every example passes `haproxy -c` and
 * `keepalived --config-test` (the latter in a scratch netns with the spec's interfaces), and
 * what the daemons refuse comes back as CheckFailed (9) with nothing written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { keepalivedConfigTest } from '../../src/keepalived/config-check.js';
import { lbctl } from '../support/keepalived-lab.js';

const examplesDir = path.join(lbctlRoot(), 'examples');

const examples = (await fs.readdir(examplesDir)).filter((f) => f.endsWith('.yaml')).sort();

async function netnsList(): Promise<string> {
  return (await execa('ip', ['netns', 'list'])).stdout;
}

for (const ex of examples) {
  test(`daemons accept every generated file: ${ex}`, async () => {
    const r = await lbctl(['config', 'check', path.join(examplesDir, ex), '--netns', 'always', '--json']);
    assert.equal(r.exitCode, 0, r.stdout + r.stderr);
    assert.equal(r.json.ok, true);
    assert.ok(r.json.files.length >= r.json.nodes.length, 'every node has files');
    for (const f of r.json.files) {
      assert.equal(f.ok, true, `${f.node}/${f.file}: ${f.errors.join('; ')}`);
      if (f.file === 'keepalived.conf') assert.match(f.netns, /^lbctl-chk-/);
    }
  });
}

async function tmpSpec(text: string): Promise<{ dir: string; file: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbctl-cfgd-'));
  const file = path.join(dir, 'spec.yaml');
  await fs.writeFile(file, text);
  return { dir, file };
}

const base = (iface: string) => `cluster: t
nodes:
  - { name: lb1, address: 10.9.0.2/24, interface: ${iface} }
  - { name: lb2, address: 10.9.0.3/24, interface: ${iface} }
vrrp:
  instances:
    - name: VI_1
      virtual_router_id: 9
      vips: [10.9.0.100/24]
`;

test('haproxy rejecting an extra: line is CheckFailed (9), one line per finding, nothing installed', async () => {
  const { dir, file } = await tmpSpec(`${base('eth0')}haproxy:
  frontends: [{ name: web, bind: "*:80", default_backend: app }]
  backends:
    - name: app
      extra: ["bogus-keyword 1"]
      servers: [{ name: a1, address: "10.9.0.11:80" }]
`);
  try {
    const r = await lbctl(['config', 'check', file, '--netns', 'always']);
    assert.equal(r.exitCode, ExitCode.CheckFailed, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.ok(lines.some((l) => /^lb1\/haproxy\.cfg:\d+.*unknown keyword 'bogus-keyword'/.test(l)), r.stderr);
    assert.ok(lines.some((l) => /^lb2\/haproxy\.cfg:/.test(l)), 'both nodes are checked');
    const root = path.join(dir, 'root');
    const inst = await lbctl(['config', 'install', file, '--node', 'lb1', '--root', root, '--netns', 'always']);
    assert.equal(inst.exitCode, ExitCode.CheckFailed, inst.stderr);
    assert.equal(inst.stderr.trim().split('\n').length, 1);
    assert.equal(await fs.access(root).then(() => true, () => false), false, 'nothing was written');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('keepalived rejecting an extra: line is CheckFailed (9)', async () => {
  const { dir, file } = await tmpSpec(base('eth0').replace('      vips:', '      extra: ["foo_unknown bar"]\n      vips:'));
  try {
    const r = await lbctl(['config', 'check', file, '--netns', 'always', '--json']);
    assert.equal(r.exitCode, ExitCode.CheckFailed);
    assert.equal(r.json.error.code, 'EDAEMONCHECK');
    assert.match(r.json.error.message, /keepalived\.conf:\d+: Unknown keyword 'foo_unknown'/);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('interfaces missing here: --netns never fails (keepalived exit 5), auto runs in a scratch netns and removes it', async () => {
  const { dir, file } = await tmpSpec(base('lbzz9'));
  try {
    const never = await lbctl(['config', 'check', file, '--netns', 'never']);
    assert.equal(never.exitCode, ExitCode.CheckFailed);
    assert.match(never.stderr, /interface lbzz9 for vrrp_instance VI_1 doesn't exist/);
    const auto = await lbctl(['config', 'check', file, '--json']);
    assert.equal(auto.exitCode, 0, auto.stdout);
    const ns = auto.json.files[0].netns as string;
    assert.match(ns, /^lbctl-chk-/);
    assert.ok(!(await netnsList()).includes(ns), 'the scratch namespace is gone');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('keepalived exits 0 on a missing file; the check reads its output and fails', async () => {
  const raw = await execa('keepalived', ['--config-test', '-f', '/nonexistent/lbctl.conf'], { reject: false });
  assert.equal(raw.exitCode, 0, 'the premise: keepalived itself says 0');
  const r = await keepalivedConfigTest('/nonexistent/lbctl.conf');
  assert.equal(r.ok, false);
  assert.match(r.errors.join('\n'), /Config files missing/);
});
