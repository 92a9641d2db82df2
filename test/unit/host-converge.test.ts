/**
 * Host settings through read/plan/apply, without root: an in-memory machine (FakeHost) stands in
 * for /proc/sys, `ip` and the files. Properties: apply then plan gives an empty plan; prep then
 * unprep gives the machine back as it was; a change failing at any step leaves it as it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NotFoundError, RejectedError } from '../../src/cli/errors.js';
import { applyHost, planHost, readHost, readScope, type HostDesired } from '../../src/host/provider.js';
import { realServerDesired, realServerPersistSpec } from '../../src/host/realserver.js';
import { directorDesired, directorPersistSpec } from '../../src/host/director.js';
import { persistScope, persistWant, renderPersist } from '../../src/host/persist.js';
import { emptyState, type HostState } from '../../src/host/state.js';
import type { FileState, HostSystem } from '../../src/host/system.js';
import type { Link } from '../../src/host/links.js';
import type { Vip } from '../../src/host/vip.js';

const CONF = ['arp_ignore', 'arp_announce', 'rp_filter', 'send_redirects'];

class FakeHost implements HostSystem {
  links = new Map<string, Link>();
  sysctls = new Map<string, string>();
  modules = new Set<string>();
  files = new Map<string, FileState>();
  /** modprobe ipip makes tunl0 appear (false: a namespace without the fallback device). */
  ipipMakesTunl0 = true;
  ipipLoadable = true;
  failAt?: number;
  writes = 0;
  readonly netns = undefined;

  constructor() {
    this.sysctls.set('net.ipv4.ip_forward', '0');
    this.addLink('all', undefined);
    this.addLink('default', undefined);
    this.addLink('lo', { name: 'lo', up: true, linkType: 'loopback', noArp: true, addresses: [{ address: '127.0.0.1', prefix: 8, label: 'lo', scope: 'host' }] });
    this.addLink('eth0', { name: 'eth0', up: true, linkType: 'ether', noArp: false, addresses: [{ address: '192.168.77.2', prefix: 24, label: 'eth0', scope: 'global' }] });
  }

  addLink(name: string, link: Link | undefined, values: Record<string, string> = {}) {
    if (link) this.links.set(name, link);
    for (const c of CONF) this.sysctls.set(`net.ipv4.conf.${name}.${c}`, values[c] ?? (c === 'send_redirects' ? '1' : '0'));
  }

  snapshot() {
    return JSON.stringify({ links: [...this.links.entries()].sort(), sysctls: [...this.sysctls.entries()].sort(), files: [...this.files.entries()].sort() });
  }

  private mutate() {
    this.writes++;
    if (this.failAt !== undefined && this.writes === this.failAt) throw new RejectedError(`fake fault at write ${this.writes}`);
  }

  async readLinks() { return new Map([...this.links].map(([k, l]) => [k, { ...l, addresses: l.addresses.map((a) => ({ ...a })) }])); }
  async readSysctls(keys: string[]) { return new Map(keys.filter((k) => this.sysctls.has(k)).map((k) => [k, this.sysctls.get(k)!])); }
  async readModules() { return new Set(this.modules); }
  async readFile(abs: string) { return this.files.get(abs) ?? null; }
  async writeSysctl(key: string, value: string) {
    this.mutate();
    if (!this.sysctls.has(key)) throw new NotFoundError(`sysctl ${key} does not exist`);
    this.sysctls.set(key, value);
  }
  async ip(args: string[]) {
    this.mutate();
    const [obj, verb] = args;
    if (obj === 'addr') {
      const [address, p] = args[2].split('/');
      const link = this.links.get(args[4]);
      if (!link) throw new NotFoundError(`Cannot find device "${args[4]}"`);
      const i = link.addresses.findIndex((a) => a.address === address);
      if (verb === 'add') {
        if (i >= 0) throw new RejectedError('RTNETLINK answers: File exists');
        link.addresses.push({ address, prefix: Number(p), label: args[6] ?? link.name, scope: 'global' });
      } else {
        if (i < 0) throw new RejectedError('RTNETLINK answers: Cannot assign requested address');
        link.addresses.splice(i, 1);
      }
      return;
    }
    if (verb === 'set') { this.links.get(args[3])!.up = args[4] === 'up'; return; }
    if (verb === 'add') { this.makeTunl0(args[3]); return; }
    if (verb === 'del') {
      this.links.delete(args[3]);
      for (const c of CONF) this.sysctls.delete(`net.ipv4.conf.${args[3]}.${c}`);
    }
  }
  private makeTunl0(name: string) {
    if (!this.ipipLoadable) throw new RejectedError('Unknown device type.');
    this.addLink(name, { name, up: false, linkType: 'ipip', noArp: true, addresses: [] });
  }
  async modprobe(name: string) {
    this.mutate();
    if (!this.ipipLoadable) return;
    this.modules.add(name);
    if (this.ipipMakesTunl0 && !this.links.has('tunl0')) this.makeTunl0('tunl0');
  }
  async writeFile(abs: string, content: string, mode?: number) { this.mutate(); this.files.set(abs, { type: 'file', content, mode: mode ?? 0o644, uid: 0, gid: 0 }); return undefined; }
  async symlink(abs: string, target: string) { this.mutate(); this.files.set(abs, { type: 'symlink', target }); return undefined; }
  async remove(abs: string) { this.mutate(); this.files.delete(abs); }
}

const ROOT = '/fake-root';
type Scenario = { target: 'realserver'; mode: 'dr' | 'tun' } | { target: 'director'; mode: 'nat' | 'dr' | 'tun' };
const SCENARIOS: Scenario[] = [
  { target: 'realserver', mode: 'dr' }, { target: 'realserver', mode: 'tun' },
  { target: 'director', mode: 'nat' }, { target: 'director', mode: 'dr' }, { target: 'director', mode: 'tun' },
];
const VIPS: Vip[] = [{ address: '10.0.0.100', prefix: 32 }, { address: '10.0.0.101', prefix: 32 }];

/** What prep wants for a scenario, with its --persist files. */
function prepDesired(s: Scenario, persist: boolean): HostDesired {
  const d = s.target === 'realserver' ? realServerDesired(s.mode, VIPS, 'eth0') : directorDesired(s.mode, VIPS, 'eth0');
  if (persist) {
    const spec = s.target === 'realserver' ? realServerPersistSpec(s.mode, VIPS, d) : directorPersistSpec(s.mode, VIPS, 'eth0', d);
    d.files = { want: persistWant(ROOT, renderPersist(spec)), scope: persistScope(ROOT, s.target) };
  }
  return d;
}

/** What unprep wants: every recorded address gone, sysctls restored, the files removed. */
function unprepDesired(s: Scenario, records: HostState, persist: boolean): HostDesired {
  return {
    sysctls: [], linksUp: [], addresses: [],
    remove: { addresses: records.addresses.map((a) => ({ address: a.address, devs: [a.dev] })), restoreSysctls: true, deleteCreatedLinks: true },
    ...(persist ? { files: { want: [], scope: persistScope(ROOT, s.target) } } : {}),
  };
}

async function plan(sys: FakeHost, records: HostState, desired: HostDesired) {
  const scope = readScope(desired, records);
  scope.files.push(...(desired.files?.scope ?? []));
  return planHost(await readHost(sys, records, scope), desired);
}

test('each prep: apply the plan to the fake machine, then plan again: no changes', async () => {
  for (const s of SCENARIOS) {
    for (const persist of [false, true]) {
      const sys = new FakeHost();
      const first = await plan(sys, emptyState(1), prepDesired(s, persist));
      assert.ok(first.changes.length > 0, `${s.target} ${s.mode}: something to do on a fresh machine`);
      const { records } = await applyHost(sys, first, emptyState(1), { what: 'prep' });
      const again = await plan(sys, records, prepDesired(s, persist));
      assert.deepEqual(again.changes.map((c) => `${c.action} ${c.kind} ${c.id}`), [], `${s.target} ${s.mode} persist=${persist}`);
      assert.ok(again.items.every((i) => !i.changed));
    }
  }
});

test('plan is pure and ordered: sysctls before the VIP, each change with its equivalent command', async () => {
  const sys = new FakeHost();
  const p = await plan(sys, emptyState(1), prepDesired({ target: 'realserver', mode: 'dr' }, false));
  const kinds = p.changes.map((c) => c.kind);
  assert.ok(kinds.lastIndexOf('sysctl') < kinds.indexOf('address'), kinds.join(' '));
  assert.deepEqual(p.changes.find((c) => c.id === 'net.ipv4.conf.lo.arp_ignore')!.command, ['sysctl', '-w', 'net.ipv4.conf.lo.arp_ignore=1']);
  assert.deepEqual(p.changes.find((c) => c.kind === 'address')!.command, ['ip', 'addr', 'add', '10.0.0.100/32', 'dev', 'lo', 'label', 'lo:0']);
  assert.equal(sys.writes, 0, 'planning writes nothing');
  const empty = await applyHost(sys, { ...p, changes: [] }, emptyState(1), { what: 'prep' });
  assert.equal(sys.writes, 0, 'an empty plan writes nothing');
  assert.equal(empty.applied, 0);
});

test('property: any mix of settings already in place converges in one apply; unprep gives the machine back', async () => {
  const arb = fc.record({
    scenario: fc.constantFrom(...SCENARIOS),
    persist: fc.boolean(),
    // Per sysctl: keep the fresh value, already at prep's value, or at another value ('2' works for arp_ignore).
    values: fc.array(fc.constantFrom('fresh', 'set', 'other'), { minLength: 16, maxLength: 16 }),
    vipPresent: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
    tunl0: fc.constantFrom('absent', 'present', 'module-only'),
    files: fc.constantFrom('absent', 'current', 'stale'),
  });
  await fc.assert(fc.asyncProperty(arb, async (a) => {
    const sys = new FakeHost();
    const s = a.scenario;
    if (a.tunl0 !== 'absent') sys.modules.add('ipip');
    // Up already: unprep does not take down a link prep brought up (lo never goes down; tunl0 is harmless up).
    if (a.tunl0 === 'present') sys.addLink('tunl0', { name: 'tunl0', up: true, linkType: 'ipip', noArp: true, addresses: [] });
    const desired = prepDesired(s, a.persist);
    desired.sysctls.forEach((d, i) => {
      if (!sys.sysctls.has(d.key)) return;
      if (a.values[i] === 'set') sys.sysctls.set(d.key, d.value);
      if (a.values[i] === 'other') sys.sysctls.set(d.key, '2');
    });
    desired.addresses.forEach((d, i) => {
      const link = sys.links.get(d.dev);
      if (a.vipPresent[i] && link) link.addresses.push({ address: d.vip.address, prefix: d.vip.prefix, label: d.dev, scope: 'global' });
    });
    if (desired.files && a.files !== 'absent') {
      for (const f of desired.files.want) {
        if (f.symlinkTo) sys.files.set(f.path, { type: 'symlink', target: f.symlinkTo });
        else sys.files.set(f.path, { type: 'file', content: a.files === 'current' ? f.content! : `${f.content}# old\n`, mode: 0o644, uid: 0, gid: 0 });
      }
    }
    const before = sys.snapshot();
    const p1 = await plan(sys, emptyState(1), desired);
    const { records } = await applyHost(sys, p1, emptyState(1), { what: 'prep' });
    const p2 = await plan(sys, records, prepDesired(s, a.persist));
    assert.deepEqual(p2.changes.map((c) => c.id), []);
    // lbctl owns exactly what it added: unprep takes that away and puts back what it changed.
    const u = await plan(sys, records, unprepDesired(s, records, a.persist && a.files === 'absent'));
    const { records: after } = await applyHost(sys, u, records, { what: 'unprep' });
    assert.deepEqual(after, { ...emptyState(1), createdLinks: [] });
    // Not compared: a tunl0 that appeared when ipip loaded (modules stay loaded), and stale files prep rewrote.
    const tunl0Stays = a.tunl0 === 'absent' && s.target === 'realserver' && s.mode === 'tun';
    if (!tunl0Stays && !(a.persist && a.files !== 'absent')) {
      assert.equal(sys.snapshot(), before);
    }
    const u2 = await plan(sys, after, unprepDesired(s, after, a.persist));
    assert.deepEqual(u2.changes.filter((c) => c.kind !== 'file').map((c) => c.id), [], 'unprep again: nothing');
  }), { numRuns: 150 });
});

test('a change failing at any step: what was applied is rolled back, the error says so, records as before', async () => {
  for (const s of SCENARIOS) {
    const probe = new FakeHost();
    const p = await plan(probe, emptyState(1), prepDesired(s, true));
    for (let k = 1; k <= p.changes.length; k++) {
      const sys = new FakeHost();
      const before = sys.snapshot();
      const pk = await plan(sys, emptyState(1), prepDesired(s, true));
      sys.failAt = k;
      await assert.rejects(applyHost(sys, pk, emptyState(1), { what: 'prep' }), (e: any) => {
        assert.equal(e.exitCode, 7);
        assert.match(e.message, new RegExp(`stopped at change ${k} of ${pk.changes.length}`));
        assert.match(e.message, k === 1 ? /nothing had been applied/ : /rolled back the \d+ applied before it: .*system as before/);
        assert.ok(!e.message.includes('\n'));
        return true;
      }, `${s.target} ${s.mode} k=${k}`);
      sys.failAt = undefined;
      if (!(s.mode === 'tun' && s.target === 'realserver')) assert.equal(sys.snapshot(), before, `${s.target} ${s.mode}: fault at ${k} left the machine as before`);
      else {
        // The module stays loaded and its tunl0 with it; nothing else of the plan remains.
        const tunl0 = sys.links.get('tunl0');
        assert.deepEqual(tunl0?.addresses ?? [], []);
        assert.equal([...sys.files.keys()].length, 0);
      }
    }
  }
});

test('unprep removes only what the records say lbctl added', async () => {
  const sys = new FakeHost();
  // By hand: a /32 on lo, and the VIP the operator names is eth0's primary address.
  sys.links.get('lo')!.addresses.push({ address: '10.0.0.7', prefix: 32, label: 'lo', scope: 'global' });
  const d = prepDesired({ target: 'director', mode: 'dr' }, false);
  const p = await plan(sys, emptyState(1), d);
  const { records } = await applyHost(sys, p, emptyState(1), { what: 'prep' });
  const u = await plan(sys, records, {
    sysctls: [], linksUp: [], addresses: [],
    remove: { addresses: [{ address: '192.168.77.2', devs: ['eth0'] }, { address: '10.0.0.7', devs: ['lo'] }, { address: '10.0.0.100', devs: ['eth0'] }], restoreSysctls: true, deleteCreatedLinks: false },
  });
  assert.deepEqual(u.changes.filter((c) => c.kind === 'address').map((c) => c.id), ['10.0.0.100/32 dev eth0']);
  assert.deepEqual(u.items.filter((i) => i.action === 'kept').map((i) => i.item), ['192.168.77.2/24 dev eth0', '10.0.0.7/32 dev lo']);
  // A sysctl someone changed after prep stays theirs.
  sys.sysctls.set('net.ipv4.conf.default.send_redirects', '1');
  const u2 = await plan(sys, records, { sysctls: [], linksUp: [], addresses: [], remove: { addresses: [], restoreSysctls: true, deleteCreatedLinks: false } });
  assert.equal(u2.items.find((i) => i.item === 'net.ipv4.conf.all.send_redirects')!.action, 'restored');
  assert.equal(u2.items.find((i) => i.item === 'net.ipv4.conf.default.send_redirects')!.action, 'unchanged', 'set back by hand to the recorded original');
  sys.sysctls.set('net.ipv4.conf.default.send_redirects', '5');
  const u3 = await plan(sys, records, { sysctls: [], linksUp: [], addresses: [], remove: { addresses: [], restoreSysctls: true, deleteCreatedLinks: false } });
  assert.equal(u3.items.find((i) => i.item === 'net.ipv4.conf.default.send_redirects')!.action, 'kept');
});

test('refused before any change: a VIP on the device with another prefix, a sysctl that does not exist, a directory or symlink where a file goes', async () => {
  const sys = new FakeHost();
  sys.links.get('lo')!.addresses.push({ address: '10.0.0.100', prefix: 24, label: 'lo', scope: 'global' });
  await assert.rejects(plan(sys, emptyState(1), prepDesired({ target: 'realserver', mode: 'dr' }, false)), /already on lo as \/24/);
  const sys2 = new FakeHost();
  sys2.sysctls.delete('net.ipv4.conf.eth0.arp_ignore');
  await assert.rejects(plan(sys2, emptyState(1), prepDesired({ target: 'realserver', mode: 'dr' }, false)), (e: any) => e.exitCode === 4 && /net\.ipv4\.conf\.eth0\.arp_ignore/.test(e.message));
  const sys3 = new FakeHost();
  const d = prepDesired({ target: 'realserver', mode: 'dr' }, true);
  sys3.files.set(d.files!.want[0].path, { type: 'symlink', target: '/etc/passwd' });
  await assert.rejects(plan(sys3, emptyState(1), d), (e: any) => e.code === 'ESYMLINK' && e.exitCode === 7);
  sys3.files.set(d.files!.want[0].path, { type: 'other' });
  await assert.rejects(plan(sys3, emptyState(1), d), (e: any) => e.code === 'EFILETYPE');
  assert.equal(sys.writes + sys2.writes + sys3.writes, 0);
});

test('TUN without the fallback tunl0: lbctl creates one, records it, and unprep deletes it', async () => {
  const sys = new FakeHost();
  sys.ipipMakesTunl0 = false;
  const d = prepDesired({ target: 'realserver', mode: 'tun' }, false);
  const p = await plan(sys, emptyState(1), d);
  assert.deepEqual(p.changes[0].command, ['modprobe', 'ipip']);
  const { records } = await applyHost(sys, p, emptyState(1), { what: 'prep' });
  assert.deepEqual(records.createdLinks, ['tunl0']);
  const u = await plan(sys, records, unprepDesired({ target: 'realserver', mode: 'tun' }, records, false));
  assert.ok(u.changes.some((c) => c.kind === 'link' && c.action === '-'));
  await applyHost(sys, u, records, { what: 'unprep' });
  assert.equal(sys.links.has('tunl0'), false);
  const none = new FakeHost();
  none.ipipLoadable = false;
  const pn = await plan(none, emptyState(1), d);
  await assert.rejects(applyHost(none, pn, emptyState(1), { what: 'prep' }), (e: any) => e.exitCode === 6 && /nothing had been applied/.test(e.message));
});
