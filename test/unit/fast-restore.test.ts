/**
 * restore's fast path (src/cli/fast.ts): plain argv runs without oclif, everything else goes to
 * oclif, and both paths answer alike. The host has no IPVS, so whole calls here end at the
 * driver or before it (input errors, usage errors, JSON errors); the kernel test
 * fast-restore.test.ts compares the two paths on a real table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { parseRestoreArgv } from '../../src/cli/fast.js';
import { RESTORE_FLAGS } from '../../src/cli/restore-run.js';
import Restore from '../../commands/restore.js';

const root = lbctlRoot();

test("the fast path's flag table is restore's oclif flags: names, kinds, options, defaults, environment", () => {
  const oclif = { ...Restore.baseFlags, ...Restore.flags, json: { type: 'boolean' } } as Record<string, { type: string; options?: readonly string[]; default?: unknown; env?: string }>;
  assert.deepEqual(Object.keys(RESTORE_FLAGS).sort(), Object.keys(oclif).sort());
  for (const [name, f] of Object.entries(oclif)) {
    const mine = RESTORE_FLAGS[name];
    assert.equal(mine.kind, f.type === 'option' ? 'string' : f.type, `--${name}: kind`);
    assert.deepEqual(mine.options ? [...mine.options] : undefined, f.options ? [...f.options] : undefined, `--${name}: options`);
    assert.equal(mine.default, f.type === 'boolean' ? undefined : f.default, `--${name}: default`);
    assert.equal(mine.env, f.env, `--${name}: env`);
  }
  // restore has one argument, FILE, default "-" (stdin).
  assert.deepEqual(Object.keys(Restore.args), ['file']);
  assert.equal(Restore.args.file.default, '-');
});

test('plain argv is read as oclif reads it', () => {
  const env = {};
  assert.deepEqual(parseRestoreArgv(['r.txt'], env), {
    flags: { file: 'r.txt', timeout: '300', driver: 'auto', 'lock-timeout': '30s' }, json: false, exitCode: false,
  });
  assert.deepEqual(parseRestoreArgv([], env)?.flags.file, '-');
  assert.deepEqual(parseRestoreArgv(['-'], env)?.flags.file, '-');
  const r = parseRestoreArgv(['--dry-run', 'r.txt', '--timeout', '2m', '--lock-timeout=5s', '--driver', 'netlink', '--format=yaml', '--merge', '--drain', '--allow-empty', '--json', '--exit-code'], env);
  assert.deepEqual(r, {
    flags: {
      file: 'r.txt', 'dry-run': true, timeout: '2m', 'lock-timeout': '5s', driver: 'netlink', format: 'yaml', merge: true, drain: true, 'allow-empty': true, json: true, 'exit-code': true,
    },
    json: true,
    exitCode: true,
  });
  // The driver from the environment, as oclif's env: LBCTL_DRIVER; the flag wins over it.
  assert.equal(parseRestoreArgv(['r.txt'], { LBCTL_DRIVER: 'ipvsadm' })?.flags.driver, 'ipvsadm');
  assert.equal(parseRestoreArgv(['r.txt', '--driver', 'netlink'], { LBCTL_DRIVER: 'ipvsadm' })?.flags.driver, 'netlink');
});

test('anything oclif would read differently, or refuse, is left to oclif', () => {
  const refused: Array<[string[], NodeJS.ProcessEnv?]> = [
    [['--help']], [['-h']], [['r.txt', '--help']], [['r.txt', '--version']],
    [['a.txt', 'b.txt']], [['r.txt', '--']], [['--', 'r.txt']],
    [['r.txt', '--nosuch']], [['r.txt', '-x']], [['r.txt', '--dry-run', '--dry-run']], [['r.txt', '--timeout', '1s', '--timeout=2s']],
    [['r.txt', '--dry-run=true']], [['r.txt', '--timeout']], [['r.txt', '--timeout=']], [['r.txt', '--timeout', '-5']],
    [['r.txt', '--format', 'xml']], [['r.txt', '--driver=kernel']], [['r.txt', '--dry']],
    [['r.txt'], { DEBUG: '1' }], [['r.txt'], { LBCTL_CONTENT_TYPE: 'json' }], [['r.txt'], { LBCTL_DRIVER: 'bogus' }], [['r.txt'], { LBCTL_DRIVER: '' }],
  ];
  for (const [argv, env] of refused) assert.equal(parseRestoreArgv(argv, env ?? {}), undefined, `took the fast path: ${argv.join(' ')} ${JSON.stringify(env ?? {})}`);
});

/** A whole call; `read`: which bundles it read (a preload records readFileSync of dist/*.cjs). */
async function call(argv: string[], env: Record<string, string>, dir: string, input?: string) {
  const log = path.join(dir, `read-${Math.random().toString(36).slice(2)}.txt`);
  const preload = path.join(dir, 'preload.cjs');
  writeFileSync(preload, `
    const fs = require('node:fs');
    const orig = fs.readFileSync;
    fs.readFileSync = function (p, ...a) { if (typeof p === 'string' && /[\\\\/]dist[\\\\/][^\\\\/]+\\.cjs$/.test(p)) fs.appendFileSync(${JSON.stringify(log)}, require('node:path').basename(p) + '\\n'); return orig.call(this, p, ...a); };
  `);
  const r = await execa(process.execPath, ['--require', preload, path.join(root, 'bin', 'run.js'), ...argv], {
    env: { ...env, NO_COLOR: '1' }, reject: false, ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
  });
  let read: string[] = [];
  try { read = readFileSync(log, 'utf8').split('\n').filter(Boolean); } catch { /* read none */ }
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr, read };
}

test('whole calls: the fast path answers as oclif does (output, JSON, exit code), and loads no oclif', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'lbctl-fast-'));
  try {
    const good = path.join(dir, 'good.rules');
    writeFileSync(good, '-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m\n');
    const bad = path.join(dir, 'bad.rules');
    writeFileSync(bad, '-A -t 10.0.0.1:80 -s wrr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w lots\n');
    const empty = path.join(dir, 'empty.rules');
    writeFileSync(empty, '\n');
    // No IPVS on the host: a netlink module that cannot load ends netlink calls at the driver.
    const env = { LBCTL_NETLINK_MODULE: path.join(dir, 'none'), LBCTL_LOCK_DIR: path.join(dir, 'lock') };
    const cases: Array<{ argv: string[]; input?: string; code: number }> = [
      { argv: ['restore', good, '--driver', 'netlink'], code: 6 },
      { argv: ['restore', good, '--driver', 'netlink', '--json'], code: 6 },
      { argv: ['restore', good, '--driver', 'netlink', '--dry-run', '--exit-code'], code: 6 },
      { argv: ['restore', bad, '--driver', 'netlink'], code: 3 },
      { argv: ['restore', bad, '--json'], code: 3 },
      { argv: ['restore', empty], code: 3 },
      { argv: ['restore', path.join(dir, 'missing.rules')], code: 4 },
      { argv: ['restore', dir, '--json'], code: 3 },
      { argv: ['restore', good, '--timeout', 'soon'], code: 2 },
      { argv: ['restore', good, '--lock-timeout', 'never', '--driver', 'netlink'], code: 2 },
      { argv: ['restore', '-', '--driver', 'netlink'], input: '', code: 3 },
      { argv: ['restore', '--driver', 'netlink', '--format', 'json'], input: '{"services": [{"protocol": "tcp"}]}', code: 3 },
    ];
    for (const c of cases) {
      const fast = await call(c.argv, env, dir, c.input);
      const slow = await call(c.argv, { ...env, LBCTL_FAST: '0' }, dir, c.input);
      const what = c.argv.join(' ');
      assert.equal(fast.exitCode, c.code, `${what}: exit ${fast.exitCode}: ${fast.stderr}${fast.stdout}`);
      assert.deepEqual({ exitCode: fast.exitCode, stdout: fast.stdout, stderr: fast.stderr }, { exitCode: slow.exitCode, stdout: slow.stdout, stderr: slow.stderr }, what);
      assert.deepEqual(fast.read, ['lbctl-fast.cjs'], `${what}: the fast call read ${fast.read.join(', ')}`);
      assert.ok(slow.read.includes('lbctl.cjs') && !slow.read.includes('lbctl-fast.cjs'), `${what}: LBCTL_FAST=0 read ${slow.read.join(', ')}`);
    }
    // Argv the fast path leaves alone: oclif answers (after the fast bundle looked at it).
    for (const argv of [['restore', '--help'], ['restore', good, '--format', 'xml'], ['restore', good, '--nosuch']]) {
      const r = await call(argv, env, dir);
      assert.deepEqual(r.read, ['lbctl-fast.cjs', 'lbctl.cjs'], `${argv.join(' ')} read ${r.read.join(', ')}`);
      const slow = await call(argv, { ...env, LBCTL_FAST: '0' }, dir);
      assert.deepEqual({ exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr }, { exitCode: slow.exitCode, stdout: slow.stdout, stderr: slow.stderr }, argv.join(' '));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
