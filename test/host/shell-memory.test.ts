import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { rawShowStat, startLabHaproxy, startLabServer } from '../support/haproxy-lab.js';

/**
 * `lbctl shell` fed 2,000 commands on stdin (script mode) against a real haproxy keeps a flat
 * memory footprint: RSS after 200 commands and after 2,000 are printed and compared, and so is the
 * live heap after a full GC (test/support/gc-probe.ts), which is what tells a leak from V8 sizing
 * its heap: RSS grows ~20 MiB over the first thousand commands while the live heap stays put.
 */

const bin = path.join(lbctlRoot(), 'bin', 'run.js');
const probe = fileURLToPath(new URL('../support/gc-probe.js', import.meta.url));

interface Sample { rss: number; heapUsed: number }

/** Ask the shell for a full GC and its memory figures (SIGUSR2 to the preloaded probe). */
async function sample(pid: number, out: string): Promise<Sample> {
  const before = (await fs.readFile(out, 'utf8').catch(() => '')).split('\n').filter(Boolean).length;
  process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 30_000;
  for (;;) {
    const lines = (await fs.readFile(out, 'utf8').catch(() => '')).split('\n').filter(Boolean);
    if (lines.length > before) return JSON.parse(lines[lines.length - 1]) as Sample;
    assert.ok(Date.now() < deadline, 'the GC probe did not answer');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const mib = (b: number) => (b / 1024 / 1024).toFixed(1);

/** Command i: a write (weight, one output line each) or a read (a table). */
function command(i: number): string {
  if (i % 2 === 0) return `haproxy server weight app/s1 ${i % 4 === 0 ? 10 : 20}`;
  return ['haproxy backends', 'haproxy stat -b app', 'haproxy info', 'hap ser dra app/s2', 'hap ser rea app/s2'][(i >> 1) % 5];
}

describe('lbctl shell: 2,000 commands, flat memory', () => {
  it('RSS after 2,000 commands stays close to RSS after 200', async (t) => {
    const servers = [await startLabServer('s1'), await startLabServer('s2')];
    const hp = await startLabHaproxy({
      prefix: 'lbr6-',
      body: ['backend app', '  balance roundrobin', ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port}`)].join('\n'),
      defaultBackend: 'app',
    });
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbr6-gc-'));
    const out = path.join(dir, 'gc.jsonl');
    const child = execa(process.execPath, ['--expose-gc', '--import', probe, bin, 'shell', '--socket', hp.adminSocket], { reject: false, env: { NO_COLOR: '1', LBCTL_GC_PROBE_OUT: out }, stdin: 'pipe', buffer: false });
    try {
      let weightLines = 0;
      let stderr = '';
      let tail = '';
      child.stdout!.setEncoding('utf8');
      child.stdout!.on('data', (d: string) => {
        const text = tail + d;
        const lines = text.split('\n');
        tail = lines.pop() ?? '';
        weightLines += lines.filter((l) => /app\/s1\s+weight/.test(l)).length;
      });
      child.stderr!.on('data', (d) => { stderr += d; });
      const waitFor = async (n: number) => {
        const deadline = Date.now() + 300_000;
        while (weightLines < n) {
          assert.ok(Date.now() < deadline, `only ${weightLines} of ${n} weight commands answered; stderr: ${stderr.slice(0, 500)}`);
          assert.equal(child.exitCode, null, `the shell exited early: ${stderr.slice(0, 500)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      };
      const feed = (from: number, to: number) => { for (let i = from; i < to; i++) child.stdin!.write(`${command(i)}\n`); };

      feed(0, 200);
      await waitFor(100);
      const first = await sample(child.pid!, out);
      feed(200, 2000);
      await waitFor(1000);
      const last = await sample(child.pid!, out);
      child.stdin!.end();
      const r = await child;
      const msg = `lbctl shell after 200 / 2,000 commands: RSS ${mib(first.rss)} / ${mib(last.rss)} MiB, live heap after a full GC ${mib(first.heapUsed)} / ${mib(last.heapUsed)} MiB`;
      t.diagnostic(msg);
      console.log(msg);
      assert.equal(r.exitCode, 0, stderr);
      assert.equal(stderr.trim(), '', 'no command failed');
      // Generous: V8 grows its heap lazily; a leak of even 20 KiB per command would pass 36 MiB.
      assert.ok(last.rss - first.rss < 40 * 1024 * 1024, msg);
      // The live heap is the leak detector: 1 KiB kept per command would be 1.8 MiB here.
      assert.ok(last.heapUsed - first.heapUsed < 1.5 * 1024 * 1024, msg);
      // The commands really ran: the last weight and s2's final state are haproxy's.
      const raw = await rawShowStat(hp.adminSocket);
      assert.equal(raw.get('app/s1')!.weight, '20');
    } finally {
      if (child.exitCode === null) child.kill();
      await hp.stop();
      for (const s of servers) await s.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
