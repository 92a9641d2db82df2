/**
 * Help and unknown commands, through the shipped entry (bin/run.js and the bundle):
 * every topic has its own description, and a mistyped command is a usage error in lbctl's
 * format (exit 2, one line, or the JSON error under --json) naming the nearest command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { nearestCommand } from '../../src/cli/hooks/command-not-found.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

const root = lbctlRoot();
const bin = path.join(root, 'bin', 'run.js');
const lbctl = (args: string[]) => execa(process.execPath, [bin, ...args], { reject: false, env: { NO_COLOR: '1' } });
const pjson = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));

test('lbctl --help: each topic line carries that topic\'s own description, and commands are not topics', async () => {
  const r = await lbctl(['--help']);
  assert.equal(r.exitCode, 0, r.stderr);
  const topics = r.stdout.split('\nTOPICS\n')[1]?.split('\n\n')[0];
  assert.ok(topics, r.stdout);
  // Continuation lines (wrapped descriptions) start with more indentation than a topic name.
  const names = topics.split('\n').filter((l) => /^ {2}\S/.test(l)).map((l) => l.trim().split(/\s+/)[0]);
  assert.deepEqual(names, Object.keys(pjson.oclif.topics).sort());
  const flat = topics.replace(/\n\s+/g, ' ');
  for (const [name, t] of Object.entries<{ description: string }>(pjson.oclif.topics)) {
    const words = t.description.split(' ').slice(0, 4).map((w) => w.replace(/[()+.]/g, '\\$&'));
    assert.match(flat, new RegExp(`(^|\\s)${name}\\s+${words.join('\\s+')}`), `topic ${name}`);
  }
});

test('lbctl haproxy --help lists its subtopics with their own descriptions', async () => {
  const r = await lbctl(['haproxy', '--help']);
  assert.equal(r.exitCode, 0, r.stderr);
  assert.match(r.stdout, /^HAProxy runtime operations over the stats socket/);
  assert.match(r.stdout, /\n {2}haproxy clear\s+Reset HAProxy statistics counters\n/);
  assert.match(r.stdout, /\n {2}haproxy server\s+One HAProxy server's state or weight/);
});

test('lbctl nosuch: exit 2, one error line in lbctl\'s format with the nearest command', async () => {
  const r = await lbctl(['nosuch']);
  assert.equal(r.exitCode, ExitCode.Usage);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^lbctl: error: unknown command `nosuch` \(did you mean `[a-z ]+`\? see `lbctl --help`\)$/);
});

test('lbctl servce add / service ad: the suggestion is `service add`', async () => {
  for (const argv of [['servce', 'add', '-t', '10.0.0.1:80'], ['service', 'ad', '-t', '10.0.0.1:80']]) {
    const r = await lbctl(argv);
    assert.equal(r.exitCode, ExitCode.Usage, argv.join(' '));
    assert.equal(r.stderr, `lbctl: error: unknown command \`${argv.slice(0, 2).join(' ')}\` (did you mean \`service add\`? see \`lbctl --help\`)`);
  }
});

test('lbctl servce add --json: the JSON error on stdout, nothing on stderr', async () => {
  const r = await lbctl(['servce', 'add', '--json']);
  assert.equal(r.exitCode, ExitCode.Usage);
  assert.equal(r.stderr, '');
  const { error } = JSON.parse(r.stdout);
  assert.equal(error.code, 'ENOCOMMAND');
  assert.equal(error.exitCode, ExitCode.Usage);
  assert.equal(error.message, 'unknown command `servce add`');
  assert.match(error.hint, /did you mean `service add`\?/);
});

test('a topic alone still shows its help; a real command still runs', async () => {
  const topic = await lbctl(['service']);
  assert.equal(topic.exitCode, 0, topic.stderr);
  assert.match(topic.stdout, /\n {2}service add\s/);
  const cmd = await lbctl(['service', 'add', '-t', 'not-an-address']);
  assert.equal(cmd.exitCode, ExitCode.Usage);
  assert.doesNotMatch(cmd.stderr, /unknown command/);
});

test('lbctl --version prints what oclif itself prints (the fast path in bin/run.js)', async () => {
  const fast = await lbctl(['--version']);
  const viaOclif = await execa(process.execPath, ['--input-type=module', '-e',
    `const { createRequire } = await import('node:module'); const { run } = createRequire(import.meta.url)(${JSON.stringify(path.join(root, 'dist', 'lbctl.cjs'))}); await run(['--version'], ${JSON.stringify(root)});`], { reject: false });
  assert.equal(viaOclif.exitCode, 0, viaOclif.stderr);
  assert.equal(fast.exitCode, 0);
  assert.equal(fast.stdout, viaOclif.stdout);
  assert.match(fast.stdout, new RegExp(`^lbctl/${pjson.version.replace(/\./g, '\\.')} `));
});

test('nearestCommand compares as many words as each command has', () => {
  const ids = ['service:add', 'service:delete', 'server:add', 'list', 'haproxy:server:drain'];
  assert.equal(nearestCommand(ids, ['servce', 'add']), 'service add');
  assert.equal(nearestCommand(ids, ['server', 'ad']), 'server add');
  assert.equal(nearestCommand(ids, ['lst']), 'list');
  assert.equal(nearestCommand(ids, ['haproxy', 'server', 'drian']), 'haproxy server drain');
});
