import { promises as fs } from 'node:fs';
import path from 'node:path';
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
}

export function stateDir(): string {
  return process.env.LBCTL_STATE_DIR ?? '/run/lbctl/hostprep';
}

export function stateFile(target: 'realserver' | 'director', netns?: string): string {
  return path.join(stateDir(), `${target}-${netns ? `netns-${netns}` : 'host'}.json`);
}

export function emptyState(netnsId: number): HostState {
  return { version: 1, netnsId, sysctls: {}, addresses: [], createdLinks: [] };
}

/** The records for this namespace; records of a deleted namespace that had the same name are ignored. */
export async function loadState(file: string, netnsId: number): Promise<HostState> {
  try {
    const s = JSON.parse(await fs.readFile(file, 'utf8')) as HostState;
    if (s.version === 1 && s.netnsId === netnsId) return { ...emptyState(netnsId), ...s };
  } catch { /* none or unreadable: start afresh */ }
  return emptyState(netnsId);
}

export async function saveState(file: string, state: HostState): Promise<void> {
  const empty = Object.keys(state.sysctls).length === 0 && state.addresses.length === 0 && state.createdLinks.length === 0;
  if (empty) {
    await fs.rm(file, { force: true });
    return;
  }
  await writeFileAtomic(file, JSON.stringify(state, null, 2) + '\n', { backup: false });
}
