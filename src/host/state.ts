import { promises as fs } from 'node:fs';
import path from 'node:path';
import { InputError, PermissionError } from '../cli/errors.js';
import { writeFileAtomic } from '../util/fs.js';

/**
 * What lbctl changed at runtime, so unprep restores exactly that and nothing else: the value
 * each sysctl had before lbctl set it, and the addresses lbctl added. Kept under /run (gone at
 * reboot, like the runtime settings it describes) per target and namespace.
 */
export interface HostState {
  version: 1;
  /** nsfs inode of the namespace the records belong to. */
  netnsId: number;
  sysctls: Record<string, { original: string; set: string }>;
  addresses: Array<{ dev: string; address: string; prefix: number; label?: string }>;
  /** A tunl0 lbctl created itself (containers without the fallback device). */
  createdLinks: string[];
  /** Routes lbctl set (a NAT real server's default route via the director), with what each replaced. */
  routes?: HostRoute[];
}

export interface HostRoute { dst: string; via: string; dev?: string; replaced?: { via?: string; dev?: string } }

export function stateDir(): string {
  return process.env.LBCTL_STATE_DIR ?? '/run/lbctl/hostprep';
}

export function stateFile(target: 'realserver' | 'director', netns?: string): string {
  return path.join(stateDir(), `${target}-${netns ? `netns-${netns}` : 'host'}.json`);
}

export function emptyState(netnsId: number): HostState {
  return { version: 1, netnsId, sysctls: {}, addresses: [], createdLinks: [] };
}

export function cloneState(s: HostState): HostState {
  return { version: 1, netnsId: s.netnsId, sysctls: { ...s.sysctls }, addresses: s.addresses.map((a) => ({ ...a })), createdLinks: [...s.createdLinks], ...(s.routes?.length ? { routes: s.routes.map((r) => ({ ...r })) } : {}) };
}

function isState(s: any): s is HostState {
  return s && s.version === 1 && typeof s.netnsId === 'number' && typeof s.sysctls === 'object' && s.sysctls !== null
    && Array.isArray(s.addresses) && s.addresses.every((a: any) => typeof a?.dev === 'string' && typeof a?.address === 'string' && typeof a?.prefix === 'number')
    && (s.createdLinks === undefined || Array.isArray(s.createdLinks))
    && (s.routes === undefined || (Array.isArray(s.routes) && s.routes.every((r: any) => typeof r?.dst === 'string' && typeof r?.via === 'string')));
}

/**
 * The records for this namespace; records of a deleted namespace that had the same name are
 * ignored. A records file that cannot be read or parsed is refused before anything changes:
 * guessing would make unprep remove or restore things lbctl does not own.
 */
export async function loadState(file: string, netnsId: number): Promise<HostState> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (e: any) {
    if (e.code === 'ENOENT') return emptyState(netnsId);
    if (e.code === 'EACCES' || e.code === 'EPERM') throw new PermissionError(`cannot read lbctl's host-prep records: ${e.code}`, { code: 'ERECORDS', where: file, hint: 'run as root' });
    throw new InputError(`lbctl's host-prep records cannot be read: ${e.code ?? e.message}`, { code: 'ERECORDS', where: file, hint: 'it must be a regular file lbctl wrote; move it away to start afresh' });
  }
  let parsed: unknown;
  try { parsed = JSON.parse(text); } catch { parsed = undefined; }
  if (!isState(parsed)) throw new InputError('lbctl\'s host-prep records are corrupt', { code: 'ERECORDS', where: file, hint: 'move it away to start afresh (unprep will then leave everything as it is)' });
  if (parsed.netnsId !== netnsId) return emptyState(netnsId);
  return { ...emptyState(netnsId), ...parsed, createdLinks: parsed.createdLinks ?? [] };
}

/** Written atomically (temp + rename): a crash leaves the old records or the new, never half of one. */
export async function saveState(file: string, state: HostState): Promise<void> {
  const empty = Object.keys(state.sysctls).length === 0 && state.addresses.length === 0 && state.createdLinks.length === 0 && !state.routes?.length;
  if (empty) {
    await fs.rm(file, { force: true });
    return;
  }
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n', { backup: false, mode: 0o600 });
}
