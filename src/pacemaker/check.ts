/**
 * Offline checks of the generated pacemaker files with the daemons' own tools; nothing here
 * touches a running cluster:
 *   corosync.conf  `corosync -c F -t` in a throwaway network namespace holding one ring address
 *                  (corosync refuses a config none of whose addresses is local), with a scratch
 *                  authkey and `to_stderr: yes` (without it -t prints nothing);
 *   cib.xml        `crm_verify -x` (schema, references), `CIB_file=... crm configure verify`
 *                  (OCF agents' metadata and parameters), `crm_simulate -S` (placement), each on
 *                  a copy whose status says every node is up, so that warnings about unclean
 *                  nodes do not hide real ones;
 *   fence devices  each parameter against the agent's own metadata (`fence_X -o metadata`):
 *                  crmsh does not check stonith parameters.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import type { PacemakerModel } from './model.js';
import { renderCorosync } from './corosync.js';

export interface PcmkCheck { ok: boolean; errors: string[]; warnings: string[] }

const COLOR = /\x1b\[[0-9;]*m/g;
const clean = (s: string) => s.replace(COLOR, '').split('\n').map((l) => l.trim()).filter(Boolean);

async function scratch<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbctl-pcmk-'));
  try { return await fn(dir); } finally { await fs.rm(dir, { recursive: true, force: true }); }
}

/** `corosync -t` on the rendered file (as rendered for the nodes, plus stderr logging and a scratch key). */
export async function checkCorosync(m: PacemakerModel, content: string): Promise<PcmkCheck> {
  return scratch(async (dir) => {
    const key = path.join(dir, 'authkey');
    await fs.writeFile(key, randomBytes(128).toString('base64'), { mode: 0o400 });
    const conf = content
      .replace(/^\tto_stderr: no$/m, '\tto_stderr: yes')
      .replace(/^\tto_logfile: yes$/m, '\tto_logfile: no')
      .replace(/^totem \{$/m, `totem {\n\tkeyfile: ${key}`);
    const file = path.join(dir, 'corosync.conf');
    await fs.writeFile(file, conf);
    const ns = `lbctl-pcmk-${process.pid}-${randomBytes(3).toString('hex')}`;
    const ring = m.nodes[0].ring[0];
    try {
      await execa('ip', ['netns', 'add', ns]);
      await execa('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
      await execa('ip', ['-n', ns, 'addr', 'add', `${ring}/32`, 'dev', 'lo']);
      const r = await execa('ip', ['netns', 'exec', ns, 'corosync', '-c', file, '-t'], { reject: false, all: true });
      const lines = clean(r.all ?? '');
      const errors = lines.filter((l) => /\berror\b/i.test(l)).map((l) => `corosync.conf: ${l.replace(/^.*?\[MAIN\s*\]\s*/, '')}`);
      if (r.exitCode !== 0 && errors.length === 0) errors.push(`corosync.conf: corosync -t exited ${r.exitCode}`);
      return { ok: r.exitCode === 0, errors, warnings: [] };
    } finally {
      await execa('ip', ['netns', 'del', ns], { reject: false });
    }
  });
}

/** The CIB as a healthy, quorate cluster would hold it: what verify and simulate should judge. */
export function healthyCib(m: PacemakerModel, cib: string): string {
  const states = m.nodes.map((n) => `    <node_state id="${n.nodeid}" uname="${n.name}" in_ccm="true" crmd="online" join="member" expected="member"/>`);
  return cib.replace(/<cib /, '<cib have-quorum="1" ').replace('  <status/>', `  <status>\n${states.join('\n')}\n  </status>`);
}

export async function checkCib(m: PacemakerModel, content: string): Promise<PcmkCheck> {
  return scratch(async (dir) => {
    const file = path.join(dir, 'cib.xml');
    await fs.writeFile(file, healthyCib(m, content));
    const errors: string[] = [];
    const warnings: string[] = [];
    const v = await execa('crm_verify', ['-V', '-x', file], { reject: false, all: true });
    for (const l of clean(v.all ?? '')) {
      if (/error/i.test(l)) errors.push(`cib.xml: crm_verify: ${l}`);
      else if (/warning/i.test(l) && !/config may not be valid|-V may provide/.test(l)) warnings.push(`cib.xml: crm_verify: ${l}`);
    }
    if (v.exitCode !== 0 && errors.length === 0 && warnings.length === 0) errors.push(`cib.xml: crm_verify -x exited ${v.exitCode}`);
    const c = await execa('crm', ['configure', 'verify'], { reject: false, all: true, env: { CIB_file: file } });
    for (const l of clean(c.all ?? '').map(crmLine)) if (l?.level === 'error') errors.push(`cib.xml: crm configure verify: ${l.text}`);
    if (c.exitCode !== 0 && !errors.some((e) => e.includes('crm configure verify'))) errors.push(`cib.xml: crm configure verify exited ${c.exitCode}`);
    const s = await execa('crm_simulate', ['-x', file, '-S'], { reject: false, all: true });
    if (s.exitCode !== 0) errors.push(`cib.xml: crm_simulate: ${clean(s.all ?? '').find((l) => /error/i.test(l)) ?? `exited ${s.exitCode}`}`);
    else {
      // A group that cannot be placed anywhere shows as Stopped after the simulated transition.
      const out = s.stdout.split('Revised Cluster Status')[1] ?? '';
      if (new RegExp(`\\b${m.proxy.id}\\b[^\\n]*Stopped`).test(out)) errors.push(`cib.xml: crm_simulate: ${m.proxy.id} would not start on any node`);
    }
    return { ok: errors.length === 0, errors, warnings };
  });
}

const metadataCache = new Map<string, Set<string> | undefined>();

/** Parameter names a fence agent accepts, from its own metadata; undefined when it is not installed. */
export async function fenceAgentParams(agent: string): Promise<Set<string> | undefined> {
  if (metadataCache.has(agent)) return metadataCache.get(agent);
  const r = await execa(`/usr/sbin/${agent}`, ['-o', 'metadata'], { reject: false });
  const names = r.exitCode === 0 ? new Set([...r.stdout.matchAll(/<parameter name="([^"]+)"/g)].map((x) => x[1])) : undefined;
  metadataCache.set(agent, names);
  return names;
}

/** Pacemaker's own per-device parameters, accepted for every agent. */
const PCMK_FENCE_PARAMS = /^pcmk_[a-z_]+$|^priority$/;

export async function unknownFenceParams(agent: string, params: string[]): Promise<{ missingAgent: boolean; unknown: string[] }> {
  const names = await fenceAgentParams(agent);
  if (!names) return { missingAgent: true, unknown: [] };
  return { missingAgent: false, unknown: params.filter((p) => !names.has(p) && !PCMK_FENCE_PARAMS.test(p)) };
}

export { renderCorosync };

/**
 * crmsh relays pacemaker's own log lines under its ERROR/WARNING prefixes, and the relayed
 * severity is the one that counts: "ERROR: (cluster_status) warning: ..." is a warning.
 */
export function crmLine(line: string): { level: 'error' | 'warning'; text: string } | undefined {
  const m = /^(ERROR|WARNING):\s*(.*)$/.exec(line);
  if (!m) return undefined;
  const text = m[2];
  const relayed = /^\([\w-]+\)\s+(error|warning|notice|info)\b/i.exec(text);
  const level = relayed ? (relayed[1].toLowerCase() === 'error' ? 'error' : 'warning') : m[1] === 'ERROR' ? 'error' : 'warning';
  return { level, text: text.replace(/\s+/g, ' ') };
}

/**
 * The crm script loads (crmsh parses it, and knows its agents) into a CIB that holds the
 * spec's nodes, online and quorate, as a running cluster would: loaded into an empty CIB,
 * pacemaker warns about the missing quorum and the unknown nodes, which says nothing about
 * the script.
 */
export async function checkCrmScript(m: PacemakerModel, content: string): Promise<PcmkCheck> {
  return scratch(async (dir) => {
    const cib = path.join(dir, 'cib.xml');
    const empty = await execa('cibadmin', ['--empty'], { reject: false });
    const nodes = m.nodes.map((n) => `<node id="${n.nodeid}" uname="${n.name}"/>`).join('');
    await fs.writeFile(cib, healthyCib(m, empty.stdout.replace('<nodes/>', `<nodes>${nodes}</nodes>`)));
    const script = path.join(dir, 'resources.crm');
    await fs.writeFile(script, content);
    const r = await execa('crm', ['configure', 'load', 'update', script], { reject: false, all: true, env: { CIB_file: cib } });
    const lines = clean(r.all ?? '').map(crmLine).filter((l) => l !== undefined);
    const errors = lines.filter((l) => l.level === 'error').map((l) => `resources.crm: crm configure load: ${l.text}`);
    const warnings = lines.filter((l) => l.level === 'warning').map((l) => `crm configure load: ${l.text}`);
    if (r.exitCode !== 0 && errors.length === 0) errors.push(`resources.crm: crm configure load update exited ${r.exitCode}`);
    return { ok: errors.length === 0, errors, warnings };
  });
}

const fileCache = new Map<string, Promise<PcmkCheck>>();

/** One generated pacemaker file checked by its tool; identical files (every node's) are checked once. */
export function checkPacemakerFile(m: PacemakerModel, name: string, content: string): Promise<PcmkCheck> {
  const key = `${name}\0${content}`;
  let p = fileCache.get(key);
  if (!p) {
    p = name === 'corosync.conf' ? checkCorosync(m, content) : name === 'cib.xml' ? checkCib(m, content) : checkCrmScript(m, content);
    p = p.then((r) => (name === 'cib.xml' && m.noFencing
      ? { ...r, warnings: [...r.warnings, 'fencing: none: without fencing both nodes can hold the VIP at once after a split or a hung node'] }
      : r));
    fileCache.set(key, p);
  }
  return p;
}

export const isPacemakerFile = (name: string): boolean => name === 'corosync.conf' || name === 'cib.xml' || name === 'resources.crm';
