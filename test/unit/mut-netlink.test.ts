/**
 * The netlink driver's refuse and rollback paths (src/ipvs/netlink/driver.ts), case by case, for
 * the mutation run (stryker/modules.mjs `netlink`): which ops of a failed batch it reports as
 * applied (what the compensating rollback undoes), the injected fault's message, the ACK mode,
 * and each refusal (family lookup, reads, timeouts, sync daemons, undecodable replies) with its
 * class, code, errno and words. Against the message-level fake kernel (netlink-fake.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NlConnection, ACK_TRUESIZE, KernelErrno } from '../../src/ipvs/netlink/conn.js';
import { NetlinkDriver, openFamily } from '../../src/ipvs/netlink/driver.js';
import { NLM_F_ACK, parseGenl } from '../../src/ipvs/netlink/message.js';
import { decodeAttrs, IpvsCmd } from '../../src/ipvs/netlink/attrs.js';
import { parseRules, printRules } from '../../src/ipvs/rules.js';
import { plan, toOps } from '../../src/ipvs/plan.js';
import { LbctlError, PermissionError, RejectedError, TimeoutError, UnavailableError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import type { Op } from '../../src/ipvs/driver.js';
import { FakeKernel, FAKE_FAMILY } from './netlink-fake.js';

const BEFORE = ['-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1', '-A -t 10.0.0.2:80 -s wlc'].join('\n');
/** Ten changes from BEFORE: a new service with six servers, an edit, a server add and a delete. */
const AFTER = [
  '-A -t 10.0.0.1:80 -s wrr',
  '-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1',
  '-a -t 10.0.0.1:80 -r 10.0.1.2:80 -m -w 2',
  '-A -t 10.0.0.4:80 -s sh',
  ...[1, 2, 3, 4, 5, 6].map((i) => `-a -t 10.0.0.4:80 -r 10.0.4.${i}:80 -m -w ${i}`),
].join('\n');

async function setup(opts: { window?: number; acks?: 'each' | 'errors' } = {}) {
  const k = new FakeKernel({ rcvbufBytes: (opts.window ?? 64) * ACK_TRUESIZE });
  const d = new NetlinkDriver(new NlConnection(k, { timeoutMs: 300 }), FAKE_FAMILY, { acks: opts.acks });
  await d.apply(toOps(plan({ services: [] }, parseRules(BEFORE))));
  const ops = toOps(plan(await d.getTable(), parseRules(AFTER)));
  return { k, d, ops, base: k.writes, sentBefore: k.sent.length, before: printRules(await d.getTable()) };
}

async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  const old = process.env[name];
  process.env[name] = value;
  try { return await fn(); } finally { if (old === undefined) delete process.env[name]; else process.env[name] = old; }
}

const WRITES: ReadonlySet<number> = new Set([IpvsCmd.NEW_SERVICE, IpvsCmd.SET_SERVICE, IpvsCmd.DEL_SERVICE, IpvsCmd.NEW_DEST, IpvsCmd.SET_DEST, IpvsCmd.DEL_DEST]);

/** The IPVS writes lbctl sent after `from` datagrams, decoded: command and attributes, flags. */
function sentSince(k: FakeKernel, from: number) {
  return k.sent.slice(from).flat().map((m) => { const g = parseGenl(m.payload); return { cmd: g.cmd, flags: m.flags, a: decodeAttrs('cmd', g.attrs) }; }).filter((m) => WRITES.has(m.cmd));
}

test('a failed batch: every op sent and not failed counts as applied and is undone; ops after the failure are neither', async () => {
  const { k, d, ops, base, before } = await setup();
  assert.equal(ops.length, 10);
  // The 4th change fails; the kernel applied 1-3 and, in the same window, 5-10.
  k.failAt.set(base + 3, 22);
  const err = await d.apply(ops).catch((e) => e);
  assert.ok(err instanceof RejectedError, String(err));
  assert.equal(err.errno, 22);
  assert.equal(err.code, 'EINVAL');
  assert.match(err.message, /^change 4 of 10 failed: .*; rolled back 9 change\(s\): table as before$/);
  assert.equal(printRules(await d.getTable()), before);
});

test('two failures in one window (ACKs only for errors): both are left out of the undo, the first is named', async () => {
  const { k, d, ops, base, before } = await setup({ acks: 'errors' });
  k.failAt.set(base + 2, 22);
  k.failAt.set(base + 6, 16);
  const err = await d.apply(ops).catch((e) => e);
  assert.ok(err instanceof RejectedError, String(err));
  assert.equal(err.errno, 22);
  assert.match(err.message, /^change 3 of 10 failed: .*; rolled back 8 change\(s\): table as before$/);
  assert.equal(printRules(await d.getTable()), before);
});

test('a failure in the first window: later windows are not sent and not undone', async () => {
  const { k, d, ops, base, before } = await setup({ window: 16 });
  k.failAt.set(base + 1, 22);
  const err = await d.apply(ops).catch((e) => e);
  assert.ok(err instanceof RejectedError, String(err));
  const m = /rolled back (\d+) change\(s\): table as before$/.exec(err.message);
  assert.ok(m, err.message);
  const written = k.writes - base;
  // Sent: the first window only (fewer than all 10); undone: the sent ones but the failed one.
  assert.ok(written < 10 + 9, `wrote ${written}`);
  assert.equal(Number(m[1]) + 1 + Number(m[1]), written, 'window sent, minus the failure, undone one for one');
  assert.equal(printRules(await d.getTable()), before);
});

test('LBCTL_FAULT_IPVS=k replaces change k by a delete of a service nobody has, and says so', async () => {
  const { k, d, ops, sentBefore, before } = await setup();
  const err = await withEnv('LBCTL_FAULT_IPVS', '5', () => d.apply(ops)).catch((e) => e);
  assert.ok(err instanceof RejectedError, String(err));
  assert.equal(err.code, 'EFAULTINJECTED');
  assert.match(err.message, /^change 5 of 10 failed: injected fault at change 5 \(LBCTL_FAULT_IPVS, a test-only switch\); rolled back 9 change\(s\): table as before$/);
  assert.match(err.oneLine(), /ipvsadm -a -t 10\.0\.0\.4:80 -r 10\.0\.4\.2:80|ipvsadm /);
  const batch = sentSince(k, sentBefore).slice(0, 10);
  const isFault = (m: (typeof batch)[number]) => (m.a.service as { fwmark?: number } | undefined)?.fwmark === 0xfffffffe;
  assert.equal(batch.filter(isFault).length, 1, 'only the k-th message is the fault');
  assert.equal(batch[4].cmd, IpvsCmd.DEL_SERVICE);
  assert.equal((batch[4].a.service as { fwmark?: number }).fwmark, 0xfffffffe);
  assert.notEqual(batch[3].cmd, IpvsCmd.DEL_SERVICE);
  assert.equal(printRules(await d.getTable()), before);
});

test('a real kernel error is the op\'s error (not the injected one) even with the switch set past the batch', async () => {
  const { k, d, ops, base } = await setup();
  k.failAt.set(base, 22);
  const err = await withEnv('LBCTL_FAULT_IPVS', '99', () => d.apply(ops)).catch((e) => e);
  assert.ok(err instanceof RejectedError, String(err));
  assert.equal(err.code, 'EINVAL');
  assert.equal(err.errno, 22);
  assert.doesNotMatch(err.message, /injected/);
});

test('writes are counted, progress reaches n of n, and an empty batch sends nothing', async () => {
  const { k, d, ops, sentBefore } = await setup();
  const calls: Array<[number, number]> = [];
  await d.apply(ops, (done, total) => calls.push([done, total]));
  assert.equal(d.writes, 3 + 10, 'BEFORE (3 changes) and the batch');
  assert.ok(calls.length > 0);
  assert.deepEqual(calls[calls.length - 1], [10, 10]);
  assert.ok(calls.every(([, t]) => t === 10));
  const sent = k.sent.length;
  await d.apply([]);
  assert.equal(k.sent.length, sent, 'no datagram for an empty batch');
  assert.equal(d.writes, 13);
  assert.ok(sentSince(k, sentBefore).length >= 10);
});

test('ACK mode: each message asks for an ACK by default and with acks "each" over LBCTL_NETLINK_ACKS=errors; the variable alone selects "errors"', async () => {
  const flagsOf = async (acks: 'each' | 'errors' | undefined, env: string | undefined) => {
    const { k, d, ops, sentBefore } = await setup({ acks });
    await (env === undefined ? d.apply(ops) : withEnv('LBCTL_NETLINK_ACKS', env, () => d.apply(ops)));
    return sentSince(k, sentBefore).map((m) => (m.flags & NLM_F_ACK ? 1 : 0));
  };
  const dflt = await flagsOf(undefined, undefined);
  assert.ok(dflt.length >= 10 && dflt.every((f) => f === 1), String(dflt));
  const forced = await flagsOf('each', 'errors');
  assert.ok(forced.every((f) => f === 1), String(forced));
  const byEnv = await flagsOf(undefined, 'errors');
  assert.ok(byEnv.filter((f) => f === 1).length < byEnv.length, `some messages without NLM_F_ACK: ${byEnv}`);
  const other = await flagsOf(undefined, 'each');
  assert.ok(other.every((f) => f === 1));
});

test('family lookup: EPERM and EACCES are permission errors; another errno is not ENOIPVS; no modprobe when told not to', async () => {
  for (const errno of [1, 13]) {
    const k = new FakeKernel();
    k.failAll = errno;
    const err = await openFamily(new NlConnection(k), { modprobe: false }).catch((e) => e);
    assert.ok(err instanceof PermissionError, `${errno}: ${err}`);
    assert.equal(err.exitCode, ExitCode.Permission);
    assert.equal((err as { errno?: number }).errno, errno);
  }
  const k = new FakeKernel();
  k.failAll = 16;
  const busy = await openFamily(new NlConnection(k), { modprobe: false }).catch((e) => e);
  assert.ok(busy instanceof KernelErrno && busy.errno === 16, String(busy));
  const k2 = new FakeKernel();
  k2.noFamily = true;
  const none = await openFamily(new NlConnection(k2), { modprobe: false }).catch((e) => e);
  assert.ok(none instanceof UnavailableError);
  assert.equal(none.code, 'ENOIPVS');
  assert.equal(none.message, 'the kernel has no IPVS (generic netlink family "IPVS" not found)');
  assert.match(none.oneLine(), /modprobe ip_vs/);
  assert.equal(k2.sent.length, 1, 'one lookup, no second after a modprobe');
});

test('family lookup with modprobe: runs `modprobe ip_vs` once, then looks again (found, or ENOIPVS)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'lbm7-modprobe-'));
  const log = path.join(dir, 'log');
  writeFileSync(path.join(dir, 'modprobe'), `#!/bin/sh\necho "$@" >> ${log}\n`);
  chmodSync(path.join(dir, 'modprobe'), 0o755);
  const oldPath = process.env.PATH;
  process.env.PATH = `${dir}:${oldPath}`;
  try {
    // The family appears after modprobe.
    const k = new FakeKernel();
    k.noFamily = true;
    const send = k.send.bind(k);
    k.send = async (d: Buffer) => { const r = send(d); k.noFamily = false; return r; };
    assert.equal(await openFamily(new NlConnection(k)), FAKE_FAMILY);
    assert.equal(k.sent.length, 2);
    assert.equal(readFileSync(log, 'utf8'), 'ip_vs\n');
    // It never appears.
    const k2 = new FakeKernel();
    k2.noFamily = true;
    const none = await openFamily(new NlConnection(k2)).catch((e) => e);
    assert.ok(none instanceof UnavailableError && none.code === 'ENOIPVS', String(none));
    assert.equal(k2.sent.length, 2);
    // No answer to the second lookup is a timeout, not "no IPVS".
    const k3 = new FakeKernel();
    k3.noFamily = true;
    const send3 = k3.send.bind(k3);
    k3.send = async (d: Buffer) => { const r = send3(d); k3.mute = true; return r; };
    const t = await openFamily(new NlConnection(k3, { timeoutMs: 200 })).catch((e) => e);
    assert.ok(t instanceof TimeoutError, String(t));
  } finally {
    process.env.PATH = oldPath;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('read refusals: EACCES is a permission error, another errno names itself (exit 7), a timeout stays a timeout', async () => {
  const k = new FakeKernel();
  const d = new NetlinkDriver(new NlConnection(k, { timeoutMs: 200 }), FAKE_FAMILY);
  k.failAll = 1;
  const p = await d.getTimeouts().catch((x) => x);
  assert.ok(p instanceof PermissionError, String(p));
  k.failAll = 13;
  for (const read of [() => d.getTable(), () => d.getInfo(), () => d.getTimeouts(), () => d.getDaemons()]) {
    const e = await read().catch((x) => x);
    assert.ok(e instanceof PermissionError, String(e));
    assert.equal((e as { errno?: number }).errno, 13);
  }
  k.failAll = 16;
  for (const read of [() => d.getTable(), () => d.getInfo(), () => d.getDestinations({ protocol: 'tcp', family: 'inet', address: '10.0.0.1', port: 80 } as never)]) {
    const e = await read().catch((x) => x);
    assert.ok(e instanceof RejectedError && !(e instanceof PermissionError), String(e));
    assert.equal(e.message, 'reading IPVS failed (EBUSY)');
    assert.equal(e.code, 'EBUSY');
    assert.equal(e.errno, 16);
    assert.equal(e.exitCode, ExitCode.Rejected);
  }
  k.failAll = undefined;
  k.mute = true;
  const t = await d.getTable().catch((x) => x);
  assert.ok(t instanceof TimeoutError, String(t));
  const ti = await d.getInfo().catch((x) => x);
  assert.ok(ti instanceof TimeoutError, String(ti));
  await d.close();
});

test('an undecodable reply is EBADREPLY with its hint, never a crash', async () => {
  const k = new FakeKernel();
  const d = new NetlinkDriver(new NlConnection(k), FAKE_FAMILY);
  await d.apply(toOps(plan({ services: [] }, parseRules(BEFORE))));
  // A real server without its address: decoding it throws inside the driver.
  for (const svc of k.services.values()) for (const dest of svc.dests.values()) delete dest.addr;
  const e = await d.getTable().catch((x) => x);
  assert.ok(e instanceof RejectedError, String(e));
  assert.equal(e.code, 'EBADREPLY');
  // The cause's own message, words apart, without the error's class name.
  assert.match(e.message, /^the kernel sent an IPVS reply lbctl cannot decode \([^:]+ \(reading .*\)\)$/);
  assert.doesNotMatch(e.message, /\n/);
  assert.match(e.oneLine(), /nothing was changed; try --driver ipvsadm, and report the kernel version/);
});

test('timeouts refused: EPERM is a permission error at `ipvsadm --set`; another errno is Rejected with where and hint; a timeout passes through', async () => {
  const k = new FakeKernel();
  const d = new NetlinkDriver(new NlConnection(k, { timeoutMs: 200 }), FAKE_FAMILY);
  k.failAt.set(0, 1);
  const p = await d.setTimeouts({ tcp: 10 }).catch((x) => x);
  assert.ok(p instanceof PermissionError, String(p));
  assert.equal(p.where, 'ipvsadm --set');
  k.failAt.set(1, 13);
  const p2 = await d.setTimeouts({ tcp: 10 }).catch((x) => x);
  assert.ok(p2 instanceof PermissionError, String(p2));
  k.failAt.set(2, 22);
  const r = await d.setTimeouts({ tcp: 10 }).catch((x) => x);
  assert.ok(r instanceof RejectedError && !(r instanceof PermissionError), String(r));
  assert.equal(r.message, 'the kernel refused the timeouts (EINVAL)');
  assert.equal(r.code, 'EINVAL');
  assert.equal(r.errno, 22);
  assert.equal(r.where, 'ipvsadm --set');
  assert.match(r.oneLine(), /timeouts are whole seconds, 0 leaves one unchanged/);
  assert.deepEqual(await d.getTimeouts(), { tcp: 900, tcpfin: 120, udp: 300 }, 'nothing changed');
  k.mute = true;
  const t = await d.setTimeouts({ tcp: 10 }).catch((x) => x);
  assert.ok(t instanceof TimeoutError, String(t));
  await d.close();
});

test('sync daemons refused: the errno is mapped (not raw); a timeout passes through', async () => {
  const k = new FakeKernel();
  const d = new NetlinkDriver(new NlConnection(k, { timeoutMs: 200 }), FAKE_FAMILY);
  k.failAt.set(0, 1);
  const s = await d.startDaemon({ state: 'backup', mcastIfn: 'eth0', syncId: 1 }).catch((x) => x);
  assert.ok(s instanceof PermissionError, String(s));
  assert.match(s.where ?? '', /ipvsadm --start-daemon backup/);
  k.failAt.set(1, 1);
  const st = await d.stopDaemon('backup').catch((x) => x);
  assert.ok(st instanceof PermissionError, String(st));
  assert.equal(st.where, 'ipvsadm --stop-daemon backup');
  const none = await d.stopDaemon('backup').catch((x) => x);
  assert.ok(none instanceof LbctlError && none.message === 'no backup sync daemon is running', String(none));
  // The master state is sent as 1, backup as 2.
  await d.startDaemon({ state: 'backup', mcastIfn: 'eth0', syncId: 1 });
  await d.stopDaemon('backup');
  assert.deepEqual(await d.getDaemons(), []);
  k.mute = true;
  for (const call of [() => d.startDaemon({ state: 'master', mcastIfn: 'eth0', syncId: 1 }), () => d.stopDaemon('master')]) {
    const t = await call().catch((x) => x);
    assert.ok(t instanceof TimeoutError, String(t));
  }
  await d.close();
});

void ({} as Op);
