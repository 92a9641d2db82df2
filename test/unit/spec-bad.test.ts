/**
 * Broken specs (test/fixtures/specs-bad/*.yaml). Each file's first line says what must
 * happen: `# expect: <line> <regex>`. Every one must give exit 3 (InvalidInput), exactly one
 * line naming file:line:col with the expected message, and write nothing.
 *
 * All fixtures go through the same functions the commands call (the command prints
 * errorLine(err.oneLine()) and exits err.exitCode); a few also go through the real CLI as
 * a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { LbctlError } from '../../src/cli/errors.js';
import { generateFiles } from '../../src/cluster/generate.js';
import { checkCluster, checkError } from '../../src/cluster/check.js';
import { lbctl } from '../support/keepalived-lab.js';

const dir = path.join(lbctlRoot(), 'test', 'fixtures', 'specs-bad');
const files = (await fs.readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();

async function expectation(file: string): Promise<{ line: string; pattern: RegExp }> {
  const m = /^# expect: (\d+) (.+)$/.exec((await fs.readFile(file, 'utf8')).split('\n')[0]);
  assert.ok(m, `${file}: first line must be "# expect: <line> <regex>"`);
  return { line: m[1], pattern: new RegExp(m[2]) };
}

test('at least 20 broken specs', () => {
  assert.ok(files.length >= 20, `only ${files.length}`);
});

for (const f of files) {
  test(`bad spec: ${f}`, async () => {
    const file = path.join(dir, f);
    const { line, pattern } = await expectation(file);
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'lbctl-bad-'));
    try {
      const err = await generateFiles(file, { out }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof LbctlError, `expected an error, got ${String(err)}`);
      assert.equal(err.exitCode, ExitCode.InvalidInput, err.oneLine());
      const one = err.oneLine();
      assert.ok(!one.includes('\n'), 'one line');
      const shown = path.relative(process.cwd(), file);
      assert.ok(one.startsWith(`${shown}:${line}:`), `expected ${shown}:${line}: in\n${one}`);
      assert.match(one, pattern);
      assert.deepEqual(await fs.readdir(out), [], 'nothing may be written');
      // config check finds the same problem first, before any daemon runs.
      const report = await checkCluster(file, { daemons: false });
      const cerr = checkError(report);
      assert.equal(cerr?.exitCode, ExitCode.InvalidInput);
      assert.match(cerr!.where!, new RegExp(`:${line}:\\d+$`));
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
  });
}

test('the real CLI: exit 3, one stderr line with file:line, nothing written', async () => {
  for (const f of ['vrid-300.yaml', 'yaml-duplicate-key.yaml', 'duplicate-priorities.yaml']) {
    const file = path.join(dir, f);
    const { line, pattern } = await expectation(file);
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'lbctl-bad-'));
    try {
      const r = await lbctl(['config', 'generate', file, '--out', out]);
      assert.equal(r.exitCode, ExitCode.InvalidInput, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], new RegExp(`^lbctl: error: \\S*${f.replace('.', '\\.')}:${line}:\\d+: `));
      assert.match(lines[0], pattern);
      assert.deepEqual(await fs.readdir(out), []);
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
  }
});
