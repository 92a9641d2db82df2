/** Spec expansion, pair rules and position mapping (pure logic, no daemons). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseSpec } from '../../src/cluster/load.js';
import { expandKeepalived, instanceRoles } from '../../src/cluster/expand.js';
import { checkSpec } from '../../src/cluster/rules/index.js';
import { comparePair } from '../../src/cluster/pair-compare.js';
import { inSubnet } from '../../src/net/address.js';
import { renderNodes } from '../../src/cluster/generate.js';
import type { ClusterSpec } from '../../src/cluster/types.js';

const pair = `cluster: t
nodes:
  - { name: a, address: 10.1.0.2/24, interface: eth0 }
  - { name: b, address: 10.1.0.3/24, interface: eth1 }
vrrp:
  instances:
    - { name: VI_1, virtual_router_id: 7, unicast: true, authentication: { pass: 1234 }, vips: [10.1.0.100/24] }
    - { name: VI_2, virtual_router_id: 8, master: b, preempt: false, vips: [10.1.0.101/24] }
haproxy:
  frontends: [{ name: web, bind: "*:80" }]
`;

test('defaults: priority 100/99, first node MASTER, per-instance master, nopreempt starts BACKUP', () => {
  const p = parseSpec(pair, 'pair.yaml');
  assert.ok(p.spec, JSON.stringify(p.findings));
  const spec = p.spec!;
  assert.deepEqual(checkSpec(spec, p.locator), []);
  const a = expandKeepalived(spec, spec.nodes[0], 'pair.yaml')!;
  const b = expandKeepalived(spec, spec.nodes[1], 'pair.yaml')!;
  assert.equal(a.instances[0].state, 'MASTER');
  assert.equal(a.instances[0].priority, 100);
  assert.equal(b.instances[0].state, 'BACKUP');
  assert.equal(b.instances[0].priority, 99);
  assert.equal(b.instances[0].interface, 'eth1', 'interface comes from the node');
  assert.equal(a.instances[0].unicastSrcIp, '10.1.0.2');
  assert.deepEqual(a.instances[0].unicastPeers, ['10.1.0.3']);
  assert.equal(a.instances[0].auth?.pass, '1234', 'YAML number coerced to the password string');
  // VI_2: b is master by priority, but nopreempt renders every node BACKUP.
  assert.equal(b.instances[1].priority, 100);
  assert.equal(a.instances[1].priority, 99);
  assert.equal(b.instances[1].state, 'BACKUP');
  assert.equal(b.instances[1].nopreempt, true);
  // The default proxy check is tracked by both instances and checks this node's loopback.
  assert.deepEqual(a.scripts.map((s) => s.name), ['chk_haproxy']);
  assert.match(a.scripts[0].command, /^\/usr\/bin\/curl .* http:\/\/127\.0\.0\.1:8405\/lbctl-health$/);
  assert.deepEqual(a.instances[0].trackScript, ['chk_haproxy']);
  assert.deepEqual(comparePair([{ node: 'a', config: a }, { node: 'b', config: b }]), []);
  const hp = renderNodes(spec, 'pair.yaml')[0].files.find((f) => f.name === 'haproxy.cfg')!.content;
  assert.match(hp, /frontend lbctl-health\n    bind 127\.0\.0\.1:8405\n.*\n.*\n.*\n    monitor-uri \/lbctl-health/);
});

test('comparePair catches fields that differ between nodes', () => {
  const p = parseSpec(pair, 'pair.yaml');
  const spec = p.spec!;
  const a = expandKeepalived(spec, spec.nodes[0], 'x')!;
  const b = expandKeepalived(spec, spec.nodes[1], 'x')!;
  b.instances[0].virtualRouterId = 9;
  b.instances[0].auth = { type: 'PASS', pass: 'other' };
  b.instances[0].priority = 100;
  b.globalDefs.routerId = a.globalDefs.routerId;
  const fields = comparePair([{ node: 'a', config: a }, { node: 'b', config: b }]).map((f) => f.field).sort();
  assert.deepEqual(fields, ['authentication', 'priority', 'router_id', 'virtual_router_id']);
});

test('inSubnet', () => {
  assert.equal(inSubnet('10.0.0.5', '10.0.0.2/24'), true);
  assert.equal(inSubnet('10.0.1.5', '10.0.0.2/24'), false);
  assert.equal(inSubnet('10.0.1.5', '10.0.0.2'), undefined);
  assert.equal(inSubnet('1.2.3.4', '10.0.0.2/0'), true);
  assert.equal(inSubnet('10.0.0.2', '10.0.0.2/32'), true);
});

test('property: any node count and master choice gives distinct priorities and one MASTER', () => {
  fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.nat(), (n, m) => {
    const nodes = Array.from({ length: n }, (_, i) => ({ name: `n${i}`, address: `10.0.0.${i + 2}/24`, interface: 'eth0' }));
    const spec: ClusterSpec = { cluster: 'p', nodes, vrrp: { instances: [{ name: 'VI', virtual_router_id: 1, master: `n${m % n}`, vips: ['10.0.0.200/24'] }] } };
    const roles = [...instanceRoles(spec, spec.vrrp!.instances[0]).values()];
    assert.equal(new Set(roles.map((r) => r.priority)).size, n);
    assert.equal(roles.filter((r) => r.state === 'MASTER').length, 1);
    assert.equal(instanceRoles(spec, spec.vrrp!.instances[0]).get(`n${m % n}`)!.state, 'MASTER');
    const models = nodes.map((node) => ({ node: node.name, config: expandKeepalived(spec, node, 'p.yaml')! }));
    assert.deepEqual(comparePair(models), []);
  }), { numRuns: 200 });
});

test('positions: schema and spec findings name the right line and column', () => {
  const text = 'cluster: t\nnodes:\n  - name: a\n    address: 10.1.0.2/24\n    interface: eth0\n    bogus: 1\n';
  const p = parseSpec(text, 's.yaml');
  assert.equal(p.findings.length, 1);
  assert.equal(p.findings[0].where, 's.yaml:6:5');
  assert.equal(p.findings[0].path, 'nodes[0].bogus');
});

test('all schema findings are reported, in document order', () => {
  const text = 'cluster: t\nnodes:\n  - { name: a, address: 1.2.3.4, interface: eth0, priority: 0 }\nvrrp:\n  instances:\n    - { name: V, virtual_router_id: 0, vips: [1.2.3.5] }\n';
  const p = parseSpec(text, 's.yaml');
  assert.deepEqual(p.findings.map((f) => f.path), ['nodes[0].priority', 'vrrp.instances[0].virtual_router_id']);
  assert.deepEqual(p.findings.map((f) => f.line), [3, 6]);
});
