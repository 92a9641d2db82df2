/** YAML and JSON forms of the IPVS model, and loading any of the three forms with file:line errors. */
import YAML, { LineCounter, isMap, isSeq, type Node } from 'yaml';
import { InputError, LbctlError } from '../cli/errors.js';
import { DEFAULTS, TUN_TYPES, type Scheduler } from './constants.js';
import { defaultNetmask, normalizeSchedFlags, serviceKey, type Destination, type IpvsTable, type VirtualService } from './model.js';
import { formatHostPort, parseHostPort } from '../net/address.js';
import { makeDestination, parseRules, printRules, type ServiceSelector } from './rules.js';
import { FieldError, validateService } from './validate.js';
import { detectFormat } from './detect-format.js';

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

type At = (path: (string | number)[]) => string;

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);

/**
 * Typed reads of one mapping: a value of the wrong type is an error at its place, never coerced
 * or dropped (a string where a list belongs, "80" for a port, "yes" for a boolean).
 */
function reader(obj: Record<string, unknown>, at: At, path: (string | number)[]) {
  const bad = (k: string, what: string): never => {
    throw new InputError(`${k} must be ${what}, not ${describe(obj[k])}`, { code: 'EBADDOC', where: at([...path, k]) });
  };
  return {
    int: (k: string): number | undefined => (obj[k] === undefined ? undefined : isInt(obj[k]) ? (obj[k] as number) : bad(k, 'an integer')),
    str: (k: string): string | undefined => (obj[k] === undefined ? undefined : typeof obj[k] === 'string' ? (obj[k] as string) : bad(k, 'a string')),
    bool: (k: string): boolean | undefined => (obj[k] === undefined ? undefined : typeof obj[k] === 'boolean' ? (obj[k] as boolean) : bad(k, 'true or false')),
    oneOf: <T extends string>(k: string, allowed: readonly T[]): T | undefined => {
      const v = obj[k];
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
        throw new InputError(`${k} ${describe(v)} is not one of ${allowed.join(', ')}`, { code: 'EBADDOC', where: at([...path, k]) });
      }
      return v as T;
    },
    strList: (k: string): string[] | undefined => {
      const v = obj[k];
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) bad(k, 'a list of strings');
      return v as string[];
    },
  };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Rethrow a model error (FieldError, address parse) as exit 3 at `where`. */
function inputAt<T>(where: string, fn: () => T): T {
  try { return fn(); } catch (e) {
    if (e instanceof LbctlError && !(e instanceof InputError)) throw new InputError(e.message, { code: e.code, where, hint: e.hint });
    throw e;
  }
}

/** Build and validate a table from a parsed YAML/JSON document; `at(path)` gives "file:line:col" for errors. */
export function tableFromDocument(doc: unknown, at: At): IpvsTable {
  if (!isMapping(doc) || !Array.isArray(doc.services)) throw new InputError('expected a top-level "services:" list', { code: 'EBADDOC', where: at([]) });
  for (const k of Object.keys(doc)) if (k !== 'services') throw new InputError(`unknown key "${k}"`, { code: 'EBADDOC', where: at([k]), hint: 'the document holds one key, services' });
  const seen = new Set<string>();
  const services = (doc.services as unknown[]).map((s, i): VirtualService => {
    const path = ['services', i];
    const where = (k?: string) => at(k === undefined ? path : [...path, k]);
    if (!isMapping(s)) throw new InputError('a service must be a mapping', { code: 'EBADDOC', where: where() });
    for (const k of Object.keys(s)) if (!SVC_KEYS.has(k)) throw new InputError(`unknown key "${k}"`, { code: 'EBADDOC', where: where(k), hint: `allowed: ${[...SVC_KEYS].join(', ')}` });
    const r = reader(s, at, path);
    const protocol = r.oneOf('protocol', ['tcp', 'udp', 'sctp', 'fwmark'] as const);
    if (!protocol) throw new InputError('protocol is missing', { code: 'EBADDOC', where: where(), hint: 'protocol: tcp, udp, sctp or fwmark' });
    let sel: ServiceSelector;
    if (protocol === 'fwmark') {
      if (s.address !== undefined || s.port !== undefined) throw new InputError('a fwmark service has no address or port', { code: 'EBADDOC', where: where(s.address !== undefined ? 'address' : 'port') });
      const fwmark = r.int('fwmark');
      if (fwmark === undefined) throw new InputError('fwmark is missing', { code: 'EBADDOC', where: where() });
      const family = r.oneOf('family', ['inet', 'inet6'] as const) ?? 'inet';
      sel = { protocol, family, fwmark };
    } else {
      if (s.fwmark !== undefined || s.family !== undefined) throw new InputError(`a ${protocol} service has no ${s.fwmark !== undefined ? 'fwmark' : 'family'} (the address decides the family)`, { code: 'EBADDOC', where: where(s.fwmark !== undefined ? 'fwmark' : 'family') });
      const address = r.str('address');
      const port = r.int('port');
      if (address === undefined || port === undefined) throw new InputError(`${address === undefined ? 'address' : 'port'} is missing`, { code: 'EBADDOC', where: where() });
      const hp = inputAt(where('address'), () => parseHostPort(address, { what: 'virtual address' }));
      if (hp.port !== undefined) throw new InputError('address must not carry a port; use port:', { code: 'EBADDOC', where: where('address') });
      sel = { protocol, family: hp.family, address: hp.address, port };
    }
    // IPv6 prefixes may be written as numbers (netmask: 64); dotted masks are strings.
    const netmask = isInt(s.netmask) ? String(s.netmask) : r.str('netmask');
    const svc: VirtualService = {
      ...sel,
      scheduler: (r.str('scheduler') ?? DEFAULTS.scheduler) as Scheduler,
      persistence: r.int('persistence') ?? 0,
      netmask: netmask ?? defaultNetmask(sel.family),
      schedFlags: normalizeSchedFlags(r.strList('schedFlags') ?? []),
      onePacket: r.bool('onePacket') ?? false,
      pe: r.str('pe'),
      destinations: [],
    };
    if (svc.pe === undefined) delete svc.pe;
    try { validateService(svc); } catch (e) {
      if (e instanceof FieldError) throw new InputError(e.message, { code: e.code, where: where(e.field in s ? e.field : undefined), hint: e.hint });
      throw e;
    }
    const key = serviceKey(sel);
    if (seen.has(key)) throw new InputError('service is defined twice', { code: 'EDUPSVC', where: where() });
    seen.add(key);
    const dests = s.destinations ?? [];
    if (!Array.isArray(dests)) throw new InputError(`destinations must be a list, not ${describe(dests)}`, { code: 'EBADDOC', where: where('destinations') });
    const destSeen = new Set<string>();
    for (let j = 0; j < dests.length; j++) {
      const d: unknown = dests[j];
      const dpath = ['services', i, 'destinations', j];
      const dw = (k?: string) => at(k === undefined ? dpath : [...dpath, k]);
      if (!isMapping(d)) throw new InputError('a destination must be a mapping', { code: 'EBADDOC', where: dw() });
      for (const k of Object.keys(d)) if (!DEST_KEYS.has(k)) throw new InputError(`unknown key "${k}"`, { code: 'EBADDOC', where: dw(k), hint: `allowed: ${[...DEST_KEYS].join(', ')}` });
      const dr = reader(d, at, dpath);
      const address = dr.str('address');
      if (address === undefined) throw new InputError('address is missing', { code: 'EBADDOC', where: dw() });
      const port = dr.int('port');
      const opts = {
        forward: dr.oneOf('forward', ['masq', 'droute', 'tunnel'] as const), weight: dr.int('weight'), upper: dr.int('upperThreshold'), lower: dr.int('lowerThreshold'),
        tunType: dr.oneOf('tunType', TUN_TYPES), tunPort: dr.int('tunPort'), tunCsum: dr.oneOf('tunCsum', ['nocsum', 'csum', 'remcsum'] as const),
      };
      const hp = inputAt(dw('address'), () => parseHostPort(address, { what: 'real server' }));
      if (hp.port !== undefined) throw new InputError('address must not carry a port; use port:', { code: 'EBADDOC', where: dw('address') });
      // An out-of-range port must be refused here, not wrapped into "host:port" text and re-parsed.
      if (port !== undefined && (port < 0 || port > 65535)) throw new InputError(`real server port ${port} is out of range`, { code: 'EBADPORT', where: dw('port'), hint: 'use an integer 0-65535' });
      let dest: Destination;
      try {
        dest = makeDestination(sel, port !== undefined ? formatHostPort(hp.address, port) : hp.address, opts);
      } catch (e) {
        if (e instanceof FieldError) throw new InputError(e.message, { code: e.code, where: dw(e.field in d ? e.field : undefined), hint: e.hint });
        if (e instanceof LbctlError && !(e instanceof InputError)) throw new InputError(e.message, { code: e.code, where: dw(), hint: e.hint });
        throw e;
      }
      const dk = formatHostPort(dest.address, dest.port);
      if (destSeen.has(dk)) throw new InputError('real server is listed twice', { code: 'EDUPDEST', where: dw() });
      destSeen.add(dk);
      svc.destinations.push(dest);
    }
    return svc;
  });
  return { services };
}

export { detectFormat };

/** Deeper than this is no IPVS document (services > item > destinations > item is 4). */
export const MAX_DOC_DEPTH = 32;
/** YAML aliases expanded at most (an alias bomb expands exponentially). */
export const MAX_ALIASES = 100;

/**
 * The deepest nesting of flow collections ([ and {) outside quoted strings. The YAML parser
 * recurses per level, so this is checked before it runs; block nesting is caught by its depth
 * in the document afterwards (and a stack overflow, should one happen, is reported as input).
 */
function flowDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (quote) {
      if (c === 92 /* \\ */ && quote === '"') i++;
      else if (String.fromCharCode(c) === quote) quote = '';
      continue;
    }
    if (c === 34 || c === 39) quote = String.fromCharCode(c);
    else if (c === 91 || c === 123) { if (++depth > max) max = depth; if (max > MAX_DOC_DEPTH) return max; }
    else if (c === 93 || c === 125) depth = Math.max(0, depth - 1);
    else if (c === 35 /* # */ && (i === 0 || /\s/.test(text[i - 1]))) { const nl = text.indexOf('\n', i); i = nl < 0 ? text.length : nl; }
  }
  return max;
}

function docDepth(v: unknown, limit: number): number {
  // Iterative: a hostile document must not be able to overflow the stack here either.
  let max = 0;
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (d > max) max = d;
    if (max > limit) return max;
    if (x && typeof x === 'object') for (const y of Object.values(x)) stack.push([y, d + 1]);
  }
  return max;
}

/** Load a desired table from rules, YAML or JSON text; every error names file:line. */
export function loadTable(text: string, file: string, format?: RulesFormat): IpvsTable {
  const fmt = format ?? detectFormat(text, file);
  if (fmt === 'rules') return parseRules(text, file);
  const kind = fmt === 'json' ? 'JSON' : 'YAML';
  if (flowDepth(text) > MAX_DOC_DEPTH) throw new InputError(`${kind} is nested more than ${MAX_DOC_DEPTH} levels deep`, { code: 'EDEPTH', where: file, hint: 'an IPVS table needs 4 levels' });
  const lc = new LineCounter();
  let doc: YAML.Document.Parsed;
  let js: unknown;
  try {
    doc = YAML.parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
    if (!doc.errors.length) js = doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (e) {
    if (e instanceof RangeError) throw new InputError(`${kind} is nested too deeply`, { code: 'EDEPTH', where: file, hint: 'an IPVS table needs 4 levels' });
    if (e instanceof ReferenceError && /alias/i.test(e.message)) throw new InputError(`${kind} expands more than ${MAX_ALIASES} aliases`, { code: 'EALIAS', where: file, hint: 'write the values out instead of aliasing them' });
    throw e;
  }
  if (doc.errors.length) {
    const e = doc.errors[0];
    const pos = lc.linePos(e.pos[0]);
    throw new InputError(e.message.split('\n')[0], { code: 'EYAML', where: `${file}:${pos.line}:${pos.col}`, hint: `fix the ${kind} syntax` });
  }
  if (docDepth(js, MAX_DOC_DEPTH) > MAX_DOC_DEPTH) throw new InputError(`${kind} is nested more than ${MAX_DOC_DEPTH} levels deep`, { code: 'EDEPTH', where: file, hint: 'an IPVS table needs 4 levels' });
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
  return tableFromDocument(js, at);
}
