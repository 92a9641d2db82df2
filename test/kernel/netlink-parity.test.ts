/**
 * Parity of the netlink driver with ipvsadm, against the real kernel (inside the lab):
 *   - a property test: random sequences of desired tables converged through the netlink
 *     driver (plan -> apply: adds, edits and deletes of services and real servers, flushes),
 *     each checked against `ipvsadm -Sn` parsed with parseRules (printRules of both) plus
 *     `ipvsadm -Ln --thresholds` (which -Sn leaves out);
 *   - the reverse: random tables written by `ipvsadm -R`, read back by the netlink driver;
 *   - a fixed table covering TCP/UDP/SCTP/fwmark, IPv4/IPv6, every scheduler, all three
 *     forwarding methods (a DR real server whose port differs from the virtual port, which
 *     ipvsadm cannot write), gue/gre tunnels;
 *   - timeouts, sync daemons, info, and the kernel's errnos.
 * LBCTL_PROPERTY_RUNS sets the number of random runs (default 12, 4 under CI).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { execa } from 'execa';
import { labSkipReason } from './lib/topology.js';
import { openNetlinkDriver, type NetlinkDriver } from '../../src/ipvs/netlink/index.js';
import { parseRules, printRules } from '../../src/ipvs/rules.js';
import { plan, toOps } from '../../src/ipvs/plan.js';
import { SCHEDULERS, type ForwardMethod, type Scheduler, type TunCsum, type TunType } from '../../src/ipvs/constants.js';
import { destinationKey, serviceLabel, type Destination, type IpvsTable, type VirtualService } from '../../src/ipvs/model.js';
import { NotFoundError, PermissionError, RejectedError } from '../../src/cli/errors.js';

const skip = labSkipReason() ?? false;
const RUNS = Number(process.env.LBCTL_PROPERTY_RUNS ?? (process.env.CI ? 4 : 12));
const DEV = 'lbnl0';

let d: NetlinkDriver;
const ipvsadm = async (...args: string[]) => (await execa('ipvsadm', args, { env: { LC_ALL: 'C' } })).stdout;

before(async () => {
  if (skip) return;
  // Real servers must be routable unicast addresses: a dummy link carrying their networks.
  await execa('ip', ['link', 'del', DEV]).catch(() => {});
  await execa('ip', ['link', 'add', DEV, 'type', 'dummy']);
  await execa('ip', ['link', 'set', DEV, 'up']);
  await execa('ip', ['addr', 'add', '10.66.0.1/16', 'dev', DEV]);
  await execa('ip', ['-6', 'addr', 'add', '2001:db8:66::1/64', 'dev', DEV, 'nodad']);
  await ipvsadm('-C');
  d = await openNetlinkDriver();
});
after(async () => {
  if (skip) return;
  await d?.close();
  await ipvsadm('-C').catch(() => {});
  await execa('ip', ['link', 'del', DEV]).catch(() => {});
});

/** ipvsadm's view: -Sn (parsed) with thresholds filled in from -Ln --thresholds. */
async function ipvsadmTable(): Promise<IpvsTable> {
  const t = parseRules(await ipvsadm('-Sn'), 'ipvsadm -Sn');
  const th = new Map<string, [number, number]>();
  let svc = '';
  for (const line of (await ipvsadm('-Ln', '--thresholds')).split('\n')) {
    const s = /^(TCP|UDP|SCTP|FWM)\s+(\S+)(\s+IPv6)?/.exec(line);
    if (s) { svc = `${s[1]} ${s[2]}${s[3] ? ' IPv6' : ''}`; continue; }
    const m = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) th.set(`${svc} ${m[1]}`, [Number(m[2]), Number(m[3])]);
  }
  for (const s of t.services) {
    for (const x of s.destinations) {
      const v = th.get(`${serviceLabel(s)} ${destinationKey(x)}`);
      assert.ok(v, `no thresholds row for ${destinationKey(x)} in ${serviceLabel(s)}`);
      [x.upperThreshold, x.lowerThreshold] = v;
    }
  }
  return t;
}

// --- generators -------------------------------------------------------------------------------

const V4_VIPS = ['10.65.0.1', '10.65.0.2', '10.65.0.3'];
const V6_VIPS = ['2001:db8:65::1', '2001:db8:65::2'];
const V4_RS = ['10.66.1.1', '10.66.1.2', '10.66.1.3', '10.66.2.4'];
const V6_RS = ['2001:db8:66::11', '2001:db8:66::12', '2001:db8:66::13'];

const arbFlags = (sched: Scheduler) => {
  // ipvsadm -Sn names only the first two flags of sh/mh (it drops flag-3): keep to what both can say.
  const names = sched === 'sh' || sched === 'mh' ? [`${sched}-fallback`, `${sched}-port`] : ['flag-1', 'flag-2', 'flag-3'];
  return fc.subarray(names).map((a) => [...a].sort());
};

function arbService(): fc.Arbitrary<VirtualService> {
  return fc.record({
    protocol: fc.constantFrom('tcp', 'udp', 'sctp', 'fwmark') as fc.Arbitrary<VirtualService['protocol']>,
    family: fc.constantFrom('inet', 'inet6') as fc.Arbitrary<'inet' | 'inet6'>,
    vip: fc.nat(10),
    port: fc.constantFrom(80, 443, 53),
    fwmark: fc.integer({ min: 1, max: 4 }),
    scheduler: fc.constantFrom(...SCHEDULERS),
    persistence: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 3600 })),
    mask: fc.nat(2),
    onePacket: fc.boolean(),
    flagSeed: fc.nat(),
  }).chain((r) => arbFlags(r.scheduler).map((schedFlags) => {
    const s: VirtualService = {
      protocol: r.protocol, family: r.family, scheduler: r.scheduler, persistence: r.persistence,
      netmask: r.family === 'inet6' ? ['128', '64', '48'][r.persistence ? r.mask : 0] : ['255.255.255.255', '255.255.255.0', '255.255.0.0'][r.persistence ? r.mask : 0],
      schedFlags, onePacket: r.protocol === 'udp' && r.onePacket, destinations: [],
    };
    if (r.protocol === 'fwmark') s.fwmark = r.fwmark;
    else { s.address = (r.family === 'inet6' ? V6_VIPS : V4_VIPS)[r.vip % (r.family === 'inet6' ? V6_VIPS.length : V4_VIPS.length)]; s.port = r.port; }
    return s;
  }));
}

function arbDest(svc: VirtualService, ipvsadmExpressible: boolean): fc.Arbitrary<Destination> {
  const pool = svc.family === 'inet6' ? V6_RS : V4_RS;
  return fc.record({
    addr: fc.constantFrom(...pool),
    port: fc.constantFrom(80, 8080, 9000),
    forward: fc.constantFrom('masq', 'droute', 'tunnel') as fc.Arbitrary<ForwardMethod>,
    weight: fc.oneof(fc.integer({ min: 0, max: 10 }), fc.integer({ min: 0, max: 65535 })),
    upper: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 5000 })),
    lowerFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    tunType: fc.constantFrom('ipip', 'gue', 'gre') as fc.Arbitrary<TunType>,
    tunPort: fc.integer({ min: 1, max: 65535 }),
    csum: fc.constantFrom('nocsum', 'csum', 'remcsum') as fc.Arbitrary<TunCsum>,
  }).map((r) => {
    let port = svc.protocol === 'fwmark' && r.forward !== 'masq' ? 0 : r.port;
    // ipvsadm forces a DR/TUN real server's port to the virtual port; netlink does not.
    if (ipvsadmExpressible && r.forward !== 'masq') port = svc.port ?? 0;
    const x: Destination = { address: r.addr, port, family: svc.family, forward: r.forward, weight: r.weight, upperThreshold: r.upper, lowerThreshold: Math.floor(r.upper * r.lowerFrac) };
    if (r.forward === 'tunnel') {
      x.tunType = r.tunType;
      if (r.tunType === 'gue') x.tunPort = r.tunPort;
      if (r.tunType !== 'ipip') x.tunCsum = r.tunType === 'gre' && r.csum === 'remcsum' ? 'csum' : r.csum;
    }
    return x;
  });
}

function arbTable(ipvsadmExpressible: boolean): fc.Arbitrary<IpvsTable> {
  return fc.uniqueArray(arbService(), { maxLength: 5, selector: (s) => (s.protocol === 'fwmark' ? `f${s.family}${s.fwmark}` : `${s.protocol}${s.address}:${s.port}`) })
    .chain((svcs) => fc.tuple(...svcs.map((s) => fc.uniqueArray(arbDest(s, ipvsadmExpressible), { maxLength: 4, selector: (x) => `${x.address}:${x.port}` }).map((dests) => ({ ...s, destinations: dests })))))
    .map((services) => ({ services }));
}

const withoutThresholds = (t: IpvsTable): IpvsTable => ({ services: t.services.map((s) => ({ ...s, destinations: s.destinations.map((x) => ({ ...x, upperThreshold: 0, lowerThreshold: 0 })) })) });

// --- tests ------------------------------------------------------------------------------------

test('property: random sequences converged through netlink match ipvsadm -Sn', { skip, timeout: 600_000 }, async () => {
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(arbTable(false), fc.boolean()), { minLength: 2, maxLength: 4 }), async (steps) => {
    await ipvsadm('-C');
    for (const [desired, flushFirst] of steps) {
      if (flushFirst) await d.apply([{ kind: 'flush' }]);
      await d.apply(toOps(plan(await d.getTable(), desired)));
      const theirs = await ipvsadmTable();
      assert.equal(printRules(theirs), printRules(desired), 'ipvsadm -Sn / --thresholds after apply');
      assert.equal(printRules(await d.getTable()), printRules(desired), 'netlink read after apply');
      assert.equal(toOps(plan(await d.getTable(), desired)).length, 0, 're-plan is empty');
    }
  }), { numRuns: RUNS, endOnFailure: true });
});

test('property (reverse): tables written by ipvsadm -R read back identically over netlink', { skip, timeout: 600_000 }, async () => {
  await fc.assert(fc.asyncProperty(arbTable(true), async (desired) => {
    await ipvsadm('-C');
    await execa('ipvsadm', ['-R'], { input: printRules(desired) });
    assert.equal(printRules(withoutThresholds(parseRules(await ipvsadm('-Sn')))), printRules(withoutThresholds(desired)), 'ipvsadm wrote what we asked');
    assert.equal(printRules(await d.getTable()), printRules(desired));
  }), { numRuns: RUNS * 2, endOnFailure: true });
});

const COVERAGE = [
  ...SCHEDULERS.map((s, i) => `-A -t 10.65.1.${i + 1}:80 -s ${s}`),
  '-a -t 10.65.1.1:80 -r 10.66.1.1:8080 -m -w 3 -x 100 -y 10',
  '-a -t 10.65.1.1:80 -r 10.66.1.2:8080 -g -w 1',
  '-a -t 10.65.1.1:80 -r 10.66.1.3:80 -i -w 2',
  '-a -t 10.65.1.1:80 -r 10.66.1.4:80 -i -w 2 --tun-type gue --tun-port 6080 --tun-remcsum',
  '-a -t 10.65.1.1:80 -r 10.66.1.5:80 -i -w 2 --tun-type gre --tun-csum',
  '-A -u 10.65.2.1:53 -s sh -b sh-fallback,sh-port -p 60 -M 255.255.255.0 -o',
  '-a -u 10.65.2.1:53 -r 10.66.2.1:5353 -m -w 1',
  '-A --sctp-service 10.65.2.2:3868 -s rr',
  '-a --sctp-service 10.65.2.2:3868 -r 10.66.2.2:3868 -g -w 1',
  '-A -t [2001:db8:65::1]:443 -s wlc -p 100 -M 64',
  '-a -t [2001:db8:65::1]:443 -r [2001:db8:66::1]:8443 -m -w 5',
  '-a -t [2001:db8:65::1]:443 -r [2001:db8:66::2]:443 -g -w 5',
  '-a -t [2001:db8:65::1]:443 -r [2001:db8:66::3]:443 -i -w 5',
  '-A -f 7 -s lc',
  '-a -f 7 -r 10.66.3.1:0 -g -w 1',
  '-A -f 8 -6 -s rr -p 30',
  '-a -f 8 -6 -r [2001:db8:66::4]:0 -m -w 1',
].join('\n');

test('coverage: every scheduler, protocol, family and forwarding method; DR port != virtual port', { skip }, async () => {
  await ipvsadm('-C');
  const desired = parseRules(COVERAGE, 'coverage');
  await d.apply(toOps(plan(await d.getTable(), desired)));
  assert.equal(printRules(await ipvsadmTable()), printRules(desired));
  assert.ok((await ipvsadm('-Sn')).includes('-a -t 10.65.1.1:80 -r 10.66.1.2:8080 -g -w 1'), 'DR real server on port 8080 behind VIP port 80');
  // And the other way round: ipvsadm writes the same table, netlink reads it.
  await ipvsadm('-C');
  await execa('ipvsadm', ['-R'], { input: COVERAGE.replace('10.66.1.2:8080 -g', '10.66.1.2:80 -g') + '\n' });
  assert.equal(printRules(await d.getTable()), printRules(parseRules(COVERAGE.replace('10.66.1.2:8080 -g', '10.66.1.2:80 -g'))));
  const stats = await d.getTable({ stats: true });
  assert.equal(typeof stats.services[0].stats?.conns, 'number');
  await d.apply([{ kind: 'zero' }, { kind: 'zero', service: stats.services[0] }]);
});

test('timeouts: set over netlink = ipvsadm --timeout; set by ipvsadm = netlink read', { skip }, async () => {
  const orig = await d.getTimeouts();
  try {
    await d.setTimeouts({ tcp: 1234, udp: 77 });
    assert.match(await ipvsadm('-Ln', '--timeout'), new RegExp(`1234 ${orig.tcpfin} 77`));
    await ipvsadm('--set', '901', '61', '0');
    assert.deepEqual(await d.getTimeouts(), { tcp: 901, tcpfin: 61, udp: 77 });
  } finally {
    await d.setTimeouts(orig);
  }
  assert.deepEqual(await d.getTimeouts(), orig);
});

test('sync daemons: start/status/stop over netlink agree with ipvsadm', { skip }, async () => {
  await d.startDaemon({ state: 'master', mcastIfn: 'lo', syncId: 9 });
  await d.startDaemon({ state: 'backup', mcastIfn: DEV, syncId: 10 });
  const text = await ipvsadm('-Ln', '--daemon');
  assert.match(text, /master sync daemon \(mcast=lo, syncid=9/);
  assert.match(text, new RegExp(`backup sync daemon \\(mcast=${DEV}, syncid=10`));
  assert.deepEqual(await d.getDaemons(), [{ state: 'master', mcastIfn: 'lo', syncId: 9 }, { state: 'backup', mcastIfn: DEV, syncId: 10 }]);
  const dup = await d.startDaemon({ state: 'master', mcastIfn: 'lo', syncId: 9 }).catch((e) => e);
  assert.ok(dup instanceof RejectedError && dup.errno === 17, String(dup));
  await d.stopDaemon('master');
  await d.stopDaemon('backup');
  assert.equal((await ipvsadm('-Ln', '--daemon')).trim(), '');
  const none = await d.stopDaemon('master').catch((e) => e);
  assert.ok(none instanceof NotFoundError, String(none));
  await ipvsadm('--start-daemon', 'backup', '--mcast-interface', 'lo', '--syncid', '3');
  assert.deepEqual(await d.getDaemons(), [{ state: 'backup', mcastIfn: 'lo', syncId: 3 }]);
  await ipvsadm('--stop-daemon', 'backup');
  const nodev = await d.startDaemon({ state: 'master', mcastIfn: 'lbnl-nosuch', syncId: 1 }).catch((e) => e);
  assert.ok(nodev instanceof NotFoundError && /does not exist/.test(nodev.message), String(nodev));
});

test('info matches ipvsadm -Ln', { skip }, async () => {
  const info = await d.getInfo();
  assert.match(await ipvsadm('-Ln'), new RegExp(`IP Virtual Server version ${info.version.replace(/\./g, '\\.')} \\(size=${info.connTableSize}\\)`));
});

test('the kernel\'s errnos map to the documented errors, naming the op, nothing changed', { skip }, async () => {
  await ipvsadm('-C');
  const t = parseRules('-A -t 10.65.9.1:80 -s rr\n-a -t 10.65.9.1:80 -r 10.66.9.1:80 -m', 'errs.rules');
  const s = t.services[0];
  await d.apply([{ kind: 'addService', service: s }]);
  const dup = await d.apply([{ kind: 'addService', service: s, origin: 'errs.rules:1' }]).catch((e) => e);
  assert.ok(dup instanceof RejectedError && dup.errno === 17 && dup.where === 'errs.rules:1', String(dup));
  // Deleting what is not there is caught by the batch's check against the table before any
  // write (all or nothing), so these are lbctl's NotFoundError without a kernel errno now.
  const gone = await d.apply([{ kind: 'delService', service: { ...s, port: 81 } }]).catch((e) => e);
  assert.ok(gone instanceof NotFoundError, String(gone));
  assert.equal(gone.message, 'virtual service TCP 10.65.9.1:81 does not exist');
  const nodest = await d.apply([{ kind: 'delDest', service: s, dest: t.services[0].destinations[0] }]).catch((e) => e);
  assert.ok(nodest instanceof NotFoundError && /does not exist/.test(nodest.message), String(nodest));
  const mcast = await d.apply([{ kind: 'addDest', service: s, dest: { ...t.services[0].destinations[0], address: '224.0.0.5' } }]).catch((e) => e);
  assert.ok(mcast instanceof RejectedError && mcast.errno === 22, String(mcast));
  assert.match(mcast.oneLine(), /ipvsadm -a -t 10\.65\.9\.1:80 -r 224\.0\.0\.5:80 -m -w 1: .*unicast.*route/);
  const nosched = await d.apply([{ kind: 'addService', service: { ...s, port: 82, scheduler: 'nosuch' as Scheduler } }]).catch((e) => e);
  assert.ok(nosched instanceof RejectedError && nosched.errno === 2 && /ip_vs_nosuch/.test(nosched.oneLine()), String(nosched));
  assert.equal(await ipvsadm('-Sn'), '-A -t 10.65.9.1:80 -s rr');
  assert.ok(!(PermissionError.prototype instanceof RejectedError));
});

for (const acks of ['each', 'errors'] as const) {
  test(`a failure inside a pipelined batch (ACK mode ${acks}) names its op and is rolled back: table as before`, { skip }, async () => {
    await ipvsadm('-C');
    const lines = ['-A -t 10.65.8.1:80 -s rr', ...Array.from({ length: 40 }, (_, i) => `-a -t 10.65.8.1:80 -r 10.66.8.${i + 1}:80 -m -w 1`)];
    const t = parseRules(lines.join('\n'), 'batch.rules');
    const ops = toOps(plan({ services: [] }, t)).map((o, i) => ({ ...o, origin: `batch.rules:${i + 1}` }));
    ops[20] = { ...ops[20], dest: { ...ops[20].dest!, address: '224.0.0.9' } };
    const drv = await openNetlinkDriver({ acks });
    try {
      const err = await drv.apply(ops).catch((e) => e);
      assert.ok(err instanceof RejectedError && err.errno === 22 && err.where === 'batch.rules:21', String(err));
      assert.match(err.oneLine(), /change 21 of 41 failed: .*rolled back 40 change\(s\): table as before/);
      assert.equal((await ipvsadm('-Sn')).trim(), '');
    } finally {
      await drv.close();
    }
  });
}
