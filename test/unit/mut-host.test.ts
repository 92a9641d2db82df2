/**
 * src/host/provider.ts restore path: applyHost's rollback, the inverse of every operation kind,
 * what the records file holds at each point, and the exit code and wording of a failure. A
 * recording HostSystem runs hand-made plans, so each operation kind meets its inverse
 * directly (host-converge.test.ts reaches them only through whole preps). Temp dirs: /tmp/mu-host-*.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyHost, hostProvider, isOurs, planHost, type HostActual, type HostChange, type HostOp, type HostPlan } from '../../src/host/provider.js';
import { emptyState, loadState, type HostState } from '../../src/host/state.js';
import type { FileState, HostSystem } from '../../src/host/system.js';
import type { Link } from '../../src/host/links.js';
import { LbctlError, NotFoundError, RejectedError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { OWNER_MARK } from '../../src/host/persist.js';
import { createRequire } from 'node:module';

// A synchronous read inside the fake's hook (the hook itself is synchronous).
const require_ = createRequire(import.meta.url);

const dirs: string[] = [];
test.after(async () => { for (const d of dirs) await fs.rm(d, { recursive: true, force: true }); });
async function recordsFile(): Promise<string> {
  const d = await fs.mkdtemp(path.join(os.tmpdir(), 'mu-host-'));
  dirs.push(d);
  return path.join(d, 'state.json');
}

/** Logs every call as one line; `failOn(line)` makes that call throw what it returns. */
class Recorder implements HostSystem {
  log: string[] = [];
  links = new Map<string, Link>([['lo', { name: 'lo', up: true, linkType: 'loopback', noArp: true, addresses: [] }]]);
  failOn: (line: string, n: number) => Error | undefined = () => undefined;
  made: Record<string, string | undefined> = {};
  readonly netns = undefined;
  private n = 0;
  private call(line: string) {
    this.n++;
    const e = this.failOn(line, this.n);
    if (e) { this.log.push(`FAIL ${line}`); throw e; }
    this.log.push(line);
  }
  async readLinks() { return new Map(this.links); }
  async readSysctls() { return new Map<string, string>(); }
  async readModules() { return new Set<string>(); }
  async readFile() { return null; }
  async writeSysctl(key: string, value: string) { this.call(`sysctl ${key}=${value}`); }
  async ip(args: string[]) { this.call(`ip ${args.join(' ')}`); }
  async modprobe(name: string) { this.call(`modprobe ${name}`); }
  async writeFile(abs: string, content: string, mode?: number) { this.call(`write ${abs} ${JSON.stringify(content)} ${mode === undefined ? '-' : mode.toString(8)}`); return this.made[abs]; }
  async symlink(abs: string, target: string) { this.call(`symlink ${abs} -> ${target}`); return this.made[abs]; }
  async remove(abs: string, pruneTo?: string) { this.call(`remove ${abs}${pruneTo ? ` prune ${pruneTo}` : ''}`); }
}

const fileState = (content: string, mode = 0o640): FileState => ({ type: 'file', content, mode, uid: 0, gid: 0 });
const ch = (op: HostOp, id = op.op): HostChange => ({ action: '~', kind: op.op.startsWith('file') ? 'file' : op.op, id, reason: 'test', op, item: { kind: 'sysctl', item: id, before: null, after: null, action: 'updated', changed: true } });
const planOf = (ops: HostOp[], records: HostState = emptyState(1)): HostPlan => ({ changes: ops.map((o) => ch(o)), items: [], records, notes: [] });

/** Every operation kind, then one that fails: the undo log must be exactly the inverses, newest first. */
test('rollback runs the exact inverse of each applied operation, in reverse order', async () => {
  const ops: HostOp[] = [
    { op: 'sysctl', key: 'a', value: '1', prev: '0' },
    { op: 'sysctl', key: 'b', value: '1' }, // no previous value: nothing to put back
    { op: 'addr-add', dev: 'lo', address: '10.94.0.1', prefix: 32, label: 'lo:0' },
    { op: 'addr-del', dev: 'eth0', address: '10.94.0.2', prefix: 24 },
    { op: 'link-up', dev: 'tunl0' },
    { op: 'link-add', dev: 'mu0', type: 'ipip' },
    { op: 'link-del', dev: 'mu1', type: 'ipip' },
    { op: 'module', name: 'ipip', dev: 'tunl0', type: 'ipip' }, // tunl0 appears with the module: nothing to undo
    { op: 'module', name: 'ipip', dev: 'mu2', type: 'ipip' }, // had to be created: deleted on undo
    { op: 'file-write', path: '/r/new', content: 'N', prev: null },
    { op: 'file-write', path: '/r/old', content: 'N', prev: fileState('OLD', 0o600) },
    { op: 'file-write', path: '/r/wasLink', content: 'N', prev: { type: 'symlink', target: '/t' } },
    { op: 'file-symlink', path: '/r/unit', target: '/lib/x', prev: null },
    { op: 'file-remove', path: '/r/gone', prev: fileState('G') },
    { op: 'route-replace', dst: 'default', via: '10.94.0.9', dev: 'eth0', prev: { dst: 'default', via: '10.94.0.1', dev: 'eth1' } },
    { op: 'route-replace', dst: 'default', via: '10.94.0.9', prev: undefined },
    { op: 'route-del', dst: 'default', via: '10.94.0.9', dev: 'eth0', prev: { dst: 'default', via: '10.94.0.9', dev: 'eth0' } },
    { op: 'sysctl', key: 'fails', value: '1', prev: '0' },
  ];
  const sys = new Recorder();
  sys.links.set('tunl0', { name: 'tunl0', up: false, linkType: 'ipip', noArp: true, addresses: [] });
  sys.made = { '/r/new': '/r', '/r/unit': '/r/sub' };
  sys.failOn = (l) => (l === 'sysctl fails=1' ? new RejectedError('no such sysctl') : undefined);
  const e = await applyHost(sys, planOf(ops), emptyState(1), { what: 'prep' }).then(() => assert.fail('must fail'), (x) => x as LbctlError);
  const undo = sys.log.slice(sys.log.indexOf('FAIL sysctl fails=1') + 1);
  assert.deepEqual(undo, [
    'ip route replace default via 10.94.0.9 dev eth0', // route-del with a previous route: put back
    'ip route del default via 10.94.0.9',
    'ip route replace default via 10.94.0.1 dev eth1',
    'write /r/gone "G" -',
    'remove /r/unit prune /r/sub',
    'symlink /r/wasLink -> /t',
    'write /r/old "OLD" -',
    'remove /r/new prune /r',
    'ip link del dev mu2',
    'ip link add name mu1 type ipip',
    'ip link del dev mu0',
    'ip addr add 10.94.0.2/24 dev eth0',
    'ip addr del 10.94.0.1/32 dev lo',
    'sysctl a=0',
  ]);
  assert.equal(e.exitCode, ExitCode.Rejected);
  assert.match(e.message, /^prep stopped at change 18 of 18 \(~ sysctl sysctl\): no such sysctl; rolled back the 17 applied before it: /);
  assert.match(e.message, /, system as before$/);
  assert.equal(e.hint, 'fix the cause and run it again');
  // The forward log: each op as it should run (labels, the module's fallback link, the old file's mode).
  assert.ok(sys.log.includes('ip addr add 10.94.0.1/32 dev lo label lo:0'));
  assert.ok(sys.log.includes('ip link add name mu2 type ipip'), 'a module without its device: the device is created');
  assert.ok(!sys.log.includes('ip link add name tunl0 type ipip'), 'the module brought tunl0: not created');
  assert.ok(sys.log.includes('write /r/old "N" 600'), 'a replaced file keeps its mode');
  assert.ok(sys.log.includes('write /r/new "N" -'));
  assert.ok(sys.log.includes('remove /r/gone'));
  assert.ok(sys.log.includes('ip route replace default via 10.94.0.9'));
  assert.ok(sys.log.includes('ip route del default via 10.94.0.9 dev eth0'));
});

test('the failure line lists what was undone; "nothing to undo" and "nothing" where that is so', async () => {
  const sys = new Recorder();
  sys.failOn = (l) => (l === 'sysctl c=1' ? new Error('x') : undefined);
  const e = await applyHost(sys, planOf([{ op: 'sysctl', key: 'a', value: '1', prev: '0' }, { op: 'link-up', dev: 'lo' }, { op: 'sysctl', key: 'b', value: '1', prev: '0' }, { op: 'sysctl', key: 'c', value: '1' }]), emptyState(1), { what: 'prep' })
    .then(() => assert.fail('must fail'), (x) => x as LbctlError);
  assert.match(e.message, /; rolled back the 3 applied before it: sysctl sysctl, sysctl sysctl, system as before$/);
  const s2 = new Recorder();
  s2.failOn = (l) => (l === 'sysctl c=1' ? new Error('x') : undefined);
  const e2 = await applyHost(s2, planOf([{ op: 'link-up', dev: 'lo' }, { op: 'sysctl', key: 'c', value: '1' }]), emptyState(1), { what: 'prep' }).then(() => assert.fail('must fail'), (x) => x as LbctlError);
  assert.match(e2.message, /; rolled back the 1 applied before it: nothing to undo, system as before$/);
  const s3 = new Recorder();
  s3.failOn = (l) => (l === 'sysctl c=1' || l.startsWith('ip addr del') ? new Error('x') : undefined);
  const e3 = await applyHost(s3, planOf([{ op: 'addr-add', dev: 'lo', address: '10.94.0.7', prefix: 32 }, { op: 'addr-add', dev: 'lo', address: '10.94.0.8', prefix: 32 }, { op: 'sysctl', key: 'c', value: '1' }]), emptyState(1), { what: 'prep' })
    .then(() => assert.fail('must fail'), (x) => x as LbctlError);
  assert.match(e3.message, /; rolled back nothing; could NOT roll back addr-add addr-add, addr-add addr-add$/);
});

test('undo that fails: said exactly, records keep owning what is left, hint says unprep', async () => {
  const file = await recordsFile();
  const before = emptyState(1);
  const after: HostState = { ...emptyState(1), addresses: [{ dev: 'lo', address: '10.94.0.1', prefix: 32 } as any], sysctls: { a: { original: '0', set: '1' } } };
  const sys = new Recorder();
  sys.failOn = (l) => (l === 'ip link set dev lo up' ? new RejectedError('boom', { code: 'EBOOM' }) : l.startsWith('ip addr del') ? new Error('busy') : undefined);
  const plan: HostPlan = planOf([
    { op: 'sysctl', key: 'a', value: '1', prev: '0' },
    { op: 'addr-add', dev: 'lo', address: '10.94.0.1', prefix: 32 },
    { op: 'link-up', dev: 'lo' },
  ], after);
  const e = await applyHost(sys, plan, before, { what: 'realserver prep', recordsFile: file }).then(() => assert.fail('must fail'), (x) => x as LbctlError);
  assert.equal(e.code, 'EBOOM');
  assert.equal(e.exitCode, ExitCode.Rejected);
  assert.match(e.message, /^realserver prep stopped at change 3 of 3 \(~ link-up link-up\): boom; rolled back sysctl sysctl; could NOT roll back addr-add addr-add$/);
  assert.equal(e.hint, 'lbctl\'s records still own these: unprep removes them');
  const saved = await loadState(file, 1);
  assert.deepEqual(saved.addresses.map((a) => a.address), ['10.94.0.1'], 'the address that could not be removed stays owned');
  assert.deepEqual(Object.keys(saved.sysctls), ['a']);
});

test('clean rollback: the records file is back to what it was; the intent was written before the first change', async () => {
  const file = await recordsFile();
  const before: HostState = { ...emptyState(1), sysctls: { old: { original: '0', set: '1' } } };
  const after: HostState = { ...emptyState(1), sysctls: { old: { original: '0', set: '1' }, a: { original: '0', set: '1' } } };
  const sys = new Recorder();
  let seenAtFirstWrite: HostState | undefined;
  sys.failOn = (l) => {
    if (l === 'sysctl a=1') { seenAtFirstWrite = JSON.parse(require_('node:fs').readFileSync(file, 'utf8')); return undefined; }
    return l === 'sysctl b=1' ? new Error('EIO raw') : undefined;
  };
  const e = await applyHost(sys, planOf([{ op: 'sysctl', key: 'a', value: '1', prev: '0' }, { op: 'sysctl', key: 'b', value: '1', prev: '0' }], after), before, { what: 'prep', recordsFile: file }).then(() => assert.fail('must fail'), (x) => x as LbctlError);
  assert.ok(seenAtFirstWrite && 'a' in (seenAtFirstWrite as any).sysctls, 'records claimed a before it was set');
  assert.equal(e.code, 'EAPPLY', 'a raw error without errno');
  assert.match(e.message, /: EIO raw; rolled back the 1 applied before it: sysctl sysctl, system as before$/);
  assert.deepEqual((await loadState(file, 1)).sysctls, before.sysctls);
});

test('raw OS errors keep their meaning: EACCES, EPERM, EROFS exit 5; others 7; the first failure says nothing had been applied', async () => {
  for (const [code, exit] of [['EACCES', ExitCode.Permission], ['EPERM', ExitCode.Permission], ['EROFS', ExitCode.Permission], ['ENOSPC', ExitCode.Rejected]] as const) {
    const sys = new Recorder();
    sys.failOn = () => Object.assign(new Error(`${code}: x`), { code });
    const e = await applyHost(sys, planOf([{ op: 'sysctl', key: 'a', value: '1' }]), emptyState(1), { what: 'prep' }).then(() => assert.fail('must fail'), (x) => x as LbctlError);
    assert.equal(e.exitCode, exit, code);
    assert.equal(e.code, code);
    assert.match(e.message, /^prep stopped at change 1 of 1 \(~ sysctl sysctl\): .*; nothing had been applied$/);
  }
  const sys = new Recorder();
  sys.failOn = () => new NotFoundError('gone', { code: 'ENOENT' });
  const e = await applyHost(sys, planOf([{ op: 'sysctl', key: 'a', value: '1' }]), emptyState(1), { what: 'prep' }).then(() => assert.fail('must fail'), (x) => x as LbctlError);
  assert.equal(e.exitCode, ExitCode.NotFound, 'an lbctl error keeps its exit code');
});

test('a module that cannot create its device: one line, exit 6; nothing to undo for the module', async () => {
  const sys = new Recorder();
  sys.failOn = (l) => (l.startsWith('ip link add') ? new Error('Unknown device type') : undefined);
  const e = await applyHost(sys, planOf([{ op: 'module', name: 'ipip', dev: 'mu3', type: 'ipip' }]), emptyState(1), { what: 'prep' }).then(() => assert.fail('must fail'), (x) => x as LbctlError);
  assert.equal(e.exitCode, ExitCode.Unavailable);
  assert.equal(e.code, 'ENOIPIP');
  assert.match(e.message, /mu3 is missing and the ipip module cannot be loaded here/);
});

test('LBCTL_TEST_FAULT_HOSTPREP=k fails change k before it runs', async () => {
  for (const [v, failsAt] of [['2', 2], ['1', 1], ['x', 0], ['', 0], ['3', 0]] as const) {
    process.env.LBCTL_TEST_FAULT_HOSTPREP = v;
    try {
      const sys = new Recorder();
      const r = await applyHost(sys, planOf([{ op: 'sysctl', key: 'a', value: '1', prev: '0' }, { op: 'sysctl', key: 'b', value: '1', prev: '0' }]), emptyState(1), { what: 'prep' })
        .then(() => 0, (e: LbctlError) => { assert.equal(e.code, 'EFAULT'); assert.match(e.message, new RegExp(`injected fault at change ${v}`)); return Number(/change (\d+) of/.exec(e.message)![1]); });
      assert.equal(r, failsAt, `LBCTL_TEST_FAULT_HOSTPREP=${v}`);
      if (failsAt === 2) assert.deepEqual(sys.log, ['sysctl a=1', 'sysctl a=0']);
    } finally { delete process.env.LBCTL_TEST_FAULT_HOSTPREP; }
  }
});

test('records: an empty plan saves only when they differ; a full apply saves the plan records and reports the count', async () => {
  const file = await recordsFile();
  const sys = new Recorder();
  const same = await applyHost(sys, planOf([]), emptyState(1), { what: 'prep', recordsFile: file });
  assert.deepEqual(same, { applied: 0, records: emptyState(1) });
  await assert.rejects(fs.access(file), 'nothing to save: not written');
  // Records that own something and do not change: the file is not rewritten (saveState would remove an empty one anyway).
  const owning: HostState = { ...emptyState(1), addresses: [{ dev: 'lo', address: '10.94.0.6', prefix: 32 } as any] };
  await applyHost(sys, planOf([], owning), owning, { what: 'prep', recordsFile: file });
  await assert.rejects(fs.access(file), 'same records: not written');
  const changed: HostState = { ...emptyState(1), addresses: [{ dev: 'lo', address: '10.94.0.5', prefix: 32 } as any] };
  await applyHost(sys, planOf([], changed), emptyState(1), { what: 'prep', recordsFile: file });
  assert.deepEqual((await loadState(file, 1)).addresses.map((a) => a.address), ['10.94.0.5']);
  const sys2 = new Recorder();
  sys2.made = {};
  const r = await applyHost(sys2, planOf([{ op: 'module', name: 'ipip', dev: 'mu4', type: 'ipip' }, { op: 'sysctl', key: 'a', value: '1' }], emptyState(1)), emptyState(1), { what: 'prep', recordsFile: file });
  assert.equal(r.applied, 2);
  assert.deepEqual(r.records.createdLinks, ['mu4'], 'a device lbctl had to create is recorded');
  assert.deepEqual((await loadState(file, 1)).createdLinks, ['mu4']);
  assert.equal(sys.log.length, 0, 'empty plans ran nothing');
});

test('hostProvider: read/plan/apply in one shape', async () => {
  const sys = new Recorder();
  const p = hostProvider(sys, emptyState(1), { keys: [], files: [] }, { what: 'prep' });
  const actual: HostActual = await p.read();
  assert.deepEqual(p.plan(actual, { sysctls: [], linksUp: ['lo'], addresses: [] }), []);
  const r = await p.apply([]);
  assert.equal(r.applied, 0);
});

test('planFiles refusals and what counts as ours', () => {
  const actual = (files: Array<[string, FileState | null]>): HostActual => ({ links: new Map(), sysctls: new Map(), modules: new Set(), records: emptyState(1), files: new Map(files) });
  assert.equal(isOurs(null), false);
  assert.equal(isOurs({ type: 'symlink', target: '/a' }, '/a'), true);
  assert.equal(isOurs({ type: 'symlink', target: '/a' }, '/b'), false);
  assert.equal(isOurs({ type: 'symlink', target: '/a' }), false);
  assert.equal(isOurs(fileState(`${OWNER_MARK}\nx`)), true);
  assert.equal(isOurs(fileState(`x\n${OWNER_MARK}`)), false);
  assert.equal(isOurs({ type: 'other' }), false);
  const base = { sysctls: [], linksUp: [], addresses: [] };
  assert.throws(() => planHost(actual([['/r/a', { type: 'other' }]]), { ...base, files: { want: [{ path: '/r/a', content: 'x' }], scope: [] } }), (e: any) => e.code === 'EFILETYPE' && e.where === '/r/a');
  assert.throws(() => planHost(actual([['/r/a', { type: 'other' }]]), { ...base, files: { want: [{ path: '/r/a', symlinkTo: '/t' }], scope: [] } }), (e: any) => e.code === 'EFILETYPE');
  assert.throws(() => planHost(actual([['/r/a', { type: 'symlink', target: '/etc/shadow' }]]), { ...base, files: { want: [{ path: '/r/a', content: 'x' }], scope: [] } }),
    (e: any) => e.code === 'ESYMLINK' && e.exitCode === ExitCode.Rejected && /is a symbolic link \(to \/etc\/shadow\)/.test(e.message));
  // Scope files: ours are removed, others kept, absent ones listed only when nothing is wanted.
  const p = planHost(actual([['/r/ours', fileState(`${OWNER_MARK}\n`)], ['/r/theirs', fileState('hand made')], ['/r/none', null]]), { ...base, files: { want: [], scope: ['/r/ours', '/r/theirs', '/r/none'] } });
  assert.deepEqual(p.changes.map((c) => [c.action, c.id, c.op.op]), [['-', '/r/ours', 'file-remove']]);
  assert.deepEqual(p.items.map((i) => [i.item, i.action]), [['/r/ours', 'deleted'], ['/r/theirs', 'kept'], ['/r/none', 'absent']]);
  const p2 = planHost(actual([['/r/w', fileState('same')], ['/r/none', null]]), { ...base, files: { want: [{ path: '/r/w', content: 'same' }], scope: ['/r/w', '/r/none'] } });
  assert.deepEqual(p2.changes, []);
  assert.deepEqual(p2.items.map((i) => [i.item, i.action]), [['/r/w', 'unchanged']]);
  // A unit link pointing elsewhere is replaced; the same target is unchanged.
  const p3 = planHost(actual([['/r/u', { type: 'symlink', target: '/old' }]]), { ...base, files: { want: [{ path: '/r/u', symlinkTo: '/new' }], scope: [] } });
  assert.deepEqual(p3.changes.map((c) => [c.action, c.op.op, c.reason]), [['~', 'file-symlink', 'points elsewhere']]);
  const p4 = planHost(actual([['/r/u', { type: 'symlink', target: '/new' }]]), { ...base, files: { want: [{ path: '/r/u', symlinkTo: '/new' }], scope: [] } });
  assert.deepEqual(p4.changes, []);
  // A stale file is rewritten, with its previous content as prev.
  const p5 = planHost(actual([['/r/w', fileState('old')]]), { ...base, files: { want: [{ path: '/r/w', content: 'new' }], scope: [] } });
  assert.deepEqual(p5.changes.map((c) => [c.action, c.op.op, (c.op as any).prev?.content]), [['~', 'file-write', 'old']]);
});

test('plan refusals: a VIP with another prefix, a missing interface (named with its netns), a missing sysctl', () => {
  const lo: Link = { name: 'lo', up: true, linkType: 'loopback', noArp: true, addresses: [{ address: '10.94.0.1', prefix: 24, label: 'lo', scope: 'host' }] };
  const actual: HostActual = { netns: 'mu-ns', links: new Map([['lo', lo]]), sysctls: new Map([['k', '0']]), modules: new Set(), records: emptyState(1), files: new Map() };
  const base = { sysctls: [], linksUp: [], addresses: [] };
  assert.throws(() => planHost(actual, { ...base, addresses: [{ dev: 'lo', vip: { address: '10.94.0.1', prefix: 32 }, label: true }] }),
    (e: any) => e instanceof RejectedError && e.code === 'EVIPPREFIX' && e.message === '10.94.0.1 is already on lo as /24, not /32' && e.hint === 'remove it first: ip addr del 10.94.0.1/24 dev lo');
  assert.doesNotThrow(() => planHost(actual, { ...base, addresses: [{ dev: 'lo', vip: { address: '10.94.0.1', prefix: 24 }, label: true }] }));
  assert.throws(() => planHost(actual, { ...base, addresses: [{ dev: 'eth9', vip: { address: '10.94.0.2', prefix: 32 }, label: true }] }),
    (e: any) => e instanceof NotFoundError && e.code === 'ENODEV' && e.message === 'eth9: no such interface in netns mu-ns');
  assert.throws(() => planHost(actual, { ...base, sysctls: [{ key: 'nope', value: '1', accept: ['1'] }] }),
    (e: any) => e instanceof NotFoundError && e.code === 'ENOSYSCTL' && e.message === 'sysctl nope does not exist in netns mu-ns');
  // A device the plan creates: its address and its sysctls are not refused.
  const p = planHost(actual, { ...base, device: { dev: 'tunl0', module: 'ipip', type: 'ipip' }, sysctls: [{ key: 'net.ipv4.conf.tunl0.rp_filter', value: '0', accept: ['0'] }], addresses: [{ dev: 'tunl0', vip: { address: '10.94.0.3', prefix: 32 }, label: false }] });
  assert.equal(p.changes[0].op.op, 'module');
  assert.throws(() => planHost(actual, { ...base, sysctls: [{ key: 'net.ipv4.conf.tunl1.rp_filter', value: '0', accept: ['0'] }], device: { dev: 'tunl0', module: 'ipip', type: 'ipip' } }), /tunl1\.rp_filter does not exist/);
});
