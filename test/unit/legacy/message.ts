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
  const len = NLMSG_HDRLEN + GENL_HDRLEN + r.attrs.length;
  const b = Buffer.alloc(align4(len));
  b.writeUInt32LE(len, 0);
  b.writeUInt16LE(r.family, 4);
  b.writeUInt16LE(r.flags, 6);
  b.writeUInt32LE(r.seq >>> 0, 8);
  b.writeUInt32LE(r.pid >>> 0, 12);
  b.writeUInt8(r.cmd, 16);
  b.writeUInt8(r.version, 17);
  r.attrs.copy(b, NLMSG_HDRLEN + GENL_HDRLEN);
  return b;
}

/** Split one received datagram into its messages. */
export function parseMessages(buf: Buffer): NlMsg[] {
  const out: NlMsg[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) throw new Error(`netlink: malformed message (len ${len} at ${off} of ${buf.length})`);
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
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
