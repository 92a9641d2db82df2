/**
 * wire.ts against the generic path it short-cuts: encodeOps frames every op as the legacy
 * attribute encoder (test/unit/legacy/) does, byte for byte, and throws where it throws; the
 * in-place dump decoders give the generic decoder's object (key order included) or step aside
 * (null), for random services and real servers (IPv6, fwmark, tunnels gue/gre with checksum
 * flags, thresholds, scheduler flags, persistence engines), the captured kernel replies, and
 * mutated bytes of both.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { decodeAttrs, encodeAttrs, type AttrValues } from '../../src/ipvs/netlink/attrs.js';
import { encodeAttrs as oldEncodeAttrs } from './legacy/attrs.js';
import { encodeGenl as oldEncodeGenl } from './legacy/message.js';
import { NLMSG_DONE, NLMSG_ERROR, parseGenl, parseMessages } from '../../src/ipvs/netlink/message.js';
import { decodeDest, decodeService, destAttrs, destIdAttrs, opRequest, serviceAttrs, serviceIdAttrs } from '../../src/ipvs/netlink/ipvs.js';
import { encodeOps, fastDest, fastService, getDestAttrs } from '../../src/ipvs/netlink/wire.js';
import type { Op } from '../../src/ipvs/driver.js';
import type { Destination, VirtualService } from '../../src/ipvs/model.js';

const RUNS = Number(process.env.LBCTL_FUZZ_RUNS ?? 2000);
const FAMILY = 0x2a;
const NO_STATS = new Set(['stats', 'stats64']);
const FAULT: VirtualService = { protocol: 'fwmark', family: 'inet', fwmark: 0xfffffffe } as VirtualService;

const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const v6 = fc.constantFrom('2001:db8::1', '::1', 'fe80::1:2', '2001:db8:0:1::a', '::ffff:10.0.0.1', '2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff');
const port = fc.oneof({ arbitrary: fc.nat(65535), weight: 8 }, { arbitrary: fc.constantFrom(0, 80, 65535, 70000), weight: 2 });
const u32 = fc.oneof(fc.nat(), fc.constantFrom(0, 1, 0xffffffff));

const service: fc.Arbitrary<VirtualService> = fc.record({
  family: fc.constantFrom('inet', 'inet6'),
  protocol: fc.constantFrom('tcp', 'udp', 'sctp', 'fwmark'),
  a4: v4, a6: v6, port, fwmark: fc.integer({ min: 1, max: 0xffffffff }),
  scheduler: fc.constantFrom('rr', 'wrr', 'lc', 'wlc', 'sh', 'mh', 'sed', 'nq', 'fo', 'ovf', 'lblc', 'lblcr', 'dh', 'twos'),
  persistence: fc.constantFrom(0, 0, 300, 86400),
  prefix: fc.constantFrom('255.255.255.255', '255.255.255.0', '0.0.0.0'),
  p6: fc.constantFrom('128', '64', '0'),
  schedFlags: fc.subarray(['sh-fallback', 'sh-port', 'flag-3']),
  onePacket: fc.boolean(),
  pe: fc.constantFrom(undefined, undefined, 'sip'),
}).map((r) => {
  const s: VirtualService = {
    protocol: r.protocol, family: r.family, scheduler: r.scheduler, persistence: r.persistence, netmask: r.family === 'inet6' ? r.p6 : r.prefix,
    schedFlags: r.schedFlags, onePacket: r.onePacket, destinations: [],
  } as VirtualService;
  if (r.protocol === 'fwmark') s.fwmark = r.fwmark;
  else { s.address = r.family === 'inet6' ? r.a6 : r.a4; s.port = r.port; }
  if (r.pe) s.pe = r.pe;
  return s;
});

const dest: fc.Arbitrary<Destination> = fc.record({
  family: fc.constantFrom('inet', 'inet6'), a4: v4, a6: v6, port,
  forward: fc.constantFrom('masq', 'tunnel', 'droute'),
  weight: fc.oneof(fc.nat(65535), u32), upper: u32, lower: u32,
  tunType: fc.constantFrom(undefined, 'ipip', 'gue', 'gre'), tunPort: fc.oneof({ arbitrary: fc.nat(65535), weight: 9 }, { arbitrary: fc.constant(1e6), weight: 1 }),
  tunCsum: fc.constantFrom(undefined, 'nocsum', 'csum', 'remcsum'),
}).map((r) => {
  const d: Destination = {
    address: r.family === 'inet6' ? r.a6 : r.a4, port: r.port, family: r.family, forward: r.forward, weight: r.weight,
    upperThreshold: r.upper, lowerThreshold: r.lower,
  } as Destination;
  if (r.forward === 'tunnel' && r.tunType) d.tunType = r.tunType;
  if (r.forward === 'tunnel' && r.tunType === 'gue') d.tunPort = r.tunPort;
  if (r.forward === 'tunnel' && r.tunType && r.tunType !== 'ipip' && r.tunCsum) d.tunCsum = r.tunCsum;
  return d;
});

const op: fc.Arbitrary<Op> = fc.tuple(fc.constantFrom('addService', 'editService', 'delService', 'addDest', 'editDest', 'delDest', 'addDest', 'addDest', 'flush', 'zero'), service, dest, fc.boolean())
  .map(([kind, s, d, zeroAll]) => (kind === 'flush' ? { kind } : kind === 'zero' && zeroAll ? { kind } : kind.endsWith('Dest') ? { kind, service: s, dest: d } : { kind, service: s }) as Op);

/** What the code before wire.ts sent for one op: plain attribute objects through the legacy encoder. */
function oracle(o: Op, fault: boolean): Buffer {
  const s = o.service;
  let attrs: AttrValues;
  if (fault) attrs = { service: serviceIdAttrs(FAULT) };
  else if (o.kind === 'addService' || o.kind === 'editService') attrs = { service: serviceAttrs(s!) };
  else if (o.kind === 'addDest' || o.kind === 'editDest') attrs = { service: serviceIdAttrs(s!), dest: destAttrs(o.dest!) };
  else if (o.kind === 'delDest') attrs = { service: serviceIdAttrs(s!), dest: destIdAttrs(o.dest!) };
  else attrs = s ? { service: serviceIdAttrs(s) } : {};
  const cmd = fault ? 3 : opRequest(o).cmd;
  return oldEncodeGenl({ family: FAMILY, cmd, version: 1, flags: 0, seq: 0, pid: 0, attrs: oldEncodeAttrs('cmd', attrs) });
}

function errOf(fn: () => unknown): string | undefined {
  try { fn(); return undefined; } catch (e) { return `${(e as Error).constructor.name}: ${(e as Error).message}`; }
}

test('encodeOps: every op framed as the legacy encoder frames it, the fault index as the fault delete; throws where it throws', () => {
  let framed = 0;
  let refused = 0;
  fc.assert(fc.property(fc.array(op, { minLength: 1, maxLength: 12 }), fc.option(fc.nat(11), { nil: undefined }), (ops, f) => {
    const fault = f !== undefined && f < ops.length ? f : undefined;
    const want: Array<Buffer | string> = ops.map((o, i) => { try { return oracle(o, i === fault); } catch (e) { return `${(e as Error).constructor.name}: ${(e as Error).message}`; } });
    const errors = want.filter((w): w is string => typeof w === 'string');
    const err = errOf(() => encodeOps(ops, FAMILY, fault, FAULT));
    if (errors.length) {
      refused++;
      assert.ok(err && errors.includes(err), `want one of ${JSON.stringify(errors)}, got ${err}`);
      return;
    }
    assert.equal(err, undefined);
    const { buf, ends } = encodeOps(ops, FAMILY, fault, FAULT);
    assert.equal(ends[ends.length - 1], buf.length, 'no slack at the end');
    for (let i = 0; i < ops.length; i++) {
      assert.deepEqual(buf.subarray(i ? ends[i - 1] : 0, ends[i]), want[i], `op ${i} ${ops[i].kind}`);
      framed++;
    }
  }), { numRuns: RUNS / 2 });
  assert.ok(framed > RUNS && refused > 10, `framed ${framed}, refused ${refused}`);
});

test('encodeOps: a service changed in place between batches is framed afresh', () => {
  const s: VirtualService = { protocol: 'tcp', family: 'inet', address: '10.0.0.1', port: 80, scheduler: 'rr', persistence: 0, netmask: '255.255.255.255', schedFlags: [], onePacket: false, destinations: [] };
  const d: Destination = { address: '10.0.1.5', port: 80, family: 'inet', forward: 'masq', weight: 1, upperThreshold: 0, lowerThreshold: 0 };
  const a = encodeOps([{ kind: 'addDest', service: s, dest: d }], FAMILY).buf;
  s.address = '10.0.0.2';
  const b = encodeOps([{ kind: 'addDest', service: s, dest: d }], FAMILY).buf;
  assert.notDeepEqual(a, b);
  assert.deepEqual(b, oracle({ kind: 'addDest', service: s, dest: d }, false));
});

test('getDestAttrs: the GET_DEST request attributes as the generic encoder writes them', () => {
  fc.assert(fc.property(service, (s) => {
    const want = errOf(() => oldEncodeAttrs('cmd', { service: serviceIdAttrs(s) }));
    assert.equal(errOf(() => getDestAttrs(s)), want);
    if (!want) assert.deepEqual(getDestAttrs(s), oldEncodeAttrs('cmd', { service: serviceIdAttrs(s) }));
  }), { numRuns: RUNS / 4 });
});

const genericService = (p: Buffer) => decodeService(decodeAttrs('cmd', parseGenl(p).attrs, NO_STATS).service as AttrValues, false);
const genericDest = (p: Buffer, fam: VirtualService['family']) => decodeDest(decodeAttrs('cmd', parseGenl(p).attrs, NO_STATS).dest as AttrValues, fam, false);

/** fast must be null (step aside) or exactly the generic result, which must then not be an error. */
function agrees(fast: () => unknown, generic: () => unknown): boolean {
  const f = fast();
  if (f === null) return false;
  let g: unknown;
  assert.doesNotThrow(() => { g = generic(); });
  assert.deepEqual(f, g);
  assert.equal(JSON.stringify(f), JSON.stringify(g));
  return true;
}

const genl = (attrs: Buffer) => Buffer.concat([Buffer.from([1, 1, 0, 0]), attrs]);
const stats64 = { conns: 7, inpkts: 2 ** 40, outpkts: 3, inbytes: 5, outbytes: 6, cps: 1, inpps: 1, outpps: 1, inbps: 1, outbps: 1 };

/** A GET_SERVICE dump entry as the kernel sends it (ip_vs_genl_fill_service: the stats nests too). */
function serviceEntry(s: VirtualService): Buffer | undefined {
  try {
    return genl(encodeAttrs('cmd', { service: { ...serviceAttrs(s), stats: { conns: 1 }, stats64 } }));
  } catch { return undefined; }
}
function destEntry(d: Destination, conns: number): Buffer | undefined {
  try {
    return genl(encodeAttrs('cmd', { dest: { ...destAttrs(d), activeConns: conns, inactConns: conns >>> 1, persistConns: 3, stats64 } }));
  } catch { return undefined; }
}

const mutation = fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('flip', 'cut', 'grow')), { minLength: 1, maxLength: 3 });
function mutate(b: Buffer, ms: Array<[number, number, string]>): Buffer {
  let out = Buffer.from(b);
  for (const [at, v, kind] of ms) {
    const i = at % Math.max(1, out.length);
    if (kind === 'flip') out[i] = v; else if (kind === 'cut') out = out.subarray(0, i); else out = Buffer.concat([out, Buffer.alloc(1 + (v % 9), v)]);
  }
  return out;
}

test('fastService / fastDest: the generic decoder\'s objects for random entries; null or the same for mutated bytes', () => {
  let fast = 0;
  let mutatedFast = 0;
  fc.assert(fc.property(service, dest, u32, mutation, (s, d, conns, ms) => {
    const se = serviceEntry(s);
    if (se) {
      assert.ok(agrees(() => fastService(se), () => genericService(se)), 'a well-formed service entry takes the fast path');
      fast++;
      if (agrees(() => fastService(mutate(se, ms)), () => genericService(mutate(se, ms)))) mutatedFast++;
    }
    const de = destEntry(d, conns);
    if (de) {
      for (const fam of ['inet', 'inet6'] as const) assert.ok(agrees(() => fastDest(de, fam), () => genericDest(de, fam)), 'a well-formed dest entry takes the fast path');
      fast++;
      if (agrees(() => fastDest(mutate(de, ms), s.family), () => genericDest(mutate(de, ms), s.family))) mutatedFast++;
    }
  }), { numRuns: RUNS });
  assert.ok(fast > RUNS && mutatedFast > 10, `fast ${fast}, mutated and still fast ${mutatedFast}`);
});

test('fastService / fastDest on the kernel\'s captured replies: every entry decoded in place, as the generic decoder does', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const golden = JSON.parse(readFileSync(path.join(root, 'test/fixtures/netlink/decode.json'), 'utf8')) as { replies: Record<string, string[]> };
  const entries = (hex: string[]) => hex.flatMap((h) => parseMessages(Buffer.from(h, 'hex'))).filter((m) => m.type !== NLMSG_DONE && m.type !== NLMSG_ERROR).map((m) => m.payload);
  const services = entries(golden.replies.services);
  assert.ok(services.length >= 3);
  let dests = 0;
  services.forEach((p, i) => {
    assert.ok(agrees(() => fastService(p), () => genericService(p)));
    const fam = genericService(p)!.family;
    for (const dp of entries(golden.replies[`dests${i}`] ?? [])) { assert.ok(agrees(() => fastDest(dp, fam), () => genericDest(dp, fam))); dests++; }
  });
  assert.ok(dests >= 3, `dests ${dests}`);
  // Not a service entry at all, or one the generic decoder refuses: the fast path steps aside.
  assert.equal(fastService(Buffer.alloc(2)), null);
  assert.equal(fastDest(genl(encodeAttrs('cmd', { timeoutTcp: 5 })), 'inet'), null);
  assert.equal(fastService(genl(encodeAttrs('cmd', { service: { af: 2, protocol: 6, port: 80 } }))), null, 'no address');
  // An address attribute of another length than 16: whatever the generic decoder makes of it.
  for (const len of [0, 2, 4, 20]) {
    const a = Buffer.alloc(len, 7);
    // encodeAttrs writes every address as 16 bytes: this one by hand, first in its nest.
    const raw = (id: number, v: Buffer) => { const b = Buffer.alloc((4 + v.length + 3) & ~3); b.writeUInt16LE(4 + v.length, 0); b.writeUInt16LE(id, 2); v.copy(b, 4); return b; };
    const svc = genl(raw(1 | 0x8000, Buffer.concat([raw(3, a), encodeAttrs('svc', { af: 2, protocol: 6, port: 80, schedName: 'rr', flags: { flags: 0, mask: 0 } })])));
    const dst = genl(raw(2 | 0x8000, Buffer.concat([raw(1, a), encodeAttrs('dest', { port: 80, weight: 1 })])));
    assert.equal(agrees(() => fastService(svc), () => genericService(svc)) && agrees(() => fastDest(dst, 'inet'), () => genericDest(dst, 'inet')), false, `addr of ${len}`);
  }
});

test('getTable over raw dumps: DONE inside the data datagram, NOOPs between entries, a datagram split message by message, an errno at the end', async () => {
  const { NlConnection } = await import('../../src/ipvs/netlink/conn.js');
  const { NetlinkDriver } = await import('../../src/ipvs/netlink/driver.js');
  const svcs: VirtualService[] = [0, 1, 2].map((i) => ({ protocol: 'tcp', family: 'inet', address: `10.0.0.${i + 1}`, port: 80, scheduler: 'wrr', persistence: 0, netmask: '255.255.255.255', schedFlags: [], onePacket: false, destinations: [] }));
  const dests = (i: number): Destination[] => [1, 2, 3].map((k) => ({ address: `10.1.${i}.${k}`, port: 8080, family: 'inet', forward: 'masq', weight: k, upperThreshold: 0, lowerThreshold: 0, activeConns: 0, inactiveConns: 0, persistConns: 3 }));
  const frame = (type: number, seq: number, payload: Buffer, flags = 2) => {
    const b = Buffer.alloc((16 + payload.length + 3) & ~3);
    b.writeUInt32LE(16 + payload.length, 0); b.writeUInt16LE(type, 4); b.writeUInt16LE(flags, 6); b.writeUInt32LE(seq, 8); payload.copy(b, 16);
    return b;
  };
  const done = (seq: number, errno = 0) => { const p = Buffer.alloc(4); p.writeInt32LE(-errno); return frame(3, seq, p); };
  const noop = (seq: number) => frame(1, seq, Buffer.alloc(0));
  const run = async (errnoAt?: number) => {
    let recv: (d: Buffer) => void = () => {};
    let dumps = 0;
    const transport = {
      port: 77, recvBufferSize: 1 << 20,
      async send(d: Buffer) {
        const seq = d.readUInt32LE(8);
        const n = dumps++;
        const out: Buffer[] = [];
        if (n === 0) out.push(Buffer.concat([...svcs.map((s) => frame(FAMILY, seq, serviceEntry(s)!)), done(seq)]));
        else {
          const e = dests(n - 1).map((x) => frame(FAMILY, seq, destEntry(x, 0)!));
          if (n === 1) out.push(Buffer.concat(e), done(seq));
          else if (n === 2) out.push(Buffer.concat([e[0], noop(seq), e[1], e[2]]), done(seq, errnoAt === 2 ? 16 : 0));
          // A stray message of another seq in the datagram: split message by message instead.
          else out.push(Buffer.concat([e[0], frame(FAMILY, seq + 1000, destEntry(dests(9)[0], 0)!), e[1], e[2], done(seq)]));
        }
        setImmediate(() => out.forEach((b) => recv(b)));
      },
      onReceive(fn: (d: Buffer) => void) { recv = fn; }, onError() {}, setActive() {}, close() {},
    };
    return new NetlinkDriver(new NlConnection(transport), FAMILY).getTable();
  };
  const t = await run();
  assert.deepEqual(t.services.map((s) => s.destinations), [0, 1, 2].map(dests));
  assert.deepEqual(t.services.map((s) => ({ ...s, destinations: [] })), svcs);
  await assert.rejects(run(2), (e: Error & { code?: string }) => e.code === 'EBUSY' || /EBUSY/.test(String(e.message)));
});
