/**
 * The rules text format: ipvsadm-save syntax ("-A -t 10.0.0.1:80 -s rr -p 300",
 * "-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3"). Files written by ipvsadm-save (with or
 * without -n) and /etc/sysconfig/ipvsadm load unchanged; printing gives ipvsadm-save -n's form.
 */
import { LbctlError, InputError } from '../../../src/cli/errors.js';
import { DEFAULTS, TUN_TYPES, type ForwardMethod, type TunCsum, type TunType } from '../../../src/ipvs/constants.js';
import { formatHostPort, parseHostPort, parsePort, type Family } from './address.js';
import {
  defaultNetmask, normalizeSchedFlags, serviceKey, serviceSelector, sortTable,
  type Destination, type IpvsTable, type ServiceProtocol, type VirtualService,
} from '../../../src/ipvs/model.js';
import type { Scheduler } from '../../../src/ipvs/constants.js';
import { LIMITS, validateDestination, validateService } from './validate.js';

/** The longest rules line accepted. ipvsadm-save's longest lines (IPv6, tunnel options) are under 300 bytes. */
export const MAX_RULES_LINE = 4096;

/** A parsed service selector (-t/-u/--sctp-service/-f [-6]). */
export interface ServiceSelector { protocol: ServiceProtocol; family: Family; address?: string; port?: number; fwmark?: number }

const SERVICE_SWITCHES: Record<string, ServiceProtocol> = {
  '-t': 'tcp', '--tcp-service': 'tcp', '-u': 'udp', '--udp-service': 'udp', '--sctp-service': 'sctp', '-f': 'fwmark', '--fwmark-service': 'fwmark',
};

const LONG: Record<string, string> = {
  '--add-service': '-A', '--edit-service': '-E', '--delete-service': '-D', '--add-server': '-a', '--edit-server': '-e', '--delete-server': '-d',
  '--clear': '-C', '--scheduler': '-s', '--persistent': '-p', '--netmask': '-M', '--sched-flags': '-b', '--ops': '-o', '--ipv6': '-6',
  '--real-server': '-r', '--gatewaying': '-g', '--ipip': '-i', '--masquerading': '-m', '--weight': '-w', '--u-threshold': '-x', '--l-threshold': '-y',
};

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
  const hp = parseHostPort(value, { what: 'virtual service', portRequired: true });
  return { protocol, family: hp.family, address: hp.address, port: hp.port };
}

interface ParsedLine { op: '-A' | '-a' | '-C'; svc?: VirtualService; sel?: ServiceSelector; dest?: Destination }

/** Parse one rules line's tokens. Throws with `where` = file:line. */
function parseLine(tokens: string[], where: string, trusted: boolean, selectors?: Map<string, ServiceSelector>): ParsedLine {
  const t = tokens.map((x) => LONG[x] ?? x);
  const op = t[0];
  if (op === '-C') return { op: '-C' };
  if (op !== '-A' && op !== '-a') {
    throw new InputError(`unsupported rule "${tokens[0]}"`, { code: 'EBADRULE', where, hint: 'a rules file holds -A (service) and -a (real server) lines as ipvsadm-save writes them' });
  }
  let protocol: ServiceProtocol | undefined;
  let selValue: string | undefined;
  let ipv6 = false;
  let scheduler: string | undefined;
  let persistence = 0;
  let netmask: string | undefined;
  let schedFlags: string[] = [];
  let onePacket = false;
  let pe: string | undefined;
  let real: string | undefined;
  const forwards: ForwardMethod[] = [];
  let weight: number | undefined;
  let upper = 0;
  let lower = 0;
  let tunType: TunType | undefined;
  let tunPort: number | undefined;
  let tunCsum: TunCsum | undefined;
  const need = (i: number, flag: string): string => {
    const v = t[i + 1];
    if (v === undefined || (v.startsWith('-') && !/^-\d/.test(v))) throw new InputError(`option ${flag} needs a value`, { code: 'EBADRULE', where });
    return v;
  };
  const num = (v: string, what: string): number => {
    if (!/^\d+$/.test(v)) throw new InputError(`${what} "${v}" is not a number`, { code: 'EBADRULE', where });
    return Number(v);
  };
  for (let i = 1; i < t.length; i++) {
    const a = t[i];
    if (a in SERVICE_SWITCHES) {
      if (protocol) throw new InputError('more than one service given', { code: 'EBADRULE', where, hint: 'use one of -t, -u, --sctp-service, -f' });
      protocol = SERVICE_SWITCHES[a]; selValue = need(i, a); i++;
    } else if (a === '-6') ipv6 = true;
    else if (a === '-s') { scheduler = need(i, a); i++; }
    else if (a === '-p') {
      persistence = DEFAULTS.persistenceTimeout;
      if (t[i + 1] !== undefined && /^\d+$/.test(t[i + 1])) { persistence = num(t[i + 1], 'persistence timeout'); i++; }
      if (persistence < 1) throw new InputError('persistence timeout must be at least 1 second', { code: 'EBADRULE', where });
    } else if (a === '-M') { netmask = need(i, a); i++; }
    else if (a === '-b') { schedFlags = need(i, a).split(','); i++; }
    else if (a === '--pe') { pe = need(i, a); i++; }
    else if (a === '-o') onePacket = true;
    else if (a === '-r') { real = need(i, a); i++; }
    else if (a === '-g') forwards.push('droute');
    else if (a === '-i') forwards.push('tunnel');
    else if (a === '-m') forwards.push('masq');
    else if (a === '-w') { weight = num(need(i, a), 'weight'); i++; }
    else if (a === '-x') { upper = num(need(i, a), 'upper threshold'); i++; }
    else if (a === '-y') { lower = num(need(i, a), 'lower threshold'); i++; }
    else if (a === '--tun-type') {
      const v = need(i, a); i++;
      if (!(TUN_TYPES as readonly string[]).includes(v)) throw new InputError(`unknown tunnel type "${v}"`, { code: 'EBADRULE', where, hint: 'use ipip, gue or gre' });
      tunType = v as TunType;
    } else if (a === '--tun-port') { tunPort = parsePort(need(i, a), 'tunnel port'); i++; }
    else if (a === '--tun-nocsum' || a === '--tun-csum' || a === '--tun-remcsum') tunCsum = a.slice(6) as TunCsum;
    else throw new InputError(`unknown option "${tokens[i]}"`, { code: 'EBADRULE', where, hint: 'see ipvsadm(8) for the rules syntax' });
  }
  if (!protocol || selValue === undefined) throw new InputError('no virtual service given', { code: 'EBADRULE', where, hint: 'add -t ADDR:PORT, -u ADDR:PORT, --sctp-service ADDR:PORT or -f MARK' });
  // Every -a line repeats its service's selector: parse each distinct one once per file.
  const selKey = `${protocol} ${selValue}${ipv6 ? ' -6' : ''}`;
  let sel = selectors?.get(selKey);
  if (!sel) {
    sel = parseSelector(protocol, selValue, ipv6, where, trusted);
    selectors?.set(selKey, sel);
  }
  if (op === '-A') {
    if (real || forwards.length || weight !== undefined) throw new InputError('real-server options on a service line', { code: 'EBADRULE', where, hint: 'put -r/-g/-i/-m/-w on an -a line' });
    const svc: VirtualService = {
      ...sel, scheduler: (scheduler ?? DEFAULTS.scheduler) as Scheduler, persistence, netmask: netmask ?? defaultNetmask(sel.family),
      schedFlags: normalizeSchedFlags(schedFlags), onePacket, pe, destinations: [],
    };
    if (!pe) delete svc.pe;
    if (!trusted) validateService(svc);
    return { op, svc, sel };
  }
  if (scheduler || persistence || netmask || schedFlags.length || pe || onePacket) throw new InputError('service options on a real-server line', { code: 'EBADRULE', where, hint: 'put -s/-p/-M/-b/--pe on the -A line' });
  if (!real) throw new InputError('real-server line without -r', { code: 'EBADRULE', where, hint: 'add -r ADDR[:PORT]' });
  if (forwards.length > 1) throw new InputError(`conflicting forwarding methods ${forwards.map((f) => ({ masq: '-m', droute: '-g', tunnel: '-i' })[f]).join(' ')}`, { code: 'EBADRULE', where, hint: 'give one of -g, -i, -m' });
  const dest = makeDestination(sel, real, { forward: forwards[0], weight, upper, lower, tunType, tunPort, tunCsum }, where);
  return { op, sel, dest };
}

export interface DestinationOptions {
  forward?: ForwardMethod; weight?: number; upper?: number; lower?: number; tunType?: TunType; tunPort?: number; tunCsum?: TunCsum;
}

/** Build a destination with ipvsadm's defaults filled in (forward -g, weight 1, port = service port). */
export function makeDestination(sel: ServiceSelector, real: string, o: DestinationOptions, where?: string): Destination {
  const hp = parseHostPort(real, { what: 'real server' });
  if (sel.protocol !== 'fwmark' && hp.family !== sel.family) {
    throw new LbctlError(`real server ${real} is ${hp.family === 'inet6' ? 'IPv6' : 'IPv4'} but the service is not`, 2, { code: 'EBADADDR', where, hint: 'use the same address family as the virtual service' });
  }
  const forward = o.forward ?? DEFAULTS.forward;
  if ((o.tunType || o.tunPort !== undefined || o.tunCsum) && forward !== 'tunnel') {
    throw new LbctlError('--tun-* options need tunnel forwarding (-i)', 2, { code: 'EBADTUN', where, hint: 'add -i or drop the --tun-* options' });
  }
  if (forward === 'tunnel' && o.tunType === 'gue' && !o.tunPort) {
    throw new LbctlError('a GUE tunnel needs --tun-port', 2, { code: 'EBADTUN', where, hint: 'add --tun-port PORT' });
  }
  if (forward === 'tunnel' && o.tunPort && o.tunType !== 'gue') {
    throw new LbctlError('--tun-port applies to --tun-type gue only', 2, { code: 'EBADTUN', where });
  }
  if (o.tunCsum && o.tunType !== 'gue' && o.tunType !== 'gre') {
    throw new LbctlError('--tun-*csum applies to gue and gre tunnels only', 2, { code: 'EBADTUN', where });
  }
  if (o.tunCsum === 'remcsum' && o.tunType !== 'gue') {
    throw new LbctlError('--tun-remcsum applies to gue tunnels only (as ipvsadm and the kernel require)', 2, { code: 'EBADTUN', where });
  }
  const d: Destination = {
    address: hp.address,
    port: hp.port ?? sel.port ?? 0,
    family: hp.family,
    forward,
    weight: o.weight ?? DEFAULTS.weight,
    upperThreshold: o.upper ?? 0,
    lowerThreshold: o.lower ?? 0,
  };
  if (forward === 'tunnel') {
    d.tunType = o.tunType ?? 'ipip';
    if (d.tunType === 'gue') d.tunPort = o.tunPort;
    if (d.tunType !== 'ipip') d.tunCsum = o.tunCsum ?? 'nocsum';
  }
  return validateDestination(sel, d);
}

/** Tokenise a line; ipvsadm-save never quotes, so whitespace splitting is exact. */
function tokens(line: string): string[] {
  const hash = line.indexOf('#');
  return (hash >= 0 ? line.slice(0, hash) : line).split(/[ \t\r\f\v]+/).filter(Boolean);
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
  const selectors = new Map<string, ServiceSelector>();
  let start = 0;
  for (let n = 1; start <= text.length; n++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const where = `${file}:${n}`;
    if (end - start > MAX_RULES_LINE) throw new InputError(`line is longer than ${MAX_RULES_LINE} bytes`, { code: 'ELINE', where, hint: 'is this a rules file?' });
    const line = text.slice(start, end);
    start = end + 1;
    const tk = tokens(line);
    if (!tk.length) continue;
    let p: ParsedLine;
    try {
      p = parseLine(tk, where, Boolean(opts.trusted), selectors);
    } catch (e) {
      if (e instanceof LbctlError && !(e instanceof InputError)) throw new InputError(e.message, { code: e.code, where, hint: e.hint });
      throw e;
    }
    if (p.op === '-C') continue;
    const key = serviceKey(p.sel!);
    if (p.op === '-A') {
      if (services.has(key)) throw new InputError(`service ${serviceSelector(p.sel!)} is defined twice`, { code: 'EDUPSVC', where });
      services.set(key, p.svc!);
      destKeys.set(key, new Set());
    } else {
      const svc = services.get(key);
      if (!svc) throw new InputError(`real server for undefined service ${serviceSelector(p.sel!)}`, { code: 'ENOSVC', where, hint: 'add its -A line before the -a lines' });
      const dk = formatHostPort(p.dest!.address, p.dest!.port);
      const seen = destKeys.get(key)!;
      if (seen.has(dk)) throw new InputError(`real server ${dk} is listed twice for ${serviceSelector(p.sel!)}`, { code: 'EDUPDEST', where });
      seen.add(dk);
      svc.destinations.push(p.dest!);
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
