import type { Command } from '@oclif/core';
import { SCHEDULERS } from '../ipvs/constants.js';
import { formatHostPort } from '../net/address.js';
import type { VirtualService } from '../ipvs/model.js';
import type { ShellContext } from './context.js';
import { matchChildren, type CommandNode } from './resolve.js';
import { splitForCompletion } from './tokenize.js';
import { splitWatchArgv } from './watch.js';

/**
 * Tab completion for node:readline: command words, the command's flags (from the oclif
 * manifest, no class loading), and values read live through the shell's open connections:
 * virtual services and real servers from IPVS, backends and servers from HAProxy, and the
 * kernel's schedulers. Returns [candidates, the text they replace].
 */
export async function complete(ctx: ShellContext, line: string): Promise<[string[], string]> {
  const p = splitForCompletion(line);
  if (p.quoted) return [[], p.raw];
  try {
    return [await candidates(ctx, ctx.tree, p.words, p.text), p.raw];
  } catch {
    return [[], p.raw];
  }
}

const word = (s: string) => `${s} `;
const starts = (list: Iterable<string>, prefix: string) => [...new Set(list)].filter((x) => x.startsWith(prefix)).sort();

async function candidates(ctx: ShellContext, root: CommandNode, words: string[], cur: string): Promise<string[]> {
  let node = root;
  let i = 0;
  for (; i < words.length; i++) {
    if (words[i].startsWith('-') || node.children.size === 0) break;
    const m = matchChildren(node, words[i]);
    if (m.length !== 1) { if (node.id) break; return []; }
    node = m[0];
  }
  const args = words.slice(i);
  if (!args.length && !cur.startsWith('-')) {
    const subs = starts(node.children.keys(), cur);
    if (subs.length || !node.id) return subs.map(word);
  }
  if (!node.id || node.id.startsWith('!')) return [];
  // watch runs another command: complete that one.
  if (node.id === 'watch') return candidates(ctx, ctx.treeNoBuiltins, splitWatchArgv(args).argv, cur);
  const cmd = ctx.opts.config.findCommand(node.id);
  if (!cmd) return [];
  const flags = cmd.flags as Record<string, Command.Flag.Cached>;
  const prev = args[args.length - 1];
  const prevFlag = prev ? flagByToken(flags, prev) : undefined;
  if (prevFlag && prevFlag.type === 'option' && !prev.includes('=')) return (await flagValues(ctx, node.id, prevFlag, args, cur)).map(word);
  if (cur.startsWith('-')) {
    const given = new Set(args.map((a) => flagByToken(flags, a)?.name).filter(Boolean));
    const names = Object.values(flags).filter((f) => !f.hidden && (f.type === 'option' && f.multiple ? true : !given.has(f.name)));
    if (cur.length === 2 && cur[1] !== '-') return names.filter((f) => f.char === cur[1]).map((f) => word(`--${f.name}`));
    return starts(names.map((f) => `--${f.name}`), cur).map(word);
  }
  return positional(ctx, node.id, args, cur);
}

function flagByToken(flags: Record<string, Command.Flag.Cached>, token: string): Command.Flag.Cached | undefined {
  if (token.startsWith('--')) return flags[token.slice(2).split('=')[0]];
  if (/^-[A-Za-z0-9]$/.test(token)) return Object.values(flags).find((f) => f.char === token[1]);
  return undefined;
}

function svcAddr(s: VirtualService): string {
  return s.protocol === 'fwmark' ? String(s.fwmark) : formatHostPort(s.address!, s.port!);
}

async function flagValues(ctx: ShellContext, id: string, flag: Command.Flag.Cached, args: string[], cur: string): Promise<string[]> {
  const options = (flag as { options?: readonly string[] }).options;
  if (options?.length) return starts(options, cur);
  switch (flag.name) {
    case 'scheduler': return starts(SCHEDULERS, cur);
    case 'tcp-service': case 'udp-service': case 'sctp-service': case 'fwmark-service': {
      const proto = flag.name.split('-')[0];
      const t = await ctx.ipvsTable();
      return starts(t.services.filter((s) => s.protocol === proto).map(svcAddr), cur);
    }
    case 'real-server': {
      const t = await ctx.ipvsTable();
      const sel = selectedService(args);
      const svcs = sel ? t.services.filter((s) => s.protocol === sel.proto && svcAddr(s) === sel.value) : t.services;
      return starts(svcs.flatMap((s) => s.destinations.map((d) => formatHostPort(d.address, d.port))), cur);
    }
    case 'backend': case 'all-in':
      return starts(await ctx.haproxyBackends(), cur);
    case 'except': {
      const i = args.findIndex((a) => a === '--all-in');
      const be = i >= 0 ? args[i + 1] : undefined;
      return starts((await ctx.haproxyServers()).filter((s) => !be || s.backend === be).map((s) => s.server), cur);
    }
    default: return [];
  }
}

function selectedService(args: string[]): { proto: string; value: string } | undefined {
  const sw: Record<string, string> = { '-t': 'tcp', '--tcp-service': 'tcp', '-u': 'udp', '--udp-service': 'udp', '--sctp-service': 'sctp', '-f': 'fwmark', '--fwmark-service': 'fwmark' };
  for (let i = 0; i < args.length - 1; i++) if (sw[args[i]]) return { proto: sw[args[i]], value: args[i + 1] };
  return undefined;
}

/** BACKEND/SERVER arguments: backend names (with a "/", no space) until a "/" is typed. */
async function positional(ctx: ShellContext, id: string, _args: string[], cur: string): Promise<string[]> {
  if (!id.startsWith('haproxy:server:')) return [];
  const servers = await ctx.haproxyServers();
  if (cur.includes('/')) return starts(servers.map((s) => `${s.backend}/${s.server}`), cur).map(word);
  const backends = starts(servers.map((s) => s.backend), cur);
  return backends.map((b) => `${b}/`);
}
