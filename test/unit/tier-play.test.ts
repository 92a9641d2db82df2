/**
 * The pure parts of the kernel lab's rolling-playbook case (test/kernel/lib/tier-play.ts): the
 * Ansible log timeline, the PLAY RECAP, the router's next hops at a moment, the changed spec, and
 * that the task names the timeline reads are the playbook's own (a renamed task fails here, not
 * after ten minutes of lab).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { compileSpec } from '../../src/cluster/generate.js';
import { tierDirectorDesired } from '../../src/tier/expand.js';
import { renderFrr } from '../../src/tier/frr.js';
import { hopsAt, lostSummary, parseRecap, parseSteps, TASK, withAddedService } from '../kernel/lib/tier-play.js';
import { parseMonitor } from '../kernel/lib/tier-monitor.js';
import { parse as parseYaml } from 'yaml';

const root = lbctlRoot();

test('parseSteps: each host\'s task from its banner to its result, retries and multi-line results skipped', () => {
  const log = [
    '2026-11-30 23:18:54,145 p=1589 u=root n=ansible | PLAY [Change the tier one director at a time] ****',
    '2026-11-30 23:18:54,230 p=1589 u=root n=ansible | TASK [Bring it to the spec] ****************',
    '2026-11-30 23:18:55,229 p=1589 u=root n=ansible | changed: [d1]',
    '2026-11-30 23:18:55,317 p=1589 u=root n=ansible | TASK [Wait until it announces nothing to its BGP neighbours] ***',
    '2026-11-30 23:18:56,000 p=1589 u=root n=ansible | FAILED - RETRYING: [d2]: Wait until it announces nothing to its BGP neighbours (60 retries left).',
    '2026-11-30 23:18:57,500 p=1589 u=root n=ansible | ok: [d2] => {',
    '    "msg": "ok: [d3]"',
    '}',
    '2026-11-30 23:18:58,000 p=1589 u=root n=ansible | skipping: [d3]',
  ].join('\n');
  const s = parseSteps(log);
  assert.deepEqual(s.get('d1')?.get(TASK.apply), { start: Date.parse('2026-11-30T23:18:54.230Z'), end: Date.parse('2026-11-30T23:18:55.229Z'), status: 'changed' });
  assert.deepEqual(s.get('d2')?.get(TASK.withdrawn), { start: Date.parse('2026-11-30T23:18:55.317Z'), end: Date.parse('2026-11-30T23:18:57.500Z'), status: 'ok' });
  assert.equal(s.get('d3')?.get(TASK.withdrawn)?.status, 'skipping');
  assert.equal(s.get('d3')?.size, 1);
});

test('parseRecap: one record per host, only after PLAY RECAP', () => {
  const out = 'ok: [d1]\nd9 : ok=9\nPLAY RECAP *****\nd1                         : ok=9    changed=4    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0\nd2                         : ok=3    changed=0    unreachable=0    failed=1    skipped=6    rescued=0    ignored=0\n';
  assert.deepEqual(parseRecap(out), {
    d1: { ok: 9, changed: 4, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
    d2: { ok: 3, changed: 0, unreachable: 0, failed: 1, skipped: 6, rescued: 0, ignored: 0 },
  });
});

test('hopsAt: the next hops of the last route event for the VIP at or before the moment', () => {
  const events = parseMonitor([
    '[2026-11-30T19:28:20.000000] 10.97.100.10 proto bgp metric 20',
    '\tnexthop via 10.97.1.11 dev eth0 weight 1',
    '\tnexthop via 10.97.1.12 dev eth0 weight 1',
    '\tnexthop via 10.97.1.13 dev eth0 weight 1',
    '[2026-11-30T19:28:21.000000] 10.97.200.1 via 10.97.1.11 dev eth0 proto bgp metric 20',
    '[2026-11-30T19:28:22.000000] 10.97.100.10 proto bgp metric 20',
    '\tnexthop via 10.97.1.12 dev eth0 weight 1',
    '\tnexthop via 10.97.1.13 dev eth0 weight 1',
  ].join('\n'));
  const at = (s: string) => Date.parse(`2026-11-30T19:28:${s}Z`);
  assert.equal(hopsAt(events, at('19.999')), undefined);
  assert.deepEqual(hopsAt(events, at('21.500')), ['10.97.1.11', '10.97.1.12', '10.97.1.13']);
  assert.deepEqual(hopsAt(events, at('22.000')), ['10.97.1.12', '10.97.1.13']);
});

test('the changed spec adds a service to every director\'s table and leaves frr.conf as it was', async () => {
  const example = path.join(root, 'examples', 'tier-ecmp.yaml');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tr-play-unit-'));
  const changed = path.join(dir, 'tier-rolling.yaml');
  await writeFile(changed, withAddedService(readFileSync(example, 'utf8')));
  try {
    const before = tierDirectorDesired((await compileSpec(example)).spec, 'd1');
    const after = tierDirectorDesired((await compileSpec(changed)).spec, 'd1');
    assert.deepEqual(after.table.services.map((s) => s.port), [...before.table.services.map((s) => s.port), 9001]);
    assert.deepEqual(after.table.services[0], before.table.services[0]);
    assert.equal(renderFrr(after.frr!), renderFrr(before.frr!));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.throws(() => withAddedService('tier: {}\n'), /no tier sysctls line/);
});

test('the task names the lab timeline reads are tier-rolling.yml\'s own', () => {
  const names = [...readFileSync(path.join(root, 'ansible', 'examples', 'tier-rolling.yml'), 'utf8').matchAll(/^\s*- name: (.*)$/gm)].map((m) => m[1].replace(/^"(.*)"$/, '$1'));
  for (const t of Object.values(TASK)) assert.ok(names.includes(t), `no task named "${t}" in tier-rolling.yml`);
});

test('tier-rolling.yml plans every director before the roll, and a failed plan ends the run before any withdrawal', () => {
  type Play = { name: string; serial?: number; any_errors_fatal?: boolean; max_fail_percentage?: number; tasks: Array<Record<string, unknown>> };
  const plays = parseYaml(readFileSync(path.join(root, 'ansible', 'examples', 'tier-rolling.yml'), 'utf8')) as Play[];
  const [plan, roll] = plays;
  assert.equal(plan.serial, undefined, 'the plans run on all directors at once');
  assert.equal(plan.any_errors_fatal, true, 'one failed plan stops every host');
  assert.deepEqual(plan.tasks.map((t) => [Object.keys(t).find((k) => k.startsWith('lbctl.')), t.check_mode, t.register]), [['lbctl.lbctl.apply', true, 'plan']]);
  assert.deepEqual([roll.serial, roll.max_fail_percentage], [1, 0]);
  assert.equal((roll.tasks[0] as { when?: string }).when, 'plan is changed');
});

test('lostSummary: lost connections by how they ended and where', () => {
  assert.equal(lostSummary([]), 'none');
  assert.equal(lostSummary([{ code: 'TIMEOUT', server: 'rs1' }, { code: 'ECONNRESET', server: 'rs2' }, { code: 'TIMEOUT', server: 'rs1' }, { code: 'EOF' }]),
    'TIMEOUT@rs1 x2 ECONNRESET@rs2 x1 EOF@? x1');
});
