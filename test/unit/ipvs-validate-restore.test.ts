/**
 * restore's input and safety guards without a kernel: bounded reads of odd files, no input,
 * and a plan that would delete every service. The driver is an in-memory table.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { LbctlError } from '../../src/cli/errors.js';
import { loadDesired, readInput, restore } from '../../src/ipvs/restore.js';
import { parseRules, printRules, MAX_RULES_LINE } from '../../src/ipvs/rules.js';
import type { IpvsDriver, Op } from '../../src/ipvs/driver.js';
import type { IpvsTable } from '../../src/ipvs/model.js';
import { applyOpsToTable } from './fake-driver.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'lbv5-restore-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string | Buffer) => { const p = path.join(dir, name); writeFileSync(p, text); return p; };

async function refused(p: Promise<unknown>, code: number, re: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof LbctlError, `not an LbctlError: ${String(e)}`);
    assert.equal(e.exitCode, code, e.oneLine());
    assert.match(e.oneLine(), re);
    return true;
  });
}

test('readInput: at most maxBytes, the limit itself accepted', async () => {
  const p = file('big.rules', 'x'.repeat(1000));
  assert.equal((await readInput(p, { maxBytes: 1000 })).text.length, 1000);
  await refused(readInput(p, { maxBytes: 999 }), 3, /larger than 999 bytes/);
});

test('readInput: NUL bytes, a directory, a FIFO without writer, /proc/self/mem: fail fast, never exit 1', async () => {
  await refused(readInput('/dev/zero'), 3, /binary data/);
  await refused(readInput(file('nul.rules', Buffer.from('-A -t 10.0.0.1:80\n\0'))), 3, /NUL byte at offset 18/);
  const sub = path.join(dir, 'sub'); mkdirSync(sub);
  await refused(readInput(sub), 3, /is a directory/);
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const t0 = Date.now();
  assert.equal((await readInput(fifo)).text, '');
  assert.ok(Date.now() - t0 < 2000, 'a FIFO without writer must not block');
  await refused(loadDesired(fifo), 3, /no input/);
  await refused(readInput('/proc/self/mem'), 3, /cannot read/);
  await refused(readInput(path.join(dir, 'missing')), 4, /does not exist/);
  await refused(readInput(path.join(file('plain', 'x'), 'below')), 4, /does not exist/);
});

test('loadDesired: no input is refused unless --allow-empty; whitespace counts as none', async () => {
  await refused(loadDesired(file('empty.rules', '')), 3, /no input.*--allow-empty/);
  await refused(loadDesired(file('blank.rules', ' \n\t\n')), 3, /no input/);
  assert.deepEqual(await loadDesired(file('empty2.rules', ''), undefined, { allowEmpty: true }), { services: [] });
});

test('rules lines: MAX_RULES_LINE bytes accepted, one more refused with file:line', () => {
  const line = (n: number) => `-A -t 10.0.0.1:80 -s rr${' '.repeat(n - 23)}`;
  assert.equal(line(MAX_RULES_LINE).length, MAX_RULES_LINE);
  assert.equal(parseRules(`${line(MAX_RULES_LINE)}\n`, 'f').services.length, 1);
  assert.throws(() => parseRules(`\n${line(MAX_RULES_LINE + 1)}\n`, 'f'), (e: any) => e.exitCode === 3 && /^f:2: line is longer than 4096 bytes/.test(e.oneLine()));
});

function fakeDriver(initial: IpvsTable): IpvsDriver & { table: IpvsTable; writes: number } {
  const d = {
    name: 'netlink' as const, table: initial, writes: 0,
    async getTable() { return d.table; },
    async apply(ops: Op[]) { d.writes += ops.length; d.table = applyOpsToTable(d.table, ops); },
  };
  return d as unknown as IpvsDriver & { table: IpvsTable; writes: number };
}

const KERNEL = '-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1\n-A -t 10.0.0.2:80 -s rr\n';

test('restore refuses a plan that deletes every service (empty or disjoint input); --allow-empty and --merge let it through', async () => {
  for (const desired of ['', '-A -t 10.0.0.9:80 -s rr\n']) {
    const d = fakeDriver(parseRules(KERNEL));
    await refused(restore(d, parseRules(desired)), 3, /refusing to delete all 2 virtual services.*--allow-empty.*clear/);
    await refused(restore(d, parseRules(desired), { dryRun: true }), 3, /refusing to delete all 2/);
    assert.equal(d.writes, 0, 'nothing written');
    assert.equal(printRules(d.table), printRules(parseRules(KERNEL)));
    const merged = await restore(d, parseRules(desired), { merge: true });
    assert.equal(merged.changes.filter((c) => c.action === '-').length, 0);
  }
  const d = fakeDriver(parseRules(KERNEL));
  await restore(d, { services: [] }, { allowEmpty: true });
  assert.equal(d.table.services.length, 0);
});

test('restore keeps going when one service survives, and an empty kernel needs no flag', async () => {
  const d = fakeDriver(parseRules(KERNEL));
  const r = await restore(d, parseRules('-A -t 10.0.0.2:80 -s rr\n'));
  assert.ok(r.changed);
  assert.equal(d.table.services.length, 1);
  const e = fakeDriver({ services: [] });
  assert.equal((await restore(e, { services: [] })).changed, false);
});

test('restore validates a table built by any caller before reading the kernel', async () => {
  const t = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m\n');
  t.services[0].destinations[0].weight = 70000;
  const d = fakeDriver(parseRules(KERNEL));
  await refused(restore(d, t), 3, /TCP 10\.0\.0\.1:80: weight 70000 is out of range/);
  assert.equal(d.writes, 0);
});
