/**
 * Property-based fuzzing of the spec loader (fast-check): random text and mutated copies of
 * the examples never crash the loader, the rules or the renderers, never exit 1 through the
 * command, and cost time linear in their size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import fc from 'fast-check';
import { lbctlRoot, runLbctl } from '../../src/cli/inprocess.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { parseSpec } from '../../src/cluster/load.js';
import { checkSpec } from '../../src/cluster/rules/index.js';
import { renderNodes } from '../../src/cluster/generate.js';

const examplesDir = path.join(lbctlRoot(), 'examples');
const examples = await Promise.all((await fs.readdir(examplesDir)).filter((f) => f.endsWith('.yaml')).sort().map((f) => fs.readFile(path.join(examplesDir, f), 'utf8')));

/** Everything `config generate` does short of writing: must never throw for any text. */
function loadAll(text: string): 'valid' | 'refused' {
  const parsed = parseSpec(text, 'fuzz.yaml');
  if (!parsed.spec) {
    assert.ok(parsed.findings.length > 0, 'a refused spec carries a finding');
    for (const f of parsed.findings) assert.match(f.where, /^fuzz\.yaml:\d+:\d+$/);
    return 'refused';
  }
  if (checkSpec(parsed.spec, parsed.locator).length) return 'refused';
  renderNodes(parsed.spec, 'fuzz.yaml');
  return 'valid';
}

/** Characters that matter to YAML, plus some that matter to the generated files. */
const yamlChar = fc.constantFrom(...'[]{}:,-?&*!|>\'"#%@`\n\t  abcxyz019./\\\u0000\u00e9'.split(''));
const chunk = fc.array(yamlChar, { maxLength: 20 }).map((cs) => cs.join(''));

type Mutation = { kind: 'delete' | 'insert' | 'duplicate' | 'replace'; at: number; length: number; text: string };
const mutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom('delete', 'insert', 'duplicate', 'replace'),
  at: fc.nat(), length: fc.nat({ max: 40 }), text: chunk,
}) as fc.Arbitrary<Mutation>;

function mutate(text: string, ms: Mutation[]): string {
  for (const m of ms) {
    const at = text.length ? m.at % text.length : 0;
    if (m.kind === 'delete') text = text.slice(0, at) + text.slice(at + m.length);
    else if (m.kind === 'insert') text = text.slice(0, at) + m.text + text.slice(at);
    else if (m.kind === 'duplicate') text = text.slice(0, at + m.length) + text.slice(at, at + m.length) + text.slice(at + m.length);
    else text = text.slice(0, at) + m.text + text.slice(at + m.text.length);
  }
  return text;
}

const mutatedExample = fc.tuple(fc.nat({ max: examples.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 }))
  .map(([i, ms]) => mutate(examples[i], ms));

test('fuzz: random text never crashes the loader', () => {
  fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.array(chunk, { maxLength: 30 }).map((c) => c.join(''))), (text) => {
    loadAll(text);
  }), { numRuns: 400 });
});

test('fuzz: mutated examples never crash the loader, the rules or the renderers', () => {
  let valid = 0;
  fc.assert(fc.property(mutatedExample, (text) => {
    if (loadAll(text) === 'valid') valid++;
  }), { numRuns: 600 });
  // The mutations must not only produce garbage: some mutants still load (the renderers ran).
  assert.ok(valid > 10, `only ${valid} mutants were valid specs`);
});

test('fuzz: through the command, mutated specs exit 0 or 3 with at most one stderr line, never 1', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lbc1-fuzz-'));
  try {
    const file = path.join(tmp, 'spec.yaml');
    let n = 0;
    await fc.assert(fc.asyncProperty(mutatedExample, async (text) => {
      await fs.writeFile(file, text);
      const r = await runLbctl(['config', 'generate', file, '--out', path.join(tmp, `out${n++}`)]);
      assert.ok(r.exitCode === 0 || r.exitCode === ExitCode.InvalidInput, `exit ${r.exitCode}: ${r.stderr}`);
      if (r.exitCode !== 0) {
        assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
        assert.match(r.stderr, /^lbctl: error: \S+:\d+:\d+: /);
      }
    }), { numRuns: 60 });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

/** Wall time of one load (parse, validate, rules, render). */
function timeLoad(text: string): number {
  const t0 = performance.now();
  try { loadAll(text); } catch { /* only the time matters here; the properties above judge results */ }
  return performance.now() - t0;
}

/**
 * Fastest of several runs of `small` and `large`, interleaved so both see the same machine
 * load: on a shared machine the minimum is the figure least disturbed by other processes.
 */
function fastest(small: string, large: string, runs = 5): [number, number] {
  let a = Infinity;
  let b = Infinity;
  for (let i = 0; i < runs; i++) { a = Math.min(a, timeLoad(small)); b = Math.min(b, timeLoad(large)); }
  return [a, b];
}

/** Inputs of a given size that stress different parts of the loader. */
const SHAPES: Record<string, (n: number) => string> = {
  'many backends (valid)': (n) => `cluster: c\nnodes:\n  - { name: lb1, address: 10.0.0.2/24, interface: eth0 }\nhaproxy:\n  backends:\n${Array.from({ length: n }, (_, i) => `    - { name: b${i}, servers: [{ name: s, address: "10.0.0.1:80" }] }\n`).join('')}`,
  'many schema errors': (n) => `cluster: c\nnodes:\n${Array.from({ length: n }, (_, i) => `  - { name: "bad name ${i}", address: x, interface: "" }\n`).join('')}`,
  'long flow list': (n) => `cluster: c\nnodes: [${Array.from({ length: n * 4 }, () => '1').join(', ')}]\n`,
  'many aliases': (n) => `cluster: c\nx: &a { k: v }\ny: [${Array.from({ length: n }, () => '*a').join(', ')}]\n`,
  'brackets past the depth limit': (n) => `cluster: c\nnodes: ${'['.repeat(n * 20)}\n`,
  'compact sequences past the limit': (n) => `${'- '.repeat(n * 10)}x\n`,
  'unclosed quotes and brackets': (n) => Array.from({ length: n }, (_, i) => `k${i}: "[{'\n`).join(''),
  'comment lines': (n) => `cluster: c\n${'# just a comment line that is long enough to matter\n'.repeat(n * 4)}`,
  'random garbage': (n) => fc.sample(chunk, { numRuns: n, seed: 42 }).join(''),
};

for (const [name, make] of Object.entries(SHAPES)) {
  test(`time is linear in size: ${name}`, () => {
    // Grow n until one load takes long enough to measure (or the input is about a megabyte).
    let n = 250;
    while (timeLoad(make(n)) < 40 && make(n).length < 1_000_000) n *= 2;
    const small = make(n);
    const large = make(2 * n);
    // Linear: double the size, about double the time. Allowed: 3x plus a fixed margin, and
    // three attempts, since other processes on a busy machine can stall any one measurement.
    const tries: string[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      const [a, b] = fastest(small, large);
      tries.push(`${a.toFixed(1)} ms -> ${b.toFixed(1)} ms`);
      if (b <= 3 * a + 30) return;
    }
    assert.fail(`${name}: ${small.length} bytes -> ${large.length} bytes: ${tries.join('; ')}`);
  });
}
