import { constants, promises as fs, type Stats } from 'node:fs';
import path from 'node:path';
import type { ErrorObject } from 'ajv';
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { InputError, NotFoundError, PermissionError, type LbctlError } from '../cli/errors.js';
// Named, not default: the bundle requires it as a separate CommonJS file (scripts/build.mjs), where
// node's interop gives the default import the whole exports object.
import { validate as validateSchema } from './validator.generated.js';
import type { ClusterSpec } from './types.js';

export type SpecPath = Array<string | number>;

/** One problem found in a spec: where (file:line:col), which field, what is wrong, what is allowed. */
export interface SpecFinding {
  /** Dotted spec path, e.g. "vrrp.instances[0].virtual_router_id". */
  path: string;
  /** "file:line:col" */
  where: string;
  line: number;
  col: number;
  message: string;
  hint?: string;
  /** The spec rule (rules/) that found it; absent for YAML and schema findings. */
  rule?: string;
}

export function formatPath(p: SpecPath): string {
  let out = '';
  for (const seg of p) out += typeof seg === 'number' ? `[${seg}]` : (out ? `.${seg}` : seg);
  return out || '(top level)';
}

/** The one line a user sees for a finding. */
export function findingLine(f: SpecFinding): string {
  return `${f.where}: ${f.path}: ${f.message}${f.hint ? ` (${f.hint})` : ''}`;
}

/** Maps spec paths back to file:line:col through the YAML document's node ranges. */
export class SpecLocator {
  constructor(readonly file: string, private readonly doc: Document | undefined, private readonly lines: LineCounter) {}

  /** Position of the value at `p` (or of its key with key=true); the nearest existing ancestor when absent. */
  locate(p: SpecPath, key = false): { line: number; col: number } {
    let node: unknown = this.doc?.contents;
    let pos = node && (node as Node).range ? (node as Node).range![0] : 0;
    for (let i = 0; i < p.length; i++) {
      const seg = p[i];
      if (isMap(node)) {
        const pair = node.items.find((it) => isPair(it) && (isScalar(it.key) ? it.key.value : it.key) === seg);
        if (!pair) break;
        const last = i === p.length - 1;
        const k = pair.key as Node | undefined;
        if (last && key && k?.range) { pos = k.range[0]; node = undefined; break; }
        node = pair.value;
        const r = (node as Node | null)?.range ?? k?.range;
        if (r) pos = r[0];
      } else if (isSeq(node) && typeof seg === 'number' && seg < node.items.length) {
        node = node.items[seg];
        const r = (node as Node | null)?.range;
        if (r) pos = r[0];
      } else {
        break;
      }
    }
    const lp = this.lines.linePos(pos);
    return { line: lp.line, col: lp.col };
  }

  finding(p: SpecPath, message: string, hint?: string, key = false): SpecFinding {
    const { line, col } = this.locate(p, key);
    return { path: formatPath(p), where: `${this.file}:${line}:${col}`, line, col, message, hint };
  }
}

export interface ParsedSpec {
  file: string;
  spec?: ClusterSpec;
  locator: SpecLocator;
  /** Parse and schema findings, in document order. Empty when `spec` is set. */
  findings: SpecFinding[];
}

/** ajv's validator for schema.ts, compiled at build time by scripts/build-validator.mjs (its options are there). */
const validate = validateSchema as { (data: unknown): boolean; errors?: ErrorObject[] | null };

/**
 * What reading one spec may cost (README, "Cluster config"). A real spec is a few KiB and
 * about 8 levels deep; the limits keep a hostile or mistaken file (an alias bomb, a
 * multi-gigabyte file, 100,000 nested brackets) from taking memory, stack or time.
 */
export const SPEC_LIMITS = {
  /** File size in bytes (4 MiB). */
  maxBytes: 4 * 1024 * 1024,
  /** yaml's maxAliasCount: how far aliases may multiply the document when expanded. */
  maxAliasCount: 100,
  /** Nested collections (mappings, sequences, flow brackets). */
  maxDepth: 64,
} as const;

/** A finding about the YAML text itself, at a byte offset. */
function textFinding(file: string, lines: LineCounter | undefined, text: string, offset: number, message: string, hint: string): SpecFinding {
  const { line, col } = lines ? lines.linePos(offset) : linePosOf(text, offset);
  return { path: 'YAML', where: `${file}:${line}:${col}`, line, col, message, hint };
}

function linePosOf(text: string, offset: number): { line: number; col: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) { line++; start = i + 1; }
  return { line, col: offset - start + 1 };
}

const FLOW_START = new Set(['[', '{']);
const NODE_START_BEFORE = new Set([undefined, ' ', '\t', '\n', '\r', '[', '{', ',', ':', '-', '?']);

/**
 * The offset where the text first nests deeper than `limit`, or -1; one linear pass, before
 * yaml sees the text (its parser recurses, and slows down on deep flow collections). Depth is
 * estimated generously: indentation levels plus leading `- `/`? ` indicators on a line, plus
 * open flow brackets outside quotes and comments.
 */
export function tooDeepAt(text: string, limit: number): number {
  const indents: number[] = [];
  let blockDepth = 0;
  let flow = 0;
  let quote: '"' | "'" | undefined;
  let comment = false;
  let lineStart = true;
  for (let i = 0; i < text.length; i++) {
    if (lineStart && flow === 0 && quote === undefined) {
      lineStart = false;
      let j = i;
      while (text[j] === ' ') j++;
      const indent = j - i;
      // Levels this line sits in: enclosing lines with less indentation, plus its own.
      let outer = indents.length;
      while (outer > 0 && indents[outer - 1] >= indent) outer--;
      let depth = outer + 1;
      while ((text[j] === '-' || text[j] === '?') && (text[j + 1] === ' ' || text[j + 1] === '\t' || text[j + 1] === '\n' || j + 1 === text.length)) {
        if (++depth > limit) return j;
        j++;
        while (text[j] === ' ' || text[j] === '\t') j++;
      }
      if (text[j] !== '\n' && text[j] !== '\r' && text[j] !== '#' && j < text.length) {
        indents.length = outer;
        indents.push(indent);
        blockDepth = depth;
        if (blockDepth > limit) return j;
      }
    }
    const c = text[i];
    if (c === '\n') { lineStart = true; comment = false; continue; }
    if (comment) continue;
    if (quote === '"') { if (c === '\\') i++; else if (c === '"') quote = undefined; continue; }
    if (quote === "'") { if (c === "'") { if (text[i + 1] === "'") i++; else quote = undefined; } continue; }
    const prev = i > 0 ? text[i - 1] : undefined;
    if (c === '#' && (prev === undefined || prev === ' ' || prev === '\t' || prev === '\n')) comment = true;
    else if ((c === '"' || c === "'") && NODE_START_BEFORE.has(prev)) quote = c;
    else if (FLOW_START.has(c) && (flow > 0 || NODE_START_BEFORE.has(prev))) { if (++flow + blockDepth > limit) return i; }
    else if ((c === ']' || c === '}') && flow > 0) flow--;
  }
  return -1;
}

/** Aliases must name an anchor above them, and not one of their own ancestors (that would make the data circular). */
function checkNodes(doc: Document, file: string, lines: LineCounter): SpecFinding | undefined {
  // Iterative: the depth was bounded before parsing, but this must not be the recursion that breaks.
  // One walk in document order keeps the anchors seen so far: yaml's Alias.resolve() searches the
  // whole document for each alias, which is quadratic in a file of many aliases.
  const onPath = new Set<unknown>();
  const anchors = new Map<string, unknown>();
  const stack: Array<{ node: unknown; exit?: boolean }> = [{ node: doc.contents }];
  while (stack.length) {
    const { node, exit } = stack.pop()!;
    if (exit) { onPath.delete(node); continue; }
    if (isAlias(node)) {
      const target = anchors.get(node.source);
      if (!target) return textFinding(file, lines, '', node.range?.[0] ?? 0, `alias *${node.source} has no anchor before it`, `define &${node.source} on a node above this one`);
      if (onPath.has(target)) return textFinding(file, lines, '', node.range?.[0] ?? 0, `alias *${node.source} refers to a node that contains it`, 'an alias may only repeat a node defined before and outside it');
      continue;
    }
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor) anchors.set(anchor, node);
    if (isCollection(node)) {
      onPath.add(node);
      stack.push({ node, exit: true });
      // Pushed in reverse so that they are visited in document order.
      for (let i = node.items.length - 1; i >= 0; i--) {
        const item = node.items[i];
        if (isPair(item)) stack.push({ node: item.value }, { node: item.key });
        else stack.push({ node: item });
      }
    }
  }
  return undefined;
}

/** Parse YAML text and validate it against the schema. Never throws for bad input. */
export function parseSpec(text: string, file: string): ParsedSpec {
  const deep = tooDeepAt(text, SPEC_LIMITS.maxDepth);
  if (deep >= 0) {
    const f = textFinding(file, undefined, text, deep, `nested more than ${SPEC_LIMITS.maxDepth} levels deep`, 'a cluster spec needs about 8 levels; check the indentation and brackets');
    return { file, locator: new SpecLocator(file, undefined, new LineCounter()), findings: [f] };
  }
  const lines = new LineCounter();
  let doc: Document;
  try {
    // logLevel error: yaml would print warnings (e.g. a collection used as a key) on stderr.
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  } catch (e) {
    // A stack overflow the depth estimate did not foresee: still bad input, not a bug.
    if (!(e instanceof RangeError) && !(e instanceof SyntaxError)) throw e;
    const f = textFinding(file, undefined, text, 0, 'the YAML is too deeply nested to parse', 'check the indentation and brackets');
    return { file, locator: new SpecLocator(file, undefined, new LineCounter()), findings: [f] };
  }
  const locator = new SpecLocator(file, doc, lines);
  if (doc.errors.length) {
    const findings = doc.errors.map((e) => {
      const lp = e.linePos?.[0] ?? { line: 1, col: 1 };
      const msg = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      return { path: 'YAML', where: `${file}:${lp.line}:${lp.col}`, line: lp.line, col: lp.col, message: `syntax error: ${msg}`, hint: 'fix the YAML syntax' };
    });
    return { file, locator, findings };
  }
  const circular = checkNodes(doc, file, lines);
  if (circular) return { file, locator, findings: [circular] };
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: SPEC_LIMITS.maxAliasCount });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    const first = firstAlias(doc);
    return { file, locator, findings: [textFinding(file, lines, text, first, `aliases expand the document too much (more than ${SPEC_LIMITS.maxAliasCount} times an anchored node's size)`, 'write the repeated parts out, or repeat fewer of them')] };
  }
  if (validate(data)) return { file, spec: data as ClusterSpec, locator, findings: [] };
  const findings = dedupe((validate.errors ?? []).map((e) => ajvFinding(e, locator)));
  findings.sort((a, b) => a.line - b.line || a.col - b.col);
  return { file, locator, findings };
}

function firstAlias(doc: Document): number {
  let at = 0;
  const stack: unknown[] = [doc.contents];
  while (stack.length) {
    const node = stack.pop();
    if (isAlias(node)) { at = node.range?.[0] ?? 0; break; }
    if (isCollection(node)) for (const item of [...node.items].reverse()) stack.push(...(isPair(item) ? [item.value, item.key] : [item]));
  }
  return at;
}

const HINT_FILE = 'give the path of a cluster spec YAML file';

function fileKind(st: Stats): string {
  return st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isCharacterDevice() ? 'a character device' : st.isBlockDevice() ? 'a block device' : st.isSocket() ? 'a socket' : 'not a regular file';
}

/** The error for a spec file that cannot be opened or read. */
function readError(file: string, e: NodeJS.ErrnoException): LbctlError {
  switch (e.code) {
    case 'ENOENT': return new NotFoundError(`spec file ${file} does not exist`, { where: file, hint: HINT_FILE });
    case 'ENOTDIR': return new NotFoundError(`spec file ${file} does not exist: a part of its path is not a directory`, { where: file, hint: HINT_FILE });
    case 'EACCES': case 'EPERM': return new PermissionError(`cannot read spec file ${file}: permission denied`, { where: file, hint: 'run as a user who may read it, or fix its mode' });
    case 'EISDIR': return new InputError(`spec file ${file} is a directory`, { where: file, hint: HINT_FILE });
    default: return new InputError(`cannot read spec file ${file}: ${e.code ?? e.message}`, { where: file, hint: HINT_FILE });
  }
}

/**
 * The file's text, refusing what is not a regular file (a FIFO or device would block or never
 * end) and anything over SPEC_LIMITS.maxBytes, without reading more than that.
 */
async function readBounded(file: string, shown: string): Promise<{ text: string } | { finding: SpecFinding }> {
  let fh: fs.FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
    fh = await fs.open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw readError(file, e as NodeJS.ErrnoException);
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InputError(`spec file ${file} is ${fileKind(st)}, not a regular file`, { where: file, hint: HINT_FILE });
    const max = SPEC_LIMITS.maxBytes;
    let buf = Buffer.alloc(Math.min(st.size, max) + 1);
    let got = 0;
    // The size can change after stat: trust only what is read, and never read past max + 1.
    for (;;) {
      if (got === buf.length) {
        if (got > max) {
          const text = buf.subarray(0, max).toString('utf8');
          return { finding: textFinding(shown, undefined, text, text.length, `the file is larger than ${max / 1024 / 1024} MiB`, 'a cluster spec is a few KiB; check that this is the right file') };
        }
        const bigger = Buffer.alloc(Math.min(buf.length * 2, max + 1));
        buf.copy(bigger);
        buf = bigger;
      }
      let bytesRead: number;
      try {
        ({ bytesRead } = await fh.read(buf, got, buf.length - got, got));
      } catch (e) {
        throw readError(file, e as NodeJS.ErrnoException);
      }
      if (bytesRead === 0) return { text: buf.subarray(0, got).toString('utf8') };
      got += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** Read and parse a spec file (NotFoundError when absent); findings are returned, not thrown. */
export async function readSpec(file: string): Promise<ParsedSpec & { text: string }> {
  const shown = path.relative(process.cwd(), file) || file;
  const read = await readBounded(file, shown);
  if ('finding' in read) return { file: shown, locator: new SpecLocator(shown, undefined, new LineCounter()), findings: [read.finding], text: '' };
  return { ...parseSpec(read.text, shown), text: read.text };
}

/** Read and validate a spec file; throws NotFoundError/InputError (the first finding) on failure. */
export async function loadSpec(file: string): Promise<{ spec: ClusterSpec; locator: SpecLocator; text: string }> {
  const { spec, locator, text, findings } = await readSpec(file);
  if (!spec) throw findingsError(findings);
  return { spec, locator, text };
}

/** One InputError for a list of findings: the first, and how many more there are. */
export function findingsError(findings: SpecFinding[]): InputError {
  const f = findings[0];
  const more = findings.length > 1 ? `; ${findings.length - 1} more problem(s): run lbctl config check` : '';
  return new InputError(`${f.path}: ${f.message}`, { where: f.where, hint: `${f.hint ?? 'fix the spec'}${more}`, code: 'ESPEC' });
}

function pointerToPath(pointer: string): SpecPath {
  if (!pointer) return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function show(v: unknown): string {
  let s: string | undefined;
  try { s = JSON.stringify(v); } catch { s = undefined; }
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function ajvFinding(e: ErrorObject, loc: SpecLocator): SpecFinding {
  const p = pointerToPath(e.instancePath);
  const desc = (e.parentSchema as { description?: string } | undefined)?.description;
  const expected = desc ? `expected ${desc}` : undefined;
  switch (e.keyword) {
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      const props = (e.parentSchema as { properties?: Record<string, { description?: string }> })?.properties;
      const d = props?.[missing]?.description;
      return loc.finding([...p, missing], 'missing required field', d ? `add ${missing}: ${d}` : `add ${missing}`);
    }
    case 'additionalProperties': {
      const extra = (e.params as { additionalProperty: string }).additionalProperty;
      const allowed = Object.keys((e.parentSchema as { properties?: object })?.properties ?? {});
      return loc.finding([...p, extra], `unknown key "${extra}"`, `allowed keys here: ${allowed.join(', ')}`, true);
    }
    case 'type':
      return loc.finding(p, `${show(e.data)} must be ${(e.params as { type: string | string[] }).type.toString().replace(',', ' or ')}`, expected);
    case 'enum':
      return loc.finding(p, `${show(e.data)} is not allowed`, expected ?? `allowed: ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`);
    case 'pattern':
      return loc.finding(p, `${show(e.data)} is not allowed here`, expected);
    case 'minimum': case 'maximum': case 'exclusiveMinimum': case 'exclusiveMaximum':
      return loc.finding(p, `${show(e.data)} is out of range (${e.message})`, expected);
    case 'maxLength': case 'minLength':
      return loc.finding(p, `${show(e.data)} is ${String(e.data).length} characters long (${e.message})`, expected);
    case 'minItems':
      return loc.finding(p, `needs at least ${(e.params as { limit: number }).limit} item(s)`, expected);
    case 'not':
      return loc.finding(p, `${show(e.data)} is not allowed`, expected);
    default:
      return loc.finding(p, e.message ?? 'is invalid', expected);
  }
}

/** Union types and allErrors can report one bad value twice; keep the first per place. */
function dedupe(fs: SpecFinding[]): SpecFinding[] {
  const seen = new Set<string>();
  return fs.filter((f) => {
    const k = `${f.where}|${f.path}|${f.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
