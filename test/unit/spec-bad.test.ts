/**
 * Broken specs (test/fixtures/specs-bad/*.yaml). Each file's first line says what must
 * happen: `# expect: <line> <regex>`. Every one must give exit 3 (InvalidInput), exactly one
 * line on stderr naming file:line:col, the expected message, and write nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lbctlRoot, runLbctl } from '../../src/cli/inprocess.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

const dir = path.join(lbctlRoot(), 'test', 'fixtures', 'specs-bad');
const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();

test('at least 20 broken specs', () => {
  assert.ok(files.length >= 20, `only ${files.length}`);
});

for (const f of files) {
  test(`bad spec: ${f}`, async () => {
    const file = path.join(dir, f);
    const text = await fs.readFile(file, 'utf8');
    const m = /^# expect: (\d+) (.+)$/m.exec(text.split('\n')[0]);
    assert.ok(m, `${f}: first line must be "# expect: <line> <regex>"`);
    const [, line, pattern] = m;
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'lbctl-bad-'));
    try {
      const r = await runLbctl(['config', 'generate', file, '--out', out]);
      const lines = r.stderr.trim().split('\n');
      assert.equal(r.exitCode, ExitCode.InvalidInput, `exit ${r.exitCode}: ${r.stderr}`);
      assert.equal(lines.length, 1, `one line expected, got:\n${r.stderr}`);
      const shown = path.relative(process.cwd(), file);
      assert.ok(lines[0].includes(`${shown}:${line}:`), `expected ${shown}:${line}: in\n${lines[0]}`);
      assert.match(lines[0], new RegExp(pattern));
      assert.deepEqual(await fs.readdir(out), [], 'nothing may be written');
      // config check reports the same problem with the same exit code, before any daemon runs.
      const c = await runLbctl(['config', 'check', file, '--json']);
      assert.equal(c.exitCode, ExitCode.InvalidInput);
      assert.equal(c.json?.error?.code, 'ESPEC');
      assert.match(c.json.error.where, new RegExp(`:${line}:\\d+$`));
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
  });
}
