/**
 * A generic netlink connection: sequence numbers, request/reply matching, dumps, and pipelined
 * batches. It talks to a Transport (one datagram socket), so unit tests can put a
 * message-level fake kernel behind it.
 *
 * Why not the `netlink` package's NetlinkSocket: its request() waits for one reply at a time
 * and turns a kernel error into the string "Request rejected: <code>", dropping the errno, and
 * it has no way to pipeline. lbctl uses only the package's RawNetlinkSocket (the native
 * socket) and does the framing here.
 */
import { RejectedError, TimeoutError } from '../../cli/errors.js';
import {
  encodeGenl, genlLength, u32, writeGenl, NLMSG_HDRLEN, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN,
  parseErrno, parseMessages, type NlMsg,
} from './message.js';

export interface Transport {
  /** The socket's bound port (nl_pid). */
  readonly port: number;
  /** SO_RCVBUF as the kernel accounts it (bytes). */
  readonly recvBufferSize: number;
  /** Send one datagram holding one or more messages. Resolves once the kernel took it. */
  send(datagram: Buffer): Promise<void>;
  onReceive(fn: (datagram: Buffer) => void): void;
  onError(fn: (err: Error & { errno?: number; code?: string }) => void): void;
  /** Keep the process alive while requests are outstanding, and only then. */
  setActive(active: boolean): void;
  close(): void;
}

/** The kernel said no: errno is positive (EEXIST = 17). */
export class KernelErrno extends Error {
  constructor(readonly errno: number, readonly seq: number) {
    super(`kernel error ${errno}`);
  }
}

interface Pending {
  dump: boolean;
  msgs: NlMsg[];
  /** When lbctl gives up waiting (ms since epoch); checked by one sweeper, not a timer each. */
  deadline: number;
  what: string;
  /** The message's place in its batch window (0 for single requests), handed to done. */
  index: number;
  done: (err: Error | undefined, msgs: NlMsg[], index: number, raw?: Buffer[]) => void;
  /** A raw dump (dumpRaw): the reply's datagrams, not split into messages. */
  raw: Buffer[] | undefined;
}

const NO_MSGS: NlMsg[] = [];

/**
 * each: NLM_F_ACK on every message (an ACK per change, positive confirmation; the default);
 * errors: NLM_F_ACK only on each window's last message, which acts as a barrier; failures still
 * come back one by one as NLMSG_ERROR. Same result, a fraction of the replies to read.
 */
export type AckMode = 'each' | 'errors';

export interface BatchMessage { family: number; cmd: number; version: number; attrs: Buffer }

export interface BatchFailure {
  index: number;
  errno: number;
  /** Later messages of the failing window that the kernel applied anyway (it does not stop at an error). */
  appliedAfter: number;
  /** Later messages of that window that failed too. */
  failedAfter: number;
  /** Every failing index of that window (msgs); with `sent`, says exactly which messages took effect. */
  failed: number[];
  /** Messages handed to the kernel (the end of the failing window): those from `sent` on were never sent. */
  sent: number;
}

/**
 * Bytes of receive buffer one ACK costs (skb truesize: the 36-byte message plus sk_buff and
 * skb_shared_info overhead, rounded up generously). Used to size batch windows so the kernel
 * never has to drop an ACK: netlink has no flow control toward user space.
 */
export const ACK_TRUESIZE = 1024;

/** Default time a single kernel exchange may take before lbctl gives up on it. */
const REQUEST_TIMEOUT_MS = Number(process.env.LBCTL_NETLINK_TIMEOUT_MS ?? 60_000);

export class NlConnection {
  private seq: number;
  private readonly pending = new Map<number, Pending>();
  private broken: Error | undefined;
  /**
   * The kernel runs one dump per socket at a time (EBUSY otherwise): while one runs, later dumps
   * wait here and start as it ends. A queue rather than a promise chain: a no-op restore of
   * 10,000 real servers makes 1,001 dumps, and each link of a chain costs two more promises.
   */
  private dumping = false;
  private readonly dumpQueue: Array<() => void> = [];
  private sweeper: NodeJS.Timeout | undefined;

  private readonly timeoutMs: number;

  constructor(readonly transport: Transport, opts: { timeoutMs?: number } = {}) {
    this.timeoutMs = opts.timeoutMs ?? REQUEST_TIMEOUT_MS;
    // Random start, so replies meant for an earlier process on a reused port never match.
    this.seq = (Math.floor(Math.random() * 0x7fffffff) + 1) >>> 0;
    transport.onReceive((d) => this.receive(d));
    transport.onError((e) => this.failAll(e));
  }

  private nextSeq(): number {
    this.seq = (this.seq % 0xfffffffe) + 1;
    return this.seq;
  }

  /** How many ACKed requests fit in one window without overflowing the receive buffer. */
  windowSize(): number {
    return Math.max(8, Math.min(1024, Math.floor(this.transport.recvBufferSize / 2 / ACK_TRUESIZE)));
  }

  private receive(datagram: Buffer): void {
    // ACK datagrams (a batch gets thousands) are read in place; anything else is split into messages.
    if (this.receiveAcks(datagram) || this.receiveRawDump(datagram)) return;
    let msgs: NlMsg[];
    try { msgs = parseMessages(datagram); } catch (e) {
      this.failAll(new RejectedError(`the kernel sent a malformed netlink message (${(e as Error).message})`, { code: 'EBADREPLY', hint: 'rerun; if it persists, try --driver ipvsadm and report it' }));
      return;
    }
    for (const m of msgs) {
      const p = this.pending.get(m.seq);
      if (!p) continue; // a late reply to something already given up on
      if (m.type === NLMSG_ERROR) {
        const errno = parseErrno(m.payload);
        this.finish(m.seq, errno ? new KernelErrno(errno, m.seq) : undefined);
      } else if (m.type === NLMSG_DONE) {
        const errno = parseErrno(m.payload);
        this.finish(m.seq, errno ? new KernelErrno(errno, m.seq) : undefined);
      } else if (m.type === NLMSG_NOOP || m.type === NLMSG_OVERRUN) {
        continue;
      } else if (p.raw) {
        // The message, header included: the payload's own bytes with the 16 before them.
        p.raw.push(Buffer.from(m.payload.buffer, m.payload.byteOffset - NLMSG_HDRLEN, m.payload.length + NLMSG_HDRLEN));
      } else {
        if (p.msgs === NO_MSGS) p.msgs = [m]; else p.msgs.push(m);
      }
    }
  }

  /**
   * A datagram made only of well-formed NLMSG_ERROR messages (ACKs and errors): settled straight
   * from the bytes, as the loop in receive() would, without a message object each. False (and
   * nothing done) for anything else.
   */
  private receiveAcks(d: Buffer): boolean {
    let off = 0;
    while (off + NLMSG_HDRLEN <= d.length) {
      const len = u32(d, off);
      if (len < NLMSG_HDRLEN || off + len > d.length || (d[off + 4] | (d[off + 5] << 8)) !== NLMSG_ERROR) return false;
      off += (len + 3) & ~3;
    }
    off = 0;
    while (off + NLMSG_HDRLEN <= d.length) {
      const len = u32(d, off);
      const seq = u32(d, off + 8);
      if (this.pending.has(seq)) {
        // parseErrno: the nlmsgerr's int error, negative; a payload too short for it reads as 0.
        const errno = len - NLMSG_HDRLEN < 4 ? 0 : -d.readInt32LE(off + NLMSG_HDRLEN);
        this.finish(seq, errno ? new KernelErrno(errno, seq) : undefined);
      }
      off += (len + 3) & ~3;
    }
    return true;
  }

  /**
   * A datagram of a raw dump's reply (every message well formed and of its seq): kept whole, up
   * to its NLMSG_DONE/ERROR, which settles the dump as receive() would. False (nothing done) for
   * anything else, which receive() then splits message by message.
   */
  private receiveRawDump(d: Buffer): boolean {
    if (d.length < NLMSG_HDRLEN) return false;
    const seq = u32(d, 8);
    const p = this.pending.get(seq);
    if (!p || !p.raw) return false;
    let off = 0;
    let end = -1;
    while (off + NLMSG_HDRLEN <= d.length) {
      const len = u32(d, off);
      if (len < NLMSG_HDRLEN || off + len > d.length || u32(d, off + 8) !== seq) return false;
      const type = d[off + 4] | (d[off + 5] << 8);
      if (end < 0 && (type === NLMSG_DONE || type === NLMSG_ERROR)) end = off;
      off += (len + 3) & ~3;
    }
    if (end !== 0) p.raw.push(end < 0 ? d : d.subarray(0, end));
    if (end >= 0) {
      const len = u32(d, end);
      const errno = parseErrno(d.subarray(end + NLMSG_HDRLEN, end + len));
      this.finish(seq, errno ? new KernelErrno(errno, seq) : undefined);
    }
    return true;
  }

  private finish(seq: number, err: Error | undefined): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    if (!this.pending.size) {
      this.transport.setActive(false);
      if (this.sweeper) { clearInterval(this.sweeper); this.sweeper = undefined; }
    }
    p.done(err, p.msgs, p.index, p.raw);
  }

  private failAll(e: Error & { code?: string }): void {
    const err = e.code === 'ENOBUFS'
      ? new RejectedError('netlink receive buffer overflowed: kernel replies were lost', { code: 'ENOBUFS', hint: 'rerun; if it persists, report it' })
      : e;
    this.broken = err;
    for (const seq of [...this.pending.keys()]) this.finish(seq, err);
  }

  private register(seq: number, dump: boolean, what: string, done: Pending['done'], index = 0, deadline = Date.now() + this.timeoutMs, batched = false, raw = false): void {
    if (!this.pending.size) {
      this.transport.setActive(true);
      this.sweeper ??= setInterval(() => this.sweep(), Math.min(1000, this.timeoutMs));
      this.sweeper.unref?.();
    }
    // Writes get no replies but ACKs: they share one empty list instead of one each.
    this.pending.set(seq, { dump, msgs: batched || raw ? NO_MSGS : [], deadline, what, index, done, raw: raw ? [] : undefined });
  }

  /** Fails requests past their deadline: one timer for the connection while anything is pending. */
  private sweep(): void {
    const now = Date.now();
    for (const [seq, p] of this.pending) {
      if (p.deadline <= now) this.finish(seq, new TimeoutError(`no reply from the kernel to ${p.what} within ${this.timeoutMs / 1000}s`, { code: 'ENOREPLY', hint: 'nothing more was sent; rerun, or try --driver ipvsadm' }));
    }
  }

  /**
   * One request. A dump collects every NLM_F_MULTI part until NLMSG_DONE; otherwise the
   * request carries NLM_F_ACK and resolves with any reply once the ACK arrives. A kernel error
   * rejects with KernelErrno.
   */
  request(m: BatchMessage, opts: { dump?: boolean } = {}): Promise<NlMsg[]> {
    if (!opts.dump) return this.send1(m, false);
    return this.dump(m, false);
  }

  /**
   * A dump whose reply comes as the datagrams themselves (each holding whole messages of this
   * dump, data only: NLMSG_DONE/ERROR and what follows are cut off), for callers that walk the
   * bytes (wire.ts) instead of a message object each. Errors as request().
   */
  dumpRaw(m: BatchMessage): Promise<Buffer[]> {
    return this.dump(m, true);
  }

  private dump(m: BatchMessage, raw: false): Promise<NlMsg[]>;
  private dump(m: BatchMessage, raw: true): Promise<Buffer[]>;
  private dump(m: BatchMessage, raw: boolean): Promise<NlMsg[] | Buffer[]> {
    return new Promise((resolve, reject) => {
      const start = () => this.start1(m, true, (err, msgs, _i, datagrams) => {
        const next = this.dumpQueue.shift();
        if (next) next(); else this.dumping = false;
        if (err) reject(err); else resolve(raw ? datagrams! : msgs);
      }, raw);
      if (this.dumping) this.dumpQueue.push(start);
      else { this.dumping = true; start(); }
    });
  }

  private send1(m: BatchMessage, dump: boolean): Promise<NlMsg[]> {
    return new Promise<NlMsg[]>((resolve, reject) => this.start1(m, dump, (err, msgs) => (err ? reject(err) : resolve(msgs))));
  }

  /** Send one request; done is called exactly once, with the reply or the error. */
  private start1(m: BatchMessage, dump: boolean, done: Pending['done'], raw = false): void {
    if (this.broken) { done(this.broken, NO_MSGS, 0); return; }
    const seq = this.nextSeq();
    const flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
    this.register(seq, dump, `request ${m.cmd}`, done, undefined, undefined, false, raw);
    let datagram: Buffer;
    try {
      datagram = encodeGenl({ family: m.family, cmd: m.cmd, version: m.version, flags, seq, pid: this.transport.port, attrs: m.attrs });
    } catch (e) {
      this.finish(seq, e as Error);
      return;
    }
    // The reply settles the request (the kernel handles it inside sendmsg, so the reply can even
    // come before send() completes); a failed send settles it with the error instead.
    this.transport.send(datagram).catch((e: Error) => this.finish(seq, e));
  }

  /**
   * Pipelined writes: each message carries NLM_F_ACK; a window of them goes out as one
   * datagram (the kernel processes the whole datagram inside that one sendmsg), and its ACKs
   * are matched by sequence number. Windows are sized so every ACK fits in the receive buffer.
   * Stops after the first window holding an error and returns the first failure (index into
   * msgs); later messages of that window may have been applied, later windows are not sent.
   */
  async batch(msgs: BatchMessage[], onWindow?: (sent: number) => void, opts: { acks?: AckMode } = {}): Promise<BatchFailure | undefined> {
    if (this.broken) throw this.broken;
    let size = 0;
    for (let i = 0; i < msgs.length; i++) size += genlLength(msgs[i].attrs);
    const buf = Buffer.alloc(size);
    const ends = new Uint32Array(msgs.length);
    let off = 0;
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i];
      off = writeGenl(buf, off, m.family, m.cmd, m.version, 0, 0, 0, m.attrs);
      ends[i] = off;
    }
    return this.batchWire({ buf, ends }, onWindow, opts);
  }

  /**
   * batch() over messages already framed back to back in one buffer (wire.ts encodeOps), flags,
   * seq and pid still 0: each window is stamped in place and sent as a view of the buffer, so
   * nothing is copied or allocated per message.
   */
  async batchWire(wire: { buf: Buffer; ends: Uint32Array }, onWindow?: (sent: number) => void, opts: { acks?: AckMode } = {}): Promise<BatchFailure | undefined> {
    const errorsOnly = (opts.acks ?? 'each') === 'errors';
    if (this.broken) throw this.broken;
    const { buf, ends } = wire;
    const count = ends.length;
    const win = this.windowSize();
    const pid = this.transport.port;
    for (let start = 0; start < count; start += win) {
      const n = Math.min(win, count - start);
      const seqs: number[] = [];
      const errnos: number[] = new Array(n).fill(0);
      // One promise and one callback per window, not per message: thousands of ACKs arrive per second.
      let left = n;
      let failed: Error | undefined;
      let wake: () => void = () => {};
      const acked = new Promise<void>((resolve) => { wake = resolve; });
      const what = `a batch of ${n} change(s)`;
      const onReply = (err: Error | undefined, _msgs: NlMsg[], i: number) => {
        if (err instanceof KernelErrno) errnos[i] = err.errno; else if (err) failed ??= err;
        if (--left === 0) wake();
      };
      const deadline = Date.now() + this.timeoutMs;
      const from = start ? ends[start - 1] : 0;
      for (let i = 0; i < n; i++) {
        const off = start + i ? ends[start + i - 1] : 0;
        const seq = this.nextSeq();
        seqs.push(seq);
        this.register(seq, false, what, onReply, i, deadline, true);
        const flags = NLM_F_REQUEST | (errorsOnly && i !== n - 1 ? 0 : NLM_F_ACK);
        buf[off + 6] = flags; buf[off + 7] = flags >>> 8;
        buf[off + 8] = seq; buf[off + 9] = seq >>> 8; buf[off + 10] = seq >>> 16; buf[off + 11] = seq >>> 24;
        buf[off + 12] = pid; buf[off + 13] = pid >>> 8; buf[off + 14] = pid >>> 16; buf[off + 15] = pid >>> 24;
      }
      if (errorsOnly) {
        // The last message's reply is the barrier: the kernel handled the window in order and
        // queued replies in order, so every message not answered with an error by then succeeded.
        const barrier = seqs[seqs.length - 1];
        const p = this.pending.get(barrier)!;
        const done = p.done;
        p.done = (err, m, i) => {
          done(err, m, i);
          for (const s of seqs) if (s !== barrier) this.finish(s, undefined);
        };
      }
      const datagram = from === 0 && ends[start + n - 1] === buf.length ? buf : buf.subarray(from, ends[start + n - 1]);
      const sent = this.transport.send(datagram).catch((e: Error) => { for (const s of seqs) this.finish(s, e); });
      await Promise.all([sent, acked]);
      if (failed) throw failed;
      onWindow?.(Math.min(start + win, count));
      const bad = errnos.findIndex((e) => e !== 0);
      if (bad >= 0) {
        const rest = errnos.slice(bad + 1);
        const failed = errnos.flatMap((e, i) => (e !== 0 ? [start + i] : []));
        return {
          index: start + bad, errno: errnos[bad], appliedAfter: rest.filter((e) => e === 0).length, failedAfter: rest.filter((e) => e !== 0).length,
          failed, sent: start + n,
        };
      }
    }
    return undefined;
  }

  close(): void {
    this.failAll(new Error('netlink connection closed'));
    this.transport.close();
  }
}
