/** restore: make the kernel table equal to a file by applying only the difference (never a flush). */
import { open, type FileHandle } from 'node:fs/promises';
import { constants } from 'node:fs';
import { isAscii } from 'node:buffer';
import { InputError, LbctlError, NotFoundError, PermissionError, UsageError } from '../cli/errors.js';
import type { IpvsDriver } from './driver.js';
import type { RulesFormat } from './formats.js';
import { serviceKey, serviceLabel, type IpvsTable } from './model.js';
import { plan, planJson, type IpvsTableChange } from './plan.js';
import { applyPlan } from './provider.js';
import { validateTable } from './validate.js';
import { loadTableText } from './detect-format.js';

/**
 * The most restore reads from a file or stdin. The largest real tables (tens of thousands of
 * real servers) are a few MB of rules; anything near this is not a rules file, and the parsed
 * model takes several times the text in memory.
 */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

export interface ReadOptions { maxBytes?: number }

const mib = (n: number) => (n >= 1024 * 1024 ? `${Math.round(n / 1024 / 1024)} MiB` : `${n} bytes`);

/** Input text, refused early when it cannot be rules, YAML or JSON (too big, binary). */
class Collector {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private name: string, private max: number) {}
  add(c: Buffer): void {
    // Text formats never hold a NUL: /dev/zero, images and core files stop at their first chunk.
    const nul = c.indexOf(0);
    if (nul >= 0) throw new InputError(`binary data (a NUL byte at offset ${this.size + nul})`, { code: 'EBINARY', where: this.name, hint: 'give an ipvsadm-save rules file, YAML or JSON' });
    this.size += c.length;
    if (this.size > this.max) throw new InputError(`input is larger than ${mib(this.max)}`, { code: 'ETOOBIG', where: this.name, hint: `restore reads at most ${mib(this.max)}` });
    this.chunks.push(c);
  }
  text(): string { return decodeText(Buffer.concat(this.chunks)); }
}

function openError(e: NodeJS.ErrnoException, file: string): LbctlError {
  const o = { code: e.code, where: file };
  switch (e.code) {
    case 'ENOENT': return new NotFoundError(`rules file ${file} does not exist`, { code: 'ENOENT', hint: 'give a path, or - for stdin' });
    case 'ENOTDIR': return new NotFoundError(`rules file ${file} does not exist (a parent is not a directory)`, { code: 'ENOTDIR', hint: 'give a path, or - for stdin' });
    case 'EACCES': case 'EPERM': return new PermissionError('permission denied reading the rules file', { ...o, hint: 'check its mode, or run as root' });
    case 'EISDIR': return new InputError('is a directory, not a rules file', { ...o, hint: 'give a rules file' });
    default: return new InputError(`cannot read the rules file (${e.code ?? e.message})`, { ...o, hint: 'give a regular rules file, or - for stdin' });
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The text of a rules file. Rules are ASCII: read as latin1 (the same characters; a plain copy),
 * not through the UTF-8 decoder, which took 180 ms of a 10,000-rule restore under the kernel
 * lab's qemu TCG (docs/DEV.md, start-up). Anything else decodes as UTF-8.
 */
export function decodeText(b: Buffer): string {
  return b.toString(isAscii(b) ? 'latin1' : 'utf8');
}

/**
 * Read to the end into one buffer (a regular file's is its size plus one byte, so most files
 * take one read and one more to see the end), refused as the Collector refuses: one decode, no
 * copy per chunk.
 */
async function readHandle(fh: FileHandle, file: string, max: number, pipe: boolean, sizeHint: number): Promise<string> {
  let buf = Buffer.allocUnsafe(Math.max(Math.min(sizeHint, max) + 1, 64 * 1024));
  let size = 0;
  for (;;) {
    if (size === buf.length) {
      const bigger = Buffer.allocUnsafe(buf.length * 2);
      buf.copy(bigger, 0, 0, size);
      buf = bigger;
    }
    let n: number;
    try {
      ({ bytesRead: n } = await fh.read(buf, size, buf.length - size, null));
    } catch (e: any) {
      // Opened O_NONBLOCK so that a FIFO without a writer reads as empty at once; with a writer, wait for data.
      if (pipe && e.code === 'EAGAIN') { await sleep(10); continue; }
      throw openError(e, file);
    }
    if (n === 0) return decodeText(buf.subarray(0, size));
    // Text formats never hold a NUL: /dev/zero, images and core files stop at their first read.
    const nul = buf.subarray(size, size + n).indexOf(0);
    if (nul >= 0) throw new InputError(`binary data (a NUL byte at offset ${size + nul})`, { code: 'EBINARY', where: file, hint: 'give an ipvsadm-save rules file, YAML or JSON' });
    size += n;
    if (size > max) throw new InputError(`input is larger than ${mib(max)}`, { code: 'ETOOBIG', where: file, hint: `restore reads at most ${mib(max)}` });
  }
}

/** stdin, unless something else already reads it (lbctl shell takes its commands from it). */
async function readStdin(max: number): Promise<string> {
  const stdin = process.stdin;
  if (stdin.readableFlowing !== null || stdin.listenerCount('data') > 0 || stdin.listenerCount('readable') > 0) {
    throw new UsageError('stdin is already in use (lbctl shell reads its commands from it)', { code: 'ESTDIN', hint: 'give a rules FILE' });
  }
  if (stdin.isTTY) throw new UsageError('no rules file given and stdin is a terminal', { code: 'ESTDIN', hint: 'give a FILE, or pipe rules in: ipvsadm-save -n | lbctl restore -' });
  const got = new Collector('<stdin>', max);
  try {
    for await (const c of stdin) got.add(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  } catch (e) {
    stdin.destroy();
    if (e instanceof LbctlError) throw e;
    throw openError(e as NodeJS.ErrnoException, '<stdin>');
  }
  return got.text();
}

/**
 * Read the rules text of FILE or "-" (stdin), bounded: at most `maxBytes`, text only, and never
 * blocking on a FIFO nobody writes to. Directories, devices and unreadable files are refused
 * with their own exit codes, never a crash.
 */
export async function readInput(file: string, o: ReadOptions = {}): Promise<{ text: string; name: string }> {
  const max = o.maxBytes ?? MAX_INPUT_BYTES;
  if (file === '-') {
    if (process.env.LBCTL_STDIN_TEXT !== undefined) {
      const got = new Collector('<stdin>', max);
      got.add(Buffer.from(process.env.LBCTL_STDIN_TEXT));
      return { text: got.text(), name: '<stdin>' };
    }
    return { text: await readStdin(max), name: '<stdin>' };
  }
  let fh: FileHandle;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    throw openError(e as NodeJS.ErrnoException, file);
  }
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw openError(Object.assign(new Error('EISDIR'), { code: 'EISDIR' }), file);
    if (st.isFile() && st.size > max) throw new InputError(`input is larger than ${mib(max)} (${mib(st.size)})`, { code: 'ETOOBIG', where: file, hint: `restore reads at most ${mib(max)}` });
    return { text: await readHandle(fh, file, max, st.isFIFO() || st.isSocket(), st.isFile() ? st.size : 0), name: file };
  } finally {
    await fh.close().catch(() => {});
  }
}

export interface RestoreOptions {
  dryRun?: boolean; merge?: boolean; drain?: boolean; drainTimeoutMs?: number; progress?: boolean; format?: RulesFormat;
  /** Allow a result with none of the kernel's current services (an empty input, or one sharing no service with the kernel). */
  allowEmpty?: boolean;
  /** Cancels a --drain wait: the leaving real servers stay at weight 0 and nothing is deleted. */
  signal?: AbortSignal;
}

export interface RestoreResult {
  changed: boolean;
  dryRun: boolean;
  plan: ReturnType<typeof planJson>;
  changes: IpvsTableChange[];
}

/** Compute (and unless dryRun, apply) the plan from the kernel's table to `desired`. */
export async function restore(driver: IpvsDriver, desired: IpvsTable, o: RestoreOptions = {}): Promise<RestoreResult> {
  validateTable(desired, (e, i) => { throw new InputError(e.message, { code: e.code, where: serviceLabel(desired.services[i]), hint: e.hint }); });
  const actual = await driver.getTable();
  const changes = plan(actual, desired, { merge: o.merge });
  if (!o.allowEmpty) refuseWipe(actual, changes);
  if (!o.dryRun && changes.length) await applyPlan(driver, changes, { drain: o.drain, drainTimeoutMs: o.drainTimeoutMs, signal: o.signal, progress: o.progress, origin: true });
  let json: ReturnType<typeof planJson> | undefined;
  // The JSON view names every change by its rule: made when read (--json), not for every restore.
  return { changed: !o.dryRun && changes.length > 0, dryRun: Boolean(o.dryRun), get plan() { return (json ??= planJson(changes)); }, changes };
}

/**
 * A restore that would delete every virtual service the kernel holds is almost always a mistake
 * (an empty pipe, the wrong file): it cuts every connection. Flushing is `lbctl clear`'s job.
 */
function refuseWipe(actual: IpvsTable, changes: IpvsTableChange[]): void {
  if (!actual.services.length) return;
  const deleted = new Set(changes.filter((c) => c.action === '-' && c.kind === 'service').map((c) => serviceKey(c.service)));
  if (actual.services.some((s) => !deleted.has(serviceKey(s)))) return;
  const n = actual.services.length;
  throw new InputError(`refusing to delete all ${n} virtual service${n === 1 ? '' : 's'}: the input keeps none of them`, {
    code: 'EWIPE', hint: 'check the input; add --allow-empty if that is really meant, or use lbctl clear to flush',
  });
}

/**
 * Read and validate the desired table. No input at all (an empty or closed stdin, an empty file)
 * is refused unless `allowEmpty`: it is far more often a broken pipe than a wish for no services.
 */
export async function loadDesired(file: string, format?: RulesFormat, o: { allowEmpty?: boolean } & ReadOptions = {}): Promise<IpvsTable> {
  const { text, name } = await readInput(file, o);
  if (!o.allowEmpty && !/\S/.test(text)) {
    throw new InputError('no input: the rules are empty', { code: 'ENOINPUT', where: name, hint: 'an empty input would delete every service; add --allow-empty if that is meant, or use lbctl clear' });
  }
  return loadTableText(text, name, format);
}
