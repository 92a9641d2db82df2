/**
 * The short cuts of the rules path (issue 11: restore under qemu TCG) must mean exactly what the
 * long way meant: the one-pass "a.b.c.d:port" reading against hostPort, the inlined checks of the
 * common lines against validate.ts, the cached netmask prefix, the planner's grouped sort against
 * a sort of every pair, the lazy origins and JSON plan, and the one-buffer input read.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { LbctlError } from '../../src/cli/errors.js';
import { hostPort, netmaskPrefix, prefixNetmask } from '../../src/net/address.js';
import { parseRules, makeDestination, printRules } from '../../src/ipvs/rules.js';
import { detectFormat } from '../../src/ipvs/detect-format.js';
import { plan, toOps, type IpvsTableChange } from '../../src/ipvs/plan.js';
import { applyPlan } from '../../src/ipvs/provider.js';
import { loadDesired, readInput, restore } from '../../src/ipvs/restore.js';
import { serviceKey, type IpvsTable } from '../../src/ipvs/model.js';
import { MemoryDriver, asDriver } from './fake-driver.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pa8-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const oneLine = (f: () => unknown): string => {
  try { f(); } catch (e) { assert.ok(e instanceof LbctlError, String(e)); return e.oneLine(); }
  return 'accepted';
};

test('a real server in any form reads as hostPort reads it, or is refused with its message', () => {
  const forms = [
    '10.0.1.5:80', '10.0.1.5:0', '10.0.1.5:65535', '10.0.1.5:080', '10.0.1.5:00', '10.0.1.5', '255.255.255.255:1', '0.0.0.0:8',
    '10.0.1.5:65536', '10.0.1.5:', '010.0.1.5:80', '10.0.1.256:80', '10.0.1:80', '10.0.1.5.6:80', '10..1.5:80', '10.0.1.5:8a', '[2001:db8::1]:80',
  ];
  for (const real of forms) {
    const got = oneLine(() => parseRules(`-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r ${real} -m\n`, 'r'));
    let want: string;
    try {
      const hp = hostPort(real, 'real server', false);
      want = hp.family === 'inet' ? 'accepted' : 'r:2: real server [2001:db8::1]:80 is IPv6 but the service is not (use the same address family as the virtual service)';
      if (want === 'accepted') {
        const d = parseRules(`-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r ${real} -m\n`, 'r').services[0].destinations[0];
        assert.deepEqual([d.address, d.port], [hp.address, hp.port ?? 80], real);
      }
    } catch (e) {
      want = `r:2: ${(e as LbctlError).oneLine()}`;
    }
    assert.equal(got, want, real);
  }
});

test('a real server written twice in two spellings is a duplicate, named canonically', () => {
  const text = '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m\n-a -t 10.0.0.1:80 -r 10.0.1.5:080 -m\n';
  assert.match(oneLine(() => parseRules(text, 'r')), /^r:3: real server 10\.0\.1\.5:80 is listed twice for -t 10\.0\.0\.1:80$/);
  const text2 = '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5 -m\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m\n';
  assert.match(oneLine(() => parseRules(text2, 'r')), /^r:3: real server 10\.0\.1\.5:80 is listed twice/);
});

test('lines the inlined checks pass on are refused as validate.ts refuses them', () => {
  const svc = '-A -t 10.0.0.1:80 -s rr\n';
  const cases: Array<[string, RegExp]> = [
    [`${svc}-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 65536\n`, /^r:2: weight 65536 is out of range \(use an integer 0-65535\)$/],
    [`${svc}-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -x 2147483648\n`, /^r:2: upper threshold 2147483648 is out of range/],
    [`${svc}-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -x 5 -y 6\n`, /^r:2: lower threshold 6 is above the upper threshold 5/],
    [`${svc}-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 99999999999999999999\n`, /^r:2: weight 100000000000000000000 is out of range/],
    ['-A -t 10.0.0.1:0 -s rr\n', /^r:1: port 0 \(every port\) needs a persistent service/],
    ['-A -t 10.0.0.1:80 -s bogus\n', /^r:1: unknown scheduler "bogus"/],
    ['-A -t 10.0.0.1:80 -s rr -p 99999999\n', /^r:1: persistence timeout 99999999 is out of range/],
    ['-A -t 10.0.0.1:80 -s rr -p 60 -M 255.0.255.0\n', /^r:1: persistence netmask "255.0.255.0" is not a valid IPv4 netmask/],
    ['-A -t 10.0.0.1:80 -s rr -b sh-port\n', /^r:1: scheduler flag "sh-port" needs the sh scheduler, not rr/],
    ['-A -t 10.0.0.1:80 -s rr -o\n', /^r:1: one-packet scheduling \(-o\) is for UDP services only/],
  ];
  for (const [text, re] of cases) assert.match(oneLine(() => parseRules(text, 'r')), re, text);
  // The door with typed values (YAML/JSON) never takes the short cut: its numbers may be anything.
  const sel = { protocol: 'tcp' as const, family: 'inet' as const, address: '10.0.0.1', port: 80 };
  assert.match(oneLine(() => makeDestination(sel, '10.0.1.5:80', { weight: -1 })), /weight -1 is out of range/);
  assert.match(oneLine(() => makeDestination(sel, '10.0.1.5:80', { weight: 1.5 })), /weight 1.5 is out of range/);
});

test('services keep their fields and order, with and without a persistence engine', () => {
  const t = parseRules('-A -u 10.0.0.1:53 -s sh -p 60 -M 255.255.255.0 --pe sip -o -b sh-port,sh-fallback\n-A -f 7 -s rr -p\n-A -t 10.0.0.2:80\n', 'r');
  assert.deepEqual(t.services.map((s) => Object.keys(s).join(' ')), [
    'protocol family address port scheduler persistence netmask schedFlags onePacket pe destinations',
    'protocol family fwmark scheduler persistence netmask schedFlags onePacket destinations',
    'protocol family address port scheduler persistence netmask schedFlags onePacket destinations',
  ]);
  assert.deepEqual(t.services[0].schedFlags, ['sh-fallback', 'sh-port']);
  assert.equal(t.services[1].persistence, 300);
});

test('netmaskPrefix: every contiguous mask, nothing else, the same on a second (cached) look-up', () => {
  for (let p = 0; p <= 32; p++) {
    assert.equal(netmaskPrefix(prefixNetmask(p)), p);
    assert.equal(netmaskPrefix(prefixNetmask(p)), p);
  }
  for (const bad of ['255.0.255.0', '255.255.255.1', '256.0.0.0', '255.255.255', '255.255.255.0.0', '0255.0.0.0', '255..255.0', '', ' 255.0.0.0', 'a.b.c.d', '255.255.255.', '.255.255.255', '1.0.0.0']) {
    assert.equal(netmaskPrefix(bad), undefined, bad);
    assert.equal(netmaskPrefix(bad), undefined, bad);
  }
  assert.equal(netmaskPrefix('255.255.255.000'), 24, 'three-digit groups, as the regexp took them');
});

/** The order the planner has always promised: by service key, then apply rank, then as planned. */
const ORDER: Record<string, number> = { '+service': 0, '~service': 1, '-destination': 2, '~destination': 3, '+destination': 4, '-service': 5 };
function referenceOrder(cs: IpvsTableChange[]): IpvsTableChange[] {
  return cs.map((c, i) => ({ c, i })).sort((x, y) => {
    const sx = serviceKey(x.c.service), sy = serviceKey(y.c.service);
    if (sx !== sy) return sx < sy ? -1 : 1;
    const ox = ORDER[x.c.action + x.c.kind], oy = ORDER[y.c.action + y.c.kind];
    return ox !== oy ? ox - oy : x.i - y.i;
  }).map((x) => x.c);
}

function randomRules(seed: number): string {
  let x = seed;
  const rnd = (n: number) => { x = (x * 1103515245 + 12345) % 2147483648; return x % n; };
  const out: string[] = [];
  for (let s = 0; s < 12; s++) {
    if (rnd(3) === 0) continue;
    const vip = `10.0.${rnd(4)}.${s + 1}:${[80, 443][rnd(2)]}`;
    out.push(`-A -t ${vip} -s ${['rr', 'wrr', 'wlc'][rnd(3)]}${rnd(2) ? ' -p 60' : ''}`);
    for (let d = 0; d < 8; d++) if (rnd(2)) out.push(`-a -t ${vip} -r 10.1.${s}.${d + 1}:8080 ${['-m', '-g'][rnd(2)]} -w ${rnd(3)}`);
  }
  return [...new Set(out)].join('\n') + '\n';
}

test('plan: every mix of adds, edits and removals comes out in the order of a sort of every pair; toOps keeps its rank order', () => {
  let seen = 0;
  for (let i = 1; i <= 60; i++) {
    const a = parseRules(randomRules(i), 'a');
    const w = parseRules(randomRules(i * 7919), 'w');
    for (const merge of [false, true]) {
      const got = plan(a, w, { merge });
      // Same set of changes; the reference orders them from the order they were planned in, which the grouped sort keeps.
      assert.deepEqual(got.map((c) => `${c.action} ${c.id}`), referenceOrder(got).map((c) => `${c.action} ${c.id}`));
      const ranks = toOps(got).map((o) => ['addService', 'editService', 'delDest', 'editDest', 'addDest', 'delService'].indexOf(o.kind));
      assert.deepEqual(ranks, [...ranks].sort((p, q) => p - q));
      seen += got.length;
      // A plan applied makes the tables equal: nothing left to do.
      assert.equal(plan(w, w).length, 0);
    }
  }
  assert.ok(seen > 500, `the random tables differ enough (${seen} changes)`);
});

test('plan: a field null on one side and absent on the other is no change (as sameValue has it), a real difference is', () => {
  const a = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n', 'a');
  const w = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n', 'w');
  (a.services[0] as { pe?: unknown }).pe = null;
  (a.services[0].destinations[0] as { tunType?: unknown }).tunType = null;
  // Where the quick comparison is strict, the field list still decides.
  (a.services[0] as { onePacket?: unknown }).onePacket = null;
  (w.services[0] as { onePacket?: unknown }).onePacket = undefined;
  (a.services[0].destinations[0] as { upperThreshold?: unknown }).upperThreshold = null;
  (w.services[0].destinations[0] as { upperThreshold?: unknown }).upperThreshold = undefined;
  assert.deepEqual(plan(a, w), []);
  w.services[0].destinations[0].weight = 2;
  w.services[0].scheduler = 'wrr';
  assert.deepEqual(plan(a, w).map((c) => `${c.action} ${c.kind} ${c.reason}`), ['~ service scheduler rr -> wrr', '~ destination weight 1 -> 2']);
});

test('applyPlan: an op\'s origin is its rule, made when read; it can still be set', async () => {
  const m = new MemoryDriver({ services: [] });
  const desired = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n', 'r');
  await applyPlan(asDriver(m), plan({ services: [] }, desired), { origin: true });
  const ops = m.batches[0];
  assert.deepEqual(ops.map((o) => o.origin), ['rule "-A -t 10.0.0.1:80 -s rr"', 'rule "-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1"']);
  assert.deepEqual(JSON.parse(JSON.stringify(ops[1])).origin, 'rule "-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1"');
  assert.deepEqual({ ...ops[0] }.origin, 'rule "-A -t 10.0.0.1:80 -s rr"');
  const m1 = new MemoryDriver({ services: [] });
  await applyPlan(asDriver(m1), plan({ services: [] }, desired), { origin: true });
  m1.batches[0][0].origin = 'r:1';
  assert.equal(m1.batches[0][0].origin, 'r:1', 'set before it was ever read');
  const m2 = new MemoryDriver({ services: [] });
  await applyPlan(asDriver(m2), plan({ services: [] }, desired));
  assert.equal(m2.batches[0][0].origin, undefined, 'no origin unless asked');
});

test('restore: the JSON plan is made on first read, once, and equals the changes', async () => {
  const m = new MemoryDriver({ services: [] });
  const desired = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n', 'r');
  const r = await restore(asDriver(m), desired, { dryRun: true });
  assert.equal(r.plan, r.plan, 'the same object on every read');
  assert.deepEqual(r.plan.summary, { add: 2, change: 0, destroy: 0 });
  assert.deepEqual({ ...r }.plan.changes.map((c) => c.rule), ['-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1']);
});

test('readInput: a file bigger than one read comes back whole, a NUL past the first 64 KiB is named at its offset', async () => {
  // A three-byte character straddling 64 KiB: one decode of one buffer keeps it whole.
  const big = 'x'.repeat(65535) + '\u20ac' + '-A -t 10.0.0.1:80 -s rr\n'.repeat(8000);
  const f = path.join(dir, 'big.rules');
  writeFileSync(f, big);
  assert.equal((await readInput(f)).text, big);
  const nul = Buffer.from('-A -t 10.0.0.1:80 -s rr\n'.repeat(8000));
  nul[150_000] = 0;
  const g = path.join(dir, 'nul.rules');
  writeFileSync(g, nul);
  await assert.rejects(readInput(g), (e: unknown) => e instanceof LbctlError && e.code === 'EBINARY' && /NUL byte at offset 150000/.test(e.message));
  // Through a pipe the text comes in many reads: the offset counts from the start of the input.
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const w = await open(fifo, constants.O_RDWR);
  const reading = readInput(fifo);
  const writing = w.write(nul).catch(() => undefined);
  await assert.rejects(reading, (e: unknown) => e instanceof LbctlError && e.code === 'EBINARY' && /NUL byte at offset 150000/.test(e.message));
  await w.close();
  await writing;
  await assert.rejects(readInput(f, { maxBytes: 100_000 }), (e: unknown) => e instanceof LbctlError && e.code === 'ETOOBIG');
});

test('detectFormat looks at the first line only, as before', () => {
  assert.equal(detectFormat('services:\n  - protocol: tcp\n'), 'yaml');
  assert.equal(detectFormat('  ---\nservices: []\n'), 'yaml');
  assert.equal(detectFormat('-A -t 10.0.0.1:80 -s rr\n---\nservices:\n'), 'rules');
  assert.equal(detectFormat('-A -t 10.0.0.1:80 -s rr'), 'rules');
  assert.equal(detectFormat('\n\n{"services": []}'), 'json');
});

test('restore of a loaded rules file plans what its text says (the table is not validated twice, and is valid)', async () => {
  const f = path.join(dir, 'ok.rules');
  writeFileSync(f, '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n');
  const desired: IpvsTable = await loadDesired(f);
  const m = new MemoryDriver({ services: [] });
  const r = await restore(asDriver(m), desired);
  assert.equal(r.changes.length, 2);
  assert.equal(printRules(m.table), printRules(desired));
});
