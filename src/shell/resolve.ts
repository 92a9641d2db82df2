import type { Config } from '@oclif/core';
import { UsageError } from '../cli/errors.js';

/**
 * Command words as a tree ("haproxy" -> "server" -> "disable"), so that any unique prefix of
 * each word names the command: `ser ad` is `server add`, `hap ser dis` is
 * `haproxy server disable`. Built from the oclif config, so new commands need nothing here.
 */
export interface CommandNode {
  word: string;
  /** oclif id when these words are a runnable command ("service:add"), or a shell builtin ("!exit"). */
  id?: string;
  summary?: string;
  /** The command's flags as typed: "--name" and "-c". */
  flags?: Set<string>;
  children: Map<string, CommandNode>;
}

/** Words the shell handles itself. */
export const BUILTINS: Record<string, { id: string; summary: string }> = {
  help: { id: '!help', summary: 'list commands, or show one command\'s help: help service add' },
  exit: { id: '!exit', summary: 'leave the shell (also quit, Ctrl-D)' },
  quit: { id: '!exit', summary: 'leave the shell' },
};

export interface CommandInfo { id: string; summary?: string; hidden?: boolean; flags?: string[] }

export function buildTree(commands: CommandInfo[], builtins = true): CommandNode {
  const root: CommandNode = { word: '', children: new Map() };
  const add = (words: string[], id: string, summary?: string, flags?: string[]) => {
    let node = root;
    for (const w of words) {
      let next = node.children.get(w);
      if (!next) { next = { word: w, children: new Map() }; node.children.set(w, next); }
      node = next;
    }
    node.id = id;
    node.summary = summary;
    if (flags) node.flags = new Set(flags);
  };
  for (const c of commands) if (!c.hidden) add(c.id.split(':'), c.id, c.summary, c.flags);
  if (builtins) for (const [w, b] of Object.entries(BUILTINS)) add([w], b.id, b.summary);
  return root;
}

export function treeOf(config: Config, builtins = true): CommandNode {
  return buildTree(config.commands.map((c) => ({
    id: c.id, summary: c.summary ?? c.description?.split('\n')[0], hidden: c.hidden,
    flags: Object.values(c.flags ?? {}).flatMap((f) => [`--${f.name}`, ...(f.char ? [`-${f.char}`] : [])]),
  })), builtins);
}

/** The children of `node` whose word starts with `prefix`; an exact word wins outright. */
export function matchChildren(node: CommandNode, prefix: string): CommandNode[] {
  const exact = node.children.get(prefix);
  if (exact) return [exact];
  return [...node.children.values()].filter((c) => c.word.startsWith(prefix)).sort((a, b) => a.word.localeCompare(b.word));
}

export interface Resolved { id: string; words: string[]; args: string[] }

/**
 * Resolve argv to a command by unique prefixes of its words. Words stop at the first flag,
 * at a command with no subcommands, or at a word that is no subcommand of a runnable command
 * (then it is an argument). An ambiguous prefix is a usage error listing the candidates.
 */
export function resolvePrefix(root: CommandNode, argv: string[]): Resolved {
  let node = root;
  const words: string[] = [];
  let i = 0;
  for (; i < argv.length; i++) {
    const w = argv[i];
    if (w.startsWith('-') || node.children.size === 0) break;
    const m = matchChildren(node, w);
    if (m.length === 1) { node = m[0]; words.push(node.word); continue; }
    const here = words.length ? `"${words.join(' ')} ${w}"` : `"${w}"`;
    if (m.length > 1) {
      // `ser ad -r ...` names server add, not service add: keep the candidates that know every flag given.
      const fits = m.flatMap((c) => { try { const r = resolvePrefix(c, argv.slice(i + 1)); return knowsFlags(findNode(c, r.id), r.args) ? [{ c, r }] : []; } catch { return []; } });
      if (fits.length === 1) return { id: fits[0].r.id, words: [...words, fits[0].c.word, ...fits[0].r.words], args: fits[0].r.args };
      throw new UsageError(`${here} is ambiguous: ${m.map((c) => [...words, c.word].join(' ')).join(', ')}`, { code: 'EAMBIGUOUS', hint: 'type more of the word' });
    }
    if (node.id) break;
    const known = [...node.children.keys()].sort().join(', ');
    throw new UsageError(words.length ? `${here}: no such subcommand of "${words.join(' ')}"` : `${here}: no such command`, { code: 'ENOCOMMAND', hint: words.length ? `one of: ${known}` : 'type help for the list' });
  }
  if (!node.id) {
    if (!words.length) throw new UsageError('no command given', { code: 'ENOCOMMAND', hint: 'type help for the list' });
    throw new UsageError(`"${words.join(' ')}" needs a subcommand`, { code: 'ENOCOMMAND', hint: `one of: ${[...node.children.keys()].sort().join(', ')}` });
  }
  return { id: node.id, words, args: argv.slice(i) };
}

function findNode(node: CommandNode, id: string): CommandNode | undefined {
  if (node.id === id) return node;
  for (const c of node.children.values()) { const f = findNode(c, id); if (f) return f; }
  return undefined;
}

/** Does the command accept every flag in args (up to "--")? Values and numbers like -6 are not checked. */
function knowsFlags(node: CommandNode | undefined, args: string[]): boolean {
  if (!node?.flags) return false;
  const flags = args.slice(0, args.includes('--') ? args.indexOf('--') : undefined).filter((a) => /^-[A-Za-z]|^--[A-Za-z]/.test(a));
  if (!flags.length) return false;
  return flags.every((f) => node.flags!.has(f.startsWith('--') ? f.split('=')[0] : f.slice(0, 2)));
}

/** Every runnable command under `node`, as [words, summary], sorted. */
export function listCommands(node: CommandNode, prefix: string[] = []): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const c of [...node.children.values()].sort((a, b) => a.word.localeCompare(b.word))) {
    const words = [...prefix, c.word];
    if (c.id) out.push([words.join(' '), c.summary ?? '']);
    out.push(...listCommands(c, words));
  }
  return out;
}
