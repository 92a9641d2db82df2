/**
 * The driver interface, shaped like moby/ipvs's Handle. Two implementations: ipvsadm.ts
 * (the ipvsadm binary, one `ipvsadm -R` process per batch) and netlink/ (generic netlink
 * "IPVS" family, pipelined). Everything above this line is driver-agnostic.
 */
import type { Destination, IpvsTable, VirtualService } from './model.js';

export type OpKind = 'addService' | 'editService' | 'delService' | 'addDest' | 'editDest' | 'delDest' | 'flush' | 'zero';

/** One kernel write. `service` carries the full desired service (destinations ignored). */
export interface Op {
  kind: OpKind;
  service?: VirtualService;
  dest?: Destination;
  /** Where this op came from, for error messages (e.g. "rules.txt:12"). */
  origin?: string;
}

export interface ReadOptions {
  /** Fill stats (64-bit counters) and rates on services and destinations. */
  stats?: boolean;
}

export interface Timeouts { tcp: number; tcpfin: number; udp: number }

export interface SyncDaemon { state: 'master' | 'backup'; mcastIfn: string; syncId: number }

export interface IpvsInfo { version: string; connTableSize: number }

export interface IpvsDriver {
  readonly name: 'netlink' | 'ipvsadm';
  /** The whole table in one call (services with their destinations). */
  getTable(opts?: ReadOptions): Promise<IpvsTable>;
  /** Apply a batch of writes. Either all are applied, or it throws naming the failing op (earlier ops stay applied). */
  apply(ops: Op[]): Promise<void>;
  getInfo(): Promise<IpvsInfo>;
  getTimeouts(): Promise<Timeouts>;
  setTimeouts(t: Partial<Timeouts>): Promise<void>;
  getDaemons(): Promise<SyncDaemon[]>;
  startDaemon(d: SyncDaemon): Promise<void>;
  stopDaemon(state: SyncDaemon['state']): Promise<void>;
  close(): Promise<void>;
}

/** The equivalent ipvsadm command line of one op, for --dry-run and docs ("Equivalent to: ipvsadm -a ..."). */
export type { Destination, VirtualService };
