/**
 * The host-prep bad-input catalogue: each case must exit with its documented code (never 1),
 * print exactly one line on stderr (or one JSON error under --json), and change nothing: the
 * namespace's addresses, routes and IPv4 sysctls, the persist roots' files with their modes and
 * owners, and lbctl's records are compared before and after.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { runLbctl } from '../../src/cli/inprocess.js';

const tag = `${process.pid % 10000}-${Math.floor(Math.random() * 1e4)}`;
const NS = `lbh2-bad-${tag}`;
const VIP = '10.82.0.100';
let tmp = '';
let stateDir = '';
/** Persist roots: a good one with lbctl files in it, read-only, a file, one with etc a file, a symlink and a directory where files go, and one that does not exist. */
const R = { good: '', ro: '', file: '', etcFile: '', symlink: '', dir: '', none: '' };

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lbh2-bad-'));
  stateDir = path.join(tmp, 'state');
  await fs.mkdir(stateDir);
  process.env.LBCTL_STATE_DIR = stateDir;
  process.env.LBCTL_LOCK_DIR = path.join(tmp, 'locks');
  await execa('ip', ['netns', 'add', NS]);
  // No IPv6: link-local addresses finishing DAD would show up as changes in the snapshots.
  await execa('ip', ['netns', 'exec', NS, 'sysctl', '-q', '-w', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  await execa('ip', ['-n', NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']);
  await execa('ip', ['-n', NS, 'addr', 'add', '10.82.0.2/24', 'dev', 'eth0']);
  for (const d of ['eth0', 'peer0', 'lo']) await execa('ip', ['-n', NS, 'link', 'set', d, 'up']);
  await execa('ip', ['-n', NS, 'route', 'add', 'default', 'via', '10.82.0.1', 'dev', 'eth0']);
  // The article's /24 VIP on lo: prep of that VIP must be refused (exit 7).
  await execa('ip', ['-n', NS, 'addr', 'add', '10.82.0.99/24', 'dev', 'lo']);
  for (const k of Object.keys(R) as Array<keyof typeof R>) R[k] = path.join(tmp, `root-${k}`);
  await fs.mkdir(R.good);
  // lbctl's own files from an earlier prep, with a non-default mode, to see that none is touched.
  await fs.mkdir(path.join(R.good, 'etc/sysctl.d'), { recursive: true });
  await fs.writeFile(path.join(R.good, 'etc/sysctl.d/90-lbctl-realserver.conf'), '# Managed by lbctl (lbctl realserver prep --mode dr): old.\n', { mode: 0o640 });
  await fs.mkdir(R.ro);
  await execa('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'lbh2-bad-ro', R.ro]);
  await fs.writeFile(R.file, 'a file, not a directory\n');
  await fs.mkdir(R.etcFile);
  await fs.writeFile(path.join(R.etcFile, 'etc'), 'a file where a directory belongs\n');
  await fs.mkdir(path.join(R.symlink, 'etc/sysctl.d'), { recursive: true });
  await fs.writeFile(path.join(tmp, 'victim'), 'must never be written through a symlink\n');
  await fs.symlink(path.join(tmp, 'victim'), path.join(R.symlink, 'etc/sysctl.d/90-lbctl-realserver.conf'));
  await fs.mkdir(path.join(R.dir, 'etc/systemd/system/lbctl-director.service'), { recursive: true });
});
after(async () => {
  await execa('umount', [R.ro], { reject: false });
  await execa('ip', ['netns', 'del', NS], { reject: false });
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

async function snapshot(): Promise<string> {
  const parts = [
    (await execa('ip', ['-n', NS, '-o', 'addr'])).stdout,
    (await execa('ip', ['-n', NS, '-o', 'link'])).stdout,
    (await execa('ip', ['-n', NS, 'route', 'show', 'table', 'all'])).stdout,
    (await execa('ip', ['netns', 'exec', NS, 'sysctl', '-a'], { reject: false })).stdout.split('\n').filter((l) => /^net\.ipv4\.(conf\.|vs\.|ip_forward)/.test(l)).join('\n'),
  ];
  const find = await execa('find', [tmp, '-printf', '%p %y %m %u:%g %s %l\n'], { reject: false });
  parts.push(find.stdout.split('\n').filter((l) => !l.includes('/locks')).sort().join('\n'));
  parts.push((await execa('find', [tmp, '-type', 'f', '-exec', 'md5sum', '{}', '+'], { reject: false })).stdout.split('\n').sort().join('\n'));
  return parts.join('\n--\n');
}

type Case = [name: string, argv: string[], code: number, message?: RegExp];
const n = ['--netns', NS];
const CASES: Case[] = [
  // realserver prep: VIPs
  ['rs prep: octet out of range', ['realserver', 'prep', ...n, '--vip', '10.82.0.300'], 2, /is not an IPv4 address/],
  ['rs prep: not an address', ['realserver', 'prep', ...n, '--vip', 'abc'], 2, /is not an IPv4 address/],
  ['rs prep: empty --vip', ['realserver', 'prep', ...n, '--vip', ''], 2, /at least one --vip/],
  ['rs prep: /24 on a real server', ['realserver', 'prep', ...n, '--vip', `${VIP}/24`], 2, /must be \/32/],
  ['rs prep: /33', ['realserver', 'prep', ...n, '--vip', `${VIP}/33`], 2, /is not an IPv4 address|out of range/],
  ['rs prep: /0', ['realserver', 'prep', ...n, '--vip', `${VIP}/0`], 2, /out of range/],
  ['rs prep: loopback VIP', ['realserver', 'prep', ...n, '--vip', '127.0.0.2'], 2, /not a usable unicast VIP/],
  ['rs prep: multicast VIP', ['realserver', 'prep', ...n, '--vip', '224.0.0.1'], 2, /not a usable unicast VIP/],
  ['rs prep: broadcast VIP', ['realserver', 'prep', ...n, '--vip', '255.255.255.255'], 2, /not a usable unicast VIP/],
  ['rs prep: 0.0.0.0', ['realserver', 'prep', ...n, '--vip', '0.0.0.0'], 2, /not a usable unicast VIP/],
  ['rs prep: IPv6 VIP', ['realserver', 'prep', ...n, '--vip', '2001:db8::1'], 2, /IPv6 VIPs are not supported/],
  ['rs prep: second VIP of a list bad', ['realserver', 'prep', ...n, '--vip', `${VIP},10.82.0.300`], 2, /10\.82\.0\.300/],
  ['rs prep: leading zeros', ['realserver', 'prep', ...n, '--vip', '010.82.0.100'], 2, /is not an IPv4 address/],
  ['rs prep: trailing garbage', ['realserver', 'prep', ...n, '--vip', `${VIP}x`], 2, /is not an IPv4 address/],
  ['rs prep: two slashes', ['realserver', 'prep', ...n, '--vip', `${VIP}/32/32`], 2, /is not an IPv4 address/],
  ['rs prep: no --vip', ['realserver', 'prep', ...n], 2, /at least one --vip/],
  ['rs prep: VIP on lo as /24 already', ['realserver', 'prep', ...n, '--vip', '10.82.0.99'], 7, /already on lo as \/24/],
  // modes, devices, namespaces
  ['rs prep: --mode nat', ['realserver', 'prep', ...n, '--vip', VIP, '--mode', 'nat'], 2, /--mode/],
  ['rs prep: --mode empty', ['realserver', 'prep', ...n, '--vip', VIP, '--mode', ''], 2, /--mode/],
  ['rs prep: --dev lo', ['realserver', 'prep', ...n, '--vip', VIP, '--dev', 'lo'], 2, /egress interface/],
  ['rs prep: --dev tunl0', ['realserver', 'prep', ...n, '--vip', VIP, '--dev', 'tunl0'], 2, /egress interface/],
  ['rs prep: --dev with a slash', ['realserver', 'prep', ...n, '--vip', VIP, '--dev', 'a/b'], 2, /not a valid interface name/],
  ['rs prep: --dev too long', ['realserver', 'prep', ...n, '--vip', VIP, '--dev', 'abcdefghijklmnop'], 2, /not a valid interface name/],
  ['rs prep: --dev with a colon', ['realserver', 'prep', ...n, '--vip', VIP, '--dev', 'eth0:1'], 2, /not a valid interface name/],
  ['rs prep: unknown --dev', ['realserver', 'prep', ...n, '--vip', VIP, '--dev', 'nosuch0'], 4, /no such interface in netns/],
  ['rs prep: --netns with a space', ['realserver', 'prep', '--netns', 'bad name', '--vip', VIP], 2, /not a valid namespace name/],
  ['rs prep: --netns ..', ['realserver', 'prep', '--netns', '..', '--vip', VIP], 2, /not a valid namespace name/],
  ['rs prep: --netns with a slash', ['realserver', 'prep', '--netns', '../etc', '--vip', VIP], 2, /not a valid namespace name/],
  ['rs prep: unknown --netns', ['realserver', 'prep', '--netns', `lbh2-none-${tag}`, '--vip', VIP], 4, /not found/],
  // persist roots
  ['rs prep: --root without --persist', ['realserver', 'prep', ...n, '--vip', VIP, '--root', R.good], 2, /--root only applies/],
  ['rs prep: --persist --netns without --root', ['realserver', 'prep', ...n, '--vip', VIP, '--persist'], 2, /--persist with --netns/],
  ['rs prep: relative --root', ['realserver', 'prep', ...n, '--vip', VIP, '--persist', '--root', 'relative/dir'], 2, /absolute path/],
  ['rs prep: missing --root', ['realserver', 'prep', ...n, '--vip', VIP, '--persist', '--root', path.join(os.tmpdir(), `lbh2-none-${tag}`)], 2, /does not exist/],
  ['rs prep: --root is a file', ['realserver', 'prep', ...n, '--vip', VIP, '--persist', '--root', '@file'], 2, /is not a directory/],
  ['rs prep: read-only --root', ['realserver', 'prep', ...n, '--vip', VIP, '--persist', '--root', '@ro'], 5, /read-only file system/],
  ['rs prep: etc is a file under --root', ['realserver', 'prep', ...n, '--vip', VIP, '--persist', '--root', '@etcFile'], 7, /is not a directory/],
  ['rs prep: symlink where the sysctl file goes', ['realserver', 'prep', ...n, '--vip', VIP, '--persist', '--root', '@symlink'], 7, /symbolic link/],
  ['rs prep: --dry-run with a bad root still refuses', ['realserver', 'prep', ...n, '--vip', VIP, '--persist', '--root', '@file', '--dry-run'], 2, /is not a directory/],
  // flags
  ['rs prep: --lock-timeout not a duration', ['realserver', 'prep', ...n, '--vip', VIP, '--lock-timeout', 'abc'], 2, /not a duration/],
  ['rs prep: --lock-timeout negative', ['realserver', 'prep', ...n, '--vip', VIP, '--lock-timeout', '-1'], 2, /not a duration|--lock-timeout/],
  ['rs prep: --lock-timeout past a week', ['realserver', 'prep', ...n, '--vip', VIP, '--lock-timeout', '8d'], 2, /not a duration/],
  ['rs prep: unknown flag', ['realserver', 'prep', ...n, '--vip', VIP, '--nosuch'], 2, /Nonexistent flag/],
  ['rs prep: stray argument', ['realserver', 'prep', 'extra', ...n, '--vip', VIP], 2, /Unexpected argument/],
  ['rs prep: word after --vip taken as a VIP', ['realserver', 'prep', ...n, '--vip', VIP, 'extra'], 2, /--vip "extra" is not an IPv4 address/],
  ['rs prep: --json, bad VIP', ['realserver', 'prep', ...n, '--vip', 'abc', '--json'], 2, /is not an IPv4 address/],
  ['rs prep: --json, read-only root', ['realserver', 'prep', ...n, '--vip', VIP, '--persist', '--root', '@ro', '--json'], 5, /read-only/],
  // realserver unprep / check
  ['rs unprep: bad VIP', ['realserver', 'unprep', ...n, '--vip', '10.82.0.300'], 2, /is not an IPv4 address/],
  ['rs unprep: --mode nat', ['realserver', 'unprep', ...n, '--mode', 'nat'], 2, /--mode/],
  ['rs unprep: unknown --dev', ['realserver', 'unprep', ...n, '--dev', 'nosuch0'], 4, /no such interface/],
  ['rs unprep: --root without --persist', ['realserver', 'unprep', ...n, '--root', R.good], 2, /--root only applies/],
  ['rs unprep: unknown --netns', ['realserver', 'unprep', '--netns', `lbh2-none-${tag}`], 4, /not found/],
  ['rs unprep: missing --root', ['realserver', 'unprep', ...n, '--persist', '--root', '@none'], 2, /does not exist/],
  ['rs unprep: bad --lock-timeout', ['realserver', 'unprep', ...n, '--lock-timeout', '5x'], 2, /not a duration/],
  ['rs check: --dry-run', ['realserver', 'check', ...n, '--dry-run'], 2, /Nonexistent flag/],
  ['rs check: --persist', ['realserver', 'check', ...n, '--persist'], 2, /Nonexistent flag/],
  ['rs check: --mode fullnat', ['realserver', 'check', ...n, '--mode', 'fullnat'], 2, /--mode/],
  ['rs check: unknown --dev', ['realserver', 'check', ...n, '--dev', 'nosuch0'], 4, /no such interface/],
  ['rs check: /24 VIP', ['realserver', 'check', ...n, '--vip', `${VIP}/24`], 2, /must be \/32/],
  // director prep
  ['dir prep: no --mode', ['director', 'prep', ...n], 2, /--mode/],
  ['dir prep: --mode fullnat', ['director', 'prep', ...n, '--mode', 'fullnat'], 2, /--mode/],
  ['dir prep: --vip without --dev', ['director', 'prep', ...n, '--mode', 'dr', '--vip', VIP], 2, /--vip needs --dev/],
  ['dir prep: unknown --dev', ['director', 'prep', ...n, '--mode', 'dr', '--vip', VIP, '--dev', 'nosuch0'], 4, /no such interface/],
  ['dir prep: /33', ['director', 'prep', ...n, '--mode', 'dr', '--vip', `${VIP}/33`, '--dev', 'eth0'], 2, /is not an IPv4 address|out of range/],
  ['dir prep: IPv6 VIP', ['director', 'prep', ...n, '--mode', 'dr', '--vip', '2001:db8::1', '--dev', 'eth0'], 2, /IPv6/],
  ['dir prep: same VIP, two prefixes', ['director', 'prep', ...n, '--mode', 'dr', '--vip', `${VIP}/24,${VIP}/32`, '--dev', 'eth0'], 2, /different prefixes/],
  ['dir prep: bad --dev name', ['director', 'prep', ...n, '--mode', 'dr', '--dev', 'bad/name'], 2, /not a valid interface name/],
  ['dir prep: unknown --netns', ['director', 'prep', '--netns', `lbh2-none-${tag}`, '--mode', 'nat'], 4, /not found/],
  ['dir prep: primary address as /32', ['director', 'prep', ...n, '--mode', 'dr', '--vip', '10.82.0.2', '--dev', 'eth0'], 7, /already on eth0 as \/24/],
  ['dir prep: read-only --root', ['director', 'prep', ...n, '--mode', 'nat', '--persist', '--root', '@ro'], 5, /read-only/],
  ['dir prep: directory where the unit goes', ['director', 'prep', ...n, '--mode', 'dr', '--vip', VIP, '--dev', 'eth0', '--persist', '--root', '@dir'], 7, /not a regular file/],
  ['dir prep: bad --lock-timeout', ['director', 'prep', ...n, '--mode', 'nat', '--lock-timeout', 'xyz'], 2, /not a duration/],
  // director unprep / check
  ['dir unprep: bad VIP', ['director', 'unprep', ...n, '--vip', 'abc'], 2, /is not an IPv4 address/],
  ['dir unprep: unknown --dev', ['director', 'unprep', ...n, '--dev', 'nosuch0'], 4, /no such interface/],
  ['dir unprep: --mode fullnat', ['director', 'unprep', ...n, '--mode', 'fullnat'], 2, /--mode/],
  ['dir unprep: --persist --netns without --root', ['director', 'unprep', ...n, '--persist'], 2, /--persist with --netns/],
  ['dir check: no --mode', ['director', 'check', ...n], 2, /--mode/],
  ['dir check: --vip without --dev', ['director', 'check', ...n, '--mode', 'dr', '--vip', VIP], 2, /--vip needs --dev/],
  ['dir check: --persist', ['director', 'check', ...n, '--mode', 'nat', '--persist'], 2, /Nonexistent flag/],
];

test(`host-prep bad input: ${CASES.length} cases, each its documented code, one line, nothing changed`, async () => {
  assert.ok(CASES.length >= 50);
  const failures: string[] = [];
  for (const [name, raw, code, message] of CASES) {
    const argv = raw.map((a) => (a.startsWith('@') ? R[a.slice(1) as keyof typeof R] : a));
    const json = argv.includes('--json');
    const before = await snapshot();
    const r = await runLbctl(argv);
    const after = await snapshot();
    const problems: string[] = [];
    if (r.exitCode !== code) problems.push(`exit ${r.exitCode}, wanted ${code}`);
    if (json) {
      let doc: any;
      try { doc = JSON.parse(r.stdout); } catch { problems.push(`stdout is not JSON: ${r.stdout}`); }
      if (doc && (doc.error?.exitCode !== code || (message && !message.test(doc.error.message)))) problems.push(`JSON error ${JSON.stringify(doc.error)}`);
    } else {
      const lines = r.stderr.trim().split('\n');
      if (lines.length !== 1 || lines[0] === '') problems.push(`${lines.length} stderr lines: ${r.stderr}`);
      if (message && !message.test(r.stderr)) problems.push(`stderr ${JSON.stringify(r.stderr.trim())} does not match ${message}`);
      if (r.stdout !== '') problems.push(`stdout: ${r.stdout}`);
    }
    if (after !== before) problems.push('the system changed');
    if (problems.length) failures.push(`${name} (${argv.join(' ')}): ${problems.join('; ')}`);
  }
  assert.deepEqual(failures, []);
  assert.equal(await fs.readFile(path.join(tmp, 'victim'), 'utf8'), 'must never be written through a symlink\n');
});
