/**
 * corosync's consensus in the generated corosync.conf: two nodes get 0.2 x token (200-2000 ms),
 * which is what takes a dead peer's detection from 2.2 x token to 1.2 x token (docs/DEV.md, the
 * power-off timeline); three or more keep corosync's default (no line: 1.2 x token). Log
 * timestamps are in ms, so a failover can be timed from corosync's log beside pacemaker's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { parseSpec } from '../../src/cluster/load.js';
import { expandPacemaker } from '../../src/pacemaker/model.js';
import { renderCorosync } from '../../src/pacemaker/corosync.js';

const example = await fs.readFile(path.join(lbctlRoot(), 'examples', 'pacemaker-haproxy.yaml'), 'utf8');

function corosync(text: string): string {
  const p = parseSpec(text, 'spec.yaml');
  assert.ok(p.spec, JSON.stringify(p.findings));
  const m = expandPacemaker(p.spec);
  assert.ok(m);
  return renderCorosync(m, []);
}
const consensusOf = (conf: string) => /^\tconsensus: (\d+)$/m.exec(conf)?.[1];

test('two nodes: consensus 0.2 x token, at least 200 ms, at most 2000 ms, in the totem section', () => {
  const conf = corosync(example);
  assert.match(conf, /^totem \{\n(?:\t.*\n)*\ttoken: 1000\n\tconsensus: 200\n/m);
  const at = (token: number) => consensusOf(corosync(example.replace('  token: 1000\n', `  token: ${token}\n`)));
  assert.deepEqual([200, 500, 1000, 2500, 3000, 9999, 10000, 20000, 60000].map(at), ['200', '200', '200', '500', '600', '2000', '2000', '2000', '2000']);
  // Below the token, as corosync.conf(5) asks for two nodes, from the default token up.
  for (const token of [1000, 3000, 10000, 60000]) assert.ok(Number(at(token)) < token, `token ${token}`);
});

test('three nodes: no consensus line (corosync then uses 1.2 x token)', () => {
  const three = example.replace('  - { name: server4, address: 172.25.29.4/24, interface: eth0 }\n',
    '  - { name: server4, address: 172.25.29.4/24, interface: eth0 }\n  - { name: server5, address: 172.25.29.5/24, interface: eth0 }\n');
  const conf = corosync(three);
  assert.match(conf, /^\t\tname: server5$/m, 'the third node is in the nodelist');
  assert.equal(consensusOf(conf), undefined);
});

test('log timestamps in ms (hires)', () => {
  assert.match(corosync(example), /^logging \{\n(?:\t.*\n)*\ttimestamp: hires\n\}/m);
});
