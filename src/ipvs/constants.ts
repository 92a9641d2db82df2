/**
 * IPVS constants in kernel order (include/uapi/linux/ip_vs.h). Only the kernel's numbers
 * live here; the wire format (netlink attribute table) lives in netlink/.
 */

/** Schedulers the Linux kernel ships (ip_vs_*.ko), in ipvsadm's man-page order. */
export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];

/** Forwarding methods: IP_VS_CONN_F_MASQ=0, LOCALNODE=1, TUNNEL=2, DROUTE=3, BYPASS=4. */
export const ConnFwd = { masq: 0, local: 1, tunnel: 2, droute: 3, bypass: 4 } as const;
export const IP_VS_CONN_F_FWD_MASK = 0x0007;
export type ForwardMethod = 'masq' | 'droute' | 'tunnel';
/** ipvsadm's switch for each forwarding method. */
export const FORWARD_SWITCH: Record<ForwardMethod, string> = { masq: '-m', droute: '-g', tunnel: '-i' };

/** Service flags (IP_VS_SVC_F_*). */
export const SvcFlag = {
  PERSISTENT: 0x0001,
  HASHED: 0x0002,
  ONEPACKET: 0x0004,
  SCHED1: 0x0008,
  SCHED2: 0x0010,
  SCHED3: 0x0020,
} as const;

/**
 * Scheduler flags as ipvsadm names them (-b). sh-* and mh-* alias the same kernel bits,
 * flag-N are the generic names.
 */
export const SCHED_FLAG_BITS: Record<string, number> = {
  'flag-1': SvcFlag.SCHED1, 'flag-2': SvcFlag.SCHED2, 'flag-3': SvcFlag.SCHED3,
  'sh-fallback': SvcFlag.SCHED1, 'sh-port': SvcFlag.SCHED2,
  'mh-fallback': SvcFlag.SCHED1, 'mh-port': SvcFlag.SCHED2,
};

/** Tunnel types (IP_VS_CONN_F_TUNNEL_TYPE_*). */
export const TUN_TYPES = ['ipip', 'gue', 'gre'] as const;
export type TunType = (typeof TUN_TYPES)[number];
export const TunTypeNum: Record<TunType, number> = { ipip: 0, gue: 1, gre: 2 };

/** Tunnel flags (IP_VS_TUNNEL_ENCAP_FLAG_*). */
export const TunFlag = { NOCSUM: 0, CSUM: 1 << 0, REMCSUM: 1 << 1 } as const;
export type TunCsum = 'nocsum' | 'csum' | 'remcsum';

export const PROTOCOLS = { tcp: 6, udp: 17, sctp: 132 } as const;
export type Protocol = keyof typeof PROTOCOLS;

export const AF_INET = 2;
export const AF_INET6 = 10;

/** ipvsadm defaults, filled in before anything is compared. */
export const DEFAULTS = {
  scheduler: 'wlc' as Scheduler,
  persistenceTimeout: 300,
  weight: 1,
  forward: 'droute' as ForwardMethod,
  netmask4: '255.255.255.255',
  netmask6: 128,
};

/** The connection-sync daemon states. */
export const DaemonState = { NONE: 0, MASTER: 1, BACKUP: 2 } as const;
