/**
 * ha: pacemaker: the spec section (schema and rules, with file:line), the renderers
 * (corosync.conf, crm script, CIB XML saying the same thing), crm_mon XML parsing, and the
 * operations' idempotence and refusals against a fake cluster.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { parseSpec } from '../../src/cluster/load.js';
import { checkSpec } from '../../src/cluster/rules/index.js';
import { renderNodes } from '../../src/cluster/generate.js';
import { expandPacemaker } from '../../src/pacemaker/model.js';
import { parseCrmMon, type HaStatus } from '../../src/pacemaker/status.js';
import { cleanup, moveResource, setStandby } from '../../src/pacemaker/ops.js';
import { NotFoundError, TimeoutError } from '../../src/cli/errors.js';

const root = lbctlRoot();
const example = await fs.readFile(path.join(root, 'examples', 'pacemaker-haproxy.yaml'), 'utf8');

function parse(text: string) {
  const p = parseSpec(text, 'spec.yaml');
  return p;
}
const rulesOf = (text: string) => {
  const p = parse(text);
  assert.ok(p.spec, JSON.stringify(p.findings));
  return checkSpec(p.spec, p.locator);
};

test('the example parses and passes every rule; a spec without ha keeps vrrp (no pacemaker files)', async () => {
  assert.deepEqual(rulesOf(example), []);
  const p = parse(example);
  const files = renderNodes(p.spec!, 'pacemaker-haproxy.yaml')[0].files.map((f) => f.name);
  assert.deepEqual(files, ['haproxy.cfg', 'corosync.conf', 'resources.crm', 'cib.xml']);
  const pair = await fs.readFile(path.join(root, 'examples', 'keepalived-haproxy.yaml'), 'utf8');
  const q = parse(pair);
  assert.equal(expandPacemaker(q.spec!), undefined);
  assert.ok(!renderNodes(q.spec!, 'x.yaml')[0].files.some((f) => f.name === 'corosync.conf'));
});

test('rules: unknown node, missing fence device, unacknowledged fencing: none, section without ha; each at file:line', () => {
  const unknown = rulesOf(example.replace('preferred_node: server1', 'preferred_node: server9'));
  assert.equal(unknown.length, 1);
  assert.equal(unknown[0].rule, 'pacemaker-known-nodes');
  assert.match(unknown[0].where, /^spec\.yaml:\d+:\d+$/);
  assert.equal(unknown[0].line, example.split('\n').findIndex((l) => l.includes('preferred_node')) + 1);

  const noFence4 = rulesOf(example.replace(/    - id: fence_server4[\s\S]*?lanplus: 1 }\n/, ''));
  assert.deepEqual(noFence4.map((f) => [f.rule, f.message]), [['pacemaker-fencing', 'no fence device for node server4']]);

  const none = example.replace(/  fencing:\n[\s\S]*?(?=haproxy:)/, '  fencing: none\n');
  assert.deepEqual(rulesOf(none).map((f) => f.rule), ['pacemaker-fencing']);
  assert.deepEqual(rulesOf(none.replace('  fencing: none\n', '  fencing: none\n  acknowledge_no_fencing: true\n')), []);

  assert.deepEqual(rulesOf(example.replace('ha: pacemaker\n', '')).map((f) => f.rule), ['pacemaker-section-matches-ha']);
  const dup = rulesOf(example.replace('{ id: vip,', '{ id: haproxy,'));
  assert.deepEqual(dup.map((f) => f.rule), ['pacemaker-distinct-ids']);
});

test('schema: a fence parameter value cannot break out of its line or its XML attribute', () => {
  const p = parse(example.replace('password: secret,', 'password: "a<b",'));
  assert.equal(p.spec, undefined);
  assert.match(p.findings[0].path, /^pacemaker\.fencing/);
});

test('corosync.conf, crm script and CIB XML carry the same cluster', () => {
  const p = parse(example);
  const files = Object.fromEntries(renderNodes(p.spec!, 'pacemaker-haproxy.yaml')[0].files.map((f) => [f.name, f.content]));
  const coro = files['corosync.conf'];
  assert.match(coro, /^\ttoken: 1000$/m);
  assert.match(coro, /^\t\tring0_addr: 172\.25\.29\.4$/m);
  assert.match(coro, /^\ttwo_node: 1$/m);
  assert.match(coro, /^\tcrypto_cipher: aes256$/m);
  const crm = files['resources.crm'];
  assert.match(crm, /^group article002-lb vip haproxy$/m);
  assert.match(crm, /pcmk_host_list=server1 .*pcmk_delay_base=5s/);
  assert.match(crm, /^location fence_server1-avoids-server1 fence_server1 -inf: server1$/m);
  const cib = files['cib.xml'];
  // The group orders vip before haproxy, and keeps them together.
  assert.ok(cib.indexOf('<primitive id="vip"') < cib.indexOf('<primitive id="haproxy"'));
  assert.match(cib, /<group id="article002-lb">/);
  assert.match(cib, /name="pcmk_delay_base" value="5s"/);
  assert.match(cib, /name="stonith-enabled" value="true"/);
  const none = parse(example.replace(/  fencing:\n[\s\S]*?(?=haproxy:)/, '  fencing: none\n  acknowledge_no_fencing: true\n'));
  const cib2 = renderNodes(none.spec!, 'x.yaml')[0].files.find((f) => f.name === 'cib.xml')!.content;
  assert.match(cib2, /name="stonith-enabled" value="false"/);
  assert.doesNotMatch(cib2, /class="stonith"/);
});

const healthyXml = await fs.readFile(path.join(root, 'test', 'fixtures', 'pacemaker', 'crm_mon-healthy.xml'), 'utf8');

test('crm_mon XML: nodes, resources with their group and node, no failures', () => {
  const s = parseCrmMon(healthyXml);
  assert.deepEqual(s.nodes.map((n) => [n.name, n.online, n.standby]), [['server1', true, false], ['server4', true, false]]);
  assert.deepEqual(s.resources.map((r) => [r.group ?? '', r.id, r.role, r.nodes.join(',')]), [
    ['article002-lb', 'vip', 'Started', 'server1'], ['article002-lb', 'haproxy', 'Started', 'server1'],
    ['', 'fence_server1', 'Started', 'server4'], ['', 'fence_server4', 'Started', 'server1'],
  ]);
  assert.deepEqual(s.failures, []);
  const failed = parseCrmMon(healthyXml.replace('</resources>', '</resources>\n  <failures>\n    <failure op_key="haproxy_monitor_5000" node="server1" exitstatus="not running" exitreason="" exitcode="7" call="12" status="complete" task="monitor" interval="5000"/>\n  </failures>'));
  assert.deepEqual(failed.failures.map((f) => [f.resource, f.node, f.task]), [['haproxy', 'server1', 'monitor']]);
});

/** A fake cluster: standby flips the node's attribute and (on the next read) moves the group off it. */
function fakeCluster() {
  let s: HaStatus = parseCrmMon(healthyXml);
  const ran: string[][] = [];
  const read = async () => structuredClone(s);
  const run = async (argv: string[]) => {
    ran.push(argv);
    if (argv[0] === 'crm_attribute') {
      const node = argv[argv.indexOf('--node') + 1];
      const on = argv[argv.indexOf('--update') + 1] === 'on';
      s = { ...s, nodes: s.nodes.map((n) => (n.name === node ? { ...n, standby: on } : n)) };
      if (on) s = { ...s, resources: s.resources.map((r) => (r.nodes.includes(node) ? { ...r, nodes: s.nodes.filter((n) => n.name !== node).map((n) => n.name) } : r)) };
    }
    if (argv[0] === 'crm_resource' && argv[1] === '--move') {
      const id = argv[argv.indexOf('--resource') + 1];
      const node = argv[argv.indexOf('--node') + 1];
      s = { ...s, resources: s.resources.map((r) => (r.id === id || r.group === id ? { ...r, nodes: [node] } : r)) };
    }
  };
  return { read, run, ran };
}

test('standby / online: idempotent, --wait returns once the group left the node, unknown node refused without running anything', async () => {
  const c = fakeCluster();
  const a = await setStandby('server1', true, { ...c, wait: true, timeoutMs: 2000 });
  assert.equal(a.changed, true);
  assert.deepEqual(a.command, ['crm_attribute', '--node', 'server1', '--name', 'standby', '--update', 'on', '--lifetime', 'forever']);
  assert.deepEqual(a.status.resources.filter((r) => r.group).map((r) => r.nodes), [['server4'], ['server4']]);
  const b = await setStandby('server1', true, c);
  assert.equal(b.changed, false);
  assert.equal(b.action, 'unchanged');
  assert.equal(c.ran.length, 1);
  await assert.rejects(setStandby('server9', true, c), (e) => e instanceof NotFoundError && /server9/.test(e.message) && /server1, server4/.test(e.hint ?? ''));
  assert.equal(c.ran.length, 1);
  const on = await setStandby('server1', false, c);
  assert.equal(on.changed, true);
  assert.equal((await setStandby('server1', false, c)).changed, false);
});

test('--wait times out (exit 8) when the resources never settle', async () => {
  const c = fakeCluster();
  const stuck = { read: c.read, run: async () => {} };
  await assert.rejects(setStandby('server1', true, { ...stuck, wait: true, timeoutMs: 300 }), (e) => e instanceof TimeoutError && e.exitCode === 8);
});

test('move: a group moves with all its members; already there is unchanged; unknown names refused', async () => {
  const c = fakeCluster();
  const m = await moveResource('article002-lb', 'server4', { ...c, wait: true, timeoutMs: 2000 });
  assert.equal(m.changed, true);
  assert.deepEqual(m.status.resources.filter((r) => r.group).map((r) => r.nodes), [['server4'], ['server4']]);
  assert.equal((await moveResource('article002-lb', 'server4', c)).changed, false);
  await assert.rejects(moveResource('nosuch', 'server4', c), NotFoundError);
  await assert.rejects(moveResource('vip', 'server9', c), NotFoundError);
  assert.equal(c.ran.length, 1);
});

test('cleanup runs crm_resource --cleanup only when something failed', async () => {
  const c = fakeCluster();
  assert.equal((await cleanup(undefined, c)).changed, false);
  assert.equal(c.ran.length, 0);
  const failedXml = healthyXml.replace('</resources>', '</resources>\n  <failures>\n    <failure op_key="haproxy_monitor_5000" node="server1" exitstatus="not running" exitreason="" exitcode="7" call="12" status="complete" task="monitor" interval="5000"/>\n  </failures>');
  const ran: string[][] = [];
  const r = await cleanup('haproxy', { read: async () => parseCrmMon(failedXml), run: async (a) => { ran.push(a); } });
  assert.equal(r.changed, true);
  assert.deepEqual(ran, [['crm_resource', '--cleanup', '--resource', 'haproxy']]);
});

test('crmLine: the severity pacemaker gave a line crmsh relays is the one that counts', async () => {
  const { crmLine } = await import('../../src/pacemaker/check.js');
  assert.deepEqual(crmLine('ERROR: (cluster_status) \twarning: Fencing and resource management disabled due to lack of quorum'),
    { level: 'warning', text: '(cluster_status) warning: Fencing and resource management disabled due to lack of quorum' });
  assert.equal(crmLine('ERROR: (unpack_resources) error: Resource start-up disabled')?.level, 'error');
  assert.equal(crmLine('ERROR: vip: parameter cidr_netmaskx does not exist')?.level, 'error');
  assert.equal(crmLine('WARNING: server9: referenced node does not exist')?.level, 'warning');
  assert.equal(crmLine('INFO: 1: ok'), undefined);
});

test('standby --wait with the clone layout and fencing: a stopped clone instance and a stopped fence device on the standby node are settled', async () => {
  const { parseCrmMon } = await import('../../src/pacemaker/status.js');
  const xml = (haproxyOnPk1: boolean) => `<pacemaker-result><summary><current_dc present="true" name="pk2" with_quorum="true"/></summary><nodes>
<node name="pk1" id="1" online="true" standby="true" resources_running="0"/><node name="pk2" id="2" online="true" standby="false" resources_running="3"/></nodes>
<resources><group id="lab-lb" number_resources="1"><resource id="vip" resource_agent="ocf:heartbeat:IPaddr2" role="Started" active="true" failed="false"><node name="pk2" id="2"/></resource></group>
<clone id="haproxy-clone"><resource id="haproxy" resource_agent="lsb:haproxy" role="Started" active="true" failed="false"><node name="pk2" id="2"/></resource>
<resource id="haproxy" resource_agent="lsb:haproxy" role="${haproxyOnPk1 ? 'Started' : 'Stopped'}" active="${haproxyOnPk1}" failed="false">${haproxyOnPk1 ? '<node name="pk1" id="1"/>' : ''}</resource></clone>
<resource id="fence_pk1" resource_agent="stonith:fence_pklab" role="Started" active="true" failed="false"><node name="pk2" id="2"/></resource>
<resource id="fence_pk2" resource_agent="stonith:fence_pklab" role="Stopped" active="false" failed="false"/></resources><failures/></pacemaker-result>`;
  const settled = parseCrmMon(xml(false));
  assert.deepEqual(settled.resources.filter((r) => r.clone).map((r) => `${r.clone}/${r.id}:${r.role}`), ['haproxy-clone/haproxy:Started', 'haproxy-clone/haproxy:Stopped']);
  const ok = await setStandby('pk1', true, { read: async () => settled, run: async () => {}, wait: true, timeoutMs: 300 });
  assert.equal(ok.changed, false);
  const notYet = parseCrmMon(xml(true));
  await assert.rejects(setStandby('pk1', true, { read: async () => notYet, run: async () => {}, wait: true, timeoutMs: 300 }), (e) => e instanceof TimeoutError);
});
