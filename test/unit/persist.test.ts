/**
 * IPVS boot persistence (src/ipvs/persist.ts): the rules file and unit against golden text
 * (test/fixtures/ipvs-persist/, regenerate with LBCTL_UPDATE_GOLDEN=1 and review), the rules file
 * restoring as the same table, names refused before they reach a unit file, and persistTable on
 * a scratch root: plan, apply, a second run with nothing to do, the enable link kept a link.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { RejectedError, UsageError } from '../../src/cli/errors.js';
import { parseRules, printRules } from '../../src/ipvs/rules.js';
import { ipvsBootCommand, ipvsBootFiles, ipvsBootLink, ipvsBootPaths, LinkProvider, persistTable } from '../../src/ipvs/persist.js';
import type { IpvsTable } from '../../src/ipvs/model.js';

const goldenDir = path.join(lbctlRoot(), 'test', 'fixtures', 'ipvs-persist');
const update = process.env.LBCTL_UPDATE_GOLDEN === '1';
const scratch = mkdtempSync(path.join(tmpdir(), 'ps-unit-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const RULES = [
  '-A -t 10.0.0.1:80 -s rr',
  '-a -t 10.0.0.1:80 -r 10.0.1.11:80 -m -w 1',
  '-a -t 10.0.0.1:80 -r 10.0.1.12:80 -m -w 3',
  '-A -u 10.0.0.2:53 -s wlc -p 300',
  '-a -u 10.0.0.2:53 -r 10.0.1.21:53 -g -w 1',
  '-A -f 7 -s sh -b sh-port',
  '-a -f 7 -r 10.0.1.31:0 -i -w 2',
].join('\n') + '\n';

async function golden(name: string, content: string): Promise<void> {
  const g = path.join(goldenDir, name);
  if (update) { await fs.mkdir(goldenDir, { recursive: true }); await fs.writeFile(g, content); }
  const want = await fs.readFile(g, 'utf8').catch(() => undefined);
  assert.ok(want !== undefined, `${g} is missing: run with LBCTL_UPDATE_GOLDEN=1`);
  assert.equal(content, want, `${g} differs: review, then LBCTL_UPDATE_GOLDEN=1`);
}

test('golden: the rules file and unit, on the host and in a namespace', async () => {
  const host = ipvsBootFiles(parseRules(RULES), {});
  assert.deepEqual(host.map((f) => [f.path, f.mode]), [['/etc/lbctl/ipvs.rules', 0o644], ['/etc/systemd/system/lbctl-ipvs.service', 0o644]]);
  await golden('ipvs.rules', host[0].content);
  await golden('lbctl-ipvs.service', host[1].content);
  const ns = ipvsBootFiles(parseRules(RULES), { root: '/img', netns: 'ps-d1', node: 'lb1' });
  assert.deepEqual(ns.map((f) => f.path), ['/img/etc/lbctl/ipvs-netns-ps-d1.rules', '/img/etc/systemd/system/lbctl-ipvs-netns-ps-d1.service']);
  await golden('ipvs-netns-ps-d1.rules', ns[0].content);
  await golden('lbctl-ipvs-netns-ps-d1.service', ns[1].content);
  await golden('empty.rules', ipvsBootFiles({ services: [] }, {})[0].content);
});

test('the unit restores with --merge (no flush, no delete), has no ExecStop, and its ExecStart is ipvsBootCommand', () => {
  for (const netns of [undefined, 'ps-d1']) {
    const unit = ipvsBootFiles(parseRules(RULES), { netns })[1].content;
    const exec = unit.split('\n').filter((l) => l.startsWith('ExecStart='));
    assert.deepEqual(exec, [`ExecStart=${ipvsBootCommand(netns).join(' ')}`]);
    const argv = exec[0].slice('ExecStart='.length).split(' ');
    assert.ok(argv.includes('--merge') && argv.includes('restore'), exec[0]);
    assert.equal(argv.at(-1), ipvsBootPaths(netns).rules);
    assert.ok(!/^ExecStop/m.test(unit), 'no ExecStop');
    assert.ok(!/(^|\s)(-C|--clear|clear|--allow-empty)(\s|$)/m.test(exec[0]), 'no flush, no --allow-empty');
    for (const l of ['Type=oneshot', 'RemainAfterExit=yes', 'After=network-online.target', 'WantedBy=multi-user.target']) assert.ok(unit.split('\n').includes(l), l);
  }
  assert.deepEqual(ipvsBootCommand('ps-d1').slice(0, 4), ['/usr/sbin/ip', 'netns', 'exec', 'ps-d1']);
});

test('the rules file restores as the same table, whatever order the table came in', () => {
  const t = parseRules(RULES);
  const shuffled: IpvsTable = { services: [...t.services].reverse().map((s) => ({ ...s, destinations: [...s.destinations].reverse() })) };
  const text = ipvsBootFiles(shuffled, {})[0].content;
  assert.equal(text, ipvsBootFiles(t, {})[0].content, 'canonical order');
  assert.equal(printRules(parseRules(text)), printRules(t));
  assert.deepEqual(parseRules(ipvsBootFiles({ services: [] }, {})[0].content).services, []);
  assert.match(ipvsBootFiles({ services: [] }, {})[0].content, /\S/, 'never empty text: restore would refuse it');
});

test('a table that would not restore, and names that could break a unit file, are refused', () => {
  const t = parseRules(RULES);
  const odd: IpvsTable = { services: [{ ...t.services[0], netmask: '255.0.255.0', persistence: 60 }] };
  assert.throws(() => ipvsBootFiles(odd, {}), (e: unknown) => e instanceof RejectedError && e.code === 'EPERSIST');
  for (const bad of ['a b', 'x\nExecStart=/bin/sh', '../etc', '', '-n']) {
    assert.throws(() => ipvsBootFiles(t, { netns: bad }), (e: unknown) => e instanceof UsageError && e.code === 'EBADNAME', JSON.stringify(bad));
    assert.throws(() => ipvsBootFiles(t, { node: bad }), (e: unknown) => e instanceof UsageError && e.code === 'EBADNAME', JSON.stringify(bad));
  }
});

test('LinkProvider: creates the link, then plans nothing; repoints a link elsewhere; refuses a file there', async () => {
  const root = await fs.mkdtemp(path.join(scratch, 'link-'));
  const l = ipvsBootLink({ root });
  assert.equal(l.path, path.join(root, 'etc/systemd/system/multi-user.target.wants/lbctl-ipvs.service'));
  assert.equal(l.target, '/etc/systemd/system/lbctl-ipvs.service');
  const p = new LinkProvider(l.path, 'lbctl-ipvs.service');
  const first = p.plan(await p.read(), l);
  assert.deepEqual(first.map((c) => [c.action, c.kind, c.id]), [['+', 'link', l.path]]);
  assert.deepEqual(await p.apply(first), { path: l.path, action: 'created' });
  assert.equal(await fs.readlink(l.path), l.target);
  assert.deepEqual(p.plan(await p.read(), l), []);
  await fs.unlink(l.path);
  await fs.symlink('/lib/systemd/system/other.service', l.path);
  const re = p.plan(await p.read(), l);
  assert.deepEqual(re.map((c) => [c.action, c.before, c.after]), [['~', '/lib/systemd/system/other.service', l.target]]);
  await p.apply(re);
  assert.equal(await fs.readlink(l.path), l.target);
  await fs.unlink(l.path);
  await fs.writeFile(l.path, 'not a link');
  await assert.rejects(p.read(), (e: unknown) => e instanceof RejectedError && e.code === 'ENOTLINK');
  assert.equal(await fs.readFile(l.path, 'utf8'), 'not a link');
});

test('persistTable: dry run writes nothing; apply writes files and link; a second run plans nothing; a change replaces with a backup', async () => {
  const root = await fs.mkdtemp(path.join(scratch, 'root-'));
  let table = parseRules(RULES);
  const o = { root, readTable: async () => table, lockTimeoutMs: 1000 };
  const dry = await persistTable({ ...o, dryRun: true });
  assert.deepEqual([dry.changed, dry.dryRun, dry.counts.add, dry.services], [false, true, 3, 3]);
  assert.deepEqual(await fs.readdir(root), [], 'dry run wrote nothing');
  const r = await persistTable(o);
  assert.deepEqual([r.changed, r.summary, r.unit], [true, 'Plan: 3 to add, 0 to change, 0 to remove.', 'lbctl-ipvs.service']);
  assert.deepEqual(r.files.map((f) => f.action), ['created', 'created', 'created']);
  const rulesPath = path.join(root, 'etc/lbctl/ipvs.rules');
  assert.equal((await fs.stat(rulesPath)).mode & 0o777, 0o644);
  assert.equal(printRules(parseRules(await fs.readFile(rulesPath, 'utf8'))), printRules(table));
  const again = await persistTable(o);
  assert.deepEqual([again.changed, again.summary, again.text], [false, 'No changes.', 'No changes.']);
  assert.deepEqual(again.files.map((f) => f.action), ['unchanged', 'unchanged', 'unchanged']);
  await fs.chmod(rulesPath, 0o600);
  table = parseRules(RULES.replace('-w 3', '-w 4'));
  const changed = await persistTable(o);
  assert.deepEqual(changed.changes.map((c) => [c.action, c.kind, c.id]), [['~', 'file', rulesPath]]);
  assert.equal((await fs.stat(rulesPath)).mode & 0o777, 0o600, 'mode kept');
  assert.match(await fs.readFile(`${rulesPath}.lbctl-bak`, 'utf8'), /-r 10\.0\.1\.12:80 -m -w 3/);
  assert.match(await fs.readFile(rulesPath, 'utf8'), /-r 10\.0\.1\.12:80 -m -w 4/);
});

test('persistTable: a missing --root or a file there is a usage error, and nothing is read', async () => {
  let reads = 0;
  const readTable = async () => { reads++; return parseRules(RULES); };
  const file = path.join(scratch, 'plain-file');
  await fs.writeFile(file, '');
  for (const root of [path.join(scratch, 'absent'), file]) {
    await assert.rejects(persistTable({ root, readTable }), (e: unknown) => e instanceof UsageError && e.exitCode === 2);
  }
  assert.equal(reads, 0);
});
