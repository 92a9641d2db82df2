/**
 * The netlink IpvsDriver: the kernel's generic netlink "IPVS" family, with pipelined writes.
 */
import { LbctlError, RejectedError, UnavailableError } from '../../cli/errors.js';
import { applyAllOrNothing, injectedFaultError, type BatchFailure, type IpvsDriver, type IpvsInfo, type Op, type ReadOptions, type SyncDaemon, type Timeouts } from '../driver.js';
import type { Destination, IpvsTable, VirtualService } from '../model.js';
import { CTRL_CMD_GETFAMILY, decodeAttrs, encodeAttrs, GENL_ID_CTRL, IPVS_GENL_NAME, IPVS_GENL_VERSION, IpvsCmd, type AttrValues } from './attrs.js';
import { KernelErrno, NlConnection, type AckMode, type BatchMessage, type Transport } from './conn.js';
import { NLMSG_HDRLEN, NLMSG_NOOP, NLMSG_OVERRUN, parseGenl, u32, type NlMsg } from './message.js';
import {
  daemonAttrs, decodeDaemon, decodeDest, decodeService, decodeTimeouts, formatVersion,
  timeoutAttrs, type ServiceId,
} from './ipvs.js';
import { encodeOps, fastDest, fastService, getDestAttrs } from './wire.js';
import { daemonError, Errno, errnoName, opError, opWhere, permissionError } from './errors.js';

/** The injected fault (LBCTL_FAULT_IPVS, test only) deletes this service, which nobody has: ESRCH. */
const FAULT_SERVICE: ServiceId = { protocol: 'fwmark', family: 'inet', fwmark: 0xfffffffe };

export interface NetlinkDriverOptions {
  /** Try `modprobe ip_vs` once when the family is missing, as ipvsadm does. Default true. */
  modprobe?: boolean;
  /** Extra transports for parallel destination dumps (a dump occupies its socket until done). */
  extraTransports?: () => Transport;
  /**
   * ACK mode of pipelined writes (conn.ts AckMode): 'each' (default, NLM_F_ACK on every change)
   * or 'errors' (only failures and one barrier per window answer). Also LBCTL_NETLINK_ACKS.
   */
  acks?: AckMode;
  /** How many sockets dump destinations in parallel (default 32: best measured in the lab, 10,000 servers). */
  dumpParallelism?: number;
}

/** Resolve the "IPVS" generic netlink family id. */
async function resolveFamily(conn: NlConnection): Promise<number> {
  const attrs = encodeAttrs('ctrl', { familyName: IPVS_GENL_NAME });
  const msgs = await conn.request({ family: GENL_ID_CTRL, cmd: CTRL_CMD_GETFAMILY, version: 1, attrs });
  for (const m of msgs) {
    const v = decodeAttrs('ctrl', parseGenl(m.payload).attrs);
    if (typeof v.familyId === 'number') return v.familyId;
  }
  throw new Error('netlink: the controller answered without a family id');
}

export async function openFamily(conn: NlConnection, opts: NetlinkDriverOptions = {}): Promise<number> {
  try {
    return await resolveFamily(conn);
  } catch (e) {
    if (!(e instanceof KernelErrno)) throw e;
    if (e.errno === Errno.EPERM || e.errno === Errno.EACCES) throw permissionError(e.errno);
    if (e.errno !== Errno.ENOENT) throw e;
  }
  if (opts.modprobe !== false) {
    await (await import('execa')).execa('modprobe', ['ip_vs'], { reject: false, timeout: 15_000 }).catch(() => undefined);
    try { return await resolveFamily(conn); } catch (e) { if (!(e instanceof KernelErrno)) throw e; }
  }
  throw new UnavailableError('the kernel has no IPVS (generic netlink family "IPVS" not found)', {
    code: 'ENOIPVS', hint: 'load it with `modprobe ip_vs` (as root) or use a kernel with CONFIG_IP_VS',
  });
}

/** Without --stats, the counters nests are not decoded at all (most of a dump's bytes). */
const NO_STATS: ReadonlySet<string> = new Set(['stats', 'stats64']);

export class NetlinkDriver implements IpvsDriver {
  readonly name = 'netlink' as const;
  /** Writes issued by apply() over this driver's life (the benchmark counts them). */
  writes = 0;
  private readonly dumpConns: NlConnection[] = [];

  constructor(private readonly conn: NlConnection, private readonly family: number, private readonly opts: NetlinkDriverOptions = {}) {}

  private msg(cmd: number, attrs: AttrValues = {}): BatchMessage {
    return { family: this.family, cmd, version: IPVS_GENL_VERSION, attrs: encodeAttrs('cmd', attrs) };
  }

  /** A read; kernel errors become lbctl errors (permission, or the generic one). */
  private async read(conn: NlConnection, m: BatchMessage, dump: boolean, skip?: ReadonlySet<string>): Promise<AttrValues[]> {
    const msgs = await this.exchange(conn, m, dump);
    return decoding(() => msgs.map((x) => decodeAttrs('cmd', parseGenl(x.payload).attrs, skip)));
  }

  private async exchange(conn: NlConnection, m: BatchMessage, dump: boolean): Promise<NlMsg[]> {
    try {
      return await conn.request(m, { dump });
    } catch (e) {
      throw this.readError(e);
    }
  }

  private async exchangeRaw(conn: NlConnection, m: BatchMessage): Promise<Buffer[]> {
    try {
      return await conn.dumpRaw(m);
    } catch (e) {
      throw this.readError(e);
    }
  }

  /** A service's destinations, each entry decoded in place (wire.ts) unless it needs the generic decoder. */
  private async dumpDests(conn: NlConnection, svc: ServiceId, stats: boolean): Promise<Destination[]> {
    const datagrams = await this.exchangeRaw(conn, { family: this.family, cmd: IpvsCmd.GET_DEST, version: IPVS_GENL_VERSION, attrs: getDestAttrs(svc) });
    const out: Destination[] = [];
    try {
      // eachEntry inlined: this runs once per service, 1,000 times in a no-op of 10,000 servers.
      for (const d of datagrams) {
        let off = 0;
        while (off + NLMSG_HDRLEN <= d.length) {
          const len = u32(d, off);
          const type = d[off + 4] | (d[off + 5] << 8);
          if (type !== NLMSG_NOOP && type !== NLMSG_OVERRUN) {
            const from = off + NLMSG_HDRLEN;
            out.push((stats ? null : fastDest(d, svc.family, from, off + len))
              ?? decodeDest(decodeAttrs('cmd', parseGenl(d.subarray(from, off + len)).attrs, stats ? undefined : NO_STATS).dest as AttrValues, svc.family, stats));
          }
          off += (len + 3) & ~3;
        }
      }
    } catch (e) { throw e instanceof LbctlError ? e : malformedReply(e); }
    return out;
  }

  private readError(e: unknown): unknown {
    if (e instanceof LbctlError) return e;
    if (!(e instanceof KernelErrno)) return malformedReply(e);
    if (e.errno === Errno.EPERM || e.errno === Errno.EACCES) return permissionError(e.errno);
    return new RejectedError(`reading IPVS failed (${errnoName(e.errno)})`, { code: errnoName(e.errno), errno: e.errno });
  }

  async getTable(opts: ReadOptions = {}): Promise<IpvsTable> {
    const stats = Boolean(opts.stats);
    const datagrams = await this.exchangeRaw(this.conn, this.msg(IpvsCmd.GET_SERVICE));
    const services: VirtualService[] = [];
    decoding(() => eachEntry(datagrams, (d, from, to) => {
      const fast = stats ? null : fastService(d, from, to);
      const s = fast !== null ? fast : decodeService(decodeAttrs('cmd', parseGenl(d.subarray(from, to)).attrs, stats ? undefined : NO_STATS).service as AttrValues, stats);
      if (s) services.push(s);
    }));
    await this.fillDestinations(services, stats);
    return { services };
  }

  /** One service's destinations (the drain loop polls just this). */
  async getDestinations(svc: ServiceId, opts: ReadOptions = {}): Promise<Destination[]> {
    return this.dumpDests(this.conn, svc, Boolean(opts.stats));
  }

  /**
   * A dump holds its socket until NLMSG_DONE, so dumps cannot be pipelined on one socket;
   * a few sockets dump different services' destinations at once instead.
   */
  private async fillDestinations(services: VirtualService[], stats: boolean): Promise<void> {
    const want = Math.min(services.length, this.opts.extraTransports ? (this.opts.dumpParallelism ?? 32) : 1);
    while (this.dumpConns.length < want - 1) this.dumpConns.push(new NlConnection(this.opts.extraTransports!()));
    const conns = [this.conn, ...this.dumpConns.slice(0, Math.max(0, want - 1))];
    let next = 0;
    await Promise.all(conns.map(async (conn) => {
      while (next < services.length) {
        const s = services[next++];
        s.destinations = await this.dumpDests(conn, s, stats);
      }
    }));
  }

  /** All or nothing (driver.ts): a failure midway is rolled back with compensating changes. */
  async apply(ops: Op[], onProgress?: (done: number, total: number) => void): Promise<void> {
    await applyAllOrNothing({ write: (o, fault) => this.write(o, fault, onProgress), readTable: () => this.getTable() }, ops);
  }

  /** One pipelined batch; on a kernel error, which op failed first and exactly which took effect. */
  private async write(ops: Op[], fault?: number, onProgress?: (done: number, total: number) => void): Promise<BatchFailure | undefined> {
    if (!ops.length) return undefined;
    const wire = encodeOps(ops, this.family, fault, FAULT_SERVICE);
    this.writes += ops.length;
    const acks = this.opts.acks ?? (process.env.LBCTL_NETLINK_ACKS === 'errors' ? 'errors' : 'each');
    const fail = await this.conn.batchWire(wire, onProgress ? (n) => onProgress(n, ops.length) : undefined, { acks });
    if (!fail) return undefined;
    const failed = new Set(fail.failed);
    const applied: number[] = [];
    for (let i = 0; i < fail.sent; i++) if (!failed.has(i)) applied.push(i);
    const error = fail.index === fault ? injectedFaultError(fault, opWhere(ops[fault])) : opError(ops[fail.index], fail.errno);
    return { index: fail.index, error, applied };
  }

  async getInfo(): Promise<IpvsInfo> {
    const [v] = await this.readInfo();
    return { version: formatVersion((v.version as number) ?? 0), connTableSize: (v.connTabSize as number) ?? 0 };
  }

  private async readInfo(): Promise<AttrValues[]> {
    let msgs: NlMsg[];
    try {
      msgs = await this.conn.request(this.msg(IpvsCmd.GET_INFO));
    } catch (e) { throw this.readError(e); }
    return msgs.map((x) => decodeAttrs('info', parseGenl(x.payload).attrs));
  }

  async getTimeouts(): Promise<Timeouts> {
    const [v] = await this.read(this.conn, this.msg(IpvsCmd.GET_CONFIG), false);
    return decodeTimeouts(v ?? {});
  }

  async setTimeouts(t: Partial<Timeouts>): Promise<void> {
    try {
      await this.conn.request(this.msg(IpvsCmd.SET_CONFIG, timeoutAttrs(t)));
    } catch (e) {
      if (e instanceof KernelErrno) {
        if (e.errno === Errno.EPERM || e.errno === Errno.EACCES) throw permissionError(e.errno, 'ipvsadm --set');
        throw new RejectedError(`the kernel refused the timeouts (${errnoName(e.errno)})`, { code: errnoName(e.errno), errno: e.errno, where: 'ipvsadm --set', hint: 'timeouts are whole seconds, 0 leaves one unchanged' });
      }
      throw e;
    }
  }

  async getDaemons(): Promise<SyncDaemon[]> {
    const rows = await this.read(this.conn, this.msg(IpvsCmd.GET_DAEMON), true);
    return rows.map((v) => decodeDaemon(v.daemon as AttrValues)).filter((d): d is SyncDaemon => Boolean(d));
  }

  async startDaemon(d: SyncDaemon): Promise<void> {
    try {
      await this.conn.request(this.msg(IpvsCmd.NEW_DAEMON, { daemon: daemonAttrs(d) }));
    } catch (e) {
      if (e instanceof KernelErrno) throw daemonError('start', d, e.errno);
      throw e;
    }
  }

  async stopDaemon(state: SyncDaemon['state']): Promise<void> {
    try {
      await this.conn.request(this.msg(IpvsCmd.DEL_DAEMON, { daemon: { state: state === 'master' ? 1 : 2 } }));
    } catch (e) {
      if (e instanceof KernelErrno) throw daemonError('stop', { state }, e.errno);
      throw e;
    }
  }

  async close(): Promise<void> {
    for (const c of this.dumpConns) c.close();
    this.conn.close();
  }
}

/** A reply lbctl cannot decode is the kernel's fault or a version mismatch, never an lbctl crash. */
function malformedReply(e: unknown): LbctlError {
  const why = (e as Error)?.message ?? String(e);
  return new RejectedError(`the kernel sent an IPVS reply lbctl cannot decode (${why.replace(/\s+/g, ' ')})`, {
    code: 'EBADREPLY', hint: 'nothing was changed; try --driver ipvsadm, and report the kernel version',
  });
}

/** Each data message of a raw dump's datagrams (conn.dumpRaw: whole, well-formed messages), as its genl payload's range. */
function eachEntry(datagrams: Buffer[], fn: (d: Buffer, from: number, to: number) => void): void {
  for (const d of datagrams) {
    let off = 0;
    while (off + NLMSG_HDRLEN <= d.length) {
      const len = u32(d, off);
      const type = d[off + 4] | (d[off + 5] << 8);
      if (type !== NLMSG_NOOP && type !== NLMSG_OVERRUN) fn(d, off + NLMSG_HDRLEN, off + len);
      off += (len + 3) & ~3;
    }
  }
}

function decoding<T>(fn: () => T): T {
  try { return fn(); } catch (e) { throw e instanceof LbctlError ? e : malformedReply(e); }
}
