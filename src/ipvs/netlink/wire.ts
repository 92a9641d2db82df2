/**
 * The hot paths of a restore, written against the bytes: every write op of a batch framed
 * straight into one buffer (encodeOps), and GET_SERVICE / GET_DEST dump entries decoded field by
 * field into the model (fastService, fastDest). Under qemu TCG a short process runs mostly in
 * V8's interpreter, where each call, object and property store per rule counts: the generic
 * attribute-table path (attrs.ts) costs several of each per attribute.
 *
 * Both produce exactly what the generic path does (test/unit/nl8-wire.test.ts compares them
 * over random ops and mutated kernel replies). The decoders only take entries that are well
 * formed in every way the generic path checks and return null for anything else, so the caller
 * decodes that one the generic way and gets its result or its error.
 */
import { PROTOCOLS, TunTypeNum } from '../constants.js';
import type { Op } from '../driver.js';
import type { Destination, VirtualService } from '../model.js';
import { encodeAttrs, IPVS_GENL_VERSION, IpvsCmd, put16le, put32le } from './attrs.js';
import {
  addrBytes, afOf, buildDest, buildService, CSUM_FLAG, FWD_NUM, netmaskBytes, opRequest, serviceFlags, serviceIdAttrs, serviceIdBytes, type ServiceId,
} from './ipvs.js';
import { NLMSG_HDRLEN, GENL_HDRLEN } from './message.js';

const NLA_F_NESTED = 0x8000;
const NLA_TYPE_MASK = 0x3fff;
const HDR = NLMSG_HDRLEN + GENL_HDRLEN;
/** IPVS_CMD_ATTR_SERVICE / _DEST with NLA_F_NESTED, as writeSet sends nests. */
const SVC_NEST = 1 | NLA_F_NESTED;
const DEST_NEST = 2 | NLA_F_NESTED;

/** A batch's messages framed back to back in one buffer, nothing after; message i is [ends[i-1] (0 for i=0), ends[i]). */
export interface Wire { buf: Buffer; ends: Uint32Array }

// Attribute writers: each writes header and value at b[o...] and returns the next (aligned)
// offset, with writeSet's exact semantics (undefined skipped, the same range handling).
function u16(b: Buffer, o: number, id: number, v: number | undefined): number {
  if (v === undefined) return o;
  b[o] = 6; b[o + 2] = id;
  put16le(b, v, o + 4);
  return o + 8;
}
function be16(b: Buffer, o: number, id: number, v: number | undefined): number {
  if (v === undefined) return o;
  b[o] = 6; b[o + 2] = id;
  if (v >= 0 && v <= 0xffff) { b[o + 4] = v >>> 8; b[o + 5] = v; } else b.writeUInt16BE(v, o + 4);
  return o + 8;
}
function u32(b: Buffer, o: number, id: number, v: number | undefined): number {
  if (v === undefined) return o;
  b[o] = 8; b[o + 2] = id;
  put32le(b, v >>> 0, o + 4);
  return o + 8;
}
function inAddr(b: Buffer, o: number, id: number, v: Buffer): number {
  b[o] = 20; b[o + 2] = id;
  const n = v.length < 16 ? v.length : 16;
  for (let i = 0; i < n; i++) b[o + 4 + i] = v[i];
  return o + 20;
}
function str(b: Buffer, o: number, id: number, v: string | undefined): number {
  if (v === undefined) return o;
  const len = 4 + b.write(v, o + 4, 'utf8') + 1; // the NUL is already there
  put16le(b, len, o);
  b[o + 2] = id;
  return o + ((len + 3) & ~3);
}
function nest(b: Buffer, o: number, id: number, bytes: Buffer): number {
  put16le(b, 4 + bytes.length, o);
  put16le(b, id, o + 2);
  b.set(bytes, o + 4);
  return o + 4 + bytes.length;
}

/** serviceIdAttrs in place (af + fwmark, or af + protocol + addr + port). */
function serviceId(b: Buffer, o: number, s: ServiceId): number {
  o = u16(b, o, 1, afOf(s.family));
  if (s.protocol === 'fwmark') return u32(b, o, 5, s.fwmark);
  o = u16(b, o, 2, PROTOCOLS[s.protocol]);
  o = inAddr(b, o, 3, addrBytes(s.address!));
  return be16(b, o, 4, s.port);
}

const netmasks = new Map<string, Buffer>();

/** serviceAttrs in place, in its order. */
function serviceAll(b: Buffer, o: number, s: VirtualService): number {
  o = serviceId(b, o, s);
  o = str(b, o, 6, s.scheduler);
  o = str(b, o, 11, s.pe || undefined);
  const f = serviceFlags(s);
  b[o] = 12; b[o + 2] = 7;
  put32le(b, f.flags >>> 0, o + 4); put32le(b, f.mask >>> 0, o + 8);
  o = u32(b, o + 12, 8, s.persistence);
  const key = s.family + s.netmask;
  let nm = netmasks.get(key);
  if (!nm) { nm = netmaskBytes(s.family, s.netmask); if (netmasks.size < 1000) netmasks.set(key, nm); }
  b[o] = 8; b[o + 2] = 9;
  b[o + 4] = nm[0]; b[o + 5] = nm[1]; b[o + 6] = nm[2]; b[o + 7] = nm[3];
  return o + 8;
}

/** destAttrs in place, in its order. */
function destAll(b: Buffer, o: number, d: Destination): number {
  const tunnel = d.forward === 'tunnel';
  o = u16(b, o, 11, afOf(d.family));
  o = inAddr(b, o, 1, addrBytes(d.address));
  o = be16(b, o, 2, d.port);
  o = u32(b, o, 3, FWD_NUM[d.forward]);
  o = u32(b, o, 4, d.weight);
  const tunType = tunnel ? TunTypeNum[d.tunType ?? 'ipip'] : 0;
  if (tunType !== undefined) { b[o] = 5; b[o + 2] = 13; b[o + 4] = tunType; o += 8; }
  o = be16(b, o, 14, tunnel && d.tunType === 'gue' ? d.tunPort ?? 0 : 0);
  o = u16(b, o, 15, tunnel && d.tunCsum ? CSUM_FLAG[d.tunCsum] : 0);
  o = u32(b, o, 5, d.upperThreshold);
  return u32(b, o, 6, d.lowerThreshold);
}

/** Bytes a service op may take at most: fixed attributes plus its strings at 3 UTF-8 bytes a unit. */
const SVC_MAX = HDR + 4 + 8 + 8 + 20 + 8 + 8 + 12 + 8 + 8 + 16;
/** A real-server op: the service identity (at most 48) and every dest attribute (108). */
const DEST_MAX = HDR + 4 + 48 + 4 + 108;

/**
 * Frame ops as IPVS messages (flags, seq and pid left 0: conn.batchWire fills them per window).
 * The fault index (LBCTL_FAULT_IPVS) becomes the delete of `faultService`. Throws where
 * encodeAttrs(opRequest(op)) would, before anything is sent.
 */
export function encodeOps(ops: Op[], family: number, fault?: number, faultService?: ServiceId): Wire {
  let size = 0;
  const rare: Array<Buffer | undefined> = new Array(ops.length);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const k = op.kind;
    if (i !== fault && (k === 'addDest' || k === 'editDest' || k === 'delDest')) size += DEST_MAX;
    else if (i !== fault && (k === 'addService' || k === 'editService')) {
      const s = op.service!;
      size += SVC_MAX + 3 * ((s.scheduler?.length ?? 0) + (s.pe?.length ?? 0));
    } else {
      // Flush, zero, delete service, the fault: a few per restore at most; the generic encoder.
      const attrs = i === fault ? { service: serviceIdAttrs(faultService!) } : opRequest(op).attrs;
      const b = encodeAttrs('cmd', attrs);
      rare[i] = b;
      size += HDR + b.length;
    }
  }
  const buf = Buffer.alloc(size);
  const ends = new Uint32Array(ops.length);
  let o = 0;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const start = o;
    let cmd: number;
    o += HDR;
    const r = rare[i];
    if (r) {
      cmd = i === fault ? IpvsCmd.DEL_SERVICE : opRequest(op).cmd;
      buf.set(r, o);
      o += r.length;
    } else {
      switch (op.kind) {
        case 'addDest': case 'editDest': case 'delDest': {
          cmd = op.kind === 'addDest' ? IpvsCmd.NEW_DEST : op.kind === 'editDest' ? IpvsCmd.SET_DEST : IpvsCmd.DEL_DEST;
          o = nest(buf, o, SVC_NEST, serviceIdBytes(op.service!));
          const d = o;
          if (op.kind === 'delDest') {
            o = u16(buf, o + 4, 11, afOf(op.dest!.family));
            o = inAddr(buf, o, 1, addrBytes(op.dest!.address));
            o = be16(buf, o, 2, op.dest!.port);
          } else o = destAll(buf, o + 4, op.dest!);
          put16le(buf, o - d, d); put16le(buf, DEST_NEST, d + 2);
          break;
        }
        default: {
          cmd = op.kind === 'addService' ? IpvsCmd.NEW_SERVICE : IpvsCmd.SET_SERVICE;
          const n = o;
          o = serviceAll(buf, o + 4, op.service!);
          put16le(buf, o - n, n); put16le(buf, SVC_NEST, n + 2);
        }
      }
    }
    put32le(buf, o - start, start);
    put16le(buf, family, start + 4);
    buf[start + 16] = cmd;
    buf[start + 17] = IPVS_GENL_VERSION;
    ends[i] = o;
  }
  return { buf: o === buf.length ? buf : buf.subarray(0, o), ends };
}

/** The GET_DEST dump request's attributes for one service (its identity nest, cached). */
export function getDestAttrs(s: ServiceId): Buffer {
  const id = serviceIdBytes(s);
  const b = Buffer.alloc(4 + id.length);
  nest(b, 0, SVC_NEST, id);
  return b;
}

/** The end of the nest findNest found last (a module variable: no pair allocated per dump entry). */
let nestEnd = 0;

/**
 * The start of the top-level nest `want` (1 = service, 2 = destination) among the attributes of
 * p[from + genl header, end), its end in nestEnd; -1 when it is missing, an attribute is
 * malformed, or another of the top-level ids 1-6 is there too (decode that entry the generic way).
 */
function findNest(p: Buffer, from: number, end: number, want: number): number {
  let s = -1;
  let o = from + GENL_HDRLEN;
  if (end < o) return -1;
  while (o + 4 <= end) {
    const len = p[o] | (p[o + 1] << 8);
    if (len < 4 || o + len > end) return -1;
    const id = (p[o + 2] | (p[o + 3] << 8)) & NLA_TYPE_MASK;
    if (id === want) { s = o + 4; nestEnd = o + len; } else if (id >= 1 && id <= 6) return -1;
    o += (len + 3) & ~3;
  }
  return s;
}

/**
 * A GET_SERVICE dump entry (p[from, end): the genl payload, genlmsghdr + attributes) without stats, or
 * undefined for a protocol lbctl does not model, or null: decode it the generic way.
 */
export function fastService(p: Buffer, from = 0, end = p.length): VirtualService | undefined | null {
  const s = findNest(p, from, end, 1);
  if (s < 0) return null;
  const e = nestEnd;
  let af: number | undefined; let protocol: number | undefined; let addr = -1; let port: number | undefined; let fwmark: number | undefined;
  let sched: string | undefined; let flags: number | undefined; let timeout: number | undefined; let netmask = -1; let pe: string | undefined;
  let o = s;
  while (o + 4 <= e) {
    const len = p[o] | (p[o + 1] << 8);
    if (len < 4 || o + len > e) return null;
    const v = o + 4;
    const n = len - 4;
    switch ((p[o + 2] | (p[o + 3] << 8)) & NLA_TYPE_MASK) {
      case 1: if (n < 2) return null; af = p[v] | (p[v + 1] << 8); break;
      case 2: if (n < 2) return null; protocol = p[v] | (p[v + 1] << 8); break;
      case 3: if (n !== 16) return null; addr = v; break;
      case 4: if (n < 2) return null; port = (p[v] << 8) | p[v + 1]; break;
      case 5: if (n < 4) return null; fwmark = (p[v] | (p[v + 1] << 8) | (p[v + 2] << 16) | (p[v + 3] << 24)) >>> 0; break;
      case 6: sched = cstr(p, v, n); break;
      case 7: if (n < 8) return null; flags = p.readUInt32LE(v); break;
      case 8: if (n < 4) return null; timeout = (p[v] | (p[v + 1] << 8) | (p[v + 2] << 16) | (p[v + 3] << 24)) >>> 0; break;
      case 9: if (n !== 4) return null; netmask = v; break;
      case 11: pe = cstr(p, v, n); break;
      default: break; // stats nests (not decoded without --stats) and ids a newer kernel added
    }
    o += (len + 3) & ~3;
  }
  // The generic decoder throws on a missing address of a non-fwmark service; so does this, there.
  if (addr < 0 && !fwmark) return null;
  return buildService(af, protocol, p, addr, port, fwmark, sched, flags, timeout, netmask < 0 ? undefined : p, netmask, pe, false, undefined);
}

/** decodeValue's string: up to the first NUL inside the attribute. */
function cstr(p: Buffer, v: number, n: number): string {
  const z = p.indexOf(0, v);
  return p.toString('utf8', v, z < 0 || z > v + n ? v + n : z);
}

/** A GET_DEST dump entry (p[from, end): the genl payload) without stats, or null: decode it the generic way. */
export function fastDest(p: Buffer, svcFamily: VirtualService['family'], from = 0, end = p.length): Destination | null {
  const s = findNest(p, from, end, 2);
  if (s < 0) return null;
  const e = nestEnd;
  let addr = -1; let port: number | undefined; let fwd: number | undefined; let weight: number | undefined; let uT: number | undefined; let lT: number | undefined;
  let act: number | undefined; let inact: number | undefined; let pers: number | undefined; let afam: number | undefined;
  let tunType: number | undefined; let tunPort: number | undefined; let tunFlags: number | undefined;
  let o = s;
  while (o + 4 <= e) {
    const len = p[o] | (p[o + 1] << 8);
    if (len < 4 || o + len > e) return null;
    const v = o + 4;
    const n = len - 4;
    const id = (p[o + 2] | (p[o + 3] << 8)) & NLA_TYPE_MASK;
    if (id === 1) { if (n !== 16) return null; addr = v; } else if (id === 2) { if (n < 2) return null; port = (p[v] << 8) | p[v + 1]; } else if (id === 11) { if (n < 2) return null; afam = p[v] | (p[v + 1] << 8); } else if (id === 13) { if (n < 1) return null; tunType = p[v]; } else if (id === 14) { if (n < 2) return null; tunPort = (p[v] << 8) | p[v + 1]; } else if (id === 15) { if (n < 2) return null; tunFlags = p[v] | (p[v + 1] << 8); } else if ((id >= 3 && id <= 9)) {
      if (n < 4) return null;
      const x = (p[v] | (p[v + 1] << 8) | (p[v + 2] << 16) | (p[v + 3] << 24)) >>> 0;
      if (id === 3) fwd = x; else if (id === 4) weight = x; else if (id === 5) uT = x; else if (id === 6) lT = x; else if (id === 7) act = x; else if (id === 8) inact = x; else pers = x;
    }
    o += (len + 3) & ~3;
  }
  if (addr < 0) return null;
  return buildDest(afam, svcFamily, p, addr, port, fwd, weight, uT, lT, tunType, tunPort, tunFlags, act, inact, pers, false, undefined);
}
