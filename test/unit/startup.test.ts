/**
 * What a hot command reads before it does any work: every lbctl call pays for the modules it
 * loads, and the kernel lab (9p root, TCG) showed them in the profile (docs/DEV.md, start-up).
 * Walks the static ESM imports of the built bundle (dist/, `npm run build`) from a command's
 * chunk, as node loads them, and checks that what only other paths need stays out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { lbctlRoot } from '../../src/cli/inprocess.js';

const dist = path.join(lbctlRoot(), 'dist');

/** dist/ files node evaluates when it imports `start` (static imports only; import() waits until called). */
function staticClosure(start: string): Map<string, string> {
  const seen = new Map<string, string>();
  const todo = [path.join(dist, start)];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    seen.set(file, text);
    // esbuild's minified output: import{a as b}from"./chunk-X.js"; / import"./chunk-Y.js";
    for (const m of text.matchAll(/(?:^|[;}\s])import(?:\s*\{[^}]*\}\s*from|\s*\*\s*as\s+\w+\s+from|\s+\w+\s+from)?\s*["'](\.\.?\/[^"']+)["']/g)) {
      todo.push(path.resolve(path.dirname(file), m[1]));
    }
  }
  return seen;
}

function chunkOf(command: string): string {
  const f = readdirSync(path.join(dist, 'chunks')).find((n) => n.startsWith(`${command}-`) && n.endsWith('.js'));
  assert.ok(f, `no chunk for ${command} in dist/chunks (run npm run build)`);
  return `chunks/${f}`;
}

/** Packages from node_modules (not node's own modules) that the bundled CommonJS code in `files` requires. */
function externalRequires(files: Map<string, string>): string[] {
  const out = new Set<string>();
  for (const text of files.values()) {
    for (const m of text.matchAll(/__require\("([^".][^"]*)"\)/g)) if (!m[1].startsWith('node:') && !builtinModules.includes(m[1])) out.add(m[1]);
  }
  return [...out].sort();
}

test('the entry (every call) requires nothing from node_modules: tinyglobby is stubbed', () => {
  const files = staticClosure('lbctl.js');
  assert.ok(files.size > 1, 'the entry imports its chunks');
  // typescript stays outside the bundle too, but oclif requires it only inside the function that
  // looks for TypeScript sources, which a bundle never calls.
  const ext = externalRequires(files).filter((m) => m !== 'typescript');
  assert.deepEqual(ext, [], `required from node_modules on every call: ${ext.join(', ')}`);
});

test('restore of plain rules and list load neither the YAML parser nor execa', () => {
  for (const command of ['restore', 'list']) {
    const files = staticClosure(chunkOf(command));
    const yaml = [...files].filter(([, t]) => t.includes('node_modules/yaml/dist')).map(([f]) => path.basename(f));
    assert.deepEqual(yaml, [], `${command} loads the YAML parser at start: ${yaml.join(', ')}`);
    const execa = [...files].filter(([, t]) => t.includes('node_modules/cross-spawn')).map(([f]) => path.basename(f));
    assert.deepEqual(execa, [], `${command} loads execa at start: ${execa.join(', ')}`);
  }
});

test('save and config still reach the YAML parser (the walk sees it when it is there)', () => {
  const files = staticClosure(chunkOf('save'));
  assert.ok([...files.values()].some((t) => t.includes('node_modules/yaml/dist')), 'save chunk closure lacks yaml: the walk misses imports');
});
