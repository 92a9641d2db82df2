/**
 * `nginx -t` on generated text. nginx's own parser is the judge: [emerg]/[alert]/[crit] lines
 * are errors, [warn] lines warnings, each mapped back to "nginx.conf:LINE: message".
 * nginx -t also opens the pid and error log files: when the file sets neither, they go to the
 * scratch directory (-g) so the check needs no write access to /run or /var/log. A conf.d file
 * (http blocks only) is checked inside a minimal nginx.conf that includes it.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { UnavailableError } from '../cli/errors.js';
import type { DaemonCheck } from '../haproxy/config-check.js';

export const NGINX_BIN = process.env.LBCTL_NGINX_BIN ?? 'nginx';

/** Main-context directives in `content` (outside every block). */
function mainDirectives(content: string): Set<string> {
  const out = new Set<string>();
  let depth = 0;
  for (const raw of content.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (depth === 0 && /^[a-z_]+\s/.test(line)) out.add(line.split(/\s/)[0]);
    depth += (line.match(/\{/g) ?? []).length - (line.match(/\}/g) ?? []).length;
  }
  return out;
}

export async function checkNginxText(content: string, opts: { label?: string; confD?: boolean } = {}): Promise<DaemonCheck> {
  const label = opts.label ?? 'nginx.conf';
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbctl-ngcheck-'));
  try {
    const file = path.join(dir, 'nginx.conf');
    if (opts.confD) {
      await fs.writeFile(path.join(dir, 'lbctl.conf'), content);
      await fs.writeFile(file, `events {}\nhttp {\n    include ${path.join(dir, 'lbctl.conf')};\n}\n`);
    } else {
      await fs.writeFile(file, content);
    }
    return await checkNginxFile(file, { label, prefix: dir, included: opts.confD ? path.join(dir, 'lbctl.conf') : undefined });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

export async function checkNginxFile(file: string, opts: { label?: string; prefix?: string; included?: string } = {}): Promise<DaemonCheck> {
  const label = opts.label ?? path.basename(file);
  const prefix = opts.prefix ?? path.dirname(file);
  const set = mainDirectives(await fs.readFile(file, 'utf8'));
  const overrides = [
    ...(set.has('pid') ? [] : [`pid ${path.join(prefix, 'nginx.pid')};`]),
    ...(set.has('error_log') ? [] : ['error_log stderr;']),
  ].join(' ');
  const args = ['-t', '-q', '-e', 'stderr', '-p', `${prefix}/`, '-c', file, ...(overrides ? ['-g', overrides] : [])];
  let r;
  try {
    r = await execa(NGINX_BIN, args, { reject: false, all: true, timeout: 30_000 });
  } catch (e: any) {
    throw new UnavailableError(`cannot run ${NGINX_BIN}: ${e.shortMessage ?? e.message}`, { hint: 'install nginx (apt-get install nginx)' });
  }
  if ((r as any).code === 'ENOENT' || (r.failed && r.exitCode === undefined)) {
    throw new UnavailableError(`${NGINX_BIN} not found`, { hint: 'install nginx (apt-get install nginx)' });
  }
  const lines = String(r.all ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  const clean = (l: string) => {
    let m = l.replace(/^(nginx: )?(\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d )?\[(emerg|alert|crit|error|warn|notice)\]\s*(\d+#\d+:\s*)?/, '');
    const at = m.match(/ in (\S+):(\d+)$/);
    if (at) m = `${label}:${at[2]}: ${m.slice(0, at.index)}`;
    for (const f of [opts.included, file].filter(Boolean) as string[]) m = m.split(f).join(label);
    return m;
  };
  const errors = lines.filter((l) => /\[(emerg|alert|crit)\]/.test(l)).map(clean);
  const warnings = lines.filter((l) => /\[warn\]/.test(l)).map(clean);
  const ok = r.exitCode === 0 && errors.length === 0;
  if (!ok && errors.length === 0) errors.push(`${label}: nginx -t exited ${r.exitCode}: ${lines.slice(-1)[0] ?? 'no output'}`);
  return { ok, errors, warnings, command: [NGINX_BIN, ...args] };
}
