/**
 * lbctl's model <-> IPVS attribute values (the table in attrs.ts does the bytes). Everything
 * here is pure, so encoding and decoding are unit-tested without a kernel.
 */
import {
  AF_INET, AF_INET6, ConnFwd, IP_VS_CONN_F_FWD_MASK, PROTOCOLS, SvcFlag, TunFlag, TunTypeNum,
  type ForwardMethod, type Scheduler, type TunCsum, type TunType,
} from '../constants.js';
import { bytesToIp, ipToBytes, type Family } from '../../net/address.js';
import { defaultNetmask, type Destination, type ServiceStats, type VirtualService } from '../model.js';
import type { Op, SyncDaemon, Timeouts } from '../driver.js';
import { encodeAttrs, IpvsCmd, type AttrValues, type IpvsFlags } from './attrs.js';

export type ServiceId = Pick<VirtualService, 'protocol' | 'family' | 'address' | 'port' | 'fwmark'>;

export const afOf = (f: Family) => (f === 'inet6' ? AF_INET6 : AF_INET);
const familyOfAf = (af: number): Family => (af === AF_INET6 ? 'inet6' : 'inet');

const addrCache = new Map<string, Buffer>();

/** An address as union nf_inet_addr (16 bytes, IPv4 in the first 4). Shared: do not modify. */
export function addrBytes(address: string): Buffer {
  let b = addrCache.get(address);
  if (!b) {
    if (addrCache.size > 50_000) addrCache.clear();
    b = ipToBytes(address);
    addrCache.set(address, b);
  }
  return b;
}

export function formatAddr(b: Buffer, family: Family): string {
  return bytesToIp(b, family);
}

/** The identifying attributes of a service (enough for DEL/GET and as the parent of a dest). */
export function serviceIdAttrs(s: ServiceId): AttrValues {
  if (s.protocol === 'fwmark') return { af: afOf(s.family), fwmark: s.fwmark };
  return { af: afOf(s.family), protocol: PROTOCOLS[s.protocol], addr: addrBytes(s.address!), port: s.port };
}

interface EncodedId { bytes: Buffer; protocol: string; family: Family; address?: string; port?: number; fwmark?: number }
const idCache = new WeakMap<object, EncodedId>();

/**
 * serviceIdAttrs(s) already encoded, kept per service object: every real-server write repeats
 * its service's identity, and a restore of 10,000 servers writes it 10,000 times. Checked
 * against the identity fields on each use, so a service object changed in place is re-encoded.
 */
export function serviceIdBytes(s: ServiceId): Buffer {
  const c = idCache.get(s);
  if (c && c.protocol === s.protocol && c.family === s.family && c.address === s.address && c.port === s.port && c.fwmark === s.fwmark) return c.bytes;
  const bytes = encodeAttrs('svc', serviceIdAttrs(s));
  idCache.set(s, { bytes, protocol: s.protocol, family: s.family, address: s.address, port: s.port, fwmark: s.fwmark });
  return bytes;
}

function schedFlagBits(s: VirtualService): number {
  let bits = 0;
  for (const f of s.schedFlags) {
    const n = /-(fallback|port|\d)$/.exec(f)?.[1];
    bits |= n === 'fallback' || n === '1' ? SvcFlag.SCHED1 : n === 'port' || n === '2' ? SvcFlag.SCHED2 : n === '3' ? SvcFlag.SCHED3 : 0;
  }
  return bits;
}

export function serviceFlags(s: VirtualService): IpvsFlags {
  let flags = schedFlagBits(s);
  if (s.persistence > 0) flags |= SvcFlag.PERSISTENT;
  if (s.onePacket) flags |= SvcFlag.ONEPACKET;
  // mask ~0, as ipvsadm sends it: every flag is set or cleared (the kernel keeps HASHED itself).
  return { flags, mask: 0xffffffff };
}

/** IPv4: the mask as 4 network-order bytes; IPv6: the prefix length as a host-order u32. */
export function netmaskBytes(family: Family, netmask: string): Buffer {
  const b = Buffer.alloc(4);
  if (family === 'inet6') b.writeUInt32LE(Number(netmask));
  else netmask.split('.').forEach((o, i) => b.writeUInt8(Number(o), i));
  return b;
}

/** All the attributes of a service, for NEW_SERVICE / SET_SERVICE (ipvsadm's order). */
export function serviceAttrs(s: VirtualService): AttrValues {
  return {
    ...serviceIdAttrs(s),
    schedName: s.scheduler,
    peName: s.pe || undefined,
    flags: serviceFlags(s),
    timeout: s.persistence,
    netmask: netmaskBytes(s.family, s.netmask),
  };
}

export const FWD_NUM: Record<ForwardMethod, number> = { masq: ConnFwd.masq, tunnel: ConnFwd.tunnel, droute: ConnFwd.droute };
export const CSUM_FLAG: Record<TunCsum, number> = { nocsum: TunFlag.NOCSUM, csum: TunFlag.CSUM, remcsum: TunFlag.REMCSUM };

export function destIdAttrs(d: Pick<Destination, 'address' | 'port' | 'family'>): AttrValues {
  return { addrFamily: afOf(d.family), addr: addrBytes(d.address), port: d.port };
}

/** All the attributes of a destination, for NEW_DEST / SET_DEST. */
export function destAttrs(d: Destination): AttrValues {
  const tunnel = d.forward === 'tunnel';
  return {
    addrFamily: afOf(d.family),
    addr: addrBytes(d.address),
    port: d.port,
    fwdMethod: FWD_NUM[d.forward],
    weight: d.weight,
    tunType: tunnel ? TunTypeNum[d.tunType ?? 'ipip'] : 0,
    tunPort: tunnel && d.tunType === 'gue' ? d.tunPort ?? 0 : 0,
    tunFlags: tunnel && d.tunCsum ? CSUM_FLAG[d.tunCsum] : 0,
    uThresh: d.upperThreshold,
    lThresh: d.lowerThreshold,
  };
}

const PROTO_NAME = new Map<number, VirtualService['protocol']>(Object.entries(PROTOCOLS).map(([k, v]) => [v, k as VirtualService['protocol']]));

/** ipvsadm's names for the scheduler flag bits (sh and mh have their own). */
function schedFlagNames(sched: string, flags: number): string[] {
  const out: string[] = [];
  const named = sched === 'sh' || sched === 'mh';
  if (flags & SvcFlag.SCHED1) out.push(named ? `${sched}-fallback` : 'flag-1');
  if (flags & SvcFlag.SCHED2) out.push(named ? `${sched}-port` : 'flag-2');
  if (flags & SvcFlag.SCHED3) out.push('flag-3');
  return out.sort();
}

function toStats(v: AttrValues | undefined): ServiceStats | undefined {
  if (!v) return undefined;
  const n = (k: string) => (typeof v[k] === 'number' ? (v[k] as number) : 0);
  return { conns: n('conns'), inpkts: n('inpkts'), outpkts: n('outpkts'), inbytes: n('inbytes'), outbytes: n('outbytes'), cps: n('cps'), inpps: n('inpps'), outpps: n('outpps'), inbps: n('inbps'), outbps: n('outbps') };
}

/** A service from a GET_SERVICE reply's IPVS_CMD_ATTR_SERVICE, or undefined for a protocol lbctl does not model (AH/ESP). */
export function decodeService(v: AttrValues, withStats: boolean): VirtualService | undefined {
  const nm = Buffer.isBuffer(v.netmask) ? (v.netmask as Buffer) : undefined;
  return buildService(v.af as number, v.protocol as number, v.addr as Buffer, 0, v.port as number, v.fwmark as number | undefined, v.schedName as string,
    (v.flags as IpvsFlags | undefined)?.flags, v.timeout as number, nm, 0, v.peName as string | undefined, withStats, (v.stats64 ?? v.stats) as AttrValues | undefined);
}

/** An address at b[off...] (union nf_inet_addr) as text: bytesToIp without a view for IPv4. */
function addrAt(b: Buffer, off: number, family: Family): string {
  if (family === 'inet') return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
  return formatAddr(off === 0 ? b : b.subarray(off, off + 16), family);
}

/**
 * The model service from its decoded fields (shared by decodeService and wire.ts's
 * fastService, so both build the same object, key order included).
 */
export function buildService(
  af: number | undefined, protocol: number | undefined, addr: Buffer | undefined, addrOff: number, port: number | undefined, fwmarkIn: number | undefined,
  schedName: string | undefined, flagsIn: number | undefined, timeout: number | undefined, nm: Buffer | undefined, nmOff: number, peName: string | undefined,
  withStats: boolean, stats: AttrValues | undefined,
): VirtualService | undefined {
  const family = familyOfAf(af as number);
  const flags = flagsIn ?? 0;
  const persistent = (flags & SvcFlag.PERSISTENT) !== 0;
  const scheduler = schedName as Scheduler;
  const fwmark = fwmarkIn ?? 0;
  let netmask = defaultNetmask(family);
  // A non-persistent service's netmask is never used; report the default so plans compare equal.
  if (persistent && nm) {
    netmask = family === 'inet6' ? String(nm.readUInt32LE(nmOff)) : `${nm[nmOff]}.${nm[nmOff + 1]}.${nm[nmOff + 2]}.${nm[nmOff + 3]}`;
  }
  const s: VirtualService = {
    protocol: 'tcp',
    family,
    scheduler,
    persistence: persistent ? (timeout as number) : 0,
    netmask,
    schedFlags: schedFlagNames(scheduler, flags),
    onePacket: (flags & SvcFlag.ONEPACKET) !== 0,
    destinations: [],
  };
  if (fwmark) {
    s.protocol = 'fwmark';
    s.fwmark = fwmark;
  } else {
    const p = PROTO_NAME.get(protocol as number);
    if (!p) return undefined;
    s.protocol = p;
    s.address = addrAt(addr as Buffer, addrOff, family);
    s.port = port as number;
  }
  if (peName) s.pe = peName;
  if (withStats) s.stats = toStats(stats);
  return s;
}

const TUN_NAME: Record<number, TunType> = { 0: 'ipip', 1: 'gue', 2: 'gre' };

/** A destination from a GET_DEST reply's IPVS_CMD_ATTR_DEST. */
export function decodeDest(v: AttrValues, svcFamily: Family, withStats: boolean): Destination {
  return buildDest(v.addrFamily as number | undefined, svcFamily, v.addr as Buffer, 0, v.port as number, v.fwdMethod as number, v.weight as number,
    v.uThresh as number, v.lThresh as number, v.tunType as number, v.tunPort as number, v.tunFlags as number,
    v.activeConns as number, v.inactConns as number, v.persistConns as number, withStats, (v.stats64 ?? v.stats) as AttrValues | undefined);
}

/** The model destination from its decoded fields (shared by decodeDest and wire.ts's fastDest). */
export function buildDest(
  addrFamily: number | undefined, svcFamily: Family, addr: Buffer, addrOff: number, port: number | undefined, fwdMethod: number | undefined, weight: number | undefined,
  uThresh: number | undefined, lThresh: number | undefined, tunType: number | undefined, tunPort: number | undefined, tunFlags: number | undefined,
  activeConns: number | undefined, inactConns: number | undefined, persistConns: number | undefined, withStats: boolean, stats: AttrValues | undefined,
): Destination {
  const family = addrFamily !== undefined ? familyOfAf(addrFamily) : svcFamily;
  const fwd = (fwdMethod ?? 0) & IP_VS_CONN_F_FWD_MASK;
  // LOCALNODE (the kernel's own choice for a local address) is shown as -g, as ipvsadm does.
  const forward: ForwardMethod = fwd === ConnFwd.masq ? 'masq' : fwd === ConnFwd.tunnel ? 'tunnel' : 'droute';
  const d: Destination = {
    address: addrAt(addr, addrOff, family),
    port: port as number,
    family,
    forward,
    weight: weight as number,
    upperThreshold: uThresh ?? 0,
    lowerThreshold: lThresh ?? 0,
  };
  if (forward === 'tunnel') {
    d.tunType = TUN_NAME[tunType ?? 0] ?? 'ipip';
    if (d.tunType === 'gue') d.tunPort = tunPort as number;
    if (d.tunType !== 'ipip') {
      const f = tunFlags ?? 0;
      d.tunCsum = f & TunFlag.REMCSUM ? 'remcsum' : f & TunFlag.CSUM ? 'csum' : 'nocsum';
    }
  }
  d.activeConns = activeConns ?? 0;
  d.inactiveConns = inactConns ?? 0;
  d.persistConns = persistConns ?? 0;
  if (withStats) d.stats = toStats(stats);
  return d;
}

export function decodeTimeouts(v: AttrValues): Timeouts {
  return { tcp: (v.timeoutTcp as number) ?? 0, tcpfin: (v.timeoutTcpFin as number) ?? 0, udp: (v.timeoutUdp as number) ?? 0 };
}

export function timeoutAttrs(t: Partial<Timeouts>): AttrValues {
  return { timeoutTcp: t.tcp, timeoutTcpFin: t.tcpfin, timeoutUdp: t.udp };
}

export function decodeDaemon(v: AttrValues): SyncDaemon | undefined {
  const state = v.state === 1 ? 'master' : v.state === 2 ? 'backup' : undefined;
  if (!state) return undefined;
  return { state, mcastIfn: (v.mcastIfn as string) ?? '', syncId: (v.syncId as number) ?? 0 };
}

export function daemonAttrs(d: SyncDaemon): AttrValues {
  return { state: d.state === 'master' ? 1 : 2, mcastIfn: d.mcastIfn, syncId: d.syncId };
}

/** 0x010201 -> "1.2.1" (NVERSION in ip_vs.h). */
export function formatVersion(v: number): string {
  return `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`;
}


/** The IPVS command and top-level attributes of one write op (a real server's service identity comes encoded: serviceIdBytes). */
export function opRequest(op: Op): { cmd: number; attrs: AttrValues } {
  const s = op.service;
  switch (op.kind) {
    case 'addService': return { cmd: IpvsCmd.NEW_SERVICE, attrs: { service: serviceAttrs(s!) } };
    case 'editService': return { cmd: IpvsCmd.SET_SERVICE, attrs: { service: serviceAttrs(s!) } };
    case 'delService': return { cmd: IpvsCmd.DEL_SERVICE, attrs: { service: serviceIdAttrs(s!) } };
    case 'addDest': return { cmd: IpvsCmd.NEW_DEST, attrs: { service: serviceIdBytes(s!), dest: destAttrs(op.dest!) } };
    case 'editDest': return { cmd: IpvsCmd.SET_DEST, attrs: { service: serviceIdBytes(s!), dest: destAttrs(op.dest!) } };
    case 'delDest': return { cmd: IpvsCmd.DEL_DEST, attrs: { service: serviceIdBytes(s!), dest: destIdAttrs(op.dest!) } };
    case 'flush': return { cmd: IpvsCmd.FLUSH, attrs: {} };
    case 'zero': return { cmd: IpvsCmd.ZERO, attrs: s ? { service: serviceIdAttrs(s) } : {} };
  }
}
