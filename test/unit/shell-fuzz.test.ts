import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LbctlError } from '../../src/cli/errors.js';
import { loadConfig } from '../../src/cli/inprocess.js';
import { splitForCompletion, tokenize } from '../../src/shell/tokenize.js';
import { WATCHABLE, assertWatchable, runWatch, splitWatchArgv } from '../../src/shell/watch.js';

/**
 * The shell's line tokenizer under any input, and watch's refusal of write commands.
 */

const shellChar = fc.constantFrom('a', 'Z', '0', '-', '/', ' ', '\t', '"', "'", '\\', '#', '\n', '\r', '\0', '$', '*', '\u00e9', '\ud83d', '\u2028');
const line = fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), fc.array(shellChar, { maxLength: 200 }).map((a) => a.join('')));

/** POSIX single quoting: the way an operator would quote an arbitrary word. */
const quote = (w: string) => `'${w.replace(/'/g, `'\\''`)}'`;

describe('shell tokenizer: fuzzed', () => {
  it('any line tokenizes or is refused with a one-line usage error (exit 2)', () => {
    fc.assert(fc.property(line, (l) => {
      try {
        const words = tokenize(l);
        return Array.isArray(words) && words.every((w) => typeof w === 'string');
      } catch (e) {
        return e instanceof LbctlError && e.exitCode === 2 && e.code === 'EQUOTE' && !/\n/.test(e.oneLine());
      }
    }), { numRuns: 3000 });
  });

  it('completion splitting never throws, and its words are the finished ones', () => {
    fc.assert(fc.property(line, (l) => {
      const p = splitForCompletion(l);
      return Array.isArray(p.words) && typeof p.raw === 'string' && l.endsWith(p.raw);
    }), { numRuns: 3000 });
  });

  it('quoted words come back exactly (round trip)', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 30 }), { maxLength: 10 }), (words) => {
      assert.deepEqual(tokenize(words.map(quote).join(' ')), words);
    }), { numRuns: 1000 });
  });

  it('an unterminated quote after any words is refused (exit 2), never dropped', () => {
    fc.assert(fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 10 }), { maxLength: 4 }), fc.constantFrom("'", '"'), fc.string({ maxLength: 10 }).filter((t) => !/['"\\]/.test(t)), (words, q, tail) => {
      const l = `${words.map(quote).join(' ')} ${q}${tail}`;
      assert.throws(() => tokenize(l), (e: any) => e.exitCode === 2 && e.code === 'EQUOTE', JSON.stringify(l));
    }), { numRuns: 500 });
  });

  it('time is linear in the line length', () => {
    const cpu = (fn: () => void) => {
      let min = Infinity;
      for (let i = 0; i < 5; i++) { const t0 = process.cpuUsage(); fn(); const u = process.cpuUsage(t0); min = Math.min(min, (u.user + u.system) / 1000); }
      return min;
    };
    for (const unit of ['ab "c d" \'e\' f\\ g ', '"\\"\\\\x', 'x'.repeat(50), ' '.repeat(50), '\'unterminated ']) {
      const small = unit.repeat(200);
      const big = unit.repeat(200 * 16);
      const run = (s: string) => () => { try { tokenize(s); splitForCompletion(s); } catch { /* refused: the time counts */ } };
      run(small)(); run(big)();
      const a = Math.max(cpu(run(small)), 1);
      const b = cpu(run(big));
      assert.ok(b < a * 16 * 5, `${JSON.stringify(unit)}: ${small.length} chars ${a.toFixed(2)} ms, ${big.length} chars ${b.toFixed(2)} ms`);
    }
  });
});

describe('watch: read commands only', () => {
  it('every command is either on the allow-list or refused with exit 2', async () => {
    const config = await loadConfig();
    const refused: string[] = [];
    for (const c of config.commands) {
      try {
        assertWatchable(c.id, c.id.split(':'));
        assert.ok(WATCHABLE.has(c.id));
      } catch (e) {
        assert.ok(e instanceof LbctlError && e.exitCode === 2 && e.code === 'EWATCHREAD', c.id);
        refused.push(c.id);
      }
    }
    for (const write of ['clear', 'restore', 'zero', 'save', 'service:add', 'server:delete', 'haproxy:server:disable', 'haproxy:server:weight', 'haproxy:clear:counters', 'config:install', 'config:generate', 'realserver:prep', 'director:unprep', 'timeout:set', 'daemon:start', 'watch', 'shell']) {
      assert.ok(refused.includes(write), `${write} must be refused`);
    }
    for (const read of ['list', 'haproxy:stat', 'haproxy:health', 'timeout:show', 'director:check']) assert.ok(!refused.includes(read), read);
  });

  it('runWatch refuses a write command before running anything', async () => {
    for (const argv of [['haproxy', 'server', 'disable', 'app/web1'], ['clear', '--yes'], ['service', 'add', '-t', '10.0.0.1:80'], ['hap', 'ser', 'dr', 'app/w', '-n', '1']]) {
      await assert.rejects(runWatch(argv), (e: any) => e instanceof LbctlError && e.exitCode === 2 && /read commands only/.test(e.message), argv.join(' '));
    }
  });

  it('watch options are validated', () => {
    assert.deepEqual(splitWatchArgv(['list', '-n', '1', '--count', '3']), { argv: ['list'], intervalSec: 1, count: 3 });
    for (const bad of [['list', '-n', '0'], ['list', '-n', 'x'], ['list', '--count', '0'], ['list', '-n']]) {
      assert.throws(() => splitWatchArgv(bad), (e: any) => e.exitCode === 2, bad.join(' '));
    }
  });
});
