/**
 * What a hot command runs before it does any work: every lbctl call pays for the modules it
 * evaluates, and the kernel lab (9p root, TCG) showed them in the profile (docs/DEV.md, start-up).
 * The product is one CommonJS bundle (dist/lbctl.cjs) whose modules are evaluated only when first
 * needed; V8's block coverage of a real call (NODE_V8_COVERAGE) tells which of the bundled
 * packages' module bodies ran. Also: the bundle is loaded from its code cache.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';

const root = lbctlRoot();
const bin = path.join(root, 'bin', 'run.js');
const bundle = path.join(root, 'dist', 'lbctl.cjs');

/** Packages (from node_modules, bundled) whose module body ran during `lbctl ...args`, and the functions of lbctl's own that ran. */
async function evaluated(args: string[], env: Record<string, string> = {}): Promise<{ packages: Set<string>; functions: Set<string> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lbctl-cov-'));
  try {
    await execa(process.execPath, [bin, ...args], { env: { ...env, NODE_V8_COVERAGE: dir }, reject: false });
    const packages = new Set<string>();
    const functions = new Set<string>();
    for (const f of readdirSync(dir)) {
      for (const s of JSON.parse(readFileSync(path.join(dir, f), 'utf8')).result as { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[]) {
        // Either bundle: the product's, or restore's fast path (dist/lbctl-fast.cjs).
        if (!/\/dist\/lbctl(-fast)?\.cjs$/.test(s.url)) continue;
        for (const fn of s.functions) {
          if (fn.ranges[0].count === 0) continue;
          // esbuild names each bundled module's wrapper after its path (relative to the build's cwd).
          const m = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(fn.functionName);
          if (m) packages.add(m[1]); else functions.add(fn.functionName);
        }
      }
    }
    return { packages, functions };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the bundles require nothing from node_modules at run time: tinyglobby is stubbed, netlink is loaded by its own path', () => {
  for (const file of [bundle, path.join(root, 'dist', 'lbctl-fast.cjs')]) requiresOf(file);
});

function requiresOf(bundle: string): void {
  const text = readFileSync(bundle, 'latin1');
  // bin/bundle.cjs reads it as latin1, the same text only while every byte is ASCII.
  assert.equal(/[^\x00-\x7f]/.exec(text)?.index, undefined, `${path.basename(bundle)} holds a non-ASCII byte`);
  const ext = new Set<string>();
  // (not inside a string: ajv's code for its own standalone output names a require as text)
  for (const m of text.matchAll(/(?<!['"])\brequire\("([^".][^"]*)"\)/g)) if (!m[1].startsWith('node:') && !builtinModules.includes(m[1])) ext.add(m[1]);
  // typescript stays outside the bundle too, but oclif requires it only inside the function that
  // looks for TypeScript sources, which a bundle never calls.
  ext.delete('typescript');
  assert.deepEqual([...ext], [], `${path.basename(bundle)} requires from node_modules: ${[...ext].join(', ')}`);
}

test('restore of plain rules evaluates neither the YAML parser, ajv, inquirer nor execa; it did parse the rules', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lbctl-startup-'));
  try {
    const rules = path.join(dir, 'rules.txt');
    writeFileSync(rules, '-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m\n');
    // A netlink module that cannot load: the call stops at the driver, after parsing, with no
    // kernel or modprobe involved (execa is legitimately needed for modprobe without IPVS).
    const r = await evaluated(['restore', '--driver', 'netlink', '--dry-run', rules], { LBCTL_NETLINK_MODULE: path.join(dir, 'none') });
    assert.ok(r.functions.has('parseRules'), 'the walk did not see the rules being parsed');
    // Plain restore argv takes the fast path (src/cli/fast.ts): not even oclif runs.
    const heavy = ['yaml', 'ajv', '@inquirer/core', 'inquirer', 'execa', 'cross-spawn', 'diff', '@oclif/core'].filter((p) => r.packages.has(p));
    assert.deepEqual(heavy, [], `restore evaluates at start: ${heavy.join(', ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('config generate does evaluate the YAML parser (the walk sees it when it is there)', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'lbctl-startup-'));
  try {
    const r = await evaluated(['config', 'generate', path.join(root, 'examples', 'keepalived-haproxy.yaml'), '--out', out]);
    assert.ok(r.packages.has('yaml'), `yaml not seen: ${[...r.packages].join(' ')}`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('bin/run.js loads the bundle from its code cache, and without one still runs', async () => {
  const load = `const b = require(${JSON.stringify(path.join(root, 'bin', 'bundle.cjs'))}).loadBundle(); console.log(b.cache, typeof b.exports.run)`;
  const r = await execa(process.execPath, ['-e', load]);
  assert.equal(r.stdout, 'used function');
  // A V8 flag that changes the cache's flag hash: V8 rejects the cache, the bundle compiles.
  const other = await execa(process.execPath, ['--no-lazy', '-e', load]);
  assert.equal(other.stdout, 'rejected function');
  // restore's fast path has a bundle and a cache of its own.
  const fast = `const b = require(${JSON.stringify(path.join(root, 'bin', 'bundle.cjs'))}).loadBundle({ name: 'lbctl-fast' }); console.log(b.cache, typeof b.exports.fastRestore)`;
  assert.equal((await execa(process.execPath, ['-e', fast])).stdout, 'used function');
  assert.equal((await execa(process.execPath, ['--no-lazy', '-e', fast])).stdout, 'rejected function');
});

/**
 * Node's own modules a whole call loads, and how often it asked ICU to collate: a preload records
 * process.moduleLoadList and String.prototype.localeCompare calls at exit. stdout and stderr go
 * to /dev/null, as in a script: with pipes node itself loads net and streams for them.
 */
async function runtimeOf(args: string[], env: Record<string, string> = {}): Promise<{ builtins: Set<string>; collations: number }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lbctl-builtins-'));
  try {
    const out = path.join(dir, 'out.json');
    const preload = path.join(dir, 'preload.cjs');
    writeFileSync(preload, `
      let collations = 0;
      const orig = String.prototype.localeCompare;
      String.prototype.localeCompare = function (...a) { collations++; return orig.apply(this, a); };
      process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({ list: process.moduleLoadList, collations })));
    `);
    await execa(process.execPath, ['--require', preload, path.join(root, 'bin', 'run.js'), ...args], { env, reject: false, stdin: 'ignore', stdout: 'ignore', stderr: 'ignore' });
    const r = JSON.parse(readFileSync(out, 'utf8')) as { list: string[]; collations: number };
    return { builtins: new Set(r.list.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length))), collations: r.collations };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('restore and list load no ICU collator and none of the node modules they do not use (crypto, perf_hooks, readline, the ES module loader)', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lbctl-startup-'));
  try {
    const rules = path.join(dir, 'rules.txt');
    writeFileSync(rules, '-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m\n');
    const env = { LBCTL_NETLINK_MODULE: path.join(dir, 'none') };
    for (const args of [['restore', '--driver', 'netlink', '--dry-run', rules], ['list', '--driver', 'netlink']]) {
      const r = await runtimeOf(args, env);
      // The walk saw the bundle run (node's fs/promises is what lbctl's own code reads with).
      assert.ok(r.builtins.has('fs/promises'), `${args[0]}: the preload did not see the call`);
      const loaded = ['crypto', 'perf_hooks', 'readline', 'internal/modules/esm/translators'].filter((m) => r.builtins.has(m));
      assert.deepEqual(loaded, [], `${args[0]} loads ${loaded.join(', ')}`);
      assert.equal(r.collations, 0, `${args[0]} called localeCompare (an ICU collator) ${r.collations} times`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
