import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { rawCommand, rawShowStat, startLabHaproxy, startLabServer, type LabHaproxy, type LabServer } from '../support/haproxy-lab.js';

/**
 * `lbctl shell` fed on stdin against a real haproxy 2.6: the same ten commands as a script
 * and as ten separate `lbctl` processes must give the same JSON, the same final haproxy
 * state (read raw from the admin socket) and the same exit code at the first failure.
 */

const bin = path.join(lbctlRoot(), 'bin', 'run.js');

interface Lab { hp: LabHaproxy; servers: LabServer[] }
async function withLab(fn: (lab: Lab) => Promise<void>): Promise<void> {
  const servers = [await startLabServer('a1'), await startLabServer('a2'), await startLabServer('s1')];
  const hp = await startLabHaproxy({
    prefix: 'lbsh-',
    defaultBackend: 'app',
    body: ['backend app', `  server a1 127.0.0.1:${servers[0].port}`, `  server a2 127.0.0.1:${servers[1].port}`,
      'backend shop', `  server s1 127.0.0.1:${servers[2].port}`].join('\n'),
  });
  try { await fn({ hp, servers }); } finally { await hp.stop(); for (const s of servers) await s.close(); }
}

const SCRIPT = [
  'haproxy backends --json',
  'haproxy server weight app/a1 50 --json',
  'haproxy server drain app/a2 --json',
  'haproxy server disable shop/s1 --json',
  'haproxy server weight app/a1 50 --json',
  'haproxy server ready app/a2 --json',
  'haproxy backends --json',
  'haproxy server enable app/nosuch --json',
  'haproxy server enable shop/s1 --json',
  "haproxy server weight app/a1 '100%' --json",
];

const env = (hp: LabHaproxy) => ({ ...process.env, LBCTL_HAPROXY_SOCKET: hp.adminSocket, NO_COLOR: '1', FORCE_COLOR: undefined });
const norm = (text: string, hp: LabHaproxy) => text.split(hp.adminSocket).join('<socket>');

/** What a careful operator's `set -e` script of separate lbctl calls does. */
async function separately(hp: LabHaproxy, lines: string[], keepGoing: boolean): Promise<{ stdout: string; exitCode: number; ran: number }> {
  let stdout = '';
  let exitCode = 0;
  let ran = 0;
  for (const line of lines) {
    // The script's words, unquoted the obvious way (no shell involved: execa takes argv).
    const argv = line.split(' ').map((w) => w.replace(/^'(.*)'$/, '$1'));
    const r = await execa(process.execPath, [bin, ...argv], { env: env(hp), reject: false, stdin: 'ignore' });
    ran++;
    stdout += r.stdout + '\n';
    if (r.exitCode !== 0) {
      if (!exitCode) exitCode = r.exitCode ?? 1;
      if (!keepGoing) break;
    }
  }
  return { stdout: norm(stdout, hp), exitCode, ran };
}

async function viaShell(hp: LabHaproxy, lines: string[], keepGoing: boolean): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const r = await execa(process.execPath, [bin, 'shell', ...(keepGoing ? ['--keep-going'] : [])], { env: env(hp), reject: false, input: lines.join('\n') + '\n' });
  return { stdout: norm(r.stdout + '\n', hp), stderr: r.stderr, exitCode: r.exitCode ?? -1 };
}

/** Every server's admin/op state and weight, from raw `show stat`. */
async function state(hp: LabHaproxy): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, row] of await rawShowStat(hp.adminSocket)) if (row.type === '2') out[k] = `${row.status} w=${row.weight}`;
  return out;
}

describe('lbctl shell fed on stdin (scripting)', () => {
  for (const keepGoing of [false, true]) {
    it(`ten commands behave exactly as ten separate lbctl calls${keepGoing ? ' (--keep-going)' : ''}: JSON, final state, exit code`, async () => {
      let sep!: Awaited<ReturnType<typeof separately>>;
      let sepState!: Record<string, string>;
      await withLab(async ({ hp }) => {
        sep = await separately(hp, SCRIPT, keepGoing);
        sepState = await state(hp);
      });
      // The separate calls really did something and failed where planned.
      assert.equal(sep.exitCode, 4);
      assert.equal(sep.ran, keepGoing ? 10 : 8);
      assert.equal(sepState['shop/s1'], keepGoing ? 'no check w=1' : 'MAINT w=1');
      assert.equal(sepState['app/a1'], keepGoing ? 'no check w=1' : 'no check w=50');

      await withLab(async ({ hp }) => {
        const sh = await viaShell(hp, SCRIPT, keepGoing);
        assert.equal(sh.exitCode, sep.exitCode, sh.stderr);
        assert.equal(sh.stdout, sep.stdout);
        assert.deepEqual(await state(hp), sepState);
        // Pure JSON documents, one per command that ran.
        const docs = sh.stdout.trim().split(/\n(?=\{)/).map((d) => JSON.parse(d));
        assert.equal(docs.length, keepGoing ? 10 : 8);
        assert.equal(docs[7].error.code, 'ENOSERVER');
        assert.equal(typeof docs[1].servers[0].after.weight, 'number');
      });
    });
  }

  it('no prompt and no colour, comments and blank lines skipped, prefixes work; exit ends the script', async () => {
    await withLab(async ({ hp }) => {
      const r = await execa(process.execPath, [bin, 'shell'], {
        env: { ...env(hp), FORCE_COLOR: '3' }, reject: false,
        input: ['# a comment', '', 'hap ba', 'hap ser dis shop/s1   # the last UP server: no question when not on a TTY', 'exit', 'hap ser dis app/a1'].join('\n'),
      });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /\x1b\[/);
      assert.doesNotMatch(r.stdout, /lbctl \S+ \[/);
      assert.match(r.stdout, /^BACKEND\s+STATUS/);
      assert.match(r.stdout, /updated\s+shop\/s1\s+ready -> maint/);
      const raw = await rawShowStat(hp.adminSocket);
      assert.equal(raw.get('shop/s1')!.status, 'MAINT');
      assert.equal(raw.get('app/a1')!.status, 'no check', 'nothing after exit ran');
    });
  });

  it('a bad line (ambiguous prefix, open quote) stops the script with exit 2; nothing after it runs', async () => {
    await withLab(async ({ hp }) => {
      for (const bad of ['hap s', 'hap ser dis "app/a1']) {
        const r = await execa(process.execPath, [bin, 'shell'], { env: env(hp), reject: false, input: `hap info --json\n${bad}\nhap ser dis app/a2\n` });
        assert.equal(r.exitCode, 2, `${bad}: ${r.stderr}`);
        assert.match(r.stderr, bad === 'hap s' ? /"haproxy s" is ambiguous: haproxy server, haproxy stat/ : /unterminated double quote/);
        assert.equal(JSON.parse(r.stdout).version.major, 2);
        assert.equal((await rawShowStat(hp.adminSocket)).get('app/a2')!.status, 'no check');
      }
      assert.match(await rawCommand(hp.adminSocket, 'show servers state app'), /a2/);
    });
  });
});
