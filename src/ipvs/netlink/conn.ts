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
  done: (err: Error | undefined, msgs: NlMsg[], index: number) => void;
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
  /** The kernel runs one dump per socket at a time (EBUSY otherwise): later dumps queue here. */
  private dumpChain: Promise<unknown> = Promise.resolve();
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
    if (this.receiveAcks(datagram)) return;
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

  private finish(seq: number, err: Error | undefined): void {
    const p = this.pending.get(seq);
    if (!p) return;
    this.pending.delete(seq);
    if (!this.pending.size) {
      this.transport.setActive(false);
      if (this.sweeper) { clearInterval(this.sweeper); this.sweeper = undefined; }
    }
    p.done(err, p.msgs, p.index);
  }

  private failAll(e: Error & { code?: string }): void {
    const err = e.code === 'ENOBUFS'
      ? new RejectedError('netlink receive buffer overflowed: kernel replies were lost', { code: 'ENOBUFS', hint: 'rerun; if it persists, report it' })
      : e;
    this.broken = err;
    for (const seq of [...this.pending.keys()]) this.finish(seq, err);
  }

  private register(seq: number, dump: boolean, what: string, done: Pending['done'], index = 0, deadline = Date.now() + this.timeoutMs, batched = false): void {
    if (!this.pending.size) {
      this.transport.setActive(true);
      this.sweeper ??= setInterval(() => this.sweep(), Math.min(1000, this.timeoutMs));
      this.sweeper.unref?.();
    }
    // Writes get no replies but ACKs: they share one empty list instead of one each.
    this.pending.set(seq, { dump, msgs: batched ? NO_MSGS : [], deadline, what, index, done });
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
  async request(m: BatchMessage, opts: { dump?: boolean } = {}): Promise<NlMsg[]> {
    if (opts.dump) {
      const run = this.dumpChain.then(() => this.send1(m, true));
      this.dumpChain = run.catch(() => undefined);
      return run;
    }
    return this.send1(m, false);
  }

  private send1(m: BatchMessage, dump: boolean): Promise<NlMsg[]> {
    if (this.broken) return Promise.reject(this.broken);
    const seq = this.nextSeq();
    const flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : NLM_F_ACK);
    const reply = new Promise<NlMsg[]>((resolve, reject) => {
      this.register(seq, dump, `request ${m.cmd}`, (err, msgs) => (err ? reject(err) : resolve(msgs)));
    });
    const datagram = encodeGenl({ family: m.family, cmd: m.cmd, version: m.version, flags, seq, pid: this.transport.port, attrs: m.attrs });
    // The reply settles the request (the kernel handles it inside sendmsg, so the reply can even
    // come before send() completes); a failed send settles it with the error instead.
    this.transport.send(datagram).catch((e: Error) => this.finish(seq, e));
    return reply;
  }

  /**
   * Pipelined writes: each message carries NLM_F_ACK; a window of them goes out as one
   * datagram (the kernel processes the whole datagram inside that one sendmsg), and its ACKs
   * are matched by sequence number. Windows are sized so every ACK fits in the receive buffer.
   * Stops after the first window holding an error and returns the first failure (index into
   * msgs); later messages of that window may have been applied, later windows are not sent.
   */
  async batch(msgs: BatchMessage[], onWindow?: (sent: number) => void, opts: { acks?: AckMode } = {}): Promise<BatchFailure | undefined> {
    const errorsOnly = (opts.acks ?? 'each') === 'errors';
    if (this.broken) throw this.broken;
    const win = this.windowSize();
    for (let start = 0; start < msgs.length; start += win) {
      const slice = msgs.slice(start, start + win);
      const seqs: number[] = [];
      const errnos: number[] = new Array(slice.length).fill(0);
      // One promise and one callback per window, not per message: thousands of ACKs arrive per second.
      let left = slice.length;
      let failed: Error | undefined;
      let wake: () => void = () => {};
      const acked = new Promise<void>((resolve) => { wake = resolve; });
      const what = `a batch of ${slice.length} change(s)`;
      const onReply = (err: Error | undefined, _msgs: NlMsg[], i: number) => {
        if (err instanceof KernelErrno) errnos[i] = err.errno; else if (err) failed ??= err;
        if (--left === 0) wake();
      };
      const deadline = Date.now() + this.timeoutMs;
      // The whole window in one zero-filled buffer, each message written in place.
      let size = 0;
      for (let i = 0; i < slice.length; i++) size += genlLength(slice[i].attrs);
      const datagram = Buffer.alloc(size);
      const pid = this.transport.port;
      let off = 0;
      for (let i = 0; i < slice.length; i++) {
        const m = slice[i];
        const seq = this.nextSeq();
        seqs.push(seq);
        this.register(seq, false, what, onReply, i, deadline, true);
        const last = i === slice.length - 1;
        const flags = NLM_F_REQUEST | (errorsOnly && !last ? 0 : NLM_F_ACK);
        off = writeGenl(datagram, off, m.family, m.cmd, m.version, flags, seq, pid, m.attrs);
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
      const sent = this.transport.send(datagram).catch((e: Error) => { for (const s of seqs) this.finish(s, e); });
      await Promise.all([sent, acked]);
      if (failed) throw failed;
      onWindow?.(Math.min(start + win, msgs.length));
      const bad = errnos.findIndex((e) => e !== 0);
      if (bad >= 0) {
        const rest = errnos.slice(bad + 1);
        const failed = errnos.flatMap((e, i) => (e !== 0 ? [start + i] : []));
        return {
          index: start + bad, errno: errnos[bad], appliedAfter: rest.filter((e) => e === 0).length, failedAfter: rest.filter((e) => e !== 0).length,
          failed, sent: start + slice.length,
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
