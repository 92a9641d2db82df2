import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { feedShell, mib, startShellLab, table, type Checkpoint, type Lab } from '../support/shell-feed.js';

/**
 * `lbctl shell` fed 4,000 commands on stdin (script mode) against a real haproxy keeps a flat
 * memory footprint once warm. Sampled after a full GC (test/support/gc-probe.ts) at each checkpoint.
 *
 * Where RSS goes over the first ~2,000 commands (bench/shell-memory.ts, 2026-12-01, node 20): about
 * +30 MiB, none of it live data. V8 doubles the young generation's semi-spaces from 8 to their x64
 * cap of 16 MiB each as the allocation rate rises (new space 16 -> 32 MiB reserved, reached between
 * 500 and 1,000 commands), keeps ~5 MiB more old space reserved than it uses, JIT code grows ~1 MiB,
 * and ~9 MiB is native (compiler zones, malloc) outside the JS heap. Then it stays: RSS at 2,000 /
 * 4,000 / 8,000 / 16,000 commands was 111.9 / 113.5 / 115.4 / 114.5 MiB while the live heap stayed
 * at 11.9-12.7 MiB throughout. So the checks are: the live heap barely moves from the first sample
 * to the last (the leak detector), and RSS stops growing after the warm-up (2,000 -> 4,000).
 */

const checkpoints = [200, 1000, 2000, 3000, 4000];
const prefix = 'lbm7-';

describe('lbctl shell: 4,000 commands, flat memory once warm', () => {
  let lab: Lab;
  before(async () => { lab = await startShellLab(prefix); });
  after(async () => { await lab?.stop(); });

  it('RSS stops growing after the warm-up and the live heap stays flat', async (t) => {
    const r = await feedShell(lab, { prefix, checkpoints });
    const at = (n: number): Checkpoint => r.checkpoints.find((c) => c.commands === n)!;
    const first = at(200);
    const warm = at(2000);
    const last = at(4000);
    const msg = `lbctl shell after 200 / 2,000 (warm) / 4,000 commands: RSS ${mib(first.rss)} / ${mib(warm.rss)} / ${mib(last.rss)} MiB, ` +
      `live heap after a full GC ${mib(first.heapUsed)} / ${mib(warm.heapUsed)} / ${mib(last.heapUsed)} MiB`;
    t.diagnostic(msg);
    console.log(`${msg}\n${table(r.checkpoints)}`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stderr.trim(), '', 'no command failed');
    // The commands really ran: the last write set s1's weight to 20 (command 3,999).
    assert.equal(r.s1Weight, '20');
    // The leak detector: 1 KiB kept per command would be 3.8 MiB here, 512 bytes 1.9 MiB.
    assert.ok(last.heapUsed - first.heapUsed < 1.5 * 1024 * 1024, msg);
    assert.ok(last.heapUsed - warm.heapUsed < 0.5 * 1024 * 1024, msg);
    // Once warm, RSS is flat: 2,000 more commands measured +0.9 to +1.9 MiB. A leak of 4 KiB per
    // command (or a heap that keeps growing) would pass 8 MiB.
    assert.ok(last.rss - warm.rss < 6 * 1024 * 1024, msg);
  });
});
