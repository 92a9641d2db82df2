import { RejectedError, NotFoundError } from '../cli/errors.js';
import { ip, ipArgs, nextLabel, type Link } from './links.js';
import { Sysctls, sysctlWriteCommand } from './sysctl.js';
import type { HostState } from './state.js';
import type { ItemResult } from './types.js';
import type { Vip } from './vip.js';
import { shellQuote } from './quote.js';

export interface DesiredSysctl {
  key: string;
  /** What prep writes. */
  value: string;
  /** Values that already do the job (left as they are: touch nothing that works). */
  accept: string[];
  /** One line for the sysctl.d file. */
  why?: string;
}

export interface DesiredAddress { dev: string; vip: Vip; label: boolean }

export interface Desired {
  sysctls: DesiredSysctl[];
  linksUp: string[];
  addresses: DesiredAddress[];
}

export interface EngineContext {
  netns?: string;
  dryRun: boolean;
  links: Map<string, Link>;
  state: HostState;
}

const num = (v: string | undefined | null): string | number | null => (v === undefined || v === null ? null : /^-?\d+$/.test(v) ? Number(v) : v);

/** Nothing may change when prep cannot finish: find conflicts before the first write. */
export function precheckAddresses(desired: Desired, links: Map<string, Link>): void {
  for (const a of desired.addresses) {
    const link = links.get(a.dev);
    const have = link?.addresses.find((x) => x.address === a.vip.address);
    if (have && have.prefix !== a.vip.prefix) {
      throw new RejectedError(`${a.vip.address} is already on ${a.dev} as /${have.prefix}, not /${a.vip.prefix}`, {
        code: 'EVIPPREFIX', hint: `remove it first: ip addr del ${a.vip.address}/${have.prefix} dev ${a.dev}`,
      });
    }
  }
}

/**
 * Bring sysctls, links and addresses to `desired`: sysctls first, so the ARP rules are in force
 * before the VIP appears. Records what it changes in ctx.state (for unprep).
 */
export async function applyDesired(ctx: EngineContext, desired: Desired): Promise<{ items: ItemResult[]; commands: string[][] }> {
  const sysctls = new Sysctls(ctx.netns);
  const items: ItemResult[] = [];
  const commands: string[][] = [];
  const current = await sysctls.read(desired.sysctls.map((s) => s.key));
  const missing = desired.sysctls.filter((s) => !current.has(s.key) && !ctx.dryRun);
  if (missing.length > 0) throw new NotFoundError(`sysctl ${missing[0].key} does not exist${ctx.netns ? ` in netns ${ctx.netns}` : ''}`, { hint: 'is the interface there? ip link show' });

  const writes: Array<{ key: string; value: string }> = [];
  for (const s of desired.sysctls) {
    const before = current.get(s.key);
    if (before !== undefined && s.accept.includes(before)) {
      items.push({ kind: 'sysctl', item: s.key, before: num(before), after: num(before), action: 'unchanged', changed: false });
      continue;
    }
    const command = sysctlWriteCommand(s.key, s.value, ctx.netns);
    writes.push({ key: s.key, value: s.value });
    commands.push(command);
    items.push({ kind: 'sysctl', item: s.key, before: num(before), after: num(s.value), action: 'updated', changed: true, command });
  }
  if (!ctx.dryRun && writes.length > 0) {
    await sysctls.write(writes);
    for (const w of writes) {
      const rec = ctx.state.sysctls[w.key];
      ctx.state.sysctls[w.key] = { original: rec?.original ?? current.get(w.key) ?? '0', set: w.value };
    }
  }

  for (const dev of desired.linksUp) {
    const link = ctx.links.get(dev);
    if (link?.up) {
      items.push({ kind: 'link', item: `link ${dev}`, before: 'up', after: 'up', action: 'unchanged', changed: false });
      continue;
    }
    const args = ['link', 'set', 'dev', dev, 'up'];
    commands.push(['ip', ...ipArgs(ctx.netns, args)]);
    if (!ctx.dryRun) await ip(ctx.netns, args, `bringing ${dev} up`);
    items.push({ kind: 'link', item: `link ${dev}`, before: link ? 'down' : null, after: 'up', action: 'updated', changed: true, command: ['ip', ...ipArgs(ctx.netns, args)] });
  }

  const newLabels = new Set<string>();
  for (const a of desired.addresses) {
    const cidr = `${a.vip.address}/${a.vip.prefix}`;
    const link = ctx.links.get(a.dev);
    const have = link?.addresses.find((x) => x.address === a.vip.address);
    if (have) {
      items.push({ kind: 'address', item: `${cidr} dev ${a.dev}`, before: `${cidr} label ${have.label}`, after: `${cidr} label ${have.label}`, action: 'unchanged', changed: false });
      continue;
    }
    // lo:0, lo:1, ... like the ifcfg-lo:0 files of the articles; `ip addr` shows them, ifconfig lists them as aliases.
    const label = a.label && link ? nextLabel(link, newLabels) : undefined;
    if (label) newLabels.add(label);
    const args = ['addr', 'add', cidr, 'dev', a.dev, ...(label ? ['label', label] : [])];
    const command = ['ip', ...ipArgs(ctx.netns, args)];
    commands.push(command);
    if (!ctx.dryRun) {
      await ip(ctx.netns, args, `adding ${cidr} to ${a.dev}`);
      ctx.state.addresses = ctx.state.addresses.filter((x) => !(x.dev === a.dev && x.address === a.vip.address));
      ctx.state.addresses.push({ dev: a.dev, address: a.vip.address, prefix: a.vip.prefix, label });
    }
    items.push({ kind: 'address', item: `${cidr} dev ${a.dev}`, before: null, after: label ? `${cidr} label ${label}` : cidr, action: 'added', changed: true, command });
  }
  return { items, commands };
}

/**
 * The inverse of applyDesired for what lbctl recorded: remove the VIPs (first, so no host is
 * left holding a VIP without its ARP rules), then restore each sysctl lbctl changed, unless
 * someone changed it again since (then it is theirs).
 */
export async function undoRecorded(ctx: EngineContext, remove: Array<{ devs: string[]; vip: Vip }>, deleteLinks: string[]): Promise<{ items: ItemResult[]; commands: string[][] }> {
  const items: ItemResult[] = [];
  const commands: string[][] = [];
  for (const r of remove) {
    let found = false;
    for (const dev of r.devs) {
      const have = ctx.links.get(dev)?.addresses.find((x) => x.address === r.vip.address);
      if (!have) continue;
      found = true;
      const cidr = `${have.address}/${have.prefix}`;
      const args = ['addr', 'del', cidr, 'dev', dev];
      const command = ['ip', ...ipArgs(ctx.netns, args)];
      commands.push(command);
      if (!ctx.dryRun) await ip(ctx.netns, args, `removing ${cidr} from ${dev}`);
      items.push({ kind: 'address', item: `${cidr} dev ${dev}`, before: `${cidr} label ${have.label}`, after: null, action: 'removed', changed: true, command });
    }
    if (!found) items.push({ kind: 'address', item: `${r.vip.address}/${r.vip.prefix} dev ${r.devs.join('|')}`, before: null, after: null, action: 'absent', changed: false });
    if (!ctx.dryRun) ctx.state.addresses = ctx.state.addresses.filter((x) => x.address !== r.vip.address);
  }

  for (const dev of deleteLinks) {
    if (!ctx.links.has(dev)) continue;
    const args = ['link', 'del', 'dev', dev];
    const command = ['ip', ...ipArgs(ctx.netns, args)];
    commands.push(command);
    if (!ctx.dryRun) {
      await ip(ctx.netns, args, `deleting ${dev}`);
      ctx.state.createdLinks = ctx.state.createdLinks.filter((l) => l !== dev);
    }
    items.push({ kind: 'link', item: `link ${dev}`, before: 'present', after: null, action: 'deleted', changed: true, command, note: 'lbctl created it' });
  }

  const sysctls = new Sysctls(ctx.netns);
  const keys = Object.keys(ctx.state.sysctls).sort();
  const current = await sysctls.read(keys);
  const writes: Array<{ key: string; value: string }> = [];
  for (const key of keys) {
    const rec = ctx.state.sysctls[key];
    const cur = current.get(key);
    if (cur === undefined) {
      items.push({ kind: 'sysctl', item: key, before: null, after: null, action: 'absent', changed: false, note: 'the interface is gone' });
    } else if (cur === rec.original) {
      items.push({ kind: 'sysctl', item: key, before: num(cur), after: num(cur), action: 'unchanged', changed: false });
    } else if (cur !== rec.set) {
      items.push({ kind: 'sysctl', item: key, before: num(cur), after: num(cur), action: 'kept', changed: false, note: `changed by someone else since lbctl set ${rec.set}: left alone` });
    } else {
      const command = sysctlWriteCommand(key, rec.original, ctx.netns);
      commands.push(command);
      writes.push({ key, value: rec.original });
      items.push({ kind: 'sysctl', item: key, before: num(cur), after: num(rec.original), action: 'restored', changed: true, command });
    }
  }
  if (!ctx.dryRun) {
    await sysctls.write(writes);
    ctx.state.sysctls = {};
  }
  return { items, commands };
}

export function summarize(items: ItemResult[]): { changed: number; unchanged: number } {
  const changed = items.filter((i) => i.changed).length;
  return { changed, unchanged: items.length - changed };
}

export function quoteAll(commands: string[][]): string[] {
  return commands.map(shellQuote);
}
