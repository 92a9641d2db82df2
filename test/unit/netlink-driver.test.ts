/**
 * The netlink driver against a message-level fake kernel (netlink-fake.ts): pipelining and
 * windowing, ACK matching, error mapping (errno kept, the failing op named), dumps, and the
 * other commands of the family.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NlConnection, ACK_TRUESIZE } from '../../src/ipvs/netlink/conn.js';
import { NetlinkDriver, openFamily } from '../../src/ipvs/netlink/driver.js';
import { NLM_F_ACK, parseGenl } from '../../src/ipvs/netlink/message.js';
import { IpvsCmd } from '../../src/ipvs/netlink/attrs.js';
import { parseRules, printRules } from '../../src/ipvs/rules.js';
import { plan, toOps } from '../../src/ipvs/plan.js';
import { LbctlError, NotFoundError, PermissionError, RejectedError, UnavailableError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import type { Op } from '../../src/ipvs/driver.js';
import { FakeKernel, FAKE_FAMILY } from './netlink-fake.js';

function driver(k: FakeKernel) {
  return new NetlinkDriver(new NlConnection(k), FAKE_FAMILY);
}

function bigRules(services: number, perService: number): string {
  const lines: string[] = [];
  for (let s = 0; s < services; s++) {
    const vip = `10.${100 + (s >> 8)}.${s & 255}.1:80`;
    lines.push(`-A -t ${vip} -s wrr`);
    for (let d = 0; d < perService; d++) lines.push(`-a -t ${vip} -r 10.1.${s & 255}.${d + 1}:8080 -m -w ${1 + (d % 5)}`);
  }
  return lines.join('\n');
}

test('apply() pipelines: windows of many messages per datagram, each with NLM_F_ACK, all ACKs matched', async () => {
  const k = new FakeKernel();
  const d = driver(k);
  const desired = parseRules(bigRules(300, 10));
  const ops = toOps(plan({ services: [] }, desired));
  assert.equal(ops.length, 3300);
  await d.apply(ops);
  const win = new NlConnection(new FakeKernel()).windowSize();
  assert.ok(win >= 64, `window ${win}`);
  assert.equal(k.sent.length, Math.ceil(3300 / win), 'one datagram per window, not per op');
  assert.ok(k.sent.every((dg) => dg.every((m) => m.flags & NLM_F_ACK)));
  assert.equal(new Set(k.sent.flat().map((m) => m.seq)).size, 3300, 'unique sequence numbers');
  assert.equal(printRules(await d.getTable()), printRules(desired));
});

test('windows never overflow the receive buffer (no ACK lost), even when it is small', async () => {
  const k = new FakeKernel({ rcvbufBytes: 40 * ACK_TRUESIZE });
  const d = driver(k);
  await d.apply(toOps(plan({ services: [] }, parseRules(bigRules(50, 10)))));
  assert.ok(k.sent.every((dg) => dg.length * ACK_TRUESIZE <= k.recvBufferSize));
  assert.equal((await d.getTable()).services.length, 50);
});

test('lost ACKs (receive buffer overrun) are an error, not a hang', async () => {
  const k = new FakeKernel({ rcvbufBytes: 400 * ACK_TRUESIZE });
  // The socket reports a larger buffer than the kernel really grants, so a window overruns it.
  k.recvBufferSize = 4000 * ACK_TRUESIZE;
  const conn = new NlConnection(k);
  const d = new NetlinkDriver(conn, FAKE_FAMILY);
  await assert.rejects(d.apply(toOps(plan({ services: [] }, parseRules(bigRules(100, 10))))), /receive buffer overflowed/);
});

test('a failing op is named by its origin, keeps the errno, stops later windows, and is rolled back', async () => {
  const k = new FakeKernel({ rcvbufBytes: 64 * ACK_TRUESIZE });
  const d = driver(k);
  const desired = parseRules(bigRules(20, 10));
  const ops: Op[] = toOps(plan({ services: [] }, desired)).map((o, i) => ({ ...o, origin: `rules.txt:${i + 1}` }));
  k.failAt.set(25, 22); // a real server (toOps puts the 20 services first)
  const err = await d.apply(ops).catch((e) => e);
  assert.ok(err instanceof RejectedError, String(err));
  assert.equal(err.errno, 22);
  assert.equal(err.where, 'rules.txt:26');
  assert.match(err.oneLine(), /refused real server .* \(invalid argument\).*route to it/);
  assert.equal(k.sent.length, 2, 'no window after the failing one; then one datagram undoing it');
  // The kernel carried on with the rest of that window (31 applied): all of it is undone.
  assert.match(err.oneLine(), /^rules\.txt:26: change 26 of 220 failed: .*; rolled back 31 change\(s\): table as before/);
  assert.equal((await d.getTable()).services.length, 0, 'table as before');
});

test('without an origin, the error names the equivalent ipvsadm command', async () => {
  const k = new FakeKernel();
  const d = driver(k);
  const t = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m');
  await d.apply(toOps(plan({ services: [] }, t)));
  const err = await d.apply([{ kind: 'addDest', service: t.services[0], dest: t.services[0].destinations[0] }]).catch((e) => e);
  assert.ok(err instanceof RejectedError);
  assert.equal(err.errno, 17);
  assert.equal(err.exitCode, ExitCode.Rejected);
  assert.equal(err.where, 'ipvsadm -a -t 10.0.0.1:80 -r 10.0.1.1:80 -m -w 1');
  assert.match(err.message, /real server 10\.0\.1\.1:80 in TCP 10\.0\.0\.1:80 already exists/);
});

test('ESRCH on a service is "virtual service ... does not exist" (exit 4), errno kept', async () => {
  const d = driver(new FakeKernel());
  const s = parseRules('-A -t 10.0.0.1:80 -s rr').services[0];
  // With `previous` given, no pre-check: the kernel's own ESRCH is what is mapped.
  const err = await d.apply([{ kind: 'editService', service: s, previous: s }]).catch((e) => e);
  assert.ok(err instanceof NotFoundError);
  assert.equal(err.exitCode, ExitCode.NotFound);
  assert.equal((err as any).errno, 3);
  assert.equal(err.message, 'virtual service TCP 10.0.0.1:80 does not exist');
  const e2 = await d.apply([{ kind: 'delDest', service: s, dest: parseRules('-A -t 10.0.0.1:80\n-a -t 10.0.0.1:80 -r 10.0.9.9').services[0].destinations[0] }]).catch((e) => e);
  assert.ok(e2 instanceof NotFoundError);
});

test('ENOENT on a real server is "does not exist"; on a service add it names the scheduler module', async () => {
  const k = new FakeKernel();
  const d = driver(k);
  const t = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.1:80 -m');
  await d.apply([{ kind: 'addService', service: t.services[0] }]);
  const e1 = await d.apply([{ kind: 'editDest', service: t.services[0], dest: t.services[0].destinations[0] }]).catch((e) => e);
  assert.ok(e1 instanceof NotFoundError);
  assert.equal(e1.message, 'real server 10.0.1.1:80 in TCP 10.0.0.1:80 does not exist');
  k.failAt.set(k.writes, 2);
  const e2 = await d.apply([{ kind: 'addService', service: { ...t.services[0], port: 81, scheduler: 'mh' } }]).catch((e) => e);
  assert.ok(e2 instanceof RejectedError);
  assert.match(e2.oneLine(), /scheduler "mh" is not available.*ip_vs_mh/);
});

test('EPERM anywhere is a PermissionError (exit 5) with the errno', async () => {
  const k = new FakeKernel();
  const d = driver(k);
  k.failAll = 1;
  const e1 = await d.getTable().catch((e) => e);
  assert.ok(e1 instanceof PermissionError);
  assert.equal(e1.exitCode, ExitCode.Permission);
  assert.equal((e1 as any).errno, 1);
  const e2 = await d.apply([{ kind: 'flush' }]).catch((e) => e);
  assert.ok(e2 instanceof PermissionError);
  assert.match(e2.oneLine(), /CAP_NET_ADMIN/);
});

test('no IPVS family: UnavailableError ENOIPVS', async () => {
  const k = new FakeKernel();
  k.noFamily = true;
  const err = await openFamily(new NlConnection(k), { modprobe: false }).catch((e) => e);
  assert.ok(err instanceof UnavailableError);
  assert.equal(err.code, 'ENOIPVS');
  const k2 = new FakeKernel();
  assert.equal(await openFamily(new NlConnection(k2), { modprobe: false }), FAKE_FAMILY);
});

test('dumps spanning many datagrams are reassembled; stats and counters are numbers', async () => {
  const k = new FakeKernel();
  k.dumpChunk = 2;
  const d = driver(k);
  const desired = parseRules(bigRules(7, 9));
  await d.apply(toOps(plan({ services: [] }, desired)));
  const t = await d.getTable({ stats: true });
  assert.equal(printRules(t), printRules(desired));
  assert.equal(t.services[0].destinations[0].activeConns, 0);
  const dests = await d.getDestinations(desired.services[3]);
  assert.equal(dests.length, 9);
});

test('a no-op plan writes nothing; a single weight change is exactly one write', async () => {
  const k = new FakeKernel();
  const d = driver(k);
  const desired = parseRules(bigRules(30, 10));
  await d.apply(toOps(plan({ services: [] }, desired)));
  const before = k.writes;
  const ops0 = toOps(plan(await d.getTable(), desired));
  await d.apply(ops0);
  assert.equal(k.writes - before, 0);
  desired.services[4].destinations[6].weight = 99;
  const ops1 = toOps(plan(await d.getTable(), desired));
  await d.apply(ops1);
  assert.equal(k.writes - before, 1);
  assert.equal(printRules(await d.getTable()), printRules(desired));
});

test('timeouts, info and sync daemons', async () => {
  const k = new FakeKernel();
  const d = driver(k);
  assert.deepEqual(await d.getInfo(), { version: '1.2.1', connTableSize: 4096 });
  assert.deepEqual(await d.getTimeouts(), { tcp: 900, tcpfin: 120, udp: 300 });
  await d.setTimeouts({ tcp: 3600 });
  assert.deepEqual(await d.getTimeouts(), { tcp: 3600, tcpfin: 120, udp: 300 });
  assert.deepEqual(await d.getDaemons(), []);
  await d.startDaemon({ state: 'master', mcastIfn: 'eth0', syncId: 7 });
  assert.deepEqual(await d.getDaemons(), [{ state: 'master', mcastIfn: 'eth0', syncId: 7 }]);
  const again = await d.startDaemon({ state: 'master', mcastIfn: 'eth0', syncId: 7 }).catch((e) => e);
  assert.ok(again instanceof RejectedError && again.errno === 17 && /already running/.test(again.message));
  await d.stopDaemon('master');
  const none = await d.stopDaemon('master').catch((e) => e);
  assert.ok(none instanceof LbctlError && /no master sync daemon/.test(none.message));
});

test('a reply that arrives before send() completes is still matched (no unhandled rejection)', async () => {
  const k = new FakeKernel();
  k.repliesFirst = true;
  const d = driver(k);
  let unhandled: unknown;
  const onUnhandled = (e: unknown) => { unhandled = e; };
  process.on('unhandledRejection', onUnhandled);
  try {
    await d.startDaemon({ state: 'backup', mcastIfn: 'lo', syncId: 1 });
    const dup = await d.startDaemon({ state: 'backup', mcastIfn: 'lo', syncId: 1 }).catch((e) => e);
    assert.ok(dup instanceof RejectedError && dup.errno === 17, String(dup));
    const t = parseRules('-A -t 10.0.0.1:80 -s rr');
    await d.apply(toOps(plan({ services: [] }, t)));
    const again = await d.apply(toOps(plan({ services: [] }, t))).catch((e) => e);
    assert.ok(again instanceof RejectedError && again.errno === 17);
    assert.equal(printRules(await d.getTable()), printRules(t));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(unhandled, undefined);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test('concurrent reads on one socket are serialized (the kernel allows one dump at a time)', async () => {
  const k = new FakeKernel();
  k.dumpChunk = 1;
  const d = driver(k);
  const desired = parseRules(bigRules(5, 4));
  await d.apply(toOps(plan({ services: [] }, desired)));
  const [a, b, c] = await Promise.all([d.getTable(), d.getDestinations(desired.services[1]), d.getDaemons()]);
  assert.equal(printRules(a), printRules(desired));
  assert.equal(b.length, 4);
  assert.deepEqual(c, []);
});

test('no reply at all: the request fails after the timeout instead of hanging', async () => {
  const k = new FakeKernel();
  k.mute = true;
  const d = new NetlinkDriver(new NlConnection(k, { timeoutMs: 150 }), FAKE_FAMILY);
  const t0 = Date.now();
  await assert.rejects(d.getInfo(), /no reply from the kernel/);
  await assert.rejects(d.apply([{ kind: 'flush' }]), /no reply from the kernel to a batch of 1/);
  assert.ok(Date.now() - t0 < 5000);
});

test('ACK mode "errors": one ACK per window (the barrier), failures still matched and named', async () => {
  const k = new FakeKernel({ rcvbufBytes: 64 * ACK_TRUESIZE });
  const d = new NetlinkDriver(new NlConnection(k), FAKE_FAMILY, { acks: 'errors' });
  const desired = parseRules(bigRules(20, 10));
  await d.apply(toOps(plan({ services: [] }, desired)));
  assert.equal(printRules(await d.getTable()), printRules(desired));
  const writes = k.sent.flat().filter((m) => m.type === FAKE_FAMILY && parseGenl(m.payload).cmd !== IpvsCmd.GET_SERVICE && parseGenl(m.payload).cmd !== IpvsCmd.GET_DEST);
  assert.equal(writes.length, 220);
  assert.equal(writes.filter((m) => m.flags & NLM_F_ACK).length, Math.ceil(220 / 32), 'NLM_F_ACK only on each window\'s last message');
  // A failure in the middle of a window is still reported with its op and errno.
  const ops: Op[] = toOps(plan({ services: [] }, parseRules(bigRules(3, 3).replace(/10\.100\./g, '10.101.')))).map((o, i) => ({ ...o, origin: `x:${i + 1}` }));
  k.failAt.set(k.writes + 4, 22);
  const err = await d.apply(ops).catch((e) => e);
  assert.ok(err instanceof RejectedError && err.errno === 22 && err.where === 'x:5', String(err));
  assert.match(err.oneLine(), /change 5 of 12 failed: .*; rolled back 11 change\(s\): table as before/);
  assert.equal(printRules(await d.getTable()), printRules(desired), 'table as before');
});
