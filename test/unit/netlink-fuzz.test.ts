/**
 * Property-based fuzzing of netlink decoding: the kernel's captured replies (golden data),
 * mutated (bytes flipped, lengths corrupted, truncated, extended) and replayed through
 * NlConnection + NetlinkDriver. Whatever arrives, a read ends in a table or in an lbctl error
 * with a documented exit code, never a crash, exit 1 or a hang.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { NlConnection } from '../../src/ipvs/netlink/conn.js';
import { replayTransport } from '../support/netlink-replay.js';
import { NetlinkDriver } from '../../src/ipvs/netlink/driver.js';
import { LbctlError } from '../../src/cli/errors.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const golden = JSON.parse(readFileSync(path.join(root, 'test/fixtures/netlink/decode.json'), 'utf8')) as { family: number; replies: Record<string, string[]> };
const r = golden.replies;
const GROUPS = [r.services, ...Object.keys(r).filter((k) => k.startsWith('dests')).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5))).map((k) => r[k])];

type Mutation = { group: number; datagram: number; kind: 'flip' | 'truncate' | 'extend' | 'length'; at: number; value: number };

/** Replays the captured groups through the shared fake transport, applying the mutations to the bytes sent. */
function mutatedTransport(mutations: Mutation[]) {
  return replayTransport(GROUPS, (datagram, g, n) => {
    let b = datagram;
    for (const m of mutations.filter((x) => x.group === g && x.datagram === n)) {
      const at = m.at % Math.max(1, b.length);
      if (m.kind === 'flip') b[at] = m.value & 0xff;
      else if (m.kind === 'truncate') b = b.subarray(0, at);
      else if (m.kind === 'extend') b = Buffer.concat([b, Buffer.alloc(1 + (m.value % 64), m.value & 0xff)]);
      else if (b.length >= 4) b.writeUInt32LE(m.value >>> 0, Math.min(at, b.length - 4) & ~3);
    }
    return b;
  });
}

const mutation = fc.record({
  group: fc.nat({ max: GROUPS.length - 1 }),
  datagram: fc.nat({ max: 2 }),
  kind: fc.constantFrom('flip', 'truncate', 'extend', 'length'),
  at: fc.nat({ max: 4096 }),
  value: fc.integer({ min: 0, max: 0xffffffff }),
}) as fc.Arbitrary<Mutation>;

test('fuzz: mutated kernel replies give a table or an lbctl error (exit != 1), never a crash or a hang', async () => {
  await fc.assert(fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), async (ms, stats) => {
    // A real socket keeps the event loop alive while a reply is awaited; this fake does not.
    const alive = setInterval(() => {}, 1000);
    const conn = new NlConnection(mutatedTransport(ms), { timeoutMs: 300 });
    const d = new NetlinkDriver(conn, golden.family);
    try {
      const t = await d.getTable({ stats });
      assert.ok(Array.isArray(t.services));
    } catch (e) {
      assert.ok(e instanceof LbctlError, `not an lbctl error: ${(e as Error)?.stack ?? e}`);
      assert.notEqual(e.exitCode, 1, e.message);
      assert.ok(!e.message.includes('\n'), 'one line');
    } finally {
      await d.close().catch(() => {});
      clearInterval(alive);
    }
  }), { numRuns: 300 });
});
