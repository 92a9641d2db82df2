/**
 * Golden files for every example spec: test/golden/<example>/<node>/<file>.
 * Regenerate with LBCTL_UPDATE_GOLDEN=1 (then review the diff). The daemons' own checks of
 * the same files run in test/host/config-daemons.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { compileSpec, renderNodes } from '../../src/cluster/generate.js';

const root = lbctlRoot();
const examplesDir = path.join(root, 'examples');
const goldenDir = path.join(root, 'test', 'golden');
const update = process.env.LBCTL_UPDATE_GOLDEN === '1';

const examples = (await fs.readdir(examplesDir)).filter((f) => f.endsWith('.yaml')).sort();

test('there is an example for every source article configuration', () => {
  assert.ok(examples.length >= 9, `only ${examples.length} examples`);
});

for (const ex of examples) {
  test(`golden: ${ex}`, async () => {
    const c = await compileSpec(path.join(examplesDir, ex));
    const name = ex.replace(/\.yaml$/, '');
    let count = 0;
    for (const n of c.nodes) {
      for (const f of n.files) {
        const g = path.join(goldenDir, name, n.node, f.name);
        if (update) {
          await fs.mkdir(path.dirname(g), { recursive: true });
          await fs.writeFile(g, f.content);
        }
        const want = await fs.readFile(g, 'utf8').catch(() => undefined);
        assert.ok(want !== undefined, `${g} is missing: run with LBCTL_UPDATE_GOLDEN=1`);
        assert.equal(f.content, want, `${g} differs: review, then LBCTL_UPDATE_GOLDEN=1`);
        count++;
      }
    }
    assert.ok(count > 0);
    // Deterministic: the same spec renders the same bytes.
    const again = renderNodes(c.spec, path.join(examplesDir, ex));
    assert.deepEqual(again.map((n) => n.files), c.nodes.map((n) => n.files));
  });
}

/**
 * Golden directories with no example, and examples with no directory. Compared as sets of names:
 * sorted file names put `a-x.yaml` before `a.yaml` ('-' < '.') while the directories sort `a` first.
 */
function goldenMismatch(dirs: string[], exampleFiles: string[]): { stale: string[]; missing: string[] } {
  const names = new Set(exampleFiles.map((e) => e.replace(/\.yaml$/, '')));
  const have = new Set(dirs);
  return { stale: dirs.filter((d) => !names.has(d)).sort(), missing: [...names].filter((n) => !have.has(n)).sort() };
}

test('no stale golden directories', async () => {
  const dirs = await fs.readdir(goldenDir).catch(() => [] as string[]);
  assert.deepEqual(goldenMismatch(dirs, examples), { stale: [], missing: [] });
});

test('golden directory matching: one example name a prefix of another is neither stale nor missing', () => {
  const examples = ['pacemaker-haproxy.yaml', 'pacemaker-haproxy-x.yaml'].sort();
  assert.deepEqual(goldenMismatch(['pacemaker-haproxy', 'pacemaker-haproxy-x'].sort(), examples), { stale: [], missing: [] });
  assert.deepEqual(goldenMismatch(['pacemaker-haproxy', 'gone'], examples), { stale: ['gone'], missing: ['pacemaker-haproxy-x'] });
});
