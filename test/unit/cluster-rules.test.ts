/**
 * The spec rules (src/cluster/rules/): each is named and documented, and each is the first
 * word on at least one broken fixture, so a rule that stops firing fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { parseSpec } from '../../src/cluster/load.js';
import { checkSpec, SPEC_RULES } from '../../src/cluster/rules/index.js';

test('every rule has a distinct kebab-case name and a one-line doc', () => {
  const names = SPEC_RULES.map((r) => r.name);
  assert.equal(new Set(names).size, names.length, `duplicate rule names: ${names.join(', ')}`);
  for (const r of SPEC_RULES) {
    assert.match(r.name, /^[a-z]+(-[a-z]+)*$/);
    assert.ok(r.doc.length > 10 && !r.doc.includes('\n'), `${r.name}: doc`);
  }
});

test('every rule fires on at least one broken fixture, and the examples pass every rule', async () => {
  const root = lbctlRoot();
  const fired = new Set<string>();
  const dir = path.join(root, 'test', 'fixtures', 'specs-bad');
  for (const f of (await fs.readdir(dir)).filter((x) => x.endsWith('.yaml'))) {
    const parsed = parseSpec(await fs.readFile(path.join(dir, f), 'utf8'), f);
    if (!parsed.spec) continue;
    for (const finding of checkSpec(parsed.spec, parsed.locator)) fired.add(finding.rule!);
  }
  assert.deepEqual(SPEC_RULES.map((r) => r.name).filter((n) => !fired.has(n)), [], 'rules no fixture triggers');
  const examples = path.join(root, 'examples');
  for (const f of (await fs.readdir(examples)).filter((x) => x.endsWith('.yaml'))) {
    const parsed = parseSpec(await fs.readFile(path.join(examples, f), 'utf8'), f);
    assert.ok(parsed.spec, `${f}: ${JSON.stringify(parsed.findings[0])}`);
    assert.deepEqual(checkSpec(parsed.spec, parsed.locator), [], f);
  }
});

test('checkSpec runs only the rules it is given', async () => {
  const text = await fs.readFile(path.join(lbctlRoot(), 'test', 'fixtures', 'specs-bad', 'two-masters.yaml'), 'utf8');
  const parsed = parseSpec(text, 'two-masters.yaml');
  assert.ok(parsed.spec);
  const all = checkSpec(parsed.spec, parsed.locator);
  assert.ok(all.some((f) => f.rule === 'one-master-node'));
  const without = checkSpec(parsed.spec, parsed.locator, SPEC_RULES.filter((r) => r.name !== 'one-master-node'));
  assert.ok(!without.some((f) => f.rule === 'one-master-node'));
});
