import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EXIT_CODE_DOCS } from '../../src/cli/exit-codes.js';

// The README's exit-code table is the contract scripts rely on: it must list exactly src/cli/exit-codes.ts.
test('README documents every exit code exactly as src/cli/exit-codes.ts defines it', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.split('## Exit codes')[1]?.split('\n## ')[0];
  assert.ok(section, 'README has an "## Exit codes" section');
  const rows = [...section.matchAll(/^\| (\d+) \| `(\w+)` \| (.+) \|$/gm)].map((m) => ({ code: Number(m[1]), name: m[2], meaning: m[3] }));
  assert.deepEqual(rows, EXIT_CODE_DOCS.map((d) => ({ code: d.code, name: d.name, meaning: d.meaning })));
});
