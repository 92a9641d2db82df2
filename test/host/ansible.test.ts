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
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { ansibleLab, ansibleSkip as skip, type AnsibleLab } from '../support/ansible.js';
import { rawShowStat, startLabHaproxy, startLabServer, type LabHaproxy, type LabServer } from '../support/haproxy-lab.js';
import { snapshotTree } from '../support/tree-snapshot.js';

const root = lbctlRoot();
let lab: AnsibleLab;
const playbook = (name: string, yaml: string, ...args: string[]) => lab.playbook(name, yaml, ...args);

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
    // The collection as users get it: the tarball npm run ansible:build makes, installed.
    lab = await ansibleLab('ct-ansible-');
    for (const n of ['web1', 'web2']) servers.push(await startLabServer(n));
    const line = (s: LabServer) => `  server ${s.name} 127.0.0.1:${s.port} weight 10`;
    hp = await startLabHaproxy({ prefix: 'ct-hp-', defaultBackend: 'app', body: ['backend app', ...servers.map(line), 'backend api', line(servers[0])].join('\n') });
    cfgRoot = path.join(lab.work, 'root');
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
    await lab?.cleanup();
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

  test('ansible-doc renders every module, with the options of its doc fragments', async () => {
    const modules = (await fs.readdir(path.join(root, 'ansible', 'lbctl', 'plugins', 'modules'))).filter((f) => f.endsWith('.py')).map((f) => f.slice(0, -3)).sort();
    assert.deepEqual(modules, ['apply', 'cluster_config', 'director', 'haproxy_server', 'ipvs_server', 'ipvs_service', 'realserver']);
    const fragment: Record<string, string[]> = { ipvs_server: ['= service', '- protocol', '- driver'], ipvs_service: ['= service', '- protocol', '- driver'], realserver: ['- netns', '- persist', '- root', '- state'], director: ['- netns', '- persist', '- root', '- state'] };
    for (const m of modules) {
      const r = await execa('ansible-doc', [`lbctl.lbctl.${m}`], { env: lab.env, reject: false, all: true });
      assert.equal(r.exitCode, 0, r.all);
      assert.match(r.stdout, new RegExp(`^> LBCTL\\.LBCTL\\.${m.toUpperCase()} `, 'm'), r.stdout);
      for (const line of ['- lbctl_path', ...(fragment[m] ?? [])]) assert.ok(r.stdout.split('\n').includes(line), `${m}: no option line "${line}"\n${r.stdout}`);
      assert.match(r.stdout, /^RETURN VALUES:\n(.*\n)*- msg$/m, `${m}: RETURN lacks msg`);
    }
  });

  test('a missing lbctl: the module says what to do', async () => {
    const r = await playbook('missing', `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - lbctl.lbctl.haproxy_server: { name: web1, state: ready, lbctl_path: /nonexistent/lbctl }\n`);
    assert.equal(r.recap.failed, 1);
    assert.match(r.out, /lbctl is not installed on this host \(\/nonexistent\/lbctl\): install it/);
  });
});
