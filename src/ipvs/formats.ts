/** YAML and JSON forms of the IPVS model, and loading any of the three forms with file:line errors. */
import YAML, { LineCounter, isMap, isSeq, type Node } from 'yaml';
import { InputError, LbctlError } from '../cli/errors.js';
import { DEFAULTS } from './constants.js';
import { checkSchedFlags, checkScheduler, defaultNetmask, type IpvsTable, type VirtualService } from './model.js';
import { formatHostPort } from '../net/address.js';
import { makeDestination, parseRules, parseSelector, printRules } from './rules.js';

export type RulesFormat = 'rules' | 'yaml' | 'json';

/** The document form: config only, defaults spelled out so the file says exactly what the kernel will hold. */
export function tableToDocument(t: IpvsTable) {
  return {
    services: t.services.map((s) => ({
      protocol: s.protocol,
      ...(s.protocol === 'fwmark' ? { fwmark: s.fwmark, family: s.family } : { address: s.address, port: s.port }),
      scheduler: s.scheduler,
      persistence: s.persistence,
      ...(s.persistence ? { netmask: s.netmask } : {}),
      ...(s.schedFlags.length ? { schedFlags: s.schedFlags } : {}),
      ...(s.onePacket ? { onePacket: true } : {}),
      ...(s.pe ? { pe: s.pe } : {}),
      destinations: s.destinations.map((d) => ({
        address: d.address, port: d.port, forward: d.forward, weight: d.weight,
        ...(d.upperThreshold ? { upperThreshold: d.upperThreshold } : {}),
        ...(d.lowerThreshold ? { lowerThreshold: d.lowerThreshold } : {}),
        ...(d.tunType ? { tunType: d.tunType } : {}),
        ...(d.tunPort ? { tunPort: d.tunPort } : {}),
        ...(d.tunCsum ? { tunCsum: d.tunCsum } : {}),
      })),
    })),
  };
}

export function formatTable(t: IpvsTable, format: RulesFormat): string {
  if (format === 'rules') return printRules(t);
  if (format === 'json') return JSON.stringify(tableToDocument(t), null, 2) + '\n';
  return YAML.stringify(tableToDocument(t));
}

const SVC_KEYS = new Set(['protocol', 'address', 'port', 'fwmark', 'family', 'scheduler', 'persistence', 'netmask', 'schedFlags', 'onePacket', 'pe', 'destinations']);
const DEST_KEYS = new Set(['address', 'port', 'forward', 'weight', 'upperThreshold', 'lowerThreshold', 'tunType', 'tunPort', 'tunCsum']);

/** Build and validate a table from a parsed YAML/JSON document; `at(path)` gives "file:line:col" for errors. */
export function tableFromDocument(doc: any, at: (path: (string | number)[]) => string): IpvsTable {
  if (!doc || typeof doc !== 'object' || !Array.isArray(doc.services)) throw new InputError('expected a top-level "services:" list', { code: 'EBADDOC', where: at([]) });
  const seen = new Set<string>();
  const services = doc.services.map((s: any, i: number) => {
    const where = (k?: string | number, ...rest: (string | number)[]) => at(k === undefined ? ['services', i] : ['services', i, k, ...rest]);
    if (!s || typeof s !== 'object') throw new InputError('a service must be a mapping', { code: 'EBADDOC', where: where() });
    for (const k of Object.keys(s)) if (!SVC_KEYS.has(k)) throw new InputError(`unknown key "${k}"`, { code: 'EBADDOC', where: where(k), hint: `allowed: ${[...SVC_KEYS].join(', ')}` });
    const wrap = <T>(k: string, fn: () => T): T => {
      try { return fn(); } catch (e) { if (e instanceof LbctlError && !(e instanceof InputError)) throw new InputError(e.message, { code: e.code, where: where(k), hint: e.hint }); throw e; }
    };
    if (!['tcp', 'udp', 'sctp', 'fwmark'].includes(s.protocol)) throw new InputError(`protocol "${s.protocol}" is not tcp, udp, sctp or fwmark`, { code: 'EBADDOC', where: where('protocol') });
    const sel = wrap(s.protocol === 'fwmark' ? 'fwmark' : 'address', () => s.protocol === 'fwmark'
      ? parseSelector('fwmark', String(s.fwmark), s.family === 'inet6')
      : parseSelector(s.protocol, formatHostPort(String(s.address), s.port), false));
    const key = JSON.stringify(sel);
    if (seen.has(key)) throw new InputError('service is defined twice', { code: 'EDUPSVC', where: where() });
    seen.add(key);
    const num = (k: string, v: unknown, dflt: number) => {
      if (v === undefined) return dflt;
      if (!Number.isInteger(v) || (v as number) < 0) throw new InputError(`${k} must be a non-negative integer`, { code: 'EBADDOC', where: where(k) });
      return v as number;
    };
    const svc: VirtualService = {
      ...sel,
      scheduler: wrap('scheduler', () => checkScheduler(s.scheduler ?? DEFAULTS.scheduler)),
      persistence: num('persistence', s.persistence, 0),
      netmask: String(s.netmask ?? defaultNetmask(sel.family)),
      schedFlags: wrap('schedFlags', () => checkSchedFlags(Array.isArray(s.schedFlags) ? s.schedFlags : [], undefined, s.scheduler ?? DEFAULTS.scheduler)),
      onePacket: Boolean(s.onePacket),
      ...(s.pe ? { pe: String(s.pe) } : {}),
      destinations: [],
    };
    const dests = s.destinations ?? [];
    if (!Array.isArray(dests)) throw new InputError('destinations must be a list', { code: 'EBADDOC', where: where('destinations') });
    for (let j = 0; j < dests.length; j++) {
      const d = dests[j];
      const dw = (k?: string) => at(k === undefined ? ['services', i, 'destinations', j] : ['services', i, 'destinations', j, k]);
      if (!d || typeof d !== 'object') throw new InputError('a destination must be a mapping', { code: 'EBADDOC', where: dw() });
      for (const k of Object.keys(d)) if (!DEST_KEYS.has(k)) throw new InputError(`unknown key "${k}"`, { code: 'EBADDOC', where: dw(k), hint: `allowed: ${[...DEST_KEYS].join(', ')}` });
      if (d.forward !== undefined && !['masq', 'droute', 'tunnel'].includes(d.forward)) throw new InputError(`forward "${d.forward}" is not masq, droute or tunnel`, { code: 'EBADDOC', where: dw('forward') });
      let dest;
      try {
        dest = makeDestination(sel, d.port !== undefined ? formatHostPort(String(d.address), d.port) : String(d.address), {
          forward: d.forward, weight: d.weight, upper: d.upperThreshold, lower: d.lowerThreshold, tunType: d.tunType, tunPort: d.tunPort, tunCsum: d.tunCsum,
        });
      } catch (e) {
        if (e instanceof LbctlError) throw new InputError(e.message, { code: e.code, where: dw(), hint: e.hint });
        throw e;
      }
      if (svc.destinations.some((x) => x.address === dest.address && x.port === dest.port)) throw new InputError('real server is listed twice', { code: 'EDUPDEST', where: dw() });
      svc.destinations.push(dest);
    }
    return svc;
  });
  return { services };
}

export function detectFormat(text: string, file?: string): RulesFormat {
  if (file && /\.ya?ml$/i.test(file)) return 'yaml';
  if (file && /\.json$/i.test(file)) return 'json';
  const head = text.trimStart();
  if (head.startsWith('{')) return 'json';
  if (/^(services\s*:|---)/m.test(head.split('\n')[0] ?? '')) return 'yaml';
  return 'rules';
}

/** Load a desired table from rules, YAML or JSON text; every error names file:line. */
export function loadTable(text: string, file: string, format?: RulesFormat): IpvsTable {
  const fmt = format ?? detectFormat(text, file);
  if (fmt === 'rules') return parseRules(text, file);
  const lc = new LineCounter();
  const doc = YAML.parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0];
    const pos = lc.linePos(e.pos[0]);
    throw new InputError(e.message.split('\n')[0], { code: 'EYAML', where: `${file}:${pos.line}:${pos.col}`, hint: `fix the ${fmt === 'json' ? 'JSON' : 'YAML'} syntax` });
  }
  const at = (path: (string | number)[]) => {
    let node: Node | null | undefined = doc.contents as Node;
    for (let i = path.length; i >= 0; i--) {
      const n = doc.getIn(path.slice(0, i), true) as Node | undefined;
      if (n && (n as any).range) { node = n; break; }
    }
    // For a key path, point at the key itself when possible.
    const parent = path.length ? (doc.getIn(path.slice(0, -1), true) as Node | undefined) : undefined;
    if (parent && isMap(parent)) {
      const pair = parent.items.find((p: any) => p.key?.value === path[path.length - 1]);
      if (pair && (pair.key as any)?.range) node = pair.key as Node;
    } else if (parent && isSeq(parent)) { /* the item node found above */ }
    const off = (node as any)?.range?.[0] ?? 0;
    const p = lc.linePos(off);
    return `${file}:${p.line}:${p.col}`;
  };
  return tableFromDocument(doc.toJS(), at);
}
