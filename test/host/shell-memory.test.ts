import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { rawShowStat, startLabHaproxy, startLabServer } from '../support/haproxy-lab.js';

/**
 * `lbctl shell` fed 2,000 commands on stdin (script mode) against a real haproxy keeps a flat
 * memory footprint: RSS after 200 commands and after 2,000 are printed and compared.
 */

const bin = path.join(lbctlRoot(), 'bin', 'run.js');

async function rssKb(pid: number): Promise<number> {
  const status = await fs.readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)![1]);
}

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
    const child = execa(process.execPath, [bin, 'shell', '--socket', hp.adminSocket], { reject: false, env: { NO_COLOR: '1' }, stdin: 'pipe', buffer: false });
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
      const first = await rssKb(child.pid!);
      feed(200, 2000);
      await waitFor(1000);
      const last = await rssKb(child.pid!);
      child.stdin!.end();
      const r = await child;
      const msg = `lbctl shell RSS: ${(first / 1024).toFixed(1)} MiB after 200 commands, ${(last / 1024).toFixed(1)} MiB after 2,000 (growth ${((last - first) / 1024).toFixed(1)} MiB)`;
      t.diagnostic(msg);
      console.log(msg);
      assert.equal(r.exitCode, 0, stderr);
      assert.equal(stderr.trim(), '', 'no command failed');
      // Generous: V8 grows its heap lazily; a leak of even 20 KiB per command would pass 36 MiB.
      assert.ok(last - first < 40 * 1024, msg);
      // The commands really ran: the last weight and s2's final state are haproxy's.
      const raw = await rawShowStat(hp.adminSocket);
      assert.equal(raw.get('app/s1')!.weight, '20');
    } finally {
      if (child.exitCode === null) child.kill();
      await hp.stop();
      for (const s of servers) await s.close();
    }
  });
});
