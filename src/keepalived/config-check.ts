/**
 * `keepalived --config-test -f FILE` on generated text. keepalived's exit code is not enough
 * on its own (it exits 0 when the file is missing, and some problems are only printed), so
 * its output is read too. Where the config names interfaces this machine lacks, the test
 * runs in a throwaway namespace that has them (netns.ts).
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { UnavailableError } from '../cli/errors.js';
import type { DaemonCheck } from '../haproxy/config-check.js';
import { missingInterfaces, withScratchNetns } from './netns.js';

export type NetnsMode = 'auto' | 'always' | 'never';

export const KEEPALIVED_BIN = process.env.LBCTL_KEEPALIVED_BIN ?? 'keepalived';

// Printed without a non-zero exit (or with one) when keepalived ignores or changes something.
const BAD_OUTPUT = /Config files missing|WARNING|Unknown keyword|not valid|outside range|Truncating|not found|SECURITY VIOLATION|invalid|unknown|error|Non-existent/i;

export interface KeepalivedCheck extends DaemonCheck { netns?: string }

export async function checkKeepalivedText(content: string, interfaces: string[], opts: { netns?: NetnsMode; label?: string } = {}): Promise<KeepalivedCheck> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbctl-kacheck-'));
  const file = path.join(dir, 'keepalived.conf');
  try {
    await fs.writeFile(file, content);
    const mode = opts.netns ?? 'auto';
    const missing = mode === 'never' ? [] : await missingInterfaces(interfaces);
    if (mode === 'always' || missing.length) {
      return await withScratchNetns(interfaces, async (ns) => ({ ...(await keepalivedConfigTest(file, opts.label, ['ip', 'netns', 'exec', ns])), netns: ns }));
    }
    return await keepalivedConfigTest(file, opts.label);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/** keepalived --config-test on a file, judged by exit code and output. */
export async function keepalivedConfigTest(file: string, label = 'keepalived.conf', prefix: string[] = []): Promise<DaemonCheck> {
  const command = [...prefix, KEEPALIVED_BIN, '--config-test', '-f', file];
  const r = await execa(command[0], command.slice(1), { reject: false, all: true, timeout: 30_000 });
  if ((r as any).code === 'ENOENT') throw new UnavailableError(`${command[0]} not found`, { hint: 'install keepalived (apt-get install keepalived)' });
  const out = String(r.all ?? '');
  if (/exec of .* failed|No such file or directory/.test(out) && /keepalived/.test(out) && r.exitCode !== 0 && !/Line \d+/.test(out)) {
    throw new UnavailableError(`cannot run ${KEEPALIVED_BIN}: ${out.trim().split('\n')[0]}`, { hint: 'install keepalived (apt-get install keepalived)' });
  }
  const lines = out.split('\n').map((l) => l.trim()).filter(Boolean)
    .map((l) => l.replace(/^\([^()]*: Line (\d+)\)/, `${label}:$1:`).replace(/^\(Line (\d+)\)/, `${label}:$1:`));
  const errors = lines.filter((l) => BAD_OUTPUT.test(l));
  const ok = r.exitCode === 0 && errors.length === 0;
  if (!ok && errors.length === 0) errors.push(`${label}: keepalived --config-test exited ${r.exitCode}${lines.length ? `: ${lines[lines.length - 1]}` : ''}`);
  return { ok, errors, warnings: lines.filter((l) => !errors.includes(l)), command };
}
