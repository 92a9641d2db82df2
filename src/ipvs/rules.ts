/**
 * The rules text format: ipvsadm-save syntax ("-A -t 10.0.0.1:80 -s rr -p 300",
 * "-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3"). Files written by ipvsadm-save (with or
 * without -n) and /etc/sysconfig/ipvsadm load unchanged; printing gives ipvsadm-save -n's form.
 */
import { LbctlError, InputError } from '../cli/errors.js';
import { DEFAULTS, TUN_TYPES, type ForwardMethod, type TunCsum, type TunType } from './constants.js';
import { formatHostPort, hostPort, parsePort, type Family } from '../net/address.js';
import {
  defaultNetmask, normalizeSchedFlags, serviceKey, serviceSelector, sortTable,
  type Destination, type IpvsTable, type ServiceProtocol, type VirtualService,
} from './model.js';
import type { Scheduler } from './constants.js';
import { LIMITS, validateDestination, validateService } from './validate.js';
import { SCHEDULERS } from './constants.js';

const SCHEDULER_SET: ReadonlySet<string> = new Set(SCHEDULERS);

/** The longest rules line accepted. ipvsadm-save's longest lines (IPv6, tunnel options) are under 300 bytes. */
export const MAX_RULES_LINE = 4096;

/** A parsed service selector (-t/-u/--sctp-service/-f [-6]). */
export interface ServiceSelector { protocol: ServiceProtocol; family: Family; address?: string; port?: number; fwmark?: number }


const LONG = new Map<string, string>([
  ['--add-service', '-A'], ['--edit-service', '-E'], ['--delete-service', '-D'], ['--add-server', '-a'], ['--edit-server', '-e'], ['--delete-server', '-d'],
  ['--clear', '-C'], ['--scheduler', '-s'], ['--persistent', '-p'], ['--netmask', '-M'], ['--sched-flags', '-b'], ['--ops', '-o'], ['--ipv6', '-6'],
  ['--real-server', '-r'], ['--gatewaying', '-g'], ['--ipip', '-i'], ['--masquerading', '-m'], ['--weight', '-w'], ['--u-threshold', '-x'], ['--l-threshold', '-y'],
]);

/** A long option as its short form; anything else unchanged. */
function short(x: string): string {
  if (x.length < 3 || x.charCodeAt(1) !== 45 /* - */) return x;
  return LONG.get(x) ?? x;
}

export function parseSelector(protocol: ServiceProtocol, value: string, ipv6: boolean, where?: string, trusted = false): ServiceSelector {
  if (protocol === 'fwmark') {
    // ipvsadm -Sn prints marks above 2^31-1 as negative numbers (a signed printf): read them back as the u32 they are.
    if (trusted && /^-\d{1,10}$/.test(value) && Number(value) < 0 && Number(value) >= -0x80000000) {
      return { protocol, family: ipv6 ? 'inet6' : 'inet', fwmark: Number(value) + 0x100000000 };
    }
    if (!/^\d{1,10}$/.test(value) || Number(value) < 1 || Number(value) > LIMITS.fwmark) {
      throw new LbctlError(`firewall mark "${value}" is not valid`, 2, { code: 'EBADMARK', where, hint: 'use an integer 1-4294967295' });
    }
    return { protocol, family: ipv6 ? 'inet6' : 'inet', fwmark: Number(value) };
  }
  const hp = hostPort(value, 'virtual service', true);
  return { protocol, family: hp.family, address: hp.address, port: hp.port };
}

const isDigit = (c: number) => c >= 48 && c <= 57;
function allDigits(v: string): boolean {
  if (!v.length) return false;
  for (let i = 0; i < v.length; i++) if (!isDigit(v.charCodeAt(i))) return false;
  return true;
}

/**
 * Errors of one line carry no place: parseRules adds file:line when it catches them, so the
 * place string is only built for a line that fails.
 */
function badRule(message: string, hint?: string): InputError {
  return new InputError(message, { code: 'EBADRULE', hint });
}

/** The value after option tk[i] (long options in short form), or an error when there is none. */
function need(tk: string[], n: number, i: number, flag: string): string {
  const v = i + 1 < n ? short(tk[i + 1]) : undefined;
  // A value may not look like an option; "-5" (a negative mark from ipvsadm -Sn) is a value.
  if (v === undefined || (v.charCodeAt(0) === 45 && !isDigit(v.charCodeAt(1)))) throw badRule(`option ${flag} needs a value`);
  return v;
}

function num(v: string, what: string): number {
  if (!allDigits(v)) throw badRule(`${what} "${v}" is not a number`);
  return Number(v);
}

/** A selector parsed once per file, with its service key. */
interface SelectorEntry { sel: ServiceSelector; key: string }

/** What the parser carries from line to line (one per parseRules call): no allocation per line for it. */
interface LineState {
  trusted: boolean;
  /** Per protocol and -6: selector text -> entry. */
  selectors: Map<string, SelectorEntry>[];
  /** The last line's result. */
  op: '-A' | '-a' | '-C';
  entry: SelectorEntry | undefined;
  svc: VirtualService | undefined;
  dest: Destination | undefined;
}

const PROTO_INDEX: Record<ServiceProtocol, number> = { tcp: 0, udp: 1, sctp: 2, fwmark: 3 };

/** The forwarding switches of a line in order, for the conflict message (error path only). */
function forwardSwitches(tk: string[], n: number): string {
  const out: string[] = [];
  for (let i = 1; i < n; i++) { const a = short(tk[i]); if (a === '-m' || a === '-g' || a === '-i') out.push(a); }
  return out.join(' ');
}

/** Parse one rules line's tokens tk[0, n) into st. Throws; parseRules adds file:line. */
function parseLine(tk: string[], n: number, st: LineState): void {
  const op = short(tk[0]);
  if (op === '-C') { st.op = '-C'; return; }
  if (op !== '-A' && op !== '-a') {
    throw badRule(`unsupported rule "${tk[0]}"`, 'a rules file holds -A (service) and -a (real server) lines as ipvsadm-save writes them');
  }
  let protocol: ServiceProtocol | undefined;
  let selValue: string | undefined;
  let ipv6 = false;
  let scheduler: string | undefined;
  let persistence = 0;
  let netmask: string | undefined;
  let schedFlags: string[] | undefined;
  let onePacket = false;
  let pe: string | undefined;
  let real: string | undefined;
  let forward: ForwardMethod | undefined;
  let forwards = 0;
  let weight: number | undefined;
  let upper = 0;
  let lower = 0;
  let tunType: TunType | undefined;
  let tunPort: number | undefined;
  let tunCsum: TunCsum | undefined;
  for (let i = 1; i < n; i++) {
    const a = short(tk[i]);
    let svcProto: ServiceProtocol | undefined;
    // Short options by their letter: a switch over strings compares each case in turn, and the
    // interpreter (all a short process runs under qemu TCG) pays for every comparison.
    const letter = a.length === 2 && a.charCodeAt(0) === 45 ? a.charCodeAt(1) : 0;
    switch (letter) {
      case 116 /* t */: svcProto = 'tcp'; break;
      case 117 /* u */: svcProto = 'udp'; break;
      case 102 /* f */: svcProto = 'fwmark'; break;
      case 54 /* 6 */: ipv6 = true; break;
      case 115 /* s */: scheduler = need(tk, n, i, a); i++; break;
      case 112 /* p */:
        persistence = DEFAULTS.persistenceTimeout;
        if (i + 1 < n && allDigits(short(tk[i + 1]))) { persistence = num(short(tk[i + 1]), 'persistence timeout'); i++; }
        if (persistence < 1) throw badRule('persistence timeout must be at least 1 second');
        break;
      case 77 /* M */: netmask = need(tk, n, i, a); i++; break;
      case 98 /* b */: schedFlags = need(tk, n, i, a).split(','); i++; break;
      case 111 /* o */: onePacket = true; break;
      case 114 /* r */: real = need(tk, n, i, a); i++; break;
      case 103 /* g */: forward ??= 'droute'; forwards++; break;
      case 105 /* i */: forward ??= 'tunnel'; forwards++; break;
      case 109 /* m */: forward ??= 'masq'; forwards++; break;
      case 119 /* w */: weight = num(need(tk, n, i, a), 'weight'); i++; break;
      case 120 /* x */: upper = num(need(tk, n, i, a), 'upper threshold'); i++; break;
      case 121 /* y */: lower = num(need(tk, n, i, a), 'lower threshold'); i++; break;
      default:
        switch (a) {
          case '--tcp-service': svcProto = 'tcp'; break;
          case '--udp-service': svcProto = 'udp'; break;
          case '--sctp-service': svcProto = 'sctp'; break;
          case '--fwmark-service': svcProto = 'fwmark'; break;
          case '--pe': pe = need(tk, n, i, a); i++; break;
          case '--tun-type': {
            const v = need(tk, n, i, a); i++;
            if (!(TUN_TYPES as readonly string[]).includes(v)) throw new InputError(`unknown tunnel type "${v}"`, { code: 'EBADRULE', hint: 'use ipip, gue or gre' });
            tunType = v as TunType;
            break;
          }
          case '--tun-port': tunPort = parsePort(need(tk, n, i, a), 'tunnel port'); i++; break;
          case '--tun-nocsum': case '--tun-csum': case '--tun-remcsum': tunCsum = a.slice(6) as TunCsum; break;
          default: throw badRule(`unknown option "${tk[i]}"`, 'see ipvsadm(8) for the rules syntax');
        }
    }
    if (svcProto) {
      if (protocol) throw badRule('more than one service given', 'use one of -t, -u, --sctp-service, -f');
      protocol = svcProto; selValue = need(tk, n, i, a); i++;
    }
  }
  if (!protocol || selValue === undefined) throw badRule('no virtual service given', 'add -t ADDR:PORT, -u ADDR:PORT, --sctp-service ADDR:PORT or -f MARK');
  // Every -a line repeats its service's selector: parse each distinct one once per file.
  const byText = st.selectors[PROTO_INDEX[protocol] * 2 + (ipv6 ? 1 : 0)];
  let entry = byText.get(selValue);
  if (!entry) {
    const sel = parseSelector(protocol, selValue, ipv6, undefined, st.trusted);
    entry = { sel, key: serviceKey(sel) };
    byText.set(selValue, entry);
  }
  const sel = entry.sel;
  st.entry = entry;
  if (op === '-A') {
    if (real || forwards || weight !== undefined) throw badRule('real-server options on a service line', 'put -r/-g/-i/-m/-w on an -a line');
    const nm = netmask ?? defaultNetmask(sel.family);
    const flags = schedFlags && schedFlags.length ? normalizeSchedFlags(schedFlags) : [];
    const sch = (scheduler ?? DEFAULTS.scheduler) as Scheduler;
    // The selector's fields first, then the rest, in the order the model has always had (JSON output keeps it).
    const svc: VirtualService = sel.protocol === 'fwmark'
      ? pe
        ? { protocol: sel.protocol, family: sel.family, fwmark: sel.fwmark, scheduler: sch, persistence, netmask: nm, schedFlags: flags, onePacket, pe, destinations: [] }
        : { protocol: sel.protocol, family: sel.family, fwmark: sel.fwmark, scheduler: sch, persistence, netmask: nm, schedFlags: flags, onePacket, destinations: [] }
      : pe
        ? { protocol: sel.protocol, family: sel.family, address: sel.address, port: sel.port, scheduler: sch, persistence, netmask: nm, schedFlags: flags, onePacket, pe, destinations: [] }
        : { protocol: sel.protocol, family: sel.family, address: sel.address, port: sel.port, scheduler: sch, persistence, netmask: nm, schedFlags: flags, onePacket, destinations: [] };
    // The common service line (a known scheduler, default mask, no flags) is valid as parsed;
    // anything else gets the whole validation, and so its exact error.
    if (!st.trusted && (netmask !== undefined || flags.length || pe || onePacket || !SCHEDULER_SET.has(sch) || persistence > LIMITS.persistence
      || sel.protocol === 'fwmark' || sel.port! > LIMITS.port || (sel.port === 0 && persistence === 0))) validateService(svc);
    st.op = '-A'; st.svc = svc;
    return;
  }
  if (scheduler || persistence || netmask || (schedFlags && schedFlags.length) || pe || onePacket) throw badRule('service options on a real-server line', 'put -s/-p/-M/-b/--pe on the -A line');
  if (!real) throw badRule('real-server line without -r', 'add -r ADDR[:PORT]');
  if (forwards > 1) throw badRule(`conflicting forwarding methods ${forwardSwitches(tk, n)}`, 'give one of -g, -i, -m');
  st.op = '-a';
  st.dest = destination(sel, real, forward, weight, upper, lower, tunType, tunPort, tunCsum, undefined, true);
}

export interface DestinationOptions {
  forward?: ForwardMethod; weight?: number; upper?: number; lower?: number; tunType?: TunType; tunPort?: number; tunCsum?: TunCsum;
}

/** Build a destination with ipvsadm's defaults filled in (forward -g, weight 1, port = service port). */
export function makeDestination(sel: ServiceSelector, real: string, o: DestinationOptions, where?: string): Destination {
  return destination(sel, real, o.forward, o.weight, o.upper, o.lower, o.tunType, o.tunPort, o.tunCsum, where, false);
}

/** Where the colon of the last text v4Port accepted is. */
let v4Colon = 0;

/**
 * The port of "a.b.c.d:port" in the form ipvsadm-save -n writes (a dotted quad as isIPv4 takes
 * it, a port 0-65535 without leading zeros, so the text is its own canonical form), checked in
 * one pass without allocating; -1 for any other text, which hostPort then reads (and refuses
 * with its own message).
 */
function v4Port(s: string): number {
  const n = s.length;
  let dots = 0;
  let digits = 0;
  let val = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 58 /* : */) break;
    if (c === 46 /* . */) {
      if (digits === 0 || ++dots > 3) return -1;
      digits = 0;
      val = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && val === 0) return -1;
      val = val * 10 + c - 48;
      if (val > 255) return -1;
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || i + 1 >= n) return -1;
  if (s.charCodeAt(i + 1) === 48 && i + 2 < n) return -1;
  let port = 0;
  for (let j = i + 1; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c < 48 || c > 57) return -1;
    port = port * 10 + c - 48;
    if (port > 65535) return -1;
  }
  v4Colon = i;
  return port;
}

/** The canonical "address:port" of the last destination built: the rules text itself when it is in that form already. */
let lastDestKey = '';

function destination(
  sel: ServiceSelector, real: string, fwd: ForwardMethod | undefined, weight: number | undefined, upper: number | undefined, lower: number | undefined,
  tunType: TunType | undefined, tunPort: number | undefined, tunCsum: TunCsum | undefined, where: string | undefined,
  /** The numbers come from the rules parser: non-negative integers, so only their upper bounds are left to check. */
  fromText: boolean,
): Destination {
  let address: string;
  let port: number | undefined;
  let family: Family;
  const p4 = v4Port(real);
  if (p4 >= 0) {
    address = real.slice(0, v4Colon);
    port = p4;
    family = 'inet';
  } else {
    const hp = hostPort(real, 'real server', false);
    address = hp.address;
    port = hp.port;
    family = hp.family;
  }
  if (sel.protocol !== 'fwmark' && family !== sel.family) {
    throw new LbctlError(`real server ${real} is ${family === 'inet6' ? 'IPv6' : 'IPv4'} but the service is not`, 2, { code: 'EBADADDR', where, hint: 'use the same address family as the virtual service' });
  }
  const forward = fwd ?? DEFAULTS.forward;
  if (tunType || tunPort !== undefined || tunCsum) {
    if (forward !== 'tunnel') {
      throw new LbctlError('--tun-* options need tunnel forwarding (-i)', 2, { code: 'EBADTUN', where, hint: 'add -i or drop the --tun-* options' });
    }
    if (tunPort && tunType !== 'gue') {
      throw new LbctlError('--tun-port applies to --tun-type gue only', 2, { code: 'EBADTUN', where });
    }
    if (tunCsum && tunType !== 'gue' && tunType !== 'gre') {
      throw new LbctlError('--tun-*csum applies to gue and gre tunnels only', 2, { code: 'EBADTUN', where });
    }
    if (tunCsum === 'remcsum' && tunType !== 'gue') {
      throw new LbctlError('--tun-remcsum applies to gue tunnels only (as ipvsadm and the kernel require)', 2, { code: 'EBADTUN', where });
    }
  }
  if (forward === 'tunnel' && tunType === 'gue' && !tunPort) {
    throw new LbctlError('a GUE tunnel needs --tun-port', 2, { code: 'EBADTUN', where, hint: 'add --tun-port PORT' });
  }
  const d: Destination = {
    address,
    port: port ?? sel.port ?? 0,
    family,
    forward,
    weight: weight ?? DEFAULTS.weight,
    upperThreshold: upper ?? 0,
    lowerThreshold: lower ?? 0,
  };
  lastDestKey = p4 >= 0 ? real : formatHostPort(d.address, d.port);
  if (forward !== 'tunnel') {
    // The address, family and forwarding method are valid as parsed; the numbers are checked
    // here, and anything out of range gets the whole validation, and so its exact error.
    if (fromText && d.port <= LIMITS.port && d.weight <= LIMITS.weight && d.upperThreshold <= LIMITS.threshold && d.lowerThreshold <= d.upperThreshold) return d;
    return validateDestination(sel, d);
  }
  d.tunType = tunType ?? 'ipip';
  if (d.tunType === 'gue') d.tunPort = tunPort;
  if (d.tunType !== 'ipip') d.tunCsum = tunCsum ?? 'nocsum';
  return validateDestination(sel, d);
}

/**
 * Split text[start, end) into tk (reused from line to line); returns the token count. '#'
 * starts a comment; ipvsadm-save never quotes, so splitting at [ \t\r\f\v] is exact.
 */
function tokenize(text: string, start: number, end: number, tk: string[]): number {
  let n = 0;
  let from = -1;
  let i = start;
  for (; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 35 /* # */) break;
    if (c === 32 || c === 9 || c === 13 || c === 12 || c === 11) {
      if (from >= 0) { tk[n++] = text.slice(from, i); from = -1; }
    } else if (from < 0) from = i;
  }
  if (from >= 0) tk[n++] = text.slice(from, i);
  return n;
}

export interface ParseRulesOptions {
  /**
   * The text is what the kernel holds (ipvsadm -Sn): take its services as they are rather than
   * refuse values lbctl would not write itself (a non-contiguous mask set by another tool).
   */
  trusted?: boolean;
}

/**
 * Parse a whole rules file into a table. Validates everything before returning; any error
 * names file:line. Duplicate services/servers are errors (a desired state must be unambiguous).
 * One pass over the lines, constant work per line (duplicates found through sets), so the
 * cost is linear in the size of the text.
 */
export function parseRules(text: string, file = '<stdin>', opts: ParseRulesOptions = {}): IpvsTable {
  const services = new Map<string, VirtualService>();
  const destKeys = new Map<string, Set<string>>();
  const st: LineState = {
    trusted: Boolean(opts.trusted), selectors: [0, 1, 2, 3, 4, 5, 6, 7].map(() => new Map()), op: '-C', entry: undefined, svc: undefined, dest: undefined,
  };
  const tk: string[] = [];
  let lastKey = '';
  let lastSvc: VirtualService | undefined;
  let lastSeen: Set<string> | undefined;
  let start = 0;
  for (let n = 1; start <= text.length; n++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    if (end - start > MAX_RULES_LINE) throw new InputError(`line is longer than ${MAX_RULES_LINE} bytes`, { code: 'ELINE', where: `${file}:${n}`, hint: 'is this a rules file?' });
    const nt = tokenize(text, start, end, tk);
    start = end + 1;
    if (!nt) continue;
    try {
      parseLine(tk, nt, st);
    } catch (e) {
      // Errors of the line itself have no place yet; those of the model (exit 2) become input errors (exit 3) here.
      if (e instanceof LbctlError && (!(e instanceof InputError) || e.where === undefined)) throw new InputError(e.message, { code: e.code, where: `${file}:${n}`, hint: e.hint });
      throw e;
    }
    if (st.op === '-C') continue;
    const { key, sel } = st.entry!;
    if (st.op === '-A') {
      if (services.has(key)) throw new InputError(`service ${serviceSelector(sel)} is defined twice`, { code: 'EDUPSVC', where: `${file}:${n}` });
      services.set(key, st.svc!);
      destKeys.set(key, new Set());
    } else {
      // The -a lines of a service follow its -A line: look it up once per run of lines, not per line.
      if (key !== lastKey) {
        const found = services.get(key);
        if (!found) throw new InputError(`real server for undefined service ${serviceSelector(sel)}`, { code: 'ENOSVC', where: `${file}:${n}`, hint: 'add its -A line before the -a lines' });
        lastKey = key; lastSvc = found; lastSeen = destKeys.get(key)!;
      }
      const svc = lastSvc!;
      const dest = st.dest!;
      const dk = lastDestKey;
      const seen = lastSeen!;
      if (seen.has(dk)) throw new InputError(`real server ${dk} is listed twice for ${serviceSelector(sel)}`, { code: 'EDUPDEST', where: `${file}:${n}` });
      seen.add(dk);
      svc.destinations.push(dest);
    }
  }
  return { services: [...services.values()] };
}

export function printService(s: VirtualService): string {
  // ipvsadm-save's order: -s, -p [-M], --pe, -o, -b
  let line = `-A ${serviceSelector(s)} -s ${s.scheduler}`;
  if (s.persistence > 0) {
    line += ` -p ${s.persistence}`;
    if (s.netmask !== defaultNetmask(s.family)) line += ` -M ${s.netmask}`;
  }
  if (s.pe) line += ` --pe ${s.pe}`;
  if (s.onePacket) line += ' -o';
  if (s.schedFlags.length) line += ` -b ${s.schedFlags.join(',')}`;
  return line;
}

export function printDestination(s: VirtualService, d: Destination): string {
  const sw = { masq: '-m', droute: '-g', tunnel: '-i' }[d.forward];
  let line = `-a ${serviceSelector(s)} -r ${formatHostPort(d.address, d.port)} ${sw} -w ${d.weight}`;
  if (d.upperThreshold) line += ` -x ${d.upperThreshold}`;
  if (d.lowerThreshold) line += ` -y ${d.lowerThreshold}`;
  // ipvsadm 1.31 always names the tunnel type, and the checksum mode of gue/gre.
  if (d.forward === 'tunnel') {
    line += ` --tun-type ${d.tunType ?? 'ipip'}`;
    if (d.tunType === 'gue') line += ` --tun-port ${d.tunPort}`;
    if (d.tunType === 'gue' || d.tunType === 'gre') line += ` --tun-${d.tunCsum ?? 'nocsum'}`;
  }
  return line;
}

/** The whole table in ipvsadm-save -n form, sorted canonically. */
export function printRules(t: IpvsTable): string {
  const out: string[] = [];
  for (const s of sortTable(t).services) {
    out.push(printService(s));
    for (const d of s.destinations) out.push(printDestination(s, d));
  }
  return out.length ? out.join('\n') + '\n' : '';
}
