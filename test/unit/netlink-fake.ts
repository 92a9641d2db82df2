/**
 * A message-level fake of the kernel's IPVS generic netlink family, behind the Transport
 * interface: it parses lbctl's datagrams with the attribute table, keeps a table in memory,
 * and answers as ip_vs_ctl.c does (ACK/errno per message, multipart dumps ending in
 * NLMSG_DONE). It also models the socket receive buffer: replies beyond `rcvbufBytes` that
 * have not been read yet are dropped with ENOBUFS, as netlink does.
 */
import type { Transport } from '../../src/ipvs/netlink/conn.js';
import { decodeAttrs, encodeAttrs, GENL_ID_CTRL, IpvsCmd, type AttrValues } from '../../src/ipvs/netlink/attrs.js';
import { encodeAck, encodeReply, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTI, parseGenl, parseMessages, type NlMsg } from '../../src/ipvs/netlink/message.js';

export const FAKE_FAMILY = 0x22;

interface FakeSvc { id: string; attrs: AttrValues; dests: Map<string, AttrValues> }

export class FakeKernel implements Transport {
  readonly port = 777;
  recvBufferSize: number;
  /** What the "kernel" really holds before dropping replies (recvBufferSize is what it reports). */
  capacity: number;
  /** Every datagram lbctl sent, and how many messages each held. */
  readonly sent: NlMsg[][] = [];
  readonly services = new Map<string, FakeSvc>();
  timeouts = { timeoutTcp: 900, timeoutTcpFin: 120, timeoutUdp: 300 };
  daemons: AttrValues[] = [];
  /** Force an errno for the n-th IPVS write (0-based), whatever the state. */
  failAt = new Map<number, number>();
  /** Make every request fail with this errno (e.g. EPERM). */
  failAll?: number;
  /** Never answer (a hung kernel, or a lost reply). */
  mute = false;
  /** Leave the family unregistered (ENOENT from the controller). */
  noFamily = false;
  /** Deliver replies before send() resolves (the real socket can do that: the kernel answers inside sendmsg). */
  repliesFirst = false;
  /** Entries per dump datagram (the kernel fills ~NLMSG_GOODSIZE). */
  dumpChunk = 3;
  writes = 0;
  private queued = 0;
  private recv: (d: Buffer) => void = () => {};
  private errFn: (e: Error & { code?: string }) => void = () => {};
  private overrun = false;
  private dumping = false;

  constructor(opts: { rcvbufBytes?: number } = {}) {
    this.recvBufferSize = opts.rcvbufBytes ?? 425984;
    this.capacity = this.recvBufferSize;
  }

  onReceive(fn: (d: Buffer) => void) { this.recv = fn; }
  onError(fn: (e: Error & { code?: string }) => void) { this.errFn = fn; }
  /** Like the real socket: keeps the event loop alive while requests are pending. */
  setActive(active: boolean) {
    if (active && !this.keepAlive) this.keepAlive = setInterval(() => {}, 1000);
    if (!active && this.keepAlive) { clearInterval(this.keepAlive); this.keepAlive = undefined; }
  }
  private keepAlive: NodeJS.Timeout | undefined;
  close() {}

  /** Replies are queued (accounted against the buffer) synchronously, delivered later, like the kernel. */
  private reply(d: Buffer, delivered?: () => void) {
    const truesize = 1024;
    if (this.queued + truesize > this.capacity) { this.overrun = true; return; }
    this.queued += truesize;
    const deliver = () => { this.queued -= truesize; delivered?.(); this.recv(d); };
    if (this.repliesFirst) deliver(); else setImmediate(deliver);
  }

  async send(datagram: Buffer): Promise<void> {
    const msgs = parseMessages(datagram);
    this.sent.push(msgs);
    if (this.mute) return;
    for (const m of msgs) this.handle(m);
    if (this.repliesFirst) await new Promise((r) => setTimeout(r, 5));
    if (this.overrun) {
      this.overrun = false;
      setImmediate(() => this.errFn(Object.assign(new Error('recvmsg: No buffer space available'), { code: 'ENOBUFS', errno: 105 })));
    }
  }

  private ack(m: NlMsg, errno: number) {
    if (errno || m.flags & NLM_F_ACK) this.reply(encodeAck(m, errno));
  }

  private handle(m: NlMsg) {
    if (this.failAll) return this.ack(m, this.failAll);
    const g = parseGenl(m.payload);
    if (m.type === GENL_ID_CTRL) {
      if (this.noFamily) return this.ack(m, 2);
      this.reply(encodeReply({ type: GENL_ID_CTRL, flags: 0, seq: m.seq, cmd: 1, attrs: encodeAttrs('ctrl', { familyId: FAKE_FAMILY, familyName: 'IPVS' }) }));
      return this.ack(m, 0);
    }
    const a = decodeAttrs('cmd', g.attrs);
    const svcId = (v: AttrValues) => JSON.stringify([v.af, v.fwmark ?? 0, v.protocol ?? 0, (v.addr as Buffer | undefined)?.toString('hex') ?? '', v.port ?? 0]);
    const destId = (v: AttrValues) => `${(v.addr as Buffer).toString('hex')}:${v.port}`;
    if (m.flags & NLM_F_DUMP) {
      // One dump per socket: the kernel answers EBUSY until the previous one's DONE is read.
      if (this.dumping) return this.ack(m, 16);
      this.dumping = true;
      let rows: AttrValues[] = [];
      if (g.cmd === IpvsCmd.GET_SERVICE) rows = [...this.services.values()].map((s) => ({ service: s.attrs }));
      else if (g.cmd === IpvsCmd.GET_DEST) {
        const s = this.services.get(svcId(a.service as AttrValues));
        rows = s ? [...s.dests.values()].map((d) => ({ dest: d })) : [];
      } else if (g.cmd === IpvsCmd.GET_DAEMON) rows = this.daemons.map((d) => ({ daemon: d }));
      for (let i = 0; i < rows.length; i += this.dumpChunk) {
        this.reply(Buffer.concat(rows.slice(i, i + this.dumpChunk).map((r) => encodeReply({ type: FAKE_FAMILY, flags: NLM_F_MULTI, seq: m.seq, cmd: g.cmd, attrs: encodeAttrs('cmd', r) }))));
      }
      this.reply(encodeReply({ type: FAKE_FAMILY, flags: NLM_F_MULTI, seq: m.seq, done: true }), () => { this.dumping = false; });
      return;
    }
    if (g.cmd === IpvsCmd.GET_INFO) {
      this.reply(encodeReply({ type: FAKE_FAMILY, flags: 0, seq: m.seq, cmd: IpvsCmd.SET_INFO, attrs: encodeAttrs('info', { version: 0x010201, connTabSize: 4096 }) }));
      return this.ack(m, 0);
    }
    if (g.cmd === IpvsCmd.GET_CONFIG) {
      this.reply(encodeReply({ type: FAKE_FAMILY, flags: 0, seq: m.seq, cmd: IpvsCmd.SET_CONFIG, attrs: encodeAttrs('cmd', this.timeouts) }));
      return this.ack(m, 0);
    }
    const n = this.writes++;
    if (this.failAt.has(n)) return this.ack(m, this.failAt.get(n)!);
    const sv = a.service as AttrValues | undefined;
    const cur = sv ? this.services.get(svcId(sv)) : undefined;
    const dv = a.dest as AttrValues | undefined;
    let errno = 0;
    switch (g.cmd) {
      case IpvsCmd.NEW_SERVICE: if (cur) errno = 17; else this.services.set(svcId(sv!), { id: svcId(sv!), attrs: { ...sv }, dests: new Map() }); break;
      case IpvsCmd.SET_SERVICE: if (!cur) errno = 3; else cur.attrs = { ...sv }; break;
      case IpvsCmd.DEL_SERVICE: if (!cur) errno = 3; else this.services.delete(cur.id); break;
      case IpvsCmd.NEW_DEST: if (!cur) errno = 3; else if (cur.dests.has(destId(dv!))) errno = 17; else cur.dests.set(destId(dv!), { ...dv, activeConns: 0, inactConns: 0, persistConns: 0 }); break;
      case IpvsCmd.SET_DEST: if (!cur) errno = 3; else if (!cur.dests.has(destId(dv!))) errno = 2; else Object.assign(cur.dests.get(destId(dv!))!, dv); break;
      case IpvsCmd.DEL_DEST: if (!cur) errno = 3; else if (!cur.dests.delete(destId(dv!))) errno = 2; break;
      case IpvsCmd.FLUSH: this.services.clear(); break;
      case IpvsCmd.ZERO: if (sv && !cur) errno = 3; break;
      case IpvsCmd.SET_CONFIG: {
        for (const k of ['timeoutTcp', 'timeoutTcpFin', 'timeoutUdp'] as const) if (a[k]) this.timeouts[k] = a[k] as number;
        break;
      }
      case IpvsCmd.NEW_DAEMON: {
        const d = a.daemon as AttrValues;
        if (this.daemons.some((x) => x.state === d.state)) errno = 17; else this.daemons.push(d);
        break;
      }
      case IpvsCmd.DEL_DAEMON: {
        const d = a.daemon as AttrValues;
        const i = this.daemons.findIndex((x) => x.state === d.state);
        if (i < 0) errno = 3; else this.daemons.splice(i, 1);
        break;
      }
      default: errno = 22;
    }
    this.ack(m, errno);
  }
}
