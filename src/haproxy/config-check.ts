/**
 * `haproxy -c -f FILE` on generated text. haproxy's own parser is the judge; its [ALERT]
 * lines are errors and [WARNING] lines are passed on. Lines are mapped back to the file.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { UnavailableError } from '../cli/errors.js';

export interface DaemonCheck {
  ok: boolean;
  /** One line each, e.g. "haproxy.cfg:12: unknown keyword 'foo'". */
  errors: string[];
  warnings: string[];
  command: string[];
}

export const HAPROXY_BIN = process.env.LBCTL_HAPROXY_BIN ?? 'haproxy';

export async function checkHaproxyText(content: string, label = 'haproxy.cfg'): Promise<DaemonCheck> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbctl-hacheck-'));
  const file = path.join(dir, 'haproxy.cfg');
  try {
    await fs.writeFile(file, content);
    return await checkHaproxyFile(file, label);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function checkHaproxyFile(file: string, label = path.basename(file)): Promise<DaemonCheck> {
  const command = [HAPROXY_BIN, '-c', '-f', file];
  let r;
  try {
    r = await execa(HAPROXY_BIN, ['-c', '-f', file], { reject: false, all: true, timeout: 30_000 });
  } catch (e: any) {
    throw new UnavailableError(`cannot run ${HAPROXY_BIN}: ${e.shortMessage ?? e.message}`, { hint: 'install haproxy (apt-get install haproxy)' });
  }
  if ((r as any).code === 'ENOENT' || r.failed && r.exitCode === undefined) {
    throw new UnavailableError(`${HAPROXY_BIN} not found`, { hint: 'install haproxy (apt-get install haproxy)' });
  }
  const lines = String(r.all ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  const clean = (l: string) => l.replace(/^\[(ALERT|WARNING|NOTICE)\]\s*\(\d+\)\s*:\s*/, '').replace(/^config\s*:\s*/, '').split(file).join(label)
    .replace(/^parsing \[([^\]:]+):(\d+)\]\s*:\s*/, '$1:$2: ');
  const errors = lines.filter((l) => l.startsWith('[ALERT]') && !/Fatal errors found in configuration|Error\(s\) found in configuration file/.test(l)).map(clean);
  const warnings = lines.filter((l) => l.startsWith('[WARNING]')).map(clean);
  const ok = r.exitCode === 0 && errors.length === 0 && /Configuration file is valid/.test(String(r.all));
  if (!ok && errors.length === 0) errors.push(`${label}: haproxy -c exited ${r.exitCode}: ${lines.slice(-1)[0] ?? 'no output'}`);
  return { ok, errors, warnings, command };
}
