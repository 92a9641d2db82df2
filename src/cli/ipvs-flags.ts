/** oclif flags shared by the IPVS commands, with ipvsadm's short switches. */
import { Flags } from '@oclif/core';
import { UsageError } from './errors.js';
import { DEFAULTS, TUN_TYPES, type ForwardMethod, type Scheduler, type TunCsum, type TunType } from '../ipvs/constants.js';
import { defaultNetmask, normalizeSchedFlags, type VirtualService } from '../ipvs/model.js';
import { FieldError, LIMITS, validateService } from '../ipvs/validate.js';
import { makeDestination, parseSelector, type ServiceSelector } from '../ipvs/rules.js';
import type { Destination } from '../ipvs/model.js';
import { DRIVER_NAMES } from '../ipvs/select.js';

/** The shared --driver flag (also LBCTL_DRIVER). */
export const driverFlag = Flags.string({
  description: 'IPVS driver: netlink (generic netlink, default where it loads), ipvsadm, or auto',
  options: [...DRIVER_NAMES],
  env: 'LBCTL_DRIVER',
  default: 'auto',
  helpGroup: 'IPVS',
});

export const selectorFlags = {
  'tcp-service': Flags.string({ char: 't', description: 'TCP virtual service ADDR:PORT', helpGroup: 'SERVICE' }),
  'udp-service': Flags.string({ char: 'u', description: 'UDP virtual service ADDR:PORT', helpGroup: 'SERVICE' }),
  'sctp-service': Flags.string({ description: 'SCTP virtual service ADDR:PORT', helpGroup: 'SERVICE' }),
  'fwmark-service': Flags.string({ char: 'f', description: 'firewall-mark virtual service MARK', helpGroup: 'SERVICE' }),
  ipv6: Flags.boolean({ description: 'the fwmark service is IPv6 (ipvsadm\'s -6 is accepted too)', helpGroup: 'SERVICE' }),
};

export const serviceFlags = {
  scheduler: Flags.string({ char: 's', description: `scheduler (${'rr wrr lc wlc lblc lblcr dh sh sed nq fo ovf mh'}); default wlc` }),
  persistent: Flags.string({ char: 'p', description: 'persistent service, with an optional timeout in seconds (default 300)' }),
  netmask: Flags.string({ char: 'M', description: 'persistence netmask (dotted quad for IPv4, prefix length for IPv6)' }),
  'sched-flags': Flags.string({ char: 'b', description: 'scheduler flags, comma separated (sh-fallback, sh-port, mh-fallback, mh-port, flag-1..3)' }),
  pe: Flags.string({ description: 'persistence engine (e.g. sip)' }),
  ops: Flags.boolean({ char: 'o', description: 'one-packet scheduling (UDP)' }),
};

export const destFlags = {
  'real-server': Flags.string({ char: 'r', description: 'real server ADDR[:PORT] (port defaults to the virtual port)', required: true }),
  gatewaying: Flags.boolean({ char: 'g', description: 'direct routing (DR), the default' }),
  ipip: Flags.boolean({ char: 'i', description: 'tunnelling (TUN)' }),
  masquerading: Flags.boolean({ char: 'm', description: 'masquerading (NAT)' }),
  weight: Flags.string({ char: 'w', description: 'weight 0-65535 (default 1)' }),
  'u-threshold': Flags.string({ char: 'x', description: 'upper connection threshold (0 = none)' }),
  'l-threshold': Flags.string({ char: 'y', description: 'lower connection threshold (0 = none)' }),
  'tun-type': Flags.string({ description: 'tunnel type: ipip (default), gue, gre', options: [...TUN_TYPES] }),
  'tun-port': Flags.string({ description: 'GUE tunnel destination port' }),
  'tun-nocsum': Flags.boolean({ description: 'tunnel without checksums (default)' }),
  'tun-csum': Flags.boolean({ description: 'tunnel with checksums' }),
  'tun-remcsum': Flags.boolean({ description: 'tunnel with remote checksum offload' }),
};

/**
 * ipvsadm spellings oclif cannot parse: `-p` with an optional value (a bare -p gets the
 * default timeout) and the digit switch `-6`.
 */
export function ipvsadmArgv(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '-6') { out.push('--ipv6'); continue; }
    out.push(argv[i]);
    if ((argv[i] === '-p' || argv[i] === '--persistent') && !/^\d+$/.test(argv[i + 1] ?? '')) out.push(String(DEFAULTS.persistenceTimeout));
  }
  return out;
}

type SelFlags = { 'tcp-service'?: string; 'udp-service'?: string; 'sctp-service'?: string; 'fwmark-service'?: string; ipv6?: boolean };

export function selectorFromFlags(f: SelFlags): ServiceSelector {
  const given = (['tcp-service', 'udp-service', 'sctp-service', 'fwmark-service'] as const).filter((k) => f[k] !== undefined);
  if (given.length === 0) throw new UsageError('no virtual service given', { code: 'ENOSVC', hint: 'add -t ADDR:PORT, -u ADDR:PORT, --sctp-service ADDR:PORT or -f MARK' });
  if (given.length > 1) throw new UsageError(`conflicting service flags --${given.join(' --')}`, { code: 'ECONFLICT', hint: 'give exactly one of -t, -u, --sctp-service, -f' });
  const k = given[0];
  const proto = ({ 'tcp-service': 'tcp', 'udp-service': 'udp', 'sctp-service': 'sctp', 'fwmark-service': 'fwmark' } as const)[k];
  if (f.ipv6 && proto !== 'fwmark') throw new UsageError('-6 applies to firewall-mark services only', { code: 'ECONFLICT', hint: 'an IPv6 address already makes the service IPv6' });
  return parseSelector(proto, f[k]!, Boolean(f.ipv6), `--${k}`);
}

function int(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  // More than 10 digits is past every IPVS field (u32 at most); refuse before Number() rounds it.
  if (!/^\d{1,10}$/.test(v)) {
    throw new UsageError(/^\d+$/.test(v) ? `--${flag} ${v} is out of range` : `--${flag} "${v}" is not a non-negative integer`, { code: 'EBADNUM', where: `--${flag}` });
  }
  return Number(v);
}

const SERVICE_FLAG: Record<string, string> = {
  scheduler: '--scheduler', persistence: '--persistent', netmask: '--netmask', schedFlags: '--sched-flags', onePacket: '--ops', pe: '--pe',
};
const DEST_FLAG: Record<string, string> = {
  address: '--real-server', port: '--real-server', forward: '--real-server', weight: '--weight', upperThreshold: '--u-threshold', lowerThreshold: '--l-threshold',
  tunType: '--tun-type', tunPort: '--tun-port', tunCsum: '--tun-csum',
};

/** Run the model validator, naming the flag a refused field came from. */
function validated<T>(fn: () => T, selectorFlag: string): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof FieldError)) throw e;
    const where = (e.target === 'service' ? SERVICE_FLAG[e.field] : DEST_FLAG[e.field]) ?? selectorFlag;
    throw new UsageError(e.message, { code: e.code, where, hint: e.hint });
  }
}

type SvcFlags = SelFlags & { scheduler?: string; persistent?: string; netmask?: string; 'sched-flags'?: string; pe?: string; ops?: boolean };

/** The full desired service from flags, ipvsadm's defaults for anything not given. */
export function serviceFromFlags(f: SvcFlags, base?: VirtualService): VirtualService {
  const sel = selectorFromFlags(f);
  const persistence = f.persistent !== undefined ? int(f.persistent, 'persistent')! : (base?.persistence ?? 0);
  if (f.persistent !== undefined && persistence < 1) throw new UsageError('persistence timeout must be at least 1 second', { code: 'EBADNUM', where: '--persistent' });
  const svc: VirtualService = {
    ...sel,
    scheduler: (f.scheduler ?? base?.scheduler ?? DEFAULTS.scheduler) as Scheduler,
    persistence,
    netmask: f.netmask ?? base?.netmask ?? defaultNetmask(sel.family),
    schedFlags: f['sched-flags'] !== undefined ? normalizeSchedFlags(f['sched-flags'].split(',')) : (base?.schedFlags ?? []),
    onePacket: f.ops ?? base?.onePacket ?? false,
    pe: f.pe ?? base?.pe,
    destinations: [],
  };
  if (!svc.pe) delete svc.pe;
  return validated(() => validateService(svc), selectorFlagName(f));
}

function selectorFlagName(f: SelFlags): string {
  return `--${(['tcp-service', 'udp-service', 'sctp-service', 'fwmark-service'] as const).find((k) => f[k] !== undefined) ?? 'tcp-service'}`;
}

type DFlags = { 'real-server': string; gatewaying?: boolean; ipip?: boolean; masquerading?: boolean; weight?: string; 'u-threshold'?: string; 'l-threshold'?: string;
  'tun-type'?: string; 'tun-port'?: string; 'tun-nocsum'?: boolean; 'tun-csum'?: boolean; 'tun-remcsum'?: boolean };

/** The desired destination from flags; with `base`, flags not given keep base's values (edit). */
export function destinationFromFlags(sel: ServiceSelector, f: DFlags, base?: Destination): Destination {
  const fw: ForwardMethod[] = [];
  if (f.gatewaying) fw.push('droute');
  if (f.ipip) fw.push('tunnel');
  if (f.masquerading) fw.push('masq');
  if (fw.length > 1) throw new UsageError(`conflicting forwarding flags ${fw.map((x) => ({ droute: '-g', tunnel: '-i', masq: '-m' })[x]).join(' ')}`, { code: 'ECONFLICT', hint: 'give one of -g (DR), -i (TUN), -m (NAT)' });
  const cs: TunCsum[] = (['nocsum', 'csum', 'remcsum'] as const).filter((c) => f[`tun-${c}`]);
  if (cs.length > 1) throw new UsageError('conflicting tunnel checksum flags', { code: 'ECONFLICT', hint: 'give one of --tun-nocsum, --tun-csum, --tun-remcsum' });
  if (f.weight !== undefined && !/^\d+$/.test(f.weight)) throw new UsageError(`weight "${f.weight}" is not valid`, { code: 'EBADWEIGHT', where: '--weight', hint: `use 0-${LIMITS.weight}` });
  const weight = int(f.weight, 'weight');
  const forward = fw[0] ?? base?.forward;
  const keepTun = forward === 'tunnel' && base?.forward === 'tunnel';
  return validated(() => makeDestination(sel, f['real-server'], {
    forward,
    weight: weight ?? base?.weight,
    upper: int(f['u-threshold'], 'u-threshold') ?? base?.upperThreshold,
    lower: int(f['l-threshold'], 'l-threshold') ?? base?.lowerThreshold,
    tunType: (f['tun-type'] as TunType | undefined) ?? (keepTun ? base?.tunType : undefined),
    tunPort: f['tun-port'] !== undefined ? int(f['tun-port'], 'tun-port') : (keepTun ? base?.tunPort : undefined),
    tunCsum: cs[0] ?? (keepTun ? base?.tunCsum : undefined),
  }, '--real-server'), '--real-server');
}
