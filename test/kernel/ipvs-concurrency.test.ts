/**
 * Two operators at once, and a soak, against the real kernel (NAT scenario of the lab):
 *  - a `server delete --drain` process holds the IPVS table's lock while it waits; a second
 *    process's `service add --lock-timeout 1s` exits 12 naming it; two restores started meanwhile
 *    wait, then both succeed, one after the other;
 *  - 300 restores alternating between two rules files while 50 long-lived TCP connections run
 *    through a service the files do not change: no connection is reset or stalls.
 * Separate processes (node bin/run.js) where the lock is the point (it is re-entrant within one
 * process); the soak calls restore() directly under the table lock, with one open driver of each
 * kind, since forks and per-command start-up are slow under TCG.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import readline from 'node:readline';
import { execa, type ResultPromise } from 'execa';
import { runLbctl } from '../../src/cli/inprocess.js';
import { withIpvsLock } from '../../src/cli/ipvs-command.js';
import { openNetlinkDriver } from '../../src/ipvs/netlink/index.js';
import { IpvsadmDriver } from '../../src/ipvs/ipvsadm.js';
import { loadDesired, restore } from '../../src/ipvs/restore.js';
import { clearIpvs, labSkipReason, natScenario, waitFor, type Scenario } from './lib/topology.js';

const skip = labSkipReason() ?? false;
const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = path.resolve(here, '..', '..', '..', 'bin', 'run.js');
let s: Scenario;
let dir = '';

before(async () => {
  if (skip) return;
  dir = mkdtempSync(path.join(tmpdir(), 'lbp5-conc-'));
  await clearIpvs();
  s = await natScenario();
});
after(async () => {
  if (skip) return;
  await clearIpvs().catch(() => {});
  await s?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

/** The echo service every connection goes through; both rules files keep it exactly. */
const echo = () => [
  `-A -t ${s.vip}:${s.echoPort} -s rr`,
  ...s.realServers.map((r) => `-a -t ${s.vip}:${s.echoPort} -r ${r.addr}:${s.echoPort} -m -w 1`),
];

function rulesFile(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

async function load(lines: string[]): Promise<void> {
  await clearIpvs();
  await execa('ipvsadm', ['-R'], { input: lines.join('\n') + '\n' });
}

async function saved(): Promise<string> {
  return (await execa('ipvsadm', ['-Sn'])).stdout;
}

/** `lbctl ARGS --json` as its own process. */
function lbctlProcess(args: string[]): ResultPromise<{ reject: false }> {
  return execa(process.execPath, [BIN, ...args, '--json'], { reject: false }) as unknown as ResultPromise<{ reject: false }>;
}

async function destinations(port: number): Promise<Array<{ address: string; weight: number; activeConns: number }>> {
  const r = await runLbctl(['list', '-t', `${s.vip}:${port}`, '--json']);
  assert.equal(r.exitCode, 0, r.stderr + r.stdout);
  return r.json.services[0].destinations;
}

test('a draining process holds the lock: service add exits 12 naming it; two restores wait, then run one after the other', { skip, timeout: 400_000 }, async () => {
  await load(echo());
  const conn = await s.connect();
  assert.ok((await conn.check()).alive);
  const busy = (await destinations(s.echoPort)).find((d) => d.activeConns > 0);
  assert.ok(busy, 'the connection is active on one real server');

  const drain = lbctlProcess(['server', 'delete', '-t', `${s.vip}:${s.echoPort}`, '-r', `${busy.address}:${s.echoPort}`, '--drain', '--timeout', '5m']);
  // Its weight 0 says the drain has the lock and is waiting for the connection.
  const zeroed = await waitFor(async () => (await destinations(s.echoPort)).find((d) => d.address === busy.address)?.weight === 0, { timeoutMs: 120_000, intervalMs: 500 });
  assert.ok(zeroed, 'the drain set weight 0');

  const add = await lbctlProcess(['service', 'add', '-t', `${s.vip}:9999`, '-s', 'rr', '--lock-timeout', '1s']);
  assert.equal(add.exitCode, 12, `${add.stdout}${add.stderr}`);
  const e = JSON.parse(add.stdout).error;
  assert.equal(e.code, 'ELOCKED');
  assert.match(e.message, new RegExp(`^ipvs@host is locked by pid ${drain.pid} \\(lbctl server delete -t ${s.vip.replace(/\./g, '\\.')}:${s.echoPort} .*--drain`));
  assert.doesNotMatch(await saved(), /:9999/, 'the refused command changed nothing');

  // Two restores queue behind the drain (and behind each other).
  const fileA = rulesFile('a.rules', [...echo(), `-A -t ${s.vip}:81 -s rr`, `-a -t ${s.vip}:81 -r ${s.rs1.addr}:81 -m -w 1`]);
  const fileB = rulesFile('b.rules', [...echo(), `-A -t ${s.vip}:82 -s wlc`, `-a -t ${s.vip}:82 -r ${s.rs2.addr}:82 -m -w 2`]);
  const ended: Record<string, number> = {};
  const restoreA = lbctlProcess(['restore', fileA, '--lock-timeout', '5m']).then((r) => { ended.a = Date.now(); return r; });
  const restoreB = lbctlProcess(['restore', fileB, '--lock-timeout', '5m']).then((r) => { ended.b = Date.now(); return r; });
  await new Promise((r) => setTimeout(r, 5000));
  assert.equal(Object.keys(ended).length, 0, 'both restores still wait for the drain');
  assert.doesNotMatch(await saved(), /:8[12] /, 'neither has changed anything yet');

  await conn.close();
  const d = await drain;
  assert.equal(d.exitCode, 0, `${d.stdout}${d.stderr}`);
  assert.equal(JSON.parse(d.stdout).action, 'deleted');
  const [a, b] = await Promise.all([restoreA, restoreB]);
  assert.equal(a.exitCode, 0, `${a.stdout}${a.stderr}`);
  assert.equal(b.exitCode, 0, `${b.stdout}${b.stderr}`);
  assert.equal(JSON.parse(a.stdout).changed, true);
  assert.equal(JSON.parse(b.stdout).changed, true);
  // The one that ended last ran last, on the table the first had left: its file is the table.
  const last = ended.a > ended.b ? fileA : fileB;
  const dry = await runLbctl(['restore', last, '--dry-run', '--json']);
  assert.equal(dry.json.changes.length, 0, `the table is ${path.basename(last)}: ${JSON.stringify(dry.json.changes)}`);
});

test('soak: 300 restores alternating between two files; 50 long-lived connections through an untouched service, none reset', { skip, timeout: 600_000 }, async () => {
  const churnA = [
    `-A -t ${s.vip}:81 -s rr`, `-a -t ${s.vip}:81 -r ${s.rs1.addr}:81 -m -w 1`, `-a -t ${s.vip}:81 -r ${s.rs2.addr}:81 -m -w 2`,
    `-A -t ${s.vip}:82 -s wlc -p 120`, `-a -t ${s.vip}:82 -r ${s.rs1.addr}:82 -m -w 1`,
    `-A -u ${s.vip}:53 -s rr`, `-a -u ${s.vip}:53 -r ${s.rs1.addr}:53 -m -w 1`,
  ];
  const churnB = [
    `-A -t ${s.vip}:81 -s wrr`, `-a -t ${s.vip}:81 -r ${s.rs1.addr}:81 -m -w 3`,
    `-A -t ${s.vip}:83 -s sh`, `-a -t ${s.vip}:83 -r ${s.rs2.addr}:83 -m -w 1`, `-a -t ${s.vip}:83 -r ${s.rs1.addr}:83 -m -w 1`,
    `-A -u ${s.vip}:53 -s rr`, `-a -u ${s.vip}:53 -r ${s.rs2.addr}:53 -m -w 4`,
  ];
  const files = [rulesFile('soak-a.rules', [...echo(), ...churnA]), rulesFile('soak-b.rules', [...echo(), ...churnB])];
  await load(echo());

  const COUNT = 50;
  const conns = execa('ip', ['netns', 'exec', s.client.ns, process.execPath, path.join(here, 'lib', 'conns.js'), s.vip, String(s.echoPort), String(COUNT), '1000', '8000'], { reject: false });
  const lines = readline.createInterface({ input: conns.stdout! });
  const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
  const report = async () => { const l = next(); conns.stdin!.write('report\n'); return JSON.parse(await l); };
  try {
    assert.equal(await next(), `connected ${COUNT}`);
    await waitFor(async () => (await destinations(s.echoPort)).reduce((n, d) => n + d.activeConns, 0) === COUNT, { timeoutMs: 20_000 });
    const start = await report();
    const desired = await Promise.all(files.map((f) => loadDesired(f)));
    const netlink = await openNetlinkDriver();
    const ipvsadm = new IpvsadmDriver();
    const t0 = Date.now();
    try {
      for (let i = 0; i < 300; i++) {
        // Every tenth through the ipvsadm driver, the rest netlink: both keep their hands off the echo service.
        const driver = i % 10 === 9 ? ipvsadm : netlink;
        const r = await withIpvsLock('30s', () => restore(driver, desired[i % 2]));
        assert.equal(r.changed, true, `restore ${i + 1} changed the table`);
        assert.ok(r.plan.changes.every((c) => c.service !== `TCP ${s.vip}:${s.echoPort}`), `restore ${i + 1} left the echo service alone`);
      }
    } finally {
      await netlink.close();
    }
    const seconds = (Date.now() - t0) / 1000;
    // Still alive after the last restore: the echoes keep coming (one per connection per second).
    const mid = await report();
    await new Promise((r) => setTimeout(r, 3000));
    const end = await report();
    process.stderr.write(`soak: 300 restores in ${seconds.toFixed(1)} s; ${end.pongs - start.pongs} echoes over ${COUNT} connections; closed: ${end.closed.length}\n`);
    // A reset, an EOF, or an echo 8 s late (the restores ran a few ms each) counts as closed.
    assert.deepEqual(end.closed, [], 'no connection reset, ended or stalled');
    assert.ok(end.pongs - mid.pongs >= COUNT, `the connections still echo after the soak (${end.pongs - mid.pongs} echoes in 3 s)`);
    const active = (await destinations(s.echoPort)).reduce((n, d) => n + d.activeConns, 0);
    assert.equal(active, COUNT, 'the 50 connections are still established in IPVS');
  } finally {
    conns.stdin!.end();
    conns.kill();
    await conns;
  }
});
