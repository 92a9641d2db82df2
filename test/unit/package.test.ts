/**
 * The published package holds only what a user runs: the bin entry, the bundles in dist/, the
 * README, package.json, the oclif manifest and the JSON Schemas of the --json results
 * (schemas/: scripts validate lbctl's output against them). No test, bench, fixture, golden
 * file or TypeScript source (tests and benches build to build/, never shipped).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot, runLbctl } from '../../src/cli/inprocess.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

const ALLOWED = [/^bin\/run\.js$/, /^bin\/bundle\.cjs$/, /^bin\/package\.json$/, /^dist\/lbctl\.cjs$/, /^dist\/lbctl-fast\.cjs$/, /^dist\/lbctl-validator\.cjs$/, /^dist\/lbctl(-fast)?-[0-9a-f]+-v[\d.]+-\w+\.v8cache$/, /^README\.md$/, /^package\.json$/, /^oclif\.manifest\.json$/, /^schemas\/[\w.-]+\.json$/, /^LICEN[CS]E(\.\w+)?$/];
const FORBIDDEN = /(^|\/)(test|tests|bench|fixtures?|golden|examples|scripts|src|commands|build)\/|\.ts$|\.test\.|\.map$/;

test('npm pack lists only the bin entry, the bundle, README, package.json, the manifest and the schemas', async () => {
  const r = await execa('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: lbctlRoot(), reject: false, env: { npm_config_loglevel: 'silent' } });
  assert.equal(r.exitCode, 0, r.stderr);
  const files: string[] = JSON.parse(r.stdout)[0].files.map((f: { path: string }) => f.path);
  const stray = files.filter((f) => FORBIDDEN.test(f) || !ALLOWED.some((re) => re.test(f)));
  assert.deepEqual(stray, [], `files that a user does not run: ${stray.join(', ')}`);
  // And what the CLI needs to start is there.
  for (const need of ['bin/run.js', 'bin/bundle.cjs', 'bin/package.json', 'dist/lbctl.cjs', 'dist/lbctl-fast.cjs', 'dist/lbctl-validator.cjs', 'package.json', 'oclif.manifest.json', 'README.md']) {
    assert.ok(files.includes(need), `${need} missing from the package`);
  }
  assert.ok(files.some((f) => /^dist\/lbctl-[0-9a-f]+-.*\.v8cache$/.test(f)), 'the bundle\'s code cache is missing from the package');
  assert.ok(files.some((f) => /^dist\/lbctl-fast-[0-9a-f]+-.*\.v8cache$/.test(f)), 'the fast path\'s code cache is missing from the package');
  // Every schema in the repo ships: the shared definitions and each command's result and error.
  const schemas = readdirSync(path.join(lbctlRoot(), 'schemas')).filter((f) => f.endsWith('.json')).map((f) => `schemas/${f}`).sort();
  assert.ok(schemas.length >= 40, `${schemas.length} schemas`);
  assert.deepEqual(files.filter((f) => f.startsWith('schemas/')).sort(), schemas);
});

test('oclif.manifest.json describes every command and names no file to import', () => {
  const manifest = JSON.parse(readFileSync(path.join(lbctlRoot(), 'oclif.manifest.json'), 'utf8'));
  const ids = Object.keys(manifest.commands);
  assert.ok(ids.includes('service:add') && ids.includes('haproxy:server:drain') && ids.includes('watch'), ids.join(' '));
  // A relativePath would make oclif import that file instead of the bundle's (or build/'s) class.
  assert.deepEqual(ids.filter((id) => manifest.commands[id].relativePath), []);
  assert.ok(Object.keys(manifest.commands['service:add'].flags).includes('tcp-service'));
});

test('in-process runs (tests, the shell) use the classes compiled next to inprocess.js', async () => {
  const r = await runLbctl(['haproxy', 'info', '--socket', '/nonexistent/lbs4-haproxy.sock']);
  assert.equal(r.exitCode, ExitCode.Unavailable, r.stderr);
  const unknown = await runLbctl(['servce', 'add']);
  assert.equal(unknown.exitCode, ExitCode.Usage);
  assert.match(unknown.stderr, /did you mean `service add`\?/);
});
