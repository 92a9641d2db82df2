/**
 * Netlink message framing (include/uapi/linux/netlink.h, genetlink.h): struct nlmsghdr
 * (16 bytes: len u32, type u16, flags u16, seq u32, pid u32), then for generic netlink a
 * struct genlmsghdr (4 bytes: cmd u8, version u8, reserved u16), then attributes.
 */

export const NLMSG_HDRLEN = 16;
export const GENL_HDRLEN = 4;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;

export interface NlMsg {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** Everything after the nlmsghdr. */
  payload: Buffer;
}

export interface GenlRequest {
  family: number;
  cmd: number;
  version: number;
  flags: number;
  seq: number;
  pid: number;
  attrs: Buffer;
}

const align4 = (n: number) => (n + 3) & ~3;

export function encodeGenl(r: GenlRequest): Buffer {
  const b = Buffer.alloc(genlLength(r.attrs));
  writeGenl(b, 0, r.family, r.cmd, r.version, r.flags, r.seq, r.pid, r.attrs);
  return b;
}

/** Bytes one message takes on the wire (aligned), so a batch can size one buffer for all. */
export function genlLength(attrs: Buffer): number {
  return align4(NLMSG_HDRLEN + GENL_HDRLEN + attrs.length);
}

function put16(b: Buffer, v: number, p: number): void {
  if (v >= 0 && v <= 0xffff) { b[p] = v; b[p + 1] = v >>> 8; } else b.writeUInt16LE(v, p); // out of range: throws, as before
}
function put32(b: Buffer, v: number, p: number): void {
  b[p] = v; b[p + 1] = v >>> 8; b[p + 2] = v >>> 16; b[p + 3] = v >>> 24;
}

/**
 * Write one generic netlink message at b[off...] (b zero-filled: reserved bytes and padding stay
 * 0); returns the offset after it. Byte stores, no per-message Buffer: a restore writes thousands.
 */
export function writeGenl(b: Buffer, off: number, family: number, cmd: number, version: number, flags: number, seq: number, pid: number, attrs: Buffer): number {
  const len = NLMSG_HDRLEN + GENL_HDRLEN + attrs.length;
  put32(b, len, off);
  put16(b, family, off + 4);
  put16(b, flags, off + 6);
  put32(b, seq >>> 0, off + 8);
  put32(b, pid >>> 0, off + 12);
  if (cmd >= 0 && cmd <= 0xff) b[off + 16] = cmd; else b.writeUInt8(cmd, off + 16);
  if (version >= 0 && version <= 0xff) b[off + 17] = version; else b.writeUInt8(version, off + 17);
  b.set(attrs, off + NLMSG_HDRLEN + GENL_HDRLEN);
  return off + align4(len);
}

/** Little-endian u32 at b[p] (p + 4 <= b.length). */
export function u32(b: Buffer, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

/** Split one received datagram into its messages. */
export function parseMessages(buf: Buffer): NlMsg[] {
  const out: NlMsg[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = u32(buf, off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) throw new Error(`netlink: malformed message (len ${len} at ${off} of ${buf.length})`);
    out.push({
      type: buf[off + 4] | (buf[off + 5] << 8),
      flags: buf[off + 6] | (buf[off + 7] << 8),
      seq: u32(buf, off + 8),
      pid: u32(buf, off + 12),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

export interface GenlMsg { cmd: number; version: number; attrs: Buffer }

export function parseGenl(payload: Buffer): GenlMsg {
  if (payload.length < GENL_HDRLEN) throw new Error('netlink: short generic netlink message');
  return { cmd: payload.readUInt8(0), version: payload.readUInt8(1), attrs: payload.subarray(GENL_HDRLEN) };
}

/**
 * struct nlmsgerr { int error; struct nlmsghdr msg; ... }: error is 0 for an ACK, else a
 * negative errno; returned positive here. Also used for the int in an NLMSG_DONE payload.
 */
export function parseErrno(payload: Buffer): number {
  if (payload.length < 4) return 0;
  return -payload.readInt32LE(0);
}

/** Build an NLMSG_ERROR (or ACK when errno is 0) reply, as the kernel does: for fakes and tests. */
export function encodeAck(req: { type: number; flags: number; seq: number; pid: number }, errno: number, pid = 0): Buffer {
  const b = Buffer.alloc(NLMSG_HDRLEN + 4 + NLMSG_HDRLEN);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt16LE(NLMSG_ERROR, 4);
  b.writeUInt16LE(errno ? 0 : 0x100 /* NLM_F_CAPPED */, 6);
  b.writeUInt32LE(req.seq, 8);
  b.writeUInt32LE(pid, 12);
  b.writeInt32LE(-errno, 16);
  b.writeUInt32LE(NLMSG_HDRLEN, 20);
  b.writeUInt16LE(req.type, 24);
  b.writeUInt16LE(req.flags, 26);
  b.writeUInt32LE(req.seq, 28);
  b.writeUInt32LE(req.pid, 32);
  return b;
}

/** Build a data message (e.g. one dump entry) or NLMSG_DONE: for fakes and tests. */
export function encodeReply(o: { type: number; flags: number; seq: number; pid?: number; cmd?: number; version?: number; attrs?: Buffer; done?: boolean }): Buffer {
  if (o.done) {
    const b = Buffer.alloc(NLMSG_HDRLEN + 4);
    b.writeUInt32LE(b.length, 0);
    b.writeUInt16LE(NLMSG_DONE, 4);
    b.writeUInt16LE(NLM_F_MULTI, 6);
    b.writeUInt32LE(o.seq, 8);
    b.writeUInt32LE(o.pid ?? 0, 12);
    return b;
  }
  return encodeGenl({ family: o.type, cmd: o.cmd ?? 0, version: o.version ?? 1, flags: o.flags, seq: o.seq, pid: o.pid ?? 0, attrs: o.attrs ?? Buffer.alloc(0) });
}
