import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { writeFileAtomic } from '../util/fs.js';

/** Lines kept in the history file (older ones are trimmed when the shell starts). */
export const HISTORY_SIZE = 1000;

/** $XDG_STATE_HOME/lbctl/history, else ~/.local/state/lbctl/history. */
export function historyFile(env: NodeJS.ProcessEnv = process.env): string {
  const state = env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME) ? env.XDG_STATE_HOME : path.join(env.HOME || os.homedir(), '.local', 'state');
  return path.join(state, 'lbctl', 'history');
}

/** History newest first (readline's order); trims the file when it has grown past twice the size. */
export async function loadHistory(file = historyFile()): Promise<string[]> {
  let text = '';
  try { text = await fs.readFile(file, 'utf8'); } catch { return []; }
  const lines = text.split('\n').filter((l) => l.trim());
  if (lines.length > 2 * HISTORY_SIZE) {
    await writeFileAtomic(file, lines.slice(-HISTORY_SIZE).join('\n') + '\n', { backup: false, mode: 0o600 }).catch(() => undefined);
  }
  const out: string[] = [];
  for (const l of lines.slice(-HISTORY_SIZE).reverse()) if (out[out.length - 1] !== l) out.push(l);
  return out;
}

/**
 * Append one line as soon as it is entered, so a shell killed later still remembers it.
 * An append (not a rewrite) is what lets two shells share the file without losing lines.
 */
export async function appendHistory(line: string, file = historyFile()): Promise<void> {
  try {
    await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await fs.appendFile(file, `${line.replace(/\n/g, ' ')}\n`, { mode: 0o600 });
  } catch { /* a read-only home must not break the shell */ }
}
