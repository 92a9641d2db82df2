/**
 * The lbctl.lbctl.apply module, from the built and installed collection, run by Debian's
 * ansible-playbook against real state: a DR and a NAT real server in namespaces (--netns) and a
 * proxy node's haproxy.cfg into a temp --root. --check --diff reports the changes the real run
 * then makes and changes nothing; the real run changes; the second run reports changed=0; a spec
 * error fails the task with lbctl's file:line:col message. PLAY RECAP lines are printed.
 *
 * Names: namespaces aa-*, temp dirs aa-*, addresses 10.98.0.0/24, ports 19870-19879 (never bound:
 * only haproxy -c reads them).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import YAML from 'yaml';
import { ansibleLab, ansibleSkip as skip, type AnsibleLab } from '../support/ansible.js';
import { snapshotTree } from '../support/tree-snapshot.js';
import { deleteNamespaces, vethNamespace } from '../support/netns.js';

const NS = ['aa-rs1', 'aa-rs2'];

let lab: AnsibleLab;
let work = '';
let env: Record<string, string> = {};
const playbook = (name: string, yaml: string, ...args: string[]) => lab.playbook(name, yaml, ...args);

/** Addresses, routes and the sysctls a real server's prep touches, as text. */
async function nsSnapshot(ns: string): Promise<string> {
  const keys = ['conf/all/arp_ignore', 'conf/all/arp_announce', 'conf/eth0/arp_ignore', 'conf/eth0/arp_announce', 'conf/lo/arp_ignore', 'conf/lo/arp_announce'];
  const values = await Promise.all(keys.map((k) => execa('ip', ['netns', 'exec', ns, 'cat', `/proc/sys/net/ipv4/${k}`]).then((r) => `${k}=${r.stdout.trim()}`)));
  // IPv4 only: link-local IPv6 addresses of the fresh veths drop their "tentative" flag on their own.
  const addrs = (await execa('ip', ['-n', ns, '-4', '-o', 'addr', 'show'])).stdout.replace(/valid_lft.*$/gm, '');
  const routes = (await execa('ip', ['-n', ns, '-4', 'route', 'show'])).stdout;
  return `${values.join('\n')}\n${addrs}\n${routes}`;
}

/** The "+++ after: kind id (reason)" headers of --diff output: one per planned change. */
const afterHeaders = (out: string) => out.split('\n').filter((l) => l.startsWith('+++ after')).sort();

describe('lbctl.lbctl.apply against real state', { skip }, () => {
  let specFile: string;
  let cfgRoot: string;

  before(async () => {
    lab = await ansibleLab('aa-ansible-');
    ({ work, env } = lab);
    for (const [i, ns] of NS.entries()) await vethNamespace(ns, `10.98.0.${11 + i}/24`, '10.98.0.254');
    cfgRoot = path.join(work, 'root');
    await fs.mkdir(cfgRoot);
    specFile = path.join(work, 'cluster.yaml');
    await fs.writeFile(specFile, YAML.stringify({
      cluster: 'aa',
      nodes: [{ name: 'lb1', address: '10.98.0.1/24', interface: 'eth0' }],
      director: { mode: 'dr', nodes: [] },
      real_servers: [
        { name: 'rs1', address: '10.98.0.11/24', interface: 'eth0', mode: 'dr', vips: ['10.98.0.100'] },
        { name: 'rs2', address: '10.98.0.12/24', interface: 'eth0', mode: 'nat', gateway: '10.98.0.1' },
      ],
      haproxy: { listens: [{ name: 'web', bind: ['127.0.0.1:19870'], mode: 'http', servers: [{ name: 'a', address: '127.0.0.1:19871' }] }] },
    }));
  });
  after(async () => {
    await deleteNamespaces(NS);
    await lab?.cleanup();
  });

  const site = () => `
- hosts: localhost
  gather_facts: false
  tasks:
    - name: DR real server
      lbctl.lbctl.apply: { spec: "${specFile}", node: rs1, netns: aa-rs1 }
    - name: NAT real server
      lbctl.lbctl.apply: { spec: "${specFile}", node: rs2, netns: aa-rs2 }
    - name: proxy node's files into a root
      lbctl.lbctl.apply: { spec: "${specFile}", node: lb1, root: "${cfgRoot}", reload: false }
`;

  test('ansible-doc renders the module', async () => {
    const r = await execa('ansible-doc', ['lbctl.lbctl.apply'], { env, reject: false, all: true });
    assert.equal(r.exitCode, 0, r.all);
    assert.match(r.stdout, /^> LBCTL\.LBCTL\.APPLY /m);
    assert.match(r.stdout, /^= spec$/m);
    assert.match(r.stdout, /^= node$/m);
    assert.match(r.stdout, /^RETURN VALUES:$/m);
  });

  test('--check --diff reports the plan and changes nothing; the real run makes those changes; the second run reports changed=0', async () => {
    const state = async () => ({ rs1: await nsSnapshot('aa-rs1'), rs2: await nsSnapshot('aa-rs2'), files: JSON.stringify(await snapshotTree(cfgRoot)) });
    const fresh = await state();
    const check = await playbook('site', site(), '--check', '--diff');
    assert.equal(check.exitCode, 0, check.out);
    assert.equal(check.recap.changed, 3, check.out);
    assert.deepEqual(await state(), fresh, 'check mode changed something');
    // The diff: before/after of each host change, the unified diff of the file.
    assert.match(check.out, /^\+\+\+ after: sysctl net\.ipv4\.conf\.all\.arp_ignore \(wanted [^)]*, is 0\)\n@@ [^\n]*\n-0\n\+1$/m, check.out);
    assert.match(check.out, /^\+\+\+ after: address 10\.98\.0\.100\/32 dev lo /m);
    assert.match(check.out, /^\+\+\+ after: route default via 10\.98\.0\.1 /m);
    assert.match(check.out, /^\+listen web$/m, 'the haproxy.cfg diff');

    const real = await playbook('site', site(), '--diff');
    assert.equal(real.exitCode, 0, real.out);
    assert.equal(real.recap.changed, 3, real.out);
    assert.deepEqual(afterHeaders(real.out), afterHeaders(check.out), 'check mode and the real run report different changes');
    assert.ok(afterHeaders(real.out).length >= 4, real.out);
    assert.match(await nsSnapshot('aa-rs1'), /10\.98\.0\.100\/32/);
    assert.match(await nsSnapshot('aa-rs1'), /conf\/all\/arp_ignore=1/);
    assert.match(await nsSnapshot('aa-rs2'), /^default via 10\.98\.0\.1 dev eth0/m);
    assert.match(await fs.readFile(path.join(cfgRoot, 'etc', 'haproxy', 'haproxy.cfg'), 'utf8'), /^listen web$/m);

    const applied = await state();
    const again = await playbook('site', site(), '--diff');
    assert.equal(again.exitCode, 0, again.out);
    assert.equal(again.recap.changed, 0, again.out);
    assert.deepEqual(afterHeaders(again.out), [], again.out);
    assert.deepEqual(await state(), applied, 'the second run changed something');
    const againCheck = await playbook('site', site(), '--check');
    assert.equal(againCheck.recap.changed, 0, againCheck.out);
  });

  test('a spec error fails the task with lbctl\'s message naming file:line:col', async () => {
    const bad = path.join(work, 'bad.yaml');
    await fs.writeFile(bad, (await fs.readFile(specFile, 'utf8')).replace('10.98.0.100', '10.98.0.999'));
    const before = await nsSnapshot('aa-rs1');
    const r = await playbook('bad', `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - lbctl.lbctl.apply: { spec: "${bad}", node: rs1, netns: aa-rs1 }\n`);
    assert.notEqual(r.exitCode, 0);
    assert.equal(r.recap.failed, 1, r.out);
    assert.match(r.out.replace(/\\"/g, '"'), /"msg": ".*bad\.yaml:\d+:\d+: real_servers\[0\]\.vips\[0\]: "10\.98\.0\.999" is not allowed here/, r.out);
    assert.doesNotMatch(r.out, /non-zero return code/);
    assert.equal(await nsSnapshot('aa-rs1'), before);
  });
});
