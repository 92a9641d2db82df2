import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { loadConfig } from '../../src/cli/inprocess.js';
import { LbctlError } from '../../src/cli/errors.js';
import { splitForCompletion, tokenize } from '../../src/shell/tokenize.js';
import { resolvePrefix, treeOf } from '../../src/shell/resolve.js';
import { cellsOf, highlightChanges, splitWatchArgv } from '../../src/shell/watch.js';
import { appendHistory, historyFile, loadHistory, HISTORY_SIZE } from '../../src/shell/history.js';
import { ShellContext } from '../../src/shell/context.js';
import { complete } from '../../src/shell/complete.js';

/** The shell's pure logic (no daemon): tokenising, prefix resolution, completion words, watch diffs, history. */

describe('shell: tokenising', () => {
  it('quotes group, backslash escapes, # starts a comment, nothing is expanded', () => {
    assert.deepEqual(tokenize(`haproxy  server weight app/a1 '50%'`), ['haproxy', 'server', 'weight', 'app/a1', '50%']);
    assert.deepEqual(tokenize(`a "b c" 'd "e"' f\\ g "h\\"i" $HOME * x#y # comment`), ['a', 'b c', 'd "e"', 'f g', 'h"i', '$HOME', '*', 'x#y']);
    assert.deepEqual(tokenize('   '), []);
    assert.deepEqual(tokenize(`a ''`), ['a', '']);
    assert.throws(() => tokenize('a "b'), (e: LbctlError) => e.exitCode === 2 && e.code === 'EQUOTE' && e.where === 'column 3');
  });
  it('splits the line being typed into finished words and the current one', () => {
    assert.deepEqual(splitForCompletion('hap ser'), { words: ['hap'], raw: 'ser', text: 'ser', quoted: false });
    assert.deepEqual(splitForCompletion('hap ser '), { words: ['hap', 'ser'], raw: '', text: '', quoted: false });
    assert.equal(splitForCompletion('hap "ser').quoted, true);
  });
});

describe('shell: unique prefixes', async () => {
  const tree = treeOf(await loadConfig());
  const r = (line: string) => resolvePrefix(tree, tokenize(line));
  it('resolves each word by its unique prefix, stopping at flags and arguments', () => {
    assert.deepEqual(r('hap ser dis app/a1 --json'), { id: 'haproxy:server:disable', words: ['haproxy', 'server', 'disable'], args: ['app/a1', '--json'] });
    assert.equal(r('hap cl co --all').id, 'haproxy:clear:counters');
    assert.equal(r('cl --yes').id, 'clear');
    assert.equal(r('li --rate').id, 'list');
    assert.equal(r('servi del -t 10.0.0.1:80').id, 'service:delete');
    assert.equal(r('q').id, '!exit');
  });
  it('an ambiguous prefix is narrowed by the flags given, else lists the candidates', () => {
    // -r (real server) is a flag of server add only.
    assert.deepEqual(r('ser ad -t 10.0.0.1:80 -r 10.0.0.2'), { id: 'server:add', words: ['server', 'add'], args: ['-t', '10.0.0.1:80', '-r', '10.0.0.2'] });
    assert.equal(r('ser ad -t 10.0.0.1:80 -s rr').id, 'service:add');
    assert.throws(() => r('ser ad'), /"ser" is ambiguous: server, service/);
    assert.throws(() => r('hap s'), (e: LbctlError) => e.exitCode === 2 && e.code === 'EAMBIGUOUS' && /haproxy server, haproxy stat/.test(e.message));
  });
  it('unknown or incomplete commands are usage errors that say what exists', () => {
    assert.throws(() => r('frobnicate'), (e: LbctlError) => e.code === 'ENOCOMMAND' && /no such command/.test(e.message));
    assert.throws(() => r('hap zz'), (e: LbctlError) => /no such subcommand of "haproxy"/.test(e.message) && /backends, clear/.test(e.hint!));
    assert.throws(() => r('haproxy'), /"haproxy" needs a subcommand/);
  });
});

describe('shell: completion words (no live sources)', async () => {
  const saved = { ...process.env };
  process.env.LBCTL_HAPROXY_CFG = path.join(os.tmpdir(), 'lbsh-none', 'haproxy.cfg');
  delete process.env.LBCTL_HAPROXY_SOCKET;
  const ctx = await ShellContext.open({ config: await loadConfig(), interactive: false });
  process.env = saved;
  const c = async (line: string) => (await complete(ctx, line))[0];
  it('commands, subcommands, flags, flag options and schedulers', async () => {
    assert.deepEqual(await c('ha'), ['ha ', 'haproxy ']);
    assert.deepEqual(await c('ha st'), ['standby ', 'status ']);
    assert.deepEqual(await c('hap ser d'), ['disable ', 'drain ']);
    assert.deepEqual(await c('haproxy stat --t'), ['--type ']);
    assert.deepEqual(await c('haproxy stat -t '), ['backend ', 'frontend ', 'server ']);
    assert.deepEqual(await c('service add -t 10.0.0.1:80 -s w'), ['wlc ', 'wrr ']);
    assert.deepEqual(await c('li --dr'), ['--driver ']);
    assert.deepEqual(await c('watch li'), ['list ']);
    assert.deepEqual(await c('watch -n 1 haproxy st'), ['stat ']);
    assert.deepEqual(await c('hap "x'), []);
    await ctx.close();
  });
});

describe('shell: watch frames', () => {
  it('takes -n/--interval/--count out of the watched command line', () => {
    assert.deepEqual(splitWatchArgv(['list', '--rate', '-n', '1']), { argv: ['list', '--rate'], intervalSec: 1, count: undefined });
    assert.deepEqual(splitWatchArgv(['-n0.5', 'haproxy', 'stat', '--count=3', '--', '-n']), { argv: ['haproxy', 'stat', '-n'], intervalSec: 0.5, count: 3 });
    assert.throws(() => splitWatchArgv(['list', '-n', '0']), /at least 0.1/);
  });
  it('highlights exactly the cells that changed, keeping the others (and their colours)', () => {
    const a = ['NAME  STOT  RATE', '  app/a1  \x1b[32mUP\x1b[39m  5  0'];
    const b = ['NAME  STOT  RATE', '  app/a1  \x1b[32mUP\x1b[39m  9  0'];
    assert.deepEqual(highlightChanges(a), a, 'first frame: nothing to compare with');
    const out = highlightChanges(b, cellsOf(a));
    assert.equal(out[0], b[0]);
    assert.equal(out[1], '  app/a1  \x1b[32mUP\x1b[39m  \x1b[7m9\x1b[27m  0');
    assert.deepEqual(cellsOf(b)[1], ['app/a1', 'UP', '9', '0']);
  });
});

describe('shell: history file', () => {
  it('lives under $XDG_STATE_HOME (else ~/.local/state), is appended per line and trimmed', async () => {
    assert.equal(historyFile({ XDG_STATE_HOME: '/x/state', HOME: '/home/u' }), '/x/state/lbctl/history');
    assert.equal(historyFile({ HOME: '/home/u' }), '/home/u/.local/state/lbctl/history');
    assert.equal(historyFile({ XDG_STATE_HOME: 'relative', HOME: '/home/u' }), '/home/u/.local/state/lbctl/history');
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbsh-hist-'));
    try {
      const file = path.join(dir, 'lbctl', 'history');
      assert.deepEqual(await loadHistory(file), []);
      for (const l of ['list', 'hap info', 'hap info', 'watch list']) await appendHistory(l, file);
      assert.deepEqual(await loadHistory(file), ['watch list', 'hap info', 'list']);
      assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
      await fs.writeFile(file, Array.from({ length: 2 * HISTORY_SIZE + 5 }, (_, i) => `cmd ${i}`).join('\n') + '\n');
      const h = await loadHistory(file);
      assert.equal(h.length, HISTORY_SIZE);
      assert.equal(h[0], `cmd ${2 * HISTORY_SIZE + 4}`);
      assert.equal((await fs.readFile(file, 'utf8')).trim().split('\n').length, HISTORY_SIZE);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
