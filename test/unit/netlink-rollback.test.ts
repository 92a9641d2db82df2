/**
 * All-or-nothing batches, cancel and the table lock, without a kernel: the netlink driver over
 * the message-level fake (netlink-fake.ts). A failure at change k of n (the test-only switch
 * LBCTL_FAULT_IPVS, or the fake refusing a message) leaves the table exactly as before and the
 * error says so; an aborted drain leaves weight 0 and does not delete; a second lbctl process
 * waits for the IPVS lock and exits 12 naming the holder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NlConnection, ACK_TRUESIZE } from '../../src/ipvs/netlink/conn.js';
import { NetlinkDriver } from '../../src/ipvs/netlink/driver.js';
import { parseRules, printRules } from '../../src/ipvs/rules.js';
import { plan, toOps } from '../../src/ipvs/plan.js';
import { drainAndDelete } from '../../src/ipvs/drain.js';
import { deleteServer } from '../../src/ipvs/ops.js';
import { AbortedError, NotFoundError, RejectedError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { withLock } from '../../src/util/lock.js';
import { ipvsLockResource } from '../../src/cli/ipvs-command.js';
import { FakeKernel, FAKE_FAMILY } from './netlink-fake.js';

const BEFORE = [
  '-A -t 10.0.0.1:80 -s rr',
  '-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1',
  '-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 1',
  '-A -t 10.0.0.2:80 -s wlc',
  '-a -t 10.0.0.2:80 -r 10.0.2.1:80 -m -w 3',
  '-A -t 10.0.0.3:80 -s rr -p 300',
].join('\n');

const AFTER = [
  '-A -t 10.0.0.1:80 -s wrr',
  '-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 5',
  '-a -t 10.0.0.1:80 -r 10.0.1.3:80 -m -w 1',
  '-A -t 10.0.0.3:80 -s rr -p 300',
  '-A -t 10.0.0.4:80 -s sh',
  ...[1, 2, 3, 4, 5, 6].map((i) => `-a -t 10.0.0.4:80 -r 10.0.4.${i}:80 -m -w ${i}`),
].join('\n');

/** A fake kernel holding BEFORE; its window is 8 messages, so a 12-change batch spans two. */
async function setup() {
  const k = new FakeKernel({ rcvbufBytes: 16 * ACK_TRUESIZE });
  const d = new NetlinkDriver(new NlConnection(k), FAKE_FAMILY);
  await d.apply(toOps(plan({ services: [] }, parseRules(BEFORE))));
  return { k, d };
}

async function withFault<T>(k: number, fn: () => Promise<T>): Promise<T> {
  process.env.LBCTL_FAULT_IPVS = String(k);
  try { return await fn(); } finally { delete process.env.LBCTL_FAULT_IPVS; }
}

test('LBCTL_FAULT_IPVS=k: a failure at change k of n (every k, both windows) leaves the table exactly as before', async () => {
  const { d } = await setup();
  const n = toOps(plan(await d.getTable(), parseRules(AFTER))).length;
  assert.equal(n, 12, 'a mixed batch: service and server adds, edits and deletes');
  const before = printRules(parseRules(BEFORE));
  for (let k = 1; k <= n; k++) {
    const { d: fresh } = await setup();
    const ops = toOps(plan(await fresh.getTable(), parseRules(AFTER)));
    const err = await withFault(k, () => fresh.apply(ops)).catch((e) => e);
    assert.ok(err instanceof RejectedError, `k=${k}: ${err}`);
    assert.equal(err.exitCode, ExitCode.Rejected);
    assert.match(err.message, new RegExp(`^change ${k} of ${n} failed: injected fault at change ${k} .*; (rolled back \\d+ change\\(s\\)|nothing was applied): table as before$`), `k=${k}`);
    assert.equal(printRules(await fresh.getTable()), before, `k=${k}: table as before`);
  }
  // Without the switch the same batch applies completely.
  const { d: ok } = await setup();
  await ok.apply(toOps(plan(await ok.getTable(), parseRules(AFTER))));
  assert.equal(printRules(await ok.getTable()), printRules(parseRules(AFTER)));
});

test('the count of rolled-back changes includes those the kernel applied after the failure in its window', async () => {
  const { d } = await setup();
  const ops = toOps(plan(await d.getTable(), parseRules(AFTER)));
  // Change 3 fails; the rest of its window (changes 4-8) was applied by the kernel anyway, then undone.
  const err = await withFault(3, () => d.apply(ops)).catch((e) => e);
  assert.match(err.message, /^change 3 of 12 failed: .*; rolled back 7 change\(s\): table as before$/);
  assert.equal(printRules(await d.getTable()), printRules(parseRules(BEFORE)));
});

test('a rollback that fails too says exactly which changes remain applied', async () => {
  const { k, d } = await setup();
  const ops = toOps(plan(await d.getTable(), parseRules(AFTER)));
  assert.deepEqual(ops.slice(0, 8).map((o) => o.kind), ['addService', 'editService', 'delDest', 'editDest', 'addDest', 'addDest', 'addDest', 'addDest']);
  const w0 = k.writes;
  k.failAt.set(w0 + 2, 22); // change 3 of 12 fails; changes 1, 2, 4-8 took effect (the first window)
  // Undone in reverse: 8, 7, 6, 5, 4, 2, 1. The fifth undo (of change 4, weight 1 -> 5) fails.
  k.failAt.set(w0 + 8 + 4, 22);
  const err = await d.apply(ops).catch((e) => e);
  assert.ok(err instanceof RejectedError, String(err));
  assert.equal(err.errno, 22, 'the original failure\'s errno');
  const m = /^change 3 of 12 failed: .*; rollback failed too \((.*)\): (\d+) change\(s\) remain applied: (.*)$/.exec(err.message);
  assert.ok(m, err.message);
  assert.equal(m[2], '1');
  assert.equal(m[3], 'edit real server 10.0.1.1:80 in TCP 10.0.0.1:80');
  // And that is the truth: the table is BEFORE plus exactly that change.
  const want = parseRules(BEFORE);
  want.services[0].destinations[0].weight = 5;
  assert.equal(printRules(await d.getTable()), printRules(want));
});

test('an undo that fails inside a service the batch created is covered by deleting that service', async () => {
  const { k, d } = await setup();
  const ops = toOps(plan(await d.getTable(), parseRules(AFTER)));
  const w0 = k.writes;
  k.failAt.set(w0 + 2, 22);
  k.failAt.set(w0 + 8, 22); // the undo of change 8 (a real server of the new service 10.0.0.4) fails
  const err = await d.apply(ops).catch((e) => e);
  assert.match(err.message, /; rolled back 7 change\(s\): table as before$/);
  assert.equal(printRules(await d.getTable()), printRules(parseRules(BEFORE)));
});

test('ops without `previous` are checked against the table first: a refusable batch writes nothing', async () => {
  const { k, d } = await setup();
  const t = parseRules(BEFORE);
  const w0 = k.writes;
  const err = await d.apply([
    { kind: 'editDest', service: t.services[0], dest: { ...t.services[0].destinations[0], weight: 9 } },
    { kind: 'addService', service: t.services[1] }, // exists already
  ]).catch((e) => e);
  assert.ok(err instanceof RejectedError && err.code === 'EEXIST', String(err));
  assert.equal(k.writes, w0, 'nothing sent to the kernel');
  const e2 = await d.apply([{ kind: 'delDest', service: t.services[0], dest: { ...t.services[0].destinations[0], address: '10.0.1.99' } }]).catch((e) => e);
  assert.ok(e2 instanceof NotFoundError, String(e2));
  assert.equal(k.writes, w0);
});

test('an aborted drain stops at once: weight 0, not deleted, AbortedError (exit 11), and nothing deletes it later', async () => {
  const { k, d } = await setup();
  const svc = parseRules(BEFORE).services[0];
  const attrs = [...[...k.services.values()][0].dests.values()][0];
  attrs.activeConns = 2;
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 80);
  const t0 = Date.now();
  const err = await drainAndDelete(d, svc, svc.destinations[0], { timeoutMs: 10_000, pollMs: 20, signal: ac.signal }).catch((e) => e);
  assert.ok(err instanceof AbortedError, String(err));
  assert.equal(err.exitCode, ExitCode.Aborted);
  assert.match(err.message, /interrupted: left at weight 0 .*not deleted/);
  assert.ok(Date.now() - t0 < 2000, 'stopped promptly');
  attrs.activeConns = 0;
  await new Promise((r) => setTimeout(r, 150));
  const dest = (await d.getTable()).services[0].destinations.find((x) => x.address === '10.0.1.1');
  assert.ok(dest, 'still there');
  assert.equal(dest.weight, 0);
});

test('server delete --drain through ops.ts honours the signal; aborted before start changes nothing', async () => {
  const { d } = await setup();
  const sel = parseRules(BEFORE).services[0];
  const ac = new AbortController();
  ac.abort();
  const err = await deleteServer(d, sel, '10.0.1.1:80', { drain: true, timeoutMs: 5000, signal: ac.signal }).catch((e) => e);
  assert.ok(err instanceof AbortedError, String(err));
  assert.equal((await d.getTable()).services[0].destinations.find((x) => x.address === '10.0.1.1')?.weight, 1, 'untouched');
  const r = await deleteServer(d, sel, '10.0.1.2:80', { drain: true, timeoutMs: 5000 });
  assert.equal(r.action, 'deleted');
  assert.equal(r.drained, true);
});

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'run.js');

function lbctl(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; endedAt: number }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, ...env } }, (e, stdout) => {
      resolve({ code: e ? Number((e as any).code ?? 1) : 0, stdout, endedAt: Date.now() });
    });
  });
}

test('the IPVS table lock: a second process waits, then exits 12 naming the holder; once released it goes on', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lbp5-lock-'));
  // No kernel writes can happen: the ipvsadm driver points at a binary that does not exist.
  const env = { LBCTL_LOCK_DIR: dir, LBCTL_IPVSADM: path.join(dir, 'no-ipvsadm') };
  const prevDir = process.env.LBCTL_LOCK_DIR;
  process.env.LBCTL_LOCK_DIR = dir;
  const argv = ['service', 'add', '-t', '10.9.9.9:80', '--driver', 'ipvsadm', '--json'];
  try {
    const busy = await withLock(ipvsLockResource(), 1000, () => lbctl([...argv, '--lock-timeout', '300ms'], env));
    assert.equal(busy.code, ExitCode.Busy, busy.stdout);
    const e = JSON.parse(busy.stdout).error;
    assert.equal(e.code, 'ELOCKED');
    assert.match(e.message, new RegExp(`^ipvs@\\S+ is locked by pid ${process.pid} `));
    // Held for 4 s, then released: the second process waits for it, then runs (it ends after the release).
    let second!: ReturnType<typeof lbctl>;
    await withLock(ipvsLockResource(), 1000, async () => {
      second = lbctl([...argv, '--lock-timeout', '30s'], env);
      await new Promise((r) => setTimeout(r, 4000));
    });
    const released = Date.now();
    const r = await second;
    assert.notEqual(r.code, ExitCode.Busy, r.stdout);
    assert.match(JSON.parse(r.stdout).error.code, /^ENOIPVSADM|EIPVSADM$/, 'it got past the lock to the (missing) ipvsadm');
    assert.ok(r.endedAt >= released, 'it ran only after the release');
    // --dry-run reads only: it takes no lock.
    const dry = await withLock(ipvsLockResource(), 1000, () => lbctl([...argv, '--dry-run', '--lock-timeout', '100ms'], env));
    assert.notEqual(dry.code, ExitCode.Busy);
  } finally {
    if (prevDir === undefined) delete process.env.LBCTL_LOCK_DIR; else process.env.LBCTL_LOCK_DIR = prevDir;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a host process\'s AbortSignal (the shell\'s Ctrl-C) reaches an IPVS command run in-process: exit 11, nothing done', async () => {
  const { runLbctl } = await import('../../src/cli/inprocess.js');
  const { runWithAbortSignal } = await import('../../src/cli/ipvs-command.js');
  const dir = mkdtempSync(path.join(tmpdir(), 'lbp5-abort-'));
  const saved = { lock: process.env.LBCTL_LOCK_DIR };
  process.env.LBCTL_LOCK_DIR = dir;
  try {
    const ac = new AbortController();
    ac.abort();
    const argv = ['server', 'delete', '-t', '10.9.9.9:80', '-r', '10.9.9.10', '--drain', '--driver', 'ipvsadm', '--json'];
    const r = await runWithAbortSignal(ac.signal, () => runLbctl(argv));
    assert.equal(r.exitCode, ExitCode.Aborted, r.stdout + r.stderr);
    assert.match(r.json.error.message, /interrupted .*nothing changed/);
    // Not aborted: the same command goes on to the driver (here a missing ipvsadm), so the 11 above came from the signal.
    const live = await runWithAbortSignal(new AbortController().signal, () => runLbctl(argv));
    assert.notEqual(live.exitCode, ExitCode.Aborted, live.stdout);
  } finally {
    if (saved.lock === undefined) delete process.env.LBCTL_LOCK_DIR; else process.env.LBCTL_LOCK_DIR = saved.lock;
    rmSync(dir, { recursive: true, force: true });
  }
});
