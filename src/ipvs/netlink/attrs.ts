/**
 * The IPVS generic netlink attribute table, declared once and used for both encoding and
 * decoding. Ids, names and wire types are checked against the kernel's
 * include/uapi/linux/ip_vs.h (enums) and net/netfilter/ipvs/ip_vs_ctl.c (nla_policy and the
 * ip_vs_genl_fill_* functions, which say what the kernel actually puts on the wire).
 *
 * Wire types:
 *   u8/u16/u32/u64  host byte order (little-endian on every architecture lbctl ships for)
 *   be16/be32       network byte order (ports: nla_put_be16 / nla_get_be16 in the kernel)
 *   string          NUL-terminated (NLA_NUL_STRING)
 *   in_addr         union nf_inet_addr: 16 bytes, an IPv4 address in the first 4; decoded to a
 *                   Buffer because only the enclosing message's address family says which
 *   binary          raw bytes (Buffer)
 *   flags           struct ip_vs_flags { __u32 flags; __u32 mask; }, host order
 *   nested          a nested attribute set (`nested` names it)
 *   pad             alignment padding (IPVS_STATS_ATTR_PAD): skipped
 */

export type AttrType = 'u8' | 'u16' | 'be16' | 'u32' | 'be32' | 'u64' | 'string' | 'in_addr' | 'binary' | 'flags' | 'nested' | 'pad';

export interface AttrSpec {
  /** Kernel name, e.g. IPVS_SVC_ATTR_PORT. */
  name: string;
  id: number;
  /** Key in the decoded/encoded JS object, e.g. "port". */
  key: string;
  type: AttrType;
  /** For type nested: the nested set's name. */
  nested?: AttrSetName;
  /** For in_addr/binary: the length lbctl writes (the kernel accepts up to this). */
  len?: number;
}

export type AttrSetName = 'cmd' | 'svc' | 'dest' | 'daemon' | 'stats' | 'stats64' | 'info' | 'ctrl' | 'ctrlOp';

export interface IpvsFlags { flags: number; mask: number }

/** A decoded/encodable attribute set: key -> value (number, string, Buffer, IpvsFlags, nested object). */
export type AttrValues = { [key: string]: unknown };

const a = (name: string, id: number, key: string, type: AttrType, extra: Partial<AttrSpec> = {}): AttrSpec => ({ name, id, key, type, ...extra });

/** The table. Ids are the enum positions in ip_vs.h; keep them in that order. */
export const ATTR_SETS: Record<AttrSetName, AttrSpec[]> = {
  // Top level of every IPVS command (IPVS_CMD_ATTR_*). Timeouts are seconds.
  cmd: [
    a('IPVS_CMD_ATTR_SERVICE', 1, 'service', 'nested', { nested: 'svc' }),
    a('IPVS_CMD_ATTR_DEST', 2, 'dest', 'nested', { nested: 'dest' }),
    a('IPVS_CMD_ATTR_DAEMON', 3, 'daemon', 'nested', { nested: 'daemon' }),
    a('IPVS_CMD_ATTR_TIMEOUT_TCP', 4, 'timeoutTcp', 'u32'),
    a('IPVS_CMD_ATTR_TIMEOUT_TCP_FIN', 5, 'timeoutTcpFin', 'u32'),
    a('IPVS_CMD_ATTR_TIMEOUT_UDP', 6, 'timeoutUdp', 'u32'),
  ],
  svc: [
    a('IPVS_SVC_ATTR_AF', 1, 'af', 'u16'),
    a('IPVS_SVC_ATTR_PROTOCOL', 2, 'protocol', 'u16'),
    a('IPVS_SVC_ATTR_ADDR', 3, 'addr', 'in_addr', { len: 16 }),
    a('IPVS_SVC_ATTR_PORT', 4, 'port', 'be16'),
    a('IPVS_SVC_ATTR_FWMARK', 5, 'fwmark', 'u32'),
    a('IPVS_SVC_ATTR_SCHED_NAME', 6, 'schedName', 'string'),
    a('IPVS_SVC_ATTR_FLAGS', 7, 'flags', 'flags'),
    a('IPVS_SVC_ATTR_TIMEOUT', 8, 'timeout', 'u32'),
    // IPv4: the mask itself, be32 (nla_put_be32). IPv6: a prefix length the kernel reads as a
    // plain u32. Either way 4 raw bytes; the address family decides (see ipvs.ts).
    a('IPVS_SVC_ATTR_NETMASK', 9, 'netmask', 'binary', { len: 4 }),
    a('IPVS_SVC_ATTR_STATS', 10, 'stats', 'nested', { nested: 'stats' }),
    a('IPVS_SVC_ATTR_PE_NAME', 11, 'peName', 'string'),
    a('IPVS_SVC_ATTR_STATS64', 12, 'stats64', 'nested', { nested: 'stats64' }),
  ],
  dest: [
    a('IPVS_DEST_ATTR_ADDR', 1, 'addr', 'in_addr', { len: 16 }),
    a('IPVS_DEST_ATTR_PORT', 2, 'port', 'be16'),
    a('IPVS_DEST_ATTR_FWD_METHOD', 3, 'fwdMethod', 'u32'),
    a('IPVS_DEST_ATTR_WEIGHT', 4, 'weight', 'u32'),
    a('IPVS_DEST_ATTR_U_THRESH', 5, 'uThresh', 'u32'),
    a('IPVS_DEST_ATTR_L_THRESH', 6, 'lThresh', 'u32'),
    a('IPVS_DEST_ATTR_ACTIVE_CONNS', 7, 'activeConns', 'u32'),
    a('IPVS_DEST_ATTR_INACT_CONNS', 8, 'inactConns', 'u32'),
    a('IPVS_DEST_ATTR_PERSIST_CONNS', 9, 'persistConns', 'u32'),
    a('IPVS_DEST_ATTR_STATS', 10, 'stats', 'nested', { nested: 'stats' }),
    a('IPVS_DEST_ATTR_ADDR_FAMILY', 11, 'addrFamily', 'u16'),
    a('IPVS_DEST_ATTR_STATS64', 12, 'stats64', 'nested', { nested: 'stats64' }),
    a('IPVS_DEST_ATTR_TUN_TYPE', 13, 'tunType', 'u8'),
    a('IPVS_DEST_ATTR_TUN_PORT', 14, 'tunPort', 'be16'),
    a('IPVS_DEST_ATTR_TUN_FLAGS', 15, 'tunFlags', 'u16'),
  ],
  daemon: [
    a('IPVS_DAEMON_ATTR_STATE', 1, 'state', 'u32'),
    a('IPVS_DAEMON_ATTR_MCAST_IFN', 2, 'mcastIfn', 'string'),
    a('IPVS_DAEMON_ATTR_SYNC_ID', 3, 'syncId', 'u32'),
    a('IPVS_DAEMON_ATTR_SYNC_MAXLEN', 4, 'syncMaxlen', 'u16'),
    // nla_put_in_addr: 4 bytes, network order.
    a('IPVS_DAEMON_ATTR_MCAST_GROUP', 5, 'mcastGroup', 'in_addr', { len: 4 }),
    a('IPVS_DAEMON_ATTR_MCAST_GROUP6', 6, 'mcastGroup6', 'in_addr', { len: 16 }),
    // Host order: the kernel uses nla_get_u16/nla_put_u16 here, unlike the service/dest ports.
    a('IPVS_DAEMON_ATTR_MCAST_PORT', 7, 'mcastPort', 'u16'),
    a('IPVS_DAEMON_ATTR_MCAST_TTL', 8, 'mcastTtl', 'u8'),
  ],
  // IPVS_SVC_ATTR_STATS / IPVS_DEST_ATTR_STATS: 32-bit counters except the byte counts.
  stats: [
    a('IPVS_STATS_ATTR_CONNS', 1, 'conns', 'u32'),
    a('IPVS_STATS_ATTR_INPKTS', 2, 'inpkts', 'u32'),
    a('IPVS_STATS_ATTR_OUTPKTS', 3, 'outpkts', 'u32'),
    a('IPVS_STATS_ATTR_INBYTES', 4, 'inbytes', 'u64'),
    a('IPVS_STATS_ATTR_OUTBYTES', 5, 'outbytes', 'u64'),
    a('IPVS_STATS_ATTR_CPS', 6, 'cps', 'u32'),
    a('IPVS_STATS_ATTR_INPPS', 7, 'inpps', 'u32'),
    a('IPVS_STATS_ATTR_OUTPPS', 8, 'outpps', 'u32'),
    a('IPVS_STATS_ATTR_INBPS', 9, 'inbps', 'u32'),
    a('IPVS_STATS_ATTR_OUTBPS', 10, 'outbps', 'u32'),
    a('IPVS_STATS_ATTR_PAD', 11, 'pad', 'pad'),
  ],
  // IPVS_SVC_ATTR_STATS64 / IPVS_DEST_ATTR_STATS64 (kernel 4.1+): the same ids, all u64.
  stats64: [
    a('IPVS_STATS_ATTR_CONNS', 1, 'conns', 'u64'),
    a('IPVS_STATS_ATTR_INPKTS', 2, 'inpkts', 'u64'),
    a('IPVS_STATS_ATTR_OUTPKTS', 3, 'outpkts', 'u64'),
    a('IPVS_STATS_ATTR_INBYTES', 4, 'inbytes', 'u64'),
    a('IPVS_STATS_ATTR_OUTBYTES', 5, 'outbytes', 'u64'),
    a('IPVS_STATS_ATTR_CPS', 6, 'cps', 'u64'),
    a('IPVS_STATS_ATTR_INPPS', 7, 'inpps', 'u64'),
    a('IPVS_STATS_ATTR_OUTPPS', 8, 'outpps', 'u64'),
    a('IPVS_STATS_ATTR_INBPS', 9, 'inbps', 'u64'),
    a('IPVS_STATS_ATTR_OUTBPS', 10, 'outbps', 'u64'),
    a('IPVS_STATS_ATTR_PAD', 11, 'pad', 'pad'),
  ],
  // Top level of the IPVS_CMD_GET_INFO reply.
  info: [
    a('IPVS_INFO_ATTR_VERSION', 1, 'version', 'u32'),
    a('IPVS_INFO_ATTR_CONN_TAB_SIZE', 2, 'connTabSize', 'u32'),
  ],
  // The generic netlink controller (include/uapi/linux/genetlink.h), to resolve "IPVS" to its id.
  ctrl: [
    a('CTRL_ATTR_FAMILY_ID', 1, 'familyId', 'u16'),
    a('CTRL_ATTR_FAMILY_NAME', 2, 'familyName', 'string'),
    a('CTRL_ATTR_VERSION', 3, 'version', 'u32'),
    a('CTRL_ATTR_HDRSIZE', 4, 'hdrsize', 'u32'),
    a('CTRL_ATTR_MAXATTR', 5, 'maxattr', 'u32'),
    a('CTRL_ATTR_OPS', 6, 'ops', 'binary'),
  ],
  ctrlOp: [
    a('CTRL_ATTR_OP_ID', 1, 'id', 'u32'),
    a('CTRL_ATTR_OP_FLAGS', 2, 'flags', 'u32'),
  ],
};

/** IPVS_CMD_* (ip_vs.h), in enum order. */
export const IpvsCmd = {
  NEW_SERVICE: 1, SET_SERVICE: 2, DEL_SERVICE: 3, GET_SERVICE: 4,
  NEW_DEST: 5, SET_DEST: 6, DEL_DEST: 7, GET_DEST: 8,
  NEW_DAEMON: 9, DEL_DAEMON: 10, GET_DAEMON: 11,
  SET_CONFIG: 12, GET_CONFIG: 13,
  SET_INFO: 14, GET_INFO: 15,
  ZERO: 16, FLUSH: 17,
} as const;

export const IPVS_GENL_NAME = 'IPVS';
export const IPVS_GENL_VERSION = 1;
export const GENL_ID_CTRL = 0x10;
export const CTRL_CMD_GETFAMILY = 3;

const NLA_HDRLEN = 4;
const NLA_F_NESTED = 0x8000;
const NLA_F_NET_BYTEORDER = 0x4000;
const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** Per set: key -> spec and id -> spec, as plain lookups (a 10,000-server restore encodes 11,000 sets). */
const byKey = {} as Record<AttrSetName, Map<string, AttrSpec>>;
const byId = {} as Record<AttrSetName, Array<AttrSpec | undefined>>;
for (const [set, specs] of Object.entries(ATTR_SETS) as Array<[AttrSetName, AttrSpec[]]>) {
  byKey[set] = new Map(specs.map((s) => [s.key, s]));
  const ids: Array<AttrSpec | undefined> = [];
  for (const s of specs) ids[s.id] = s;
  byId[set] = ids;
}

export function attrSpec(set: AttrSetName, key: string): AttrSpec {
  const s = byKey[set].get(key);
  if (!s) throw new Error(`netlink: no attribute "${key}" in set ${set}`);
  return s;
}

const align4 = (n: number) => (n + 3) & ~3;

const FIXED_LEN: Partial<Record<AttrType, number>> = { u8: 1, u16: 2, be16: 2, u32: 4, be32: 4, u64: 8, flags: 8, pad: 0 };

/** Payload length of one value (strings: UTF-8 plus the NUL). */
function valueLen(spec: AttrSpec, v: unknown): number {
  const fixed = FIXED_LEN[spec.type];
  if (fixed !== undefined) return fixed;
  switch (spec.type) {
    case 'string': return Buffer.byteLength(v as string, 'utf8') + 1;
    case 'in_addr': return spec.len ?? (v as Buffer).length;
    case 'binary': return (v as Buffer).length;
    // A nest given already encoded (a service's identity, repeated by each of its real servers).
    default: return Buffer.isBuffer(v) ? v.length : setLen(spec.nested!, v as AttrValues);
  }
}

function setLen(set: AttrSetName, values: AttrValues): number {
  let n = 0;
  for (const key in values) {
    const v = values[key];
    const spec = attrSpec(set, key); // unknown key = programming error
    if (v !== undefined) n += NLA_HDRLEN + align4(valueLen(spec, v));
  }
  return n;
}

/** buf[p, p+2) = v little-endian; out-of-range values go through writeUInt16LE, which throws as before. */
export function put16le(buf: Buffer, v: number, p: number): void {
  if (v >= 0 && v <= 0xffff) { buf[p] = v; buf[p + 1] = v >>> 8; } else buf.writeUInt16LE(v, p);
}

export function put32le(buf: Buffer, v: number, p: number): void {
  buf[p] = v; buf[p + 1] = v >>> 8; buf[p + 2] = v >>> 16; buf[p + 3] = v >>> 24;
}

/**
 * Write `values` at buf[off...]; returns the new offset. buf is zero-filled, so padding is too.
 * Byte stores rather than Buffer's write methods: under qemu TCG each call into them costs more
 * than the store itself.
 */
function writeSet(set: AttrSetName, values: AttrValues, buf: Buffer, off: number): number {
  for (const key in values) {
    const v = values[key];
    if (v === undefined) continue;
    const spec = attrSpec(set, key);
    const start = off;
    const p = off + NLA_HDRLEN;
    let len: number;
    switch (spec.type) {
      case 'u8': buf[p] = v as number; len = 1; break;
      case 'u16': put16le(buf, v as number, p); len = 2; break;
      case 'be16': if ((v as number) >= 0 && (v as number) <= 0xffff) { buf[p] = (v as number) >>> 8; buf[p + 1] = v as number; } else buf.writeUInt16BE(v as number, p); len = 2; break;
      case 'u32': put32le(buf, (v as number) >>> 0, p); len = 4; break;
      case 'be32': buf.writeUInt32BE((v as number) >>> 0, p); len = 4; break;
      case 'u64': buf.writeBigUInt64LE(BigInt(v as number), p); len = 8; break;
      case 'string': len = buf.write(v as string, p, 'utf8') + 1; break; // the NUL is already there
      case 'in_addr': {
        len = spec.len ?? (v as Buffer).length;
        const n = Math.min(len, (v as Buffer).length);
        if (v instanceof Uint8Array && n <= 16) for (let i = 0; i < n; i++) buf[p + i] = v[i];
        else (v as Buffer).copy(buf, p, 0, n);
        break;
      }
      case 'binary': len = (v as Buffer).copy(buf, p); break;
      case 'flags': put32le(buf, (v as IpvsFlags).flags >>> 0, p); put32le(buf, (v as IpvsFlags).mask >>> 0, p + 4); len = 8; break;
      case 'nested':
        if (Buffer.isBuffer(v)) { buf.set(v, p); len = v.length; } else len = writeSet(spec.nested!, v as AttrValues, buf, p) - p;
        break;
      case 'pad': len = 0; break;
    }
    put16le(buf, NLA_HDRLEN + len, start);
    // NLA_F_NESTED on nests, as libnl (and so ipvsadm) sends them; the kernel accepts either.
    put16le(buf, spec.id | (spec.type === 'nested' ? NLA_F_NESTED : 0), start + 2);
    off = start + NLA_HDRLEN + align4(len);
  }
  return off;
}

/**
 * Encode an attribute set. Attributes go on the wire in the object's key order (the kernel does
 * not care; ipvsadm's order is kept so captured ipvsadm requests serve as golden data), undefined
 * values are skipped, and an unknown key throws (a programming error). One allocation per call:
 * a 10,000-server restore encodes 11,000 of these.
 */
export function encodeAttrs(set: AttrSetName, values: AttrValues): Buffer {
  const buf = Buffer.alloc(setLen(set, values));
  writeSet(set, values, buf, 0);
  return buf;
}

const MIN_LEN: Partial<Record<AttrType, number>> = { u8: 1, u16: 2, be16: 2, u32: 4, be32: 4, u64: 8, flags: 8 };

/** Decode one attribute's payload at buf[off, off+len) (no copies: a dump decodes thousands). */
function decodeValue(spec: AttrSpec, buf: Buffer, off: number, len: number, skip?: ReadonlySet<string>): unknown {
  if (len < (MIN_LEN[spec.type] ?? 0)) throw new Error(`netlink: attribute ${spec.name} is ${len} bytes, expected ${MIN_LEN[spec.type]}`);
  // In range: decodeRange keeps off+len within buf, and len is at least the width read.
  switch (spec.type) {
    case 'u8': return buf[off];
    case 'u16': return buf[off] | (buf[off + 1] << 8);
    case 'be16': return (buf[off] << 8) | buf[off + 1];
    case 'u32': return (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
    case 'be32': return buf.readUInt32BE(off);
    // Counters as JS numbers: exact up to 2^53 (9 PB of traffic), which is what --json promises.
    case 'u64': return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * 0x100000000;
    case 'string': { const end = buf.indexOf(0, off); return buf.toString('utf8', off, end < 0 || end > off + len ? off + len : end); }
    // A view into the received datagram, valid while the caller decodes it.
    case 'in_addr': case 'binary': return buf.subarray(off, off + len);
    case 'flags': return { flags: buf.readUInt32LE(off), mask: buf.readUInt32LE(off + 4) } satisfies IpvsFlags;
    case 'nested': return decodeRange(spec.nested!, buf, off, off + len, skip);
    case 'pad': return undefined;
  }
}

function decodeRange(set: AttrSetName, buf: Buffer, start: number, end: number, skip?: ReadonlySet<string>): AttrValues {
  const out: AttrValues = {};
  const ids = byId[set];
  let off = start;
  while (off + NLA_HDRLEN <= end) {
    const len = buf[off] | (buf[off + 1] << 8);
    if (len < NLA_HDRLEN || off + len > end) throw new Error(`netlink: malformed attribute (len ${len}) in set ${set}`);
    const spec = ids[(buf[off + 2] | (buf[off + 3] << 8)) & NLA_TYPE_MASK];
    if (spec && spec.type !== 'pad' && !(skip && skip.has(spec.key))) out[spec.key] = decodeValue(spec, buf, off + NLA_HDRLEN, len - NLA_HDRLEN, skip);
    off += align4(len);
  }
  return out;
}

/**
 * Decode an attribute stream with a set from the table. Unknown ids are ignored (a newer kernel
 * may send more); malformed lengths throw. Keys in `skip` are not decoded at any depth (e.g. the
 * stats nests when only the configuration is wanted). in_addr/binary values are views into buf.
 */
export function decodeAttrs(set: AttrSetName, buf: Buffer, skip?: ReadonlySet<string>): AttrValues {
  return decodeRange(set, buf, 0, buf.length, skip);
}

/** Split a nested list (e.g. CTRL_ATTR_OPS: one nested attribute per op) into its elements' payloads. */
export function splitNestedList(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > buf.length) break;
    out.push(buf.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
}
