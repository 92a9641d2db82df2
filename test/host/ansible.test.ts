/**
 * The lbctl.lbctl Ansible collection, built into its tarball (npm run ansible:build), installed,
 * and run with Debian's ansible-playbook against real state: a real haproxy on loopback, config
 * install into a temp root, real-server and director prep in network namespaces. For the
 * playbook: --check on a fresh target reports the changes the real run then makes and changes
 * nothing; the real run changes; a second run reports changed=0; --diff shows before/after;
 * unknown backends and servers fail with lbctl's own message. PLAY RECAP lines are printed.
 *
 * Names: namespaces ct-*, temp dirs ct-*.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { rawShowStat, startLabHaproxy, startLabServer, type LabHaproxy, type LabServer } from '../support/haproxy-lab.js';
import { snapshotTree } from '../support/tree-snapshot.js';

const root = lbctlRoot();
const skip = !existsSync('/usr/bin/ansible-playbook') ? 'ansible-playbook is not installed (test/deps.sh)' : false;

interface Play { exitCode: number; out: string; recap: Record<string, number> }

let work: string;
let env: Record<string, string>;

/** ansible-playbook with the installed collection and lbctl on PATH; prints the PLAY RECAP line. */
async function playbook(name: string, yaml: string, ...args: string[]): Promise<Play> {
  const file = path.join(work, `${name}.yml`);
  await fs.writeFile(file, yaml);
  const r = await execa('ansible-playbook', ['-i', 'localhost,', '-c', 'local', file, ...args], { reject: false, env, all: true });
  const out = r.all ?? '';
  const line = out.split('\n').find((l) => /^localhost\s+:\s+ok=/.test(l)) ?? '';
  process.stdout.write(`# ${name} ${args.join(' ')}: ${line.replace(/\s+/g, ' ').trim() || '(no recap)'}\n`);
  const recap: Record<string, number> = {};
  for (const m of line.matchAll(/(\w+)=(\d+)/g)) recap[m[1]] = Number(m[2]);
  return { exitCode: r.exitCode ?? -1, out, recap };
}

const NS_RS = 'ct-ans-rs';
const NS_DIR = 'ct-ans-dir';

async function nsSnapshot(ns: string): Promise<string> {
  const sysctls = ['conf/all/arp_ignore', 'conf/all/arp_announce', 'conf/eth0/arp_ignore', 'conf/eth0/arp_announce', 'ip_forward', 'conf/all/send_redirects'];
  const values = await Promise.all(sysctls.map((s) => execa('ip', ['netns', 'exec', ns, 'cat', `/proc/sys/net/ipv4/${s}`]).then((r) => `${s}=${r.stdout.trim()}`)));
  const addrs = (await execa('ip', ['-n', ns, '-o', 'addr', 'show'])).stdout.replace(/valid_lft.*$/gm, '');
  return `${values.join('\n')}\n${addrs}`;
}

describe('Ansible collection lbctl.lbctl against real state', { skip }, () => {
  let hp: LabHaproxy;
  const servers: LabServer[] = [];
  let cfgRoot: string;

  before(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'ct-ansible-'));
    // The collection as users get it: the tarball npm run ansible:build makes, installed.
    const built = await execa('ansible-galaxy', ['collection', 'build', path.join(root, 'ansible', 'lbctl'), '--output-path', path.join(work, 'dist'), '--force']);
    const tarball = path.join(work, 'dist', 'lbctl-lbctl-0.1.0.tar.gz');
    assert.ok(existsSync(tarball), built.stdout);
    await execa('ansible-galaxy', ['collection', 'install', tarball, '-p', path.join(work, 'collections')]);
    const bin = path.join(work, 'bin');
    await fs.mkdir(bin);
    await fs.symlink(path.join(root, 'bin', 'run.js'), path.join(bin, 'lbctl'));
    env = {
      PATH: `${bin}:${process.env.PATH}`, ANSIBLE_COLLECTIONS_PATH: path.join(work, 'collections'), ANSIBLE_NOCOLOR: '1',
      ANSIBLE_PYTHON_INTERPRETER: '/usr/bin/python3', ANSIBLE_LOCAL_TEMP: path.join(work, 'tmp'), ANSIBLE_REMOTE_TEMP: path.join(work, 'tmp'),
      LBCTL_STATE_DIR: path.join(work, 'state'), HOME: work,
    };
    for (const n of ['web1', 'web2']) servers.push(await startLabServer(n));
    const line = (s: LabServer) => `  server ${s.name} 127.0.0.1:${s.port} weight 10`;
    hp = await startLabHaproxy({ prefix: 'ct-hp-', defaultBackend: 'app', body: ['backend app', ...servers.map(line), 'backend api', line(servers[0])].join('\n') });
    cfgRoot = path.join(work, 'root');
    await fs.mkdir(cfgRoot);
    for (const ns of [NS_RS, NS_DIR]) {
      await execa('ip', ['netns', 'del', ns], { reject: false });
      await execa('ip', ['netns', 'add', ns]);
      await execa('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
      await execa('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
      await execa('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    }
  });
  after(async () => {
    await hp?.stop();
    for (const s of servers) await s.close();
    for (const ns of [NS_RS, NS_DIR]) await execa('ip', ['netns', 'del', ns], { reject: false });
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  const tasks = () => `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: drain web1 in every backend that has it
      lbctl.lbctl.haproxy_server: { name: web1, state: drain, socket: "${hp.adminSocket}" }
    - name: weight of web2
      lbctl.lbctl.haproxy_server: { name: web2, backend: app, weight: "30", socket: "${hp.adminSocket}" }
    - name: real server in a namespace
      lbctl.lbctl.realserver: { vips: [10.93.0.100], dev: eth0, netns: ${NS_RS} }
    - name: NAT director in a namespace
      lbctl.lbctl.director: { mode: nat, netns: ${NS_DIR} }
    - name: config install into a root
      lbctl.lbctl.cluster_config: { spec: "${path.join(root, 'examples', 'minimal-pair.yaml')}", node: lb1, root: "${cfgRoot}" }
`;

  test('check mode predicts and changes nothing; the real run changes; the second run reports changed=0', async () => {
    const state = async () => ({
      haproxy: [...(await rawShowStat(hp.adminSocket))].map(([k, v]) => `${k} ${v.status} ${v.weight}`).join('\n'),
      rs: await nsSnapshot(NS_RS), dir: await nsSnapshot(NS_DIR), files: JSON.stringify(await snapshotTree(cfgRoot)),
    });
    const fresh = await state();
    const check = await playbook('site', tasks(), '--check', '--diff');
    assert.equal(check.exitCode, 0, check.out);
    assert.deepEqual(await state(), fresh, 'check mode changed something');
    assert.equal(check.recap.changed, 5, check.out);

    const real = await playbook('site', tasks(), '--diff');
    assert.equal(real.exitCode, 0, real.out);
    assert.equal(real.recap.changed, check.recap.changed, 'check mode and the real run disagree');
    // --diff shows before/after from lbctl's report.
    assert.match(real.out, /^-app\/web1: ready weight 10$/m, real.out);
    assert.match(real.out, /^\+app\/web1: drain weight 10$/m);
    assert.match(real.out, /^\+api\/web1: drain weight 10$/m);
    assert.match(real.out, /^\+app\/web2: ready weight 30$/m);
    assert.match(real.out, /^\+net\.ipv4\.conf\.all\.arp_ignore = 1$/m);
    assert.match(real.out, /^\+global$/m, 'the haproxy.cfg diff');
    const raw = await rawShowStat(hp.adminSocket);
    assert.deepEqual(['app/web1', 'api/web1', 'app/web2'].map((k) => `${raw.get(k)!.status} ${raw.get(k)!.weight}`), ['DRAIN 10', 'DRAIN 10', 'no check 30']);
    assert.match(await nsSnapshot(NS_RS), /10\.93\.0\.100\/32/);
    assert.ok(existsSync(path.join(cfgRoot, 'etc', 'haproxy', 'haproxy.cfg')));

    const again = await playbook('site', tasks());
    assert.equal(again.exitCode, 0, again.out);
    assert.equal(again.recap.changed, 0, again.out);
    const againCheck = await playbook('site', tasks(), '--check');
    assert.equal(againCheck.recap.changed, 0, againCheck.out);
  });

  test('unknown backend, server or spec node: the task fails with lbctl\'s message', async () => {
    const cases: Array<[string, RegExp]> = [
      [`lbctl.lbctl.haproxy_server: { name: web1, backend: nope, state: ready, socket: "${hp.adminSocket}" }`, /no backend "nope" on /],
      [`lbctl.lbctl.haproxy_server: { name: web9, backend: app, state: ready, socket: "${hp.adminSocket}" }`, /no server "web9" in backend "app" on .* \(servers: web1, web2\)/],
      [`lbctl.lbctl.haproxy_server: { name: web9, weight: "5", socket: "${hp.adminSocket}" }`, /no server "web9" in any backend/],
      [`lbctl.lbctl.cluster_config: { spec: "${path.join(root, 'examples', 'minimal-pair.yaml')}", node: lb9, root: "${cfgRoot}" }`, /node lb9 is not in the spec/],
    ];
    for (const [i, [task, message]] of cases.entries()) {
      const r = await playbook(`fail${i}`, `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ${task}\n`);
      assert.notEqual(r.exitCode, 0);
      assert.equal(r.recap.failed, 1, r.out);
      assert.match(r.out.replace(/\\"/g, '"'), message, r.out);
      assert.doesNotMatch(r.out, /non-zero return code/);
    }
  });

  test('a missing lbctl: the module says what to do', async () => {
    const r = await playbook('missing', `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - lbctl.lbctl.haproxy_server: { name: web1, state: ready, lbctl_path: /nonexistent/lbctl }\n`);
    assert.equal(r.recap.failed, 1);
    assert.match(r.out, /lbctl is not installed on this host \(\/nonexistent\/lbctl\): install it/);
  });
});
