/**
 * Host prep under bad input, faults and a second operator, against the real kernel in fresh
 * network namespaces (prefix lbh2-). Every check reads the machine back through a second
 * channel (`ip`, `sysctl -a`, `find`), never through lbctl.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { runLbctl, lbctlRoot } from '../../src/cli/inprocess.js';
import { withLock } from '../../src/util/lock.js';

const tag = `${process.pid % 10000}-${Math.floor(Math.random() * 1e4)}`;
const namespaces: string[] = [];
const mounts: string[] = [];
let tmp = '';
let stateDir = '';
let lockDir = '';

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lbh2-'));
  stateDir = path.join(tmp, 'state');
  lockDir = path.join(tmp, 'locks');
  await fs.mkdir(stateDir);
  process.env.LBCTL_STATE_DIR = stateDir;
  process.env.LBCTL_LOCK_DIR = lockDir;
});
after(async () => {
  for (const m of mounts) await execa('umount', [m], { reject: false });
  for (const ns of namespaces) await execa('ip', ['netns', 'del', ns], { reject: false });
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

/** A namespace with an up veth "eth0" 10.81.0.2/24 and a default route through it. */
async function freshNs(name: string): Promise<string> {
  const ns = `lbh2-${name}-${tag}`;
  await execa('ip', ['netns', 'add', ns]);
  namespaces.push(ns);
  // No IPv6: link-local addresses finishing DAD would show up as changes in the snapshots.
  await execa('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  await execa('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
  await execa('ip', ['-n', ns, 'addr', 'add', '10.81.0.2/24', 'dev', 'eth0']);
  for (const d of ['eth0', 'peer0', 'lo']) await execa('ip', ['-n', ns, 'link', 'set', d, 'up']);
  await execa('ip', ['-n', ns, 'route', 'add', 'default', 'via', '10.81.0.1', 'dev', 'eth0']);
  return ns;
}

async function sysctl(ns: string, key: string): Promise<string> {
  return (await execa('ip', ['netns', 'exec', ns, 'sysctl', '-n', key])).stdout.trim();
}

async function loAddrs(ns: string, dev = 'lo'): Promise<string[]> {
  const out = JSON.parse((await execa('ip', ['-n', ns, '-j', '-4', 'addr', 'show', 'dev', dev])).stdout || '[]');
  return out.flatMap((l: any) => l.addr_info ?? []).map((a: any) => `${a.local}/${a.prefixlen}`).filter((a: string) => !a.startsWith('127.'));
}

/** Everything prep could touch: addresses, routes, the IPv4 sysctls, files (with modes and owners) under the roots, lbctl's records. */
async function snapshot(ns: string, roots: string[]): Promise<string> {
  const parts = [
    (await execa('ip', ['-n', ns, '-o', 'addr'])).stdout,
    (await execa('ip', ['-n', ns, 'route', 'show', 'table', 'all'])).stdout,
    (await execa('ip', ['netns', 'exec', ns, 'sysctl', '-a'], { reject: false })).stdout.split('\n').filter((l) => /^net\.ipv4\.(conf\.|vs\.|ip_forward)/.test(l)).join('\n'),
  ];
  // The records of this namespace only: other tests work in other namespaces meanwhile.
  for (const [r, name] of [...roots.map((x) => [x, '*']), [stateDir, `*-netns-${ns}.json`]]) {
    const f = await execa('find', [r, '-name', name, '-printf', '%p %y %m %u:%g %s %l\n'], { reject: false });
    parts.push(f.stdout.split('\n').sort().join('\n'));
    const sums = await execa('find', [r, '-name', name, '-type', 'f', '-exec', 'md5sum', '{}', '+'], { reject: false });
    parts.push(sums.stdout.split('\n').sort().join('\n'));
  }
  return parts.join('\n--\n');
}

async function lbctl(...argv: string[]) {
  const r = await runLbctl([...argv, '--json']);
  assert.ok(r.json, `no JSON from lbctl ${argv.join(' ')}: ${r.stdout}${r.stderr}`);
  return r;
}

async function unitVips(root: string): Promise<string[]> {
  const unit = await fs.readFile(path.join(root, 'etc/systemd/system/lbctl-realserver.service'), 'utf8');
  return [...unit.matchAll(/^ExecStart=\S+ addr replace (\S+)/gm)].map((m) => m[1]).sort();
}

test('--persist describes what is in effect: prep adds (B stays on lo and in the boot files); unprep --vip B --persist takes it out of both', async () => {
  const ns = await freshNs('pers');
  const root = await fs.mkdtemp(path.join(tmp, 'root-'));
  const A = '10.81.0.100';
  const B = '10.81.0.101';
  const base = ['--netns', ns, '--persist', '--root', root];
  assert.equal((await lbctl('realserver', 'prep', ...base, '--vip', `${A},${B}`)).exitCode, 0);
  assert.deepEqual(await unitVips(root), [`${A}/32`, `${B}/32`]);
  const p2 = await lbctl('realserver', 'prep', ...base, '--vip', A);
  assert.equal(p2.exitCode, 0, p2.stderr);
  assert.equal(p2.json.changed, false, 'prep adds: B is lbctl\'s and stays, so the files stay as they were');
  assert.deepEqual((await loAddrs(ns)).sort(), [`${A}/32`, `${B}/32`]);
  assert.deepEqual(await unitVips(root), [`${A}/32`, `${B}/32`], 'the boot files list what is on lo');

  const u = await lbctl('realserver', 'unprep', ...base, '--vip', B);
  assert.equal(u.exitCode, 0, u.stderr);
  assert.deepEqual(await loAddrs(ns), [`${A}/32`]);
  assert.deepEqual(await unitVips(root), [`${A}/32`]);
  assert.equal(await sysctl(ns, 'net.ipv4.conf.all.arp_ignore'), '1', 'A still needs the ARP sysctls');
  assert.ok(await fs.stat(path.join(root, 'etc/sysctl.d/90-lbctl-realserver.conf')));

  // The /run records lost (a reboot): the boot unit still says which VIPs are lbctl's.
  await fs.rm(path.join(stateDir, `realserver-netns-${ns}.json`));
  const u2 = await lbctl('realserver', 'unprep', ...base);
  assert.equal(u2.exitCode, 0, u2.stderr);
  assert.deepEqual(await loAddrs(ns), []);
  await assert.rejects(fs.stat(path.join(root, 'etc/systemd/system/lbctl-realserver.service')), { code: 'ENOENT' });
  assert.equal(await sysctl(ns, 'net.ipv4.conf.all.arp_ignore'), '1', 'no records: the sysctls are left as they are');
});

test('unprep touches only what lbctl added: not the interface\'s primary address, not a /32 added to lo by hand', async () => {
  const ns = await freshNs('own');
  await execa('ip', ['-n', ns, 'addr', 'add', '10.81.0.77/32', 'dev', 'lo']);
  const before = await snapshot(ns, []);
  const d = await lbctl('director', 'unprep', '--netns', ns, '--vip', '10.81.0.2', '--dev', 'eth0');
  assert.equal(d.exitCode, 0, d.stderr);
  assert.equal(d.json.changed, false);
  assert.equal(d.json.items.find((i: any) => i.kind === 'address').action, 'kept');
  const r = await lbctl('realserver', 'unprep', '--netns', ns, '--vip', '10.81.0.77');
  assert.equal(r.exitCode, 0, r.stderr);
  assert.equal(r.json.items.find((i: any) => i.kind === 'address').action, 'kept');
  assert.equal(await snapshot(ns, []), before, 'primary address, default route and the hand-made /32 all still there');
  // What lbctl did add goes, and only that.
  assert.equal((await lbctl('director', 'prep', '--mode', 'dr', '--netns', ns, '--vip', '10.81.0.50', '--dev', 'eth0')).exitCode, 0);
  const u = await lbctl('director', 'unprep', '--netns', ns, '--dev', 'eth0');
  assert.deepEqual(u.json.items.filter((i: any) => i.action === 'removed').map((i: any) => i.item), ['10.81.0.50/32 dev eth0']);
  assert.equal(await snapshot(ns, []), before);
});

test('nothing half-done: a read-only --root, or a file where a directory belongs, fails before any sysctl or address changes', async () => {
  const ns = await freshNs('ro');
  const ro = await fs.mkdtemp(path.join(tmp, 'ro-'));
  await execa('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'lbh2-ro', ro]);
  mounts.push(ro);
  const fileRoot = await fs.mkdtemp(path.join(tmp, 'fileroot-'));
  await fs.writeFile(path.join(fileRoot, 'etc'), 'not a directory\n');
  for (const [root, code, msg] of [[ro, 5, /read-only file system/], [fileRoot, 7, /is not a directory/]] as const) {
    const before = await snapshot(ns, [root]);
    const r = await runLbctl(['realserver', 'prep', '--netns', ns, '--vip', '10.81.0.100', '--persist', '--root', root]);
    assert.equal(r.exitCode, code, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, msg);
    assert.equal(await snapshot(ns, [root]), before, `nothing changed (${root})`);
  }
});

test('a fault midway (test switch at change k): every applied change is rolled back and the one line says so', async () => {
  const ns = await freshNs('fault');
  const root = await fs.mkdtemp(path.join(tmp, 'root-'));
  const argv = ['realserver', 'prep', '--netns', ns, '--vip', '10.81.0.100,10.81.0.101', '--persist', '--root', root];
  const dry = await lbctl(...argv, '--dry-run');
  const n = dry.json.plan.changes.length;
  assert.ok(n >= 10, `${n} changes`);
  for (const k of [1, 5, n - 1, n]) {
    const before = await snapshot(ns, [root]);
    process.env.LBCTL_TEST_FAULT_HOSTPREP = String(k);
    let r;
    try { r = await runLbctl(argv); } finally { delete process.env.LBCTL_TEST_FAULT_HOSTPREP; }
    assert.equal(r.exitCode, 7, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0], new RegExp(`stopped at change ${k} of ${n}`));
    assert.match(lines[0], k === 1 ? /nothing had been applied/ : new RegExp(`rolled back the ${k - 1} applied before it: .*system as before`));
    assert.equal(await snapshot(ns, [root]), before, `fault at ${k}: as before`);
  }
  assert.equal((await lbctl(...argv)).exitCode, 0, 'and without the fault it goes through');
});

test('lock: a second prep on the same namespace waits, then exits 12 naming the holder; two real concurrent preps serialize', async () => {
  const ns = await freshNs('lock');
  const bin = path.join(lbctlRoot(), 'bin', 'run.js');
  const env = { LBCTL_STATE_DIR: stateDir, LBCTL_LOCK_DIR: lockDir };
  const run = (...argv: string[]) => execa(process.execPath, [bin, ...argv], { reject: false, env });
  const before = await snapshot(ns, []);
  await withLock(`hostprep@${ns}`, 1000, async () => {
    const t0 = Date.now();
    const r = await run('realserver', 'prep', '--netns', ns, '--vip', '10.81.0.100', '--lock-timeout', '700ms');
    const waited = Date.now() - t0;
    assert.equal(r.exitCode, 12, r.stderr);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, new RegExp(`hostprep@${ns} is locked by pid ${process.pid}`));
    assert.ok(waited >= 700, `waited ${waited} ms`);
  });
  assert.equal(await snapshot(ns, []), before, 'the refused prep changed nothing');
  // Another namespace is another lock: not blocked.
  const other = await freshNs('lock2');
  await withLock(`hostprep@${ns}`, 1000, async () => {
    assert.equal((await run('director', 'prep', '--mode', 'nat', '--netns', other, '--lock-timeout', '0')).exitCode, 0);
  });

  const [a, b] = await Promise.all([
    run('realserver', 'prep', '--netns', ns, '--vip', '10.81.0.100', '--json'),
    run('realserver', 'prep', '--netns', ns, '--vip', '10.81.0.101', '--json'),
  ]);
  assert.deepEqual([a.exitCode, b.exitCode], [0, 0], a.stderr + b.stderr);
  const labels = JSON.parse((await execa('ip', ['-n', ns, '-j', '-4', 'addr', 'show', 'dev', 'lo'])).stdout)[0].addr_info
    .filter((x: any) => x.local.startsWith('10.81.')).map((x: any) => `${x.local} ${x.label}`).sort();
  assert.equal(new Set(labels.map((l: string) => l.split(' ')[1])).size, 2, `distinct labels: ${labels}`);
  const records = JSON.parse(await fs.readFile(path.join(stateDir, `realserver-netns-${ns}.json`), 'utf8'));
  assert.deepEqual(records.addresses.map((x: any) => x.address).sort(), ['10.81.0.100', '10.81.0.101'], 'both preps in the records');
  // Exactly one of the two set the sysctls (the other found them in place) and the original is the pristine 0.
  assert.equal(records.sysctls['net.ipv4.conf.all.arp_ignore'].original, '0');
  assert.equal(JSON.parse(a.stdout).changed && JSON.parse(b.stdout).changed, true);
  const u = await lbctl('realserver', 'unprep', '--netns', ns);
  assert.equal(u.exitCode, 0);
  assert.equal(await snapshot(ns, []), before, 'unprep gives the namespace back exactly');
});
