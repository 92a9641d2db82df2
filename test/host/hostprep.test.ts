/**
 * Host preparation against the real kernel: every test works in fresh network namespaces it
 * creates (real /proc/sys/net per namespace) and reads results back through a second channel
 * (`ip netns exec NS cat /proc/sys/...`, `ip -j addr`), never through lbctl itself.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { runLbctl, lbctlRoot } from '../../src/cli/inprocess.js';

const VIP = '10.79.0.100';
const created: string[] = [];
let stateDir = '';

before(async () => {
  // lbctl's runtime ownership records go to a private directory, not the host's /run.
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbprep-state-'));
  process.env.LBCTL_STATE_DIR = stateDir;
});
after(async () => {
  for (const ns of created) await execa('ip', ['netns', 'del', ns], { reject: false });
  await fs.rm(stateDir, { recursive: true, force: true });
});

/** A namespace with an up veth "eth0" (10.79.0.2/24; its peer stays in the namespace). */
async function freshNs(tag: string): Promise<string> {
  const ns = `lbprep-${tag}-${process.pid % 10000}-${Math.floor(Math.random() * 1e4)}`;
  await execa('ip', ['netns', 'add', ns]);
  created.push(ns);
  await execa('ip', ['-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
  await execa('ip', ['-n', ns, 'addr', 'add', '10.79.0.2/24', 'dev', 'eth0']);
  await execa('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
  await execa('ip', ['-n', ns, 'link', 'set', 'peer0', 'up']);
  return ns;
}

async function sysctl(ns: string, rel: string): Promise<string> {
  return (await execa('ip', ['netns', 'exec', ns, 'cat', `/proc/sys/net/ipv4/${rel}`])).stdout.trim();
}

async function addrs(ns: string, dev: string): Promise<Array<{ local: string; prefixlen: number; label: string }>> {
  const out = JSON.parse((await execa('ip', ['-n', ns, '-j', '-4', 'addr', 'show', 'dev', dev])).stdout || '[]');
  return out.flatMap((l: any) => l.addr_info ?? []);
}

async function lbctl(...argv: string[]) {
  const r = await runLbctl([...argv, '--json']);
  assert.ok(r.json, `no JSON from lbctl ${argv.join(' ')}: ${r.stdout}${r.stderr}`);
  return r;
}

test('DR real server: prep, check ok, prep again unchanged, unprep, check fails (9)', async () => {
  const ns = await freshNs('dr');
  const base = ['--netns', ns, '--vip', VIP, '--dev', 'eth0'];
  const p1 = await lbctl('realserver', 'prep', ...base);
  assert.equal(p1.exitCode, 0, p1.stderr);
  assert.equal(p1.json.changed, true);
  const ig = p1.json.items.find((i: any) => i.item === 'net.ipv4.conf.all.arp_ignore');
  assert.deepEqual([ig.before, ig.after, ig.action], [0, 1, 'updated']);
  for (const dev of ['all', 'lo', 'eth0']) {
    assert.equal(await sysctl(ns, `conf/${dev}/arp_ignore`), '1', `${dev}.arp_ignore`);
    assert.equal(await sysctl(ns, `conf/${dev}/arp_announce`), '2', `${dev}.arp_announce`);
  }
  assert.deepEqual((await addrs(ns, 'lo')).filter((a) => a.local === VIP).map((a) => [a.prefixlen, a.label]), [[32, 'lo:0']]);
  const local = JSON.parse((await execa('ip', ['-n', ns, '-j', 'route', 'show', 'table', 'local'])).stdout);
  assert.ok(local.some((r: any) => r.type === 'local' && r.dst === VIP && r.dev === 'lo'), 'kernel added the local host route');

  const c1 = await lbctl('realserver', 'check', ...base);
  assert.equal(c1.exitCode, 0, c1.stdout);
  assert.equal(c1.json.ok, true);
  assert.equal(c1.json.problems, 0);

  const p2 = await lbctl('realserver', 'prep', ...base);
  assert.equal(p2.exitCode, 0);
  assert.equal(p2.json.changed, false);
  assert.ok(p2.json.items.every((i: any) => i.action === 'unchanged' && i.changed === false), JSON.stringify(p2.json.items));
  assert.equal((await addrs(ns, 'lo')).filter((a) => a.local === VIP).length, 1, 'no second copy of the VIP');

  const u1 = await lbctl('realserver', 'unprep', '--netns', ns);
  assert.equal(u1.exitCode, 0, u1.stderr);
  assert.equal(u1.json.changed, true);
  assert.equal(await sysctl(ns, 'conf/all/arp_ignore'), '0');
  assert.equal(await sysctl(ns, 'conf/eth0/arp_announce'), '0');
  assert.deepEqual((await addrs(ns, 'lo')).filter((a) => a.local === VIP), []);

  const c2 = await lbctl('realserver', 'check', ...base);
  assert.equal(c2.exitCode, 9);
  assert.equal(c2.json.ok, false);
  const failed = c2.json.items.filter((i: any) => i.severity === 'fail').map((i: any) => i.item);
  assert.ok(failed.includes('arp_ignore on eth0') && failed.includes(`${VIP} on lo`), failed.join(', '));

  const u2 = await lbctl('realserver', 'unprep', '--netns', ns);
  assert.equal(u2.json.changed, false);
});

test('without --netns lbctl works on its own namespace through /proc/sys directly (run inside one with ip netns exec)', async () => {
  const ns = await freshNs('cur');
  const bin = path.join(lbctlRoot(), 'bin', 'run.js');
  const run = (...argv: string[]) => execa('ip', ['netns', 'exec', ns, process.execPath, bin, ...argv, '--json'], { reject: false, env: { LBCTL_STATE_DIR: stateDir } });
  const p = await run('realserver', 'prep', '--vip', VIP, '--dev', 'eth0');
  assert.equal(p.exitCode, 0, p.stderr);
  assert.equal(JSON.parse(p.stdout).netns, null);
  assert.equal(await sysctl(ns, 'conf/all/arp_ignore'), '1');
  assert.equal(await sysctl(ns, 'conf/eth0/arp_announce'), '2');
  assert.deepEqual((await addrs(ns, 'lo')).filter((a) => a.local === VIP).map((a) => a.label), ['lo:0']);
  assert.equal((await run('realserver', 'check', '--vip', VIP, '--dev', 'eth0')).exitCode, 0);
  assert.equal(JSON.parse((await run('realserver', 'prep', '--vip', VIP, '--dev', 'eth0')).stdout).changed, false);
  const u = await run('realserver', 'unprep');
  assert.equal(u.exitCode, 0, u.stderr);
  assert.equal(await sysctl(ns, 'conf/all/arp_ignore'), '0');
  assert.deepEqual((await addrs(ns, 'lo')).filter((a) => a.local === VIP), []);
  assert.equal((await run('realserver', 'check', '--vip', VIP, '--dev', 'eth0')).exitCode, 9);
  const d = await run('director', 'prep', '--mode', 'nat');
  assert.equal(d.exitCode, 0, d.stderr);
  assert.equal(await sysctl(ns, 'ip_forward'), '1');
  assert.equal((await run('director', 'unprep')).exitCode, 0);
  assert.equal(await sysctl(ns, 'ip_forward'), '0');
});

test('DR real server: several VIPs get lo:0, lo:1; unprep of one keeps the ARP sysctls for the other', async () => {
  const ns = await freshNs('multi');
  const p = await lbctl('realserver', 'prep', '--netns', ns, '--vip', '10.79.0.101,10.79.0.102', '--dev', 'eth0');
  assert.equal(p.exitCode, 0, p.stderr);
  const lo = await addrs(ns, 'lo');
  assert.deepEqual(lo.filter((a) => a.local.startsWith('10.79.')).map((a) => `${a.local}/${a.prefixlen} ${a.label}`).sort(), ['10.79.0.101/32 lo:0', '10.79.0.102/32 lo:1']);
  const u = await lbctl('realserver', 'unprep', '--netns', ns, '--vip', '10.79.0.101');
  assert.equal(u.exitCode, 0);
  assert.match(u.json.notes.join(' '), /10\.79\.0\.102 stays/);
  assert.equal(await sysctl(ns, 'conf/all/arp_ignore'), '1', 'still needed for the remaining VIP');
  assert.deepEqual((await addrs(ns, 'lo')).filter((a) => a.local.startsWith('10.79.')).map((a) => a.local), ['10.79.0.102']);
  const u2 = await lbctl('realserver', 'unprep', '--netns', ns);
  assert.equal(u2.exitCode, 0);
  assert.equal(await sysctl(ns, 'conf/all/arp_ignore'), '0');
});

test('touches nothing it does not own: a working value is kept, a value changed after prep is not restored', async () => {
  const ns = await freshNs('own');
  await execa('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.arp_ignore=2']);
  const p = await lbctl('realserver', 'prep', '--netns', ns, '--vip', VIP, '--dev', 'eth0');
  assert.equal(p.json.items.find((i: any) => i.item === 'net.ipv4.conf.all.arp_ignore').action, 'unchanged');
  assert.equal(await sysctl(ns, 'conf/all/arp_ignore'), '2');
  // Someone else takes over lo.arp_announce after prep.
  await execa('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.lo.arp_announce=1']);
  const u = await lbctl('realserver', 'unprep', '--netns', ns);
  const byItem = Object.fromEntries(u.json.items.map((i: any) => [i.item, i.action]));
  assert.equal(byItem['net.ipv4.conf.lo.arp_announce'], 'kept');
  assert.equal(byItem['net.ipv4.conf.all.arp_announce'], 'restored');
  assert.equal(byItem['net.ipv4.conf.all.arp_ignore'], undefined, 'lbctl never changed it, so unprep leaves it');
  assert.equal(await sysctl(ns, 'conf/lo/arp_announce'), '1');
  assert.equal(await sysctl(ns, 'conf/all/arp_ignore'), '2');
  assert.equal(await sysctl(ns, 'conf/all/arp_announce'), '0');
});

/** Can this kernel make an ipip tunl0 (module built in or loadable)? This host's cannot. */
async function ipipWorks(ns: string): Promise<boolean> {
  const links = JSON.parse((await execa('ip', ['-n', ns, '-j', 'link', 'show'])).stdout);
  if (links.some((l: any) => l.ifname === 'tunl0')) return true;
  const r = await execa('ip', ['-n', ns, 'link', 'add', 'name', 'tunl0', 'type', 'ipip'], { reject: false });
  if (r.exitCode === 0) await execa('ip', ['-n', ns, 'link', 'del', 'tunl0'], { reject: false });
  return r.exitCode === 0;
}

test('TUN real server without ipip: prep exits 6 (Unavailable) and changes nothing', async (t) => {
  const ns = await freshNs('tunx');
  if (await ipipWorks(ns)) { t.skip('this kernel has ipip: covered by the kernel lab'); return; }
  const r = await runLbctl(['realserver', 'prep', '--mode', 'tun', '--netns', ns, '--vip', VIP, '--dev', 'eth0']);
  assert.equal(r.exitCode, 6, r.stderr);
  assert.match(r.stderr.trim(), /^[^\n]*ipip[^\n]*$/);
  assert.equal(await sysctl(ns, 'conf/all/arp_ignore'), '0');
  assert.equal(await sysctl(ns, 'conf/all/rp_filter'), '0');
  assert.deepEqual((await addrs(ns, 'lo')).filter((a) => a.local === VIP), []);
  const dry = await lbctl('realserver', 'prep', '--mode', 'tun', '--netns', ns, '--vip', VIP, '--dev', 'eth0', '--dry-run');
  assert.equal(dry.exitCode, 0, dry.stderr);
  assert.equal(dry.json.commands[0], 'modprobe ipip');
  assert.ok(dry.json.commands.includes(`ip netns exec ${ns} sysctl -w net.ipv4.conf.tunl0.rp_filter=0`));
  assert.ok(dry.json.commands.includes(`ip -n ${ns} addr add ${VIP}/32 dev tunl0`));
});

test('TUN real server sysctls and VIP (a veth named tunl0 stands in: no ipip here); check flags the non-ipip tunl0', async () => {
  const ns = await freshNs('tun');
  // Strict reverse-path filtering, as many distributions ship: TUN needs it relaxed.
  await execa('ip', ['netns', 'exec', ns, 'sysctl', '-q', '-w', 'net.ipv4.conf.all.rp_filter=1']);
  const real = await ipipWorks(ns);
  if (!real) await execa('ip', ['-n', ns, 'link', 'add', 'tunl0', 'type', 'veth', 'peer', 'name', 'tunpeer']);
  const base = ['--mode', 'tun', '--netns', ns, '--vip', VIP, '--dev', 'eth0'];
  const p = await lbctl('realserver', 'prep', ...base);
  assert.equal(p.exitCode, 0, p.stderr);
  assert.equal(await sysctl(ns, 'conf/all/rp_filter'), '0');
  assert.equal(await sysctl(ns, 'conf/tunl0/rp_filter'), '0');
  assert.equal(await sysctl(ns, 'conf/tunl0/arp_ignore'), '1');
  assert.equal(await sysctl(ns, 'conf/all/arp_announce'), '2');
  assert.deepEqual((await addrs(ns, 'tunl0')).map((a) => `${a.local}/${a.prefixlen}`), [`${VIP}/32`]);
  const again = await lbctl('realserver', 'prep', ...base);
  assert.equal(again.json.changed, false);
  const c = await lbctl('realserver', 'check', ...base);
  const failed = c.json.items.filter((i: any) => i.severity === 'fail').map((i: any) => i.item);
  if (real) assert.deepEqual([c.exitCode, failed], [0, []]);
  else assert.deepEqual([c.exitCode, failed], [9, ['link tunl0']], 'only the stand-in tunl0 itself fails');
  const u = await lbctl('realserver', 'unprep', '--netns', ns);
  assert.equal(u.exitCode, 0);
  assert.equal(await sysctl(ns, 'conf/all/rp_filter'), '1', 'restored to what it was');
  assert.deepEqual(await addrs(ns, 'tunl0'), []);
  const c2 = await lbctl('realserver', 'check', ...base);
  assert.equal(c2.exitCode, 9);
  assert.ok(c2.json.items.some((i: any) => i.item === 'rp_filter on tunl0' && i.severity === 'fail'));
});

test('NAT director: ip_forward=1, idempotent, unprep restores, check fails after', async () => {
  const ns = await freshNs('nat');
  const p = await lbctl('director', 'prep', '--mode', 'nat', '--netns', ns);
  assert.equal(p.exitCode, 0, p.stderr);
  assert.equal(p.json.changed, true);
  assert.equal(await sysctl(ns, 'ip_forward'), '1');
  assert.equal((await lbctl('director', 'check', '--mode', 'nat', '--netns', ns)).exitCode, 0);
  const again = await lbctl('director', 'prep', '--mode', 'nat', '--netns', ns);
  assert.equal(again.json.changed, false);
  assert.equal((await lbctl('director', 'unprep', '--netns', ns)).json.changed, true);
  assert.equal(await sysctl(ns, 'ip_forward'), '0');
  const c = await lbctl('director', 'check', '--mode', 'nat', '--netns', ns);
  assert.equal(c.exitCode, 9);
  assert.deepEqual(c.json.items.filter((i: any) => i.severity === 'fail').map((i: any) => i.item), ['net.ipv4.ip_forward']);
});

test('DR director: send_redirects=0 on all/default/dev and the VIP alias eth0:0; unprep; check fails', async () => {
  const ns = await freshNs('ddr');
  const base = ['--mode', 'dr', '--netns', ns, '--vip', VIP, '--dev', 'eth0'];
  const p = await lbctl('director', 'prep', ...base);
  assert.equal(p.exitCode, 0, p.stderr);
  for (const d of ['all', 'default', 'eth0']) assert.equal(await sysctl(ns, `conf/${d}/send_redirects`), '0', d);
  assert.deepEqual((await addrs(ns, 'eth0')).filter((a) => a.local === VIP).map((a) => [a.prefixlen, a.label]), [[32, 'eth0:0']]);
  const c = await lbctl('director', 'check', ...base);
  assert.equal(c.exitCode, 0, JSON.stringify(c.json));
  assert.equal((await lbctl('director', 'prep', ...base)).json.changed, false);
  const u = await lbctl('director', 'unprep', '--netns', ns);
  assert.equal(u.exitCode, 0);
  for (const d of ['all', 'default', 'eth0']) assert.equal(await sysctl(ns, `conf/${d}/send_redirects`), '1', d);
  assert.deepEqual((await addrs(ns, 'eth0')).filter((a) => a.local === VIP), []);
  const c2 = await lbctl('director', 'check', ...base);
  assert.equal(c2.exitCode, 9);
  assert.deepEqual(c2.json.items.filter((i: any) => i.severity === 'fail').map((i: any) => i.item).sort(), [`${VIP} on eth0`, 'send_redirects on eth0']);
});

test('--persist --root writes the sysctl.d file, the unit and its enable link; idempotent; unprep --persist removes them', async () => {
  const ns = await freshNs('pers');
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'lbprep-root-'));
  try {
    const base = ['--netns', ns, '--vip', VIP, '--dev', 'eth0', '--persist', '--root', root];
    const p = await lbctl('realserver', 'prep', ...base);
    assert.equal(p.exitCode, 0, p.stderr);
    const conf = await fs.readFile(path.join(root, 'etc/sysctl.d/90-lbctl-realserver.conf'), 'utf8');
    assert.ok(conf.startsWith('# Managed by lbctl (lbctl realserver prep --mode dr)'), conf);
    const settings = conf.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(settings, [
      'net.ipv4.conf.all.arp_ignore = 1', 'net.ipv4.conf.all.arp_announce = 2',
      'net.ipv4.conf.lo.arp_ignore = 1', 'net.ipv4.conf.lo.arp_announce = 2',
      'net.ipv4.conf.eth0.arp_ignore = 1', 'net.ipv4.conf.eth0.arp_announce = 2',
    ]);
    const unit = await fs.readFile(path.join(root, 'etc/systemd/system/lbctl-realserver.service'), 'utf8');
    const lines = unit.split('\n');
    for (const l of ['Type=oneshot', 'RemainAfterExit=yes', 'ExecStart=/usr/sbin/ip link set dev lo up',
      `ExecStart=/usr/sbin/ip addr replace ${VIP}/32 dev lo label lo:0`, `ExecStop=-/usr/sbin/ip addr del ${VIP}/32 dev lo`, 'WantedBy=multi-user.target']) {
      assert.ok(lines.includes(l), `unit has "${l}":\n${unit}`);
    }
    assert.equal(await fs.readlink(path.join(root, 'etc/systemd/system/multi-user.target.wants/lbctl-realserver.service')), '/etc/systemd/system/lbctl-realserver.service');
    const files = p.json.items.filter((i: any) => i.kind === 'file');
    assert.deepEqual(files.map((i: any) => i.action), ['created', 'created', 'created']);
    const st1 = await fs.stat(path.join(root, 'etc/sysctl.d/90-lbctl-realserver.conf'));

    const p2 = await lbctl('realserver', 'prep', ...base);
    assert.equal(p2.json.changed, false);
    assert.ok(p2.json.items.filter((i: any) => i.kind === 'file').every((i: any) => i.action === 'unchanged'));
    assert.equal((await fs.stat(path.join(root, 'etc/sysctl.d/90-lbctl-realserver.conf'))).mtimeMs, st1.mtimeMs, 'not rewritten');

    // A director persisted under the same root, with its own files.
    const d = await lbctl('director', 'prep', '--mode', 'nat', '--netns', ns, '--persist', '--root', root);
    assert.equal(d.exitCode, 0, d.stderr);
    assert.match(await fs.readFile(path.join(root, 'etc/sysctl.d/90-lbctl-director.conf'), 'utf8'), /^net\.ipv4\.ip_forward = 1$/m);

    const u = await lbctl('realserver', 'unprep', '--netns', ns, '--persist', '--root', root);
    assert.equal(u.exitCode, 0, u.stderr);
    for (const f of ['etc/sysctl.d/90-lbctl-realserver.conf', 'etc/systemd/system/lbctl-realserver.service', 'etc/systemd/system/multi-user.target.wants/lbctl-realserver.service']) {
      await assert.rejects(fs.lstat(path.join(root, f)), { code: 'ENOENT' }, f);
    }
    assert.ok(await fs.stat(path.join(root, 'etc/sysctl.d/90-lbctl-director.conf')), 'the director file is not the real server\'s to remove');
    const u2 = await lbctl('realserver', 'unprep', '--netns', ns, '--persist', '--root', root);
    assert.ok(u2.json.items.filter((i: any) => i.kind === 'file').every((i: any) => i.action === 'absent'));
    // A same-named file without lbctl's header is not lbctl's: left alone.
    await fs.writeFile(path.join(root, 'etc/sysctl.d/90-lbctl-realserver.conf'), 'net.ipv4.conf.all.arp_ignore = 1\n');
    const u3 = await lbctl('realserver', 'unprep', '--netns', ns, '--persist', '--root', root);
    assert.equal(u3.json.items.find((i: any) => i.item.endsWith('90-lbctl-realserver.conf')).action, 'kept');
    assert.ok(await fs.stat(path.join(root, 'etc/sysctl.d/90-lbctl-realserver.conf')));
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('--dry-run changes nothing and prints the exact commands (running them gives a passing check)', async () => {
  const ns = await freshNs('dry');
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'lbprep-root-'));
  try {
    const r = await lbctl('realserver', 'prep', '--netns', ns, '--vip', VIP, '--dev', 'eth0', '--dry-run', '--persist', '--root', root);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.json.dryRun, true);
    assert.equal(r.json.changed, true, 'would change');
    assert.equal(await sysctl(ns, 'conf/all/arp_ignore'), '0');
    assert.equal(await sysctl(ns, 'conf/eth0/arp_announce'), '0');
    assert.deepEqual((await addrs(ns, 'lo')).filter((a) => a.local === VIP), []);
    assert.deepEqual(await fs.readdir(root), [], 'no files under --root');
    await assert.rejects(fs.stat(path.join(stateDir, `realserver-netns-${ns}.json`)), { code: 'ENOENT' }, 'no ownership record');
    assert.deepEqual(r.json.commands, [
      ...['all', 'lo', 'eth0'].flatMap((d) => [`ip netns exec ${ns} sysctl -w net.ipv4.conf.${d}.arp_ignore=1`, `ip netns exec ${ns} sysctl -w net.ipv4.conf.${d}.arp_announce=2`]),
      `ip -n ${ns} link set dev lo up`,
      `ip -n ${ns} addr add ${VIP}/32 dev lo label lo:0`,
    ]);
    const human = await runLbctl(['realserver', 'prep', '--netns', ns, '--vip', VIP, '--dev', 'eth0', '--dry-run']);
    assert.match(human.stdout, /^~ sysctl net\.ipv4\.conf\.all\.arp_ignore {2}\(wanted 1 or 2 or 8, is 0\)\n {4}\$ ip netns exec \S+ sysctl -w net\.ipv4\.conf\.all\.arp_ignore=1$/m);
    assert.match(human.stdout, /^Plan: 1 to add, 7 to change, 0 to remove\.$/m);
    assert.deepEqual(r.json.plan.changes.filter((c: any) => c.action === '+').map((c: any) => c.kind), ['address', 'file', 'file', 'file']);
    // The printed commands are complete: run them (they need no shell quoting) and check passes.
    for (const line of r.json.commands as string[]) {
      const [cmd, ...args] = line.split(' ');
      await execa(cmd, args);
    }
    const c = await lbctl('realserver', 'check', '--netns', ns, '--vip', VIP, '--dev', 'eth0');
    assert.equal(c.exitCode, 0, JSON.stringify(c.json.items.filter((i: any) => i.severity !== 'ok')));
    // Added by hand (the printed commands), so not lbctl's: unprep leaves it.
    const u = await lbctl('realserver', 'unprep', '--netns', ns, '--vip', VIP);
    assert.deepEqual([u.json.commands, u.json.changed], [[], false]);
    assert.equal(u.json.items.find((i: any) => i.kind === 'address').action, 'kept');
    assert.equal((await addrs(ns, 'lo')).filter((a) => a.local === VIP).length, 1, 'still there');
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('bad input: one line, the documented exit code, nothing changed', async () => {
  const ns = await freshNs('bad');
  const cases: Array<[string[], number, RegExp]> = [
    [['realserver', 'prep', '--netns', ns, '--vip', '10.79.0.300'], 2, /--vip "10\.79\.0\.300" is not an IPv4 address/],
    [['realserver', 'prep', '--netns', ns, '--vip', '10.79.0.100/24'], 2, /must be \/32/],
    [['realserver', 'prep', '--netns', ns], 2, /needs at least one --vip/],
    [['realserver', 'prep', '--netns', ns, '--vip', VIP, '--mode', 'nat'], 2, /--mode/],
    [['director', 'prep', '--netns', ns, '--mode', 'fullnat'], 2, /--mode/],
    [['director', 'prep', '--netns', ns], 2, /--mode/],
    [['realserver', 'prep', '--netns', ns, '--vip', VIP, '--root', '/tmp/x'], 2, /--root only applies/],
    [['realserver', 'prep', '--netns', ns, '--vip', VIP, '--persist'], 2, /--persist with --netns/],
    [['director', 'prep', '--netns', ns, '--mode', 'dr', '--vip', VIP], 2, /--vip needs --dev/],
    [['realserver', 'check', '--netns', ns, '--dry-run'], 2, /Nonexistent flag|check takes no/],
    [['realserver', 'prep', '--netns', ns, '--vip', VIP, '--dev', 'lo'], 2, /egress interface/],
    [['realserver', 'prep', '--netns', ns, '--vip', VIP, '--dev', 'nosuch0'], 4, /--dev nosuch0: no such interface in netns/],
    [['director', 'prep', '--netns', ns, '--mode', 'dr', '--vip', VIP, '--dev', 'nosuch0'], 4, /no such interface/],
    [['realserver', 'check', '--netns', ns, '--dev', 'nosuch0'], 4, /no such interface/],
    [['realserver', 'prep', '--netns', 'lbprep-does-not-exist', '--vip', VIP], 4, /network namespace lbprep-does-not-exist not found/],
  ];
  for (const [argv, code, msg] of cases) {
    const r = await runLbctl(argv);
    assert.equal(r.exitCode, code, `${argv.join(' ')}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `one line for ${argv.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], msg);
    assert.equal(r.stdout, '');
  }
  // VIP already on lo with the article's /24: refused before anything is written.
  await execa('ip', ['-n', ns, 'addr', 'add', `${VIP}/24`, 'dev', 'lo']);
  const r = await runLbctl(['realserver', 'prep', '--netns', ns, '--vip', VIP, '--dev', 'eth0']);
  assert.equal(r.exitCode, 7, r.stderr);
  assert.match(r.stderr, /already on lo as \/24/);
  for (const d of ['all', 'lo', 'eth0']) assert.equal(await sysctl(ns, `conf/${d}/arp_ignore`), '0', `${d}: nothing changed`);
  assert.equal(await sysctl(ns, 'conf/all/send_redirects'), '1');
  assert.equal(await sysctl(ns, 'ip_forward'), '0');
});

test('no root: prep exits 5 (Permission) before touching anything', async () => {
  const bin = path.join(lbctlRoot(), 'bin', 'run.js');
  const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bin, 'realserver', 'prep', '--vip', VIP], { reject: false, env: { LBCTL_STATE_DIR: stateDir, HOME: os.tmpdir() } });
  assert.equal(r.exitCode, 5, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /needs root/);
  // Reading is allowed without root in the current namespace.
  const c = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, bin, 'realserver', 'check', '--vip', VIP, '--json'], { reject: false, env: { LBCTL_STATE_DIR: stateDir, HOME: os.tmpdir() } });
  assert.equal(c.exitCode, 9, c.stderr);
  assert.equal(JSON.parse(c.stdout).ok, false);
});
