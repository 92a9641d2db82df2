import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ErrorObject } from 'ajv';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { InputError, NotFoundError } from '../cli/errors.js';
import validateSchema from './validator.generated.js';
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

/** Parse YAML text and validate it against the schema. Never throws for bad input. */
export function parseSpec(text: string, file: string): ParsedSpec {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: true, uniqueKeys: true });
  const locator = new SpecLocator(file, doc, lines);
  if (doc.errors.length) {
    const findings = doc.errors.map((e) => {
      const lp = e.linePos?.[0] ?? { line: 1, col: 1 };
      const msg = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      return { path: 'YAML', where: `${file}:${lp.line}:${lp.col}`, line: lp.line, col: lp.col, message: `syntax error: ${msg}`, hint: 'fix the YAML syntax' };
    });
    return { file, locator, findings };
  }
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (validate(data)) return { file, spec: data as ClusterSpec, locator, findings: [] };
  const findings = dedupe((validate.errors ?? []).map((e) => ajvFinding(e, locator)));
  findings.sort((a, b) => a.line - b.line || a.col - b.col);
  return { file, locator, findings };
}

/** Read and parse a spec file (NotFoundError when absent); findings are returned, not thrown. */
export async function readSpec(file: string): Promise<ParsedSpec & { text: string }> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e: any) {
    if (e.code === 'ENOENT') throw new NotFoundError(`spec file ${file} does not exist`, { where: file, hint: 'give the path of a cluster spec YAML file' });
    throw e;
  }
  return { ...parseSpec(text, path.relative(process.cwd(), file) || file), text };
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
  const s = JSON.stringify(v);
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
