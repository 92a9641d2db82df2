import { LbctlError, NotFoundError, RejectedError, UnavailableError } from '../cli/errors.js';
import { ExitCode } from '../cli/exit-codes.js';
import type { Change, Provider } from '../converge/change.js';
import { ipArgs, nextLabel, type Link } from './links.js';
import { OWNER_MARK } from './persist.js';
import { cloneState, saveState, type HostState } from './state.js';
import { sysctlWriteCommand } from './sysctl.js';
import type { FileOwner, FileState, HostSystem, RouteState } from './system.js';
import type { ItemResult } from './types.js';
import type { Vip } from './vip.js';

/**
 * Host settings (sysctls, links, addresses, the module behind tunl0, --persist files) through the
 * one converge pattern: read() the machine and lbctl's records, a pure plan(actual, desired), and
 * apply(changes), which rolls back what it applied when a change fails midway.
 */

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

/** What the caller wants. Prep fills the first part; unprep fills `remove`. */
export interface HostDesired {
  sysctls: DesiredSysctl[];
  /** A device that must exist, and the module that provides it (tunl0 from ipip). */
  device?: { dev: string; module: string; type: string };
  linksUp: string[];
  addresses: DesiredAddress[];
  /** Routes to set (a NAT real server's default route via the director), recorded with what they replace. */
  routes?: Array<{ dst: string; via: string; dev?: string }>;
  remove?: {
    /** Routes (by destination) to take away, each only where lbctl's records say lbctl set it. */
    routes?: string[];
    /** Addresses to take away, each only where lbctl's records say lbctl added it. */
    addresses: Array<{ address: string; devs?: string[] }>;
    /** Put each recorded sysctl back to its value before lbctl set it (unless changed since). */
    restoreSysctls: boolean;
    deleteCreatedLinks: boolean;
  };
  /** --persist: the files of this target as they should be; `scope` lists every path of the target (others lbctl wrote are removed). */
  files?: { want: Array<{ path: string; content?: string; symlinkTo?: string }>; scope: string[] };
}

export interface HostActual {
  netns?: string;
  links: Map<string, Link>;
  sysctls: Map<string, string>;
  modules: Set<string>;
  records: HostState;
  /** By absolute path; null = absent. */
  files: Map<string, FileState | null>;
  routes?: RouteState[];
}

export type HostOp =
  | { op: 'sysctl'; key: string; value: string; prev?: string }
  | { op: 'addr-add' | 'addr-del'; dev: string; address: string; prefix: number; label?: string }
  | { op: 'link-up'; dev: string }
  | { op: 'module'; name: string; dev: string; type: string }
  | { op: 'link-add' | 'link-del'; dev: string; type: string }
  | { op: 'file-write'; path: string; content: string; prev: FileState | null; exact?: FileOwner }
  | { op: 'file-symlink'; path: string; target: string; prev: FileState | null }
  | { op: 'file-remove'; path: string; prev: FileState | null; pruneTo?: string }
  | { op: 'route-replace'; dst: string; via: string; dev?: string; prev?: RouteState }
  | { op: 'route-del'; dst: string; via: string; dev?: string; prev?: RouteState };

export interface HostChange extends Change { op: HostOp; item: ItemResult }

export interface HostPlan {
  changes: HostChange[];
  /** Every item considered, changed or not, in plan order (what prep/unprep report). */
  items: ItemResult[];
  /** lbctl's records once every change is applied. */
  records: HostState;
  notes: string[];
}

const num = (v: string | undefined | null): string | number | null => (v === undefined || v === null ? null : /^-?\d+$/.test(v) ? Number(v) : v);
const cidrOf = (a: { address: string; prefix: number }) => `${a.address}/${a.prefix}`;

/** The sysctl keys and files read() must look at for `desired` (and for what the records name). */
export function readScope(desired: HostDesired, records: HostState): { keys: string[]; files: string[] } {
  const keys = new Set(desired.sysctls.map((s) => s.key));
  if (desired.remove?.restoreSysctls) for (const k of Object.keys(records.sysctls)) keys.add(k);
  return { keys: [...keys], files: [...new Set([...(desired.files?.want.map((f) => f.path) ?? []), ...(desired.files?.scope ?? [])])] };
}

export async function readHost(sys: HostSystem, records: HostState, scope: { keys: string[]; files: string[] }): Promise<HostActual> {
  const [links, sysctls, modules, routes] = await Promise.all([sys.readLinks(), sys.readSysctls(scope.keys), sys.readModules(), sys.readRoutes?.()]);
  const files = new Map<string, FileState | null>();
  for (const f of scope.files) files.set(f, await sys.readFile(f));
  return { netns: sys.netns, links, sysctls, modules, records, files, ...(routes ? { routes } : {}) };
}

export function isOurs(f: FileState | null | undefined, symlinkTo?: string): boolean {
  if (!f) return false;
  if (f.type === 'symlink') return symlinkTo !== undefined && f.target === symlinkTo;
  return f.type === 'file' && f.content.startsWith(OWNER_MARK);
}

/** The equivalent shell command of one operation (what --dry-run prints). */
export function opCommand(op: HostOp, netns: string | undefined): string[] | undefined {
  const ipc = (args: string[]) => ['ip', ...ipArgs(netns, args)];
  switch (op.op) {
    case 'sysctl': return sysctlWriteCommand(op.key, op.value, netns);
    case 'addr-add': return ipc(['addr', 'add', cidrOf(op), 'dev', op.dev, ...(op.label ? ['label', op.label] : [])]);
    case 'addr-del': return ipc(['addr', 'del', cidrOf(op), 'dev', op.dev]);
    case 'link-up': return ipc(['link', 'set', 'dev', op.dev, 'up']);
    case 'module': return ['modprobe', op.name];
    case 'link-add': return ipc(['link', 'add', 'name', op.dev, 'type', op.type]);
    case 'link-del': return ipc(['link', 'del', 'dev', op.dev]);
    case 'file-symlink': return ['ln', '-sfn', op.target, op.path];
    case 'file-remove': return ['rm', '-f', op.path];
    case 'route-replace': return ipc(['route', 'replace', op.dst, 'via', op.via, ...(op.dev ? ['dev', op.dev] : [])]);
    case 'route-del': return ipc(['route', 'del', op.dst, 'via', op.via, ...(op.dev ? ['dev', op.dev] : [])]);
    // A file's content is not a command line: the plan names the path.
    case 'file-write': return undefined;
  }
}

function change(action: Change['action'], kind: string, id: string, reason: string, op: HostOp, item: Omit<ItemResult, 'kind' | 'item' | 'changed' | 'command'>, netns: string | undefined): HostChange {
  const command = opCommand(op, netns);
  return {
    action, kind, id, reason, op, command, before: item.before, after: item.after,
    item: { kind: kind as ItemResult['kind'], item: id, ...item, changed: true, ...(command && kind !== 'file' ? { command } : {}) },
  };
}

/**
 * Pure: the changes that bring `actual` to `desired`, in the order they must run (device,
 * sysctls before the VIP appears, links, addresses; on removal addresses first, then sysctls;
 * files last). Throws, before anything is applied, on what no change can fix.
 */
export function planHost(actual: HostActual, desired: HostDesired): HostPlan {
  const ns = actual.netns;
  const changes: HostChange[] = [];
  const items: ItemResult[] = [];
  const notes: string[] = [];
  const records = cloneState(actual.records);
  const push = (c: HostChange) => { changes.push(c); items.push(c.item); };

  // A device the plan itself creates has no sysctls or addresses yet: plan them as writes.
  const pendingDev = desired.device && !actual.links.has(desired.device.dev) ? desired.device.dev : undefined;
  if (desired.device && pendingDev) {
    const d = desired.device;
    if (!actual.modules.has(d.module)) {
      push(change('+', 'module', `module ${d.module}`, `${d.dev} is missing; ${d.module} provides it`, { op: 'module', name: d.module, dev: d.dev, type: d.type }, { before: 'not loaded', after: 'loaded', action: 'loaded' }, ns));
    } else {
      push(change('+', 'link', `link ${d.dev}`, `${d.module} is loaded but this namespace has no ${d.dev}`, { op: 'link-add', dev: d.dev, type: d.type }, { before: null, after: 'present', action: 'created' }, ns));
      records.createdLinks = [...new Set([...records.createdLinks, d.dev])];
    }
  }

  // Nothing may change when prep cannot finish: conflicts and missing settings first.
  for (const a of desired.addresses) {
    const have = actual.links.get(a.dev)?.addresses.find((x) => x.address === a.vip.address);
    if (have && have.prefix !== a.vip.prefix) {
      throw new RejectedError(`${a.vip.address} is already on ${a.dev} as /${have.prefix}, not /${a.vip.prefix}`, {
        code: 'EVIPPREFIX', hint: `remove it first: ip addr del ${a.vip.address}/${have.prefix} dev ${a.dev}`,
      });
    }
    if (!actual.links.has(a.dev) && a.dev !== pendingDev) throw new NotFoundError(`${a.dev}: no such interface${ns ? ` in netns ${ns}` : ''}`, { code: 'ENODEV', hint: 'ip link show' });
  }
  const onPending = (key: string) => pendingDev !== undefined && key.startsWith(`net.ipv4.conf.${pendingDev.replaceAll('.', '/')}.`);
  const missing = desired.sysctls.find((s) => !actual.sysctls.has(s.key) && !onPending(s.key));
  if (missing) throw new NotFoundError(`sysctl ${missing.key} does not exist${ns ? ` in netns ${ns}` : ''}`, { code: 'ENOSYSCTL', hint: 'is the interface there? ip link show' });

  // Removal: only what the records say lbctl added.
  const rm = desired.remove;
  const removedDevs = new Set<string>();
  if (rm) {
    for (const r of rm.addresses) {
      const owned = records.addresses.filter((o) => o.address === r.address && (!r.devs || r.devs.includes(o.dev)));
      const devs = r.devs ?? [...actual.links.keys()];
      let seen = false;
      for (const dev of devs) {
        const have = actual.links.get(dev)?.addresses.find((x) => x.address === r.address);
        if (!have) continue;
        seen = true;
        const id = `${cidrOf(have)} dev ${dev}`;
        if (owned.some((o) => o.dev === dev)) {
          push(change('-', 'address', id, 'lbctl added it', { op: 'addr-del', dev, address: have.address, prefix: have.prefix, label: have.label === dev ? undefined : have.label }, { before: `${cidrOf(have)} label ${have.label}`, after: null, action: 'removed' }, ns));
        } else {
          items.push({ kind: 'address', item: id, before: cidrOf(have), after: cidrOf(have), action: 'kept', changed: false, note: 'not added by lbctl (no record): left alone' });
        }
      }
      if (!seen) items.push({ kind: 'address', item: `${r.address} dev ${(r.devs ?? ['any']).join('|')}`, before: null, after: null, action: 'absent', changed: false });
      records.addresses = records.addresses.filter((o) => !(o.address === r.address && (!r.devs || r.devs.includes(o.dev))));
    }
    if (rm.deleteCreatedLinks) {
      for (const dev of records.createdLinks) {
        if (actual.links.has(dev)) {
          removedDevs.add(dev);
          push(change('-', 'link', `link ${dev}`, 'lbctl created it', { op: 'link-del', dev, type: actual.links.get(dev)!.linkType }, { before: 'present', after: null, action: 'deleted', note: 'lbctl created it' }, ns));
        }
      }
      records.createdLinks = [];
    }
    if (rm.restoreSysctls) {
      for (const key of Object.keys(records.sysctls).sort()) {
        const rec = records.sysctls[key];
        const cur = actual.sysctls.get(key);
        const gone = [...removedDevs].some((d) => key.startsWith(`net.ipv4.conf.${d.replaceAll('.', '/')}.`));
        if (cur === undefined || gone) items.push({ kind: 'sysctl', item: key, before: num(cur), after: null, action: 'absent', changed: false, note: 'the interface is gone' });
        else if (cur === rec.original) items.push({ kind: 'sysctl', item: key, before: num(cur), after: num(cur), action: 'unchanged', changed: false });
        else if (cur !== rec.set) items.push({ kind: 'sysctl', item: key, before: num(cur), after: num(cur), action: 'kept', changed: false, note: `changed by someone else since lbctl set ${rec.set}: left alone` });
        else push(change('~', 'sysctl', key, `lbctl set ${rec.set}; it was ${rec.original} before`, { op: 'sysctl', key, value: rec.original, prev: cur }, { before: num(cur), after: num(rec.original), action: 'restored' }, ns));
      }
      records.sysctls = {};
    }
  }

  for (const s of desired.sysctls) {
    const cur = actual.sysctls.get(s.key);
    if (cur !== undefined && s.accept.includes(cur)) {
      items.push({ kind: 'sysctl', item: s.key, before: num(cur), after: num(cur), action: 'unchanged', changed: false });
      continue;
    }
    push(change('~', 'sysctl', s.key, `wanted ${s.accept.join(' or ')}, is ${cur ?? 'not there yet'}`, { op: 'sysctl', key: s.key, value: s.value, prev: cur }, { before: num(cur), after: num(s.value), action: 'updated' }, ns));
    records.sysctls[s.key] = { original: records.sysctls[s.key]?.original ?? cur ?? '0', set: s.value };
  }

  for (const dev of desired.linksUp) {
    const link = actual.links.get(dev);
    if (link?.up) { items.push({ kind: 'link', item: `link ${dev}`, before: 'up', after: 'up', action: 'unchanged', changed: false }); continue; }
    push(change('~', 'link', `link ${dev}`, link ? 'is down' : 'created by this plan, down', { op: 'link-up', dev }, { before: link ? 'down' : null, after: 'up', action: 'updated' }, ns));
  }

  const newLabels = new Set<string>();
  for (const a of desired.addresses) {
    const cidr = cidrOf(a.vip);
    const link = actual.links.get(a.dev);
    const have = link?.addresses.find((x) => x.address === a.vip.address);
    if (have) {
      items.push({ kind: 'address', item: `${cidr} dev ${a.dev}`, before: `${cidr} label ${have.label}`, after: `${cidr} label ${have.label}`, action: 'unchanged', changed: false });
      continue;
    }
    // lo:0, lo:1, ... like the ifcfg-lo:0 files of the articles; `ip addr` shows them, ifconfig lists them as aliases.
    const label = a.label ? nextLabel(link ?? { name: a.dev, up: false, linkType: '', noArp: false, addresses: [] }, newLabels) : undefined;
    if (label) newLabels.add(label);
    push(change('+', 'address', `${cidr} dev ${a.dev}`, `not on ${a.dev}`, { op: 'addr-add', dev: a.dev, address: a.vip.address, prefix: a.vip.prefix, label }, { before: null, after: label ? `${cidr} label ${label}` : cidr, action: 'added' }, ns));
    records.addresses = [...records.addresses.filter((x) => !(x.dev === a.dev && x.address === a.vip.address)), { dev: a.dev, address: a.vip.address, prefix: a.vip.prefix, label }];
  }

  planRoutes(actual, desired, records, push, items, ns);
  if (desired.files) planFiles(actual, desired.files, push, items, ns);
  return { changes, items, records, notes };
}

/** Routes: set what is desired (recording what it replaced); remove only routes lbctl set, putting back what they replaced. */
function planRoutes(actual: HostActual, desired: HostDesired, records: HostState, push: (c: HostChange) => void, items: ItemResult[], ns: string | undefined): void {
  const have = (dst: string) => actual.routes?.find((r) => r.dst === dst);
  const show = (r: { via?: string; dev?: string } | undefined) => (r ? `via ${r.via ?? '(none)'}${r.dev ? ` dev ${r.dev}` : ''}` : null);
  for (const dst of desired.remove?.routes ?? []) {
    const rec = records.routes?.find((r) => r.dst === dst);
    const cur = have(dst);
    records.routes = (records.routes ?? []).filter((r) => r.dst !== dst);
    if (!rec) continue;
    const id = `${dst} via ${rec.via}`;
    if (!cur || cur.via !== rec.via) { items.push({ kind: 'route', item: id, before: show(cur), after: show(cur), action: 'kept', changed: false, note: 'changed by someone else since lbctl set it: left alone' }); continue; }
    const op: HostOp = rec.replaced?.via
      ? { op: 'route-replace', dst, via: rec.replaced.via, dev: rec.replaced.dev, prev: cur }
      : { op: 'route-del', dst, via: rec.via, dev: rec.dev, prev: cur };
    push(change('-', 'route', id, rec.replaced?.via ? `lbctl set it; back to via ${rec.replaced.via}` : 'lbctl set it', op, { before: show(cur), after: rec.replaced?.via ? show(rec.replaced) : null, action: rec.replaced?.via ? 'restored' : 'removed' }, ns));
  }
  for (const r of desired.routes ?? []) {
    const cur = have(r.dst);
    const id = `${r.dst} via ${r.via}`;
    if (cur && cur.via === r.via && (!r.dev || cur.dev === r.dev)) { items.push({ kind: 'route', item: id, before: show(cur), after: show(cur), action: 'unchanged', changed: false }); continue; }
    push(change(cur ? '~' : '+', 'route', id, cur ? `is ${show(cur)}` : 'no such route', { op: 'route-replace', dst: r.dst, via: r.via, dev: r.dev, prev: cur }, { before: show(cur), after: show(r), action: cur ? 'updated' : 'added' }, ns));
    const prior = records.routes?.find((x) => x.dst === r.dst);
    // What was there before lbctl first set it: a second change keeps the first record's.
    const replaced = prior ? prior.replaced : cur?.via ? { via: cur.via, dev: cur.dev } : undefined;
    records.routes = [...(records.routes ?? []).filter((x) => x.dst !== r.dst), { ...r, ...(replaced ? { replaced } : {}) }];
  }
  if (records.routes && !records.routes.length) delete records.routes;
}

function planFiles(actual: HostActual, files: NonNullable<HostDesired['files']>, push: (c: HostChange) => void, items: ItemResult[], ns: string | undefined): void {
  const wanted = new Set(files.want.map((f) => f.path));
  const unitLink = files.want.find((f) => f.symlinkTo !== undefined)?.symlinkTo ?? files.scope.map((p) => actual.files.get(p)).find((f) => f?.type === 'symlink')?.target;
  for (const f of files.want) {
    const cur = actual.files.get(f.path) ?? null;
    if (cur?.type === 'other') throw new RejectedError(`${f.path} is not a regular file`, { code: 'EFILETYPE', where: f.path, hint: 'move it away: lbctl writes a file there' });
    if (f.symlinkTo !== undefined) {
      if (cur?.type === 'symlink' && cur.target === f.symlinkTo) {
        items.push({ kind: 'file', item: f.path, before: f.symlinkTo, after: f.symlinkTo, action: 'unchanged', changed: false, note: 'enables the unit (what systemctl enable does)' });
        continue;
      }
      push(change(cur ? '~' : '+', 'file', f.path, cur ? 'points elsewhere' : 'enables the unit (what systemctl enable does)', { op: 'file-symlink', path: f.path, target: f.symlinkTo, prev: cur }, { before: cur?.type === 'symlink' ? cur.target : cur ? 'present' : null, after: f.symlinkTo, action: cur ? 'updated' : 'created', note: 'enables the unit (what systemctl enable does)' }, ns));
      continue;
    }
    // Writing through a symlink would change a file lbctl never meant to touch.
    if (cur?.type === 'symlink') throw new RejectedError(`${f.path} is a symbolic link (to ${cur.target})`, { code: 'ESYMLINK', where: f.path, hint: 'lbctl does not write through symlinks; remove it or use --root' });
    if (cur?.type === 'file' && cur.content === f.content) {
      items.push({ kind: 'file', item: f.path, before: 'present', after: 'present', action: 'unchanged', changed: false });
      continue;
    }
    push(change(cur ? '~' : '+', 'file', f.path, cur ? 'content differs' : 'not there', { op: 'file-write', path: f.path, content: f.content!, prev: cur }, { before: cur ? 'present' : null, after: 'present', action: cur ? 'updated' : 'created', note: cur ? `previous content saved to ${f.path}.lbctl-bak` : undefined }, ns));
  }
  for (const p of files.scope) {
    if (wanted.has(p)) continue;
    const cur = actual.files.get(p) ?? null;
    if (!cur) { if (files.want.length === 0) items.push({ kind: 'file', item: p, before: null, after: null, action: 'absent', changed: false }); continue; }
    if (!isOurs(cur, unitLink)) { items.push({ kind: 'file', item: p, before: 'present', after: 'present', action: 'kept', changed: false, note: 'not written by lbctl (no owner mark): left alone' }); continue; }
    push(change('-', 'file', p, 'lbctl wrote it; no longer wanted', { op: 'file-remove', path: p, prev: cur }, { before: 'present', after: null, action: 'deleted' }, ns));
  }
}

/** The records while a plan runs: everything lbctl may own by the end, so a crash midway leaves nothing unowned. */
function mergeRecords(before: HostState, after: HostState): HostState {
  const m = cloneState(after);
  for (const [k, v] of Object.entries(before.sysctls)) m.sysctls[k] = v;
  for (const a of before.addresses) if (!m.addresses.some((x) => x.dev === a.dev && x.address === a.address)) m.addresses.push({ ...a });
  m.createdLinks = [...new Set([...before.createdLinks, ...after.createdLinks])];
  for (const r of before.routes ?? []) if (!m.routes?.some((x) => x.dst === r.dst)) m.routes = [...(m.routes ?? []), { ...r }];
  return m;
}

const sameRecords = (a: HostState, b: HostState) => JSON.stringify(a) === JSON.stringify(b);

export interface ApplyOptions {
  /** Where the records live; undefined: keep them in memory only (tests). */
  recordsFile?: string;
  /** The first step of a multi-step operation ("realserver prep") for the error line. */
  what: string;
}

export interface ApplyReport { applied: number; records: HostState }

/** What an operation created on the way that its inverse must take away too. */
interface Made { link?: string; dir?: string }

/** Run one operation against the system. */
async function runOp(sys: HostSystem, op: HostOp): Promise<Made> {
  switch (op.op) {
    case 'sysctl': await sys.writeSysctl(op.key, op.value); return {};
    case 'addr-add': await sys.ip(['addr', 'add', cidrOf(op), 'dev', op.dev, ...(op.label ? ['label', op.label] : [])], `adding ${cidrOf(op)} to ${op.dev}`); return {};
    case 'addr-del': await sys.ip(['addr', 'del', cidrOf(op), 'dev', op.dev], `removing ${cidrOf(op)} from ${op.dev}`); return {};
    case 'link-up': await sys.ip(['link', 'set', 'dev', op.dev, 'up'], `bringing ${op.dev} up`); return {};
    case 'link-add': await sys.ip(['link', 'add', 'name', op.dev, 'type', op.type], `creating ${op.dev}`); return {};
    case 'link-del': await sys.ip(['link', 'del', 'dev', op.dev], `deleting ${op.dev}`); return {};
    case 'module': {
      await sys.modprobe(op.name);
      if ((await sys.readLinks()).has(op.dev)) return {};
      // A namespace may lack the fallback device (fb_tunnels_only_for_init_net): create one.
      try { await sys.ip(['link', 'add', 'name', op.dev, 'type', op.type], `creating ${op.dev}`); } catch {
        throw new UnavailableError(`${op.dev} is missing and the ${op.name} module cannot be loaded here`, { code: 'ENOIPIP', hint: `modprobe ${op.name} on the host (containers cannot load modules)` });
      }
      return { link: op.dev };
    }
    case 'file-write': return { dir: await sys.writeFile(op.path, op.content, op.prev?.type === 'file' ? op.prev.mode : undefined, op.exact) };
    case 'file-symlink': return { dir: await sys.symlink(op.path, op.target) };
    case 'file-remove': await sys.remove(op.path, op.pruneTo); return {};
    case 'route-replace': await sys.ip(['route', 'replace', op.dst, 'via', op.via, ...(op.dev ? ['dev', op.dev] : [])], `setting route ${op.dst} via ${op.via}`); return {};
    case 'route-del': await sys.ip(['route', 'del', op.dst, 'via', op.via, ...(op.dev ? ['dev', op.dev] : [])], `removing route ${op.dst} via ${op.via}`); return {};
  }
}

/** The operation that undoes `op` (undefined: nothing to undo, e.g. a module stays loaded). */
function inverse(op: HostOp, made: Made): HostOp | undefined {
  const restoreFile = (path: string, prev: FileState | null): HostOp =>
    // A removed file comes back with the mode and owner it had, not a new file's defaults.
    prev?.type === 'file' ? { op: 'file-write', path, content: prev.content, prev: null, exact: { mode: prev.mode, uid: prev.uid, gid: prev.gid } }
      : prev?.type === 'symlink' ? { op: 'file-symlink', path, target: prev.target, prev: null }
        : { op: 'file-remove', path, prev: null, pruneTo: made.dir };
  switch (op.op) {
    case 'sysctl': return op.prev === undefined ? undefined : { op: 'sysctl', key: op.key, value: op.prev };
    case 'addr-add': return { ...op, op: 'addr-del' };
    case 'addr-del': return { ...op, op: 'addr-add' };
    case 'link-up': return undefined; // the address on it goes first; a link left up is harmless
    case 'module': return made.link ? { op: 'link-del', dev: made.link, type: op.type } : undefined;
    case 'link-add': return { ...op, op: 'link-del' };
    case 'link-del': return { ...op, op: 'link-add' };
    case 'file-write': case 'file-symlink': case 'file-remove': return restoreFile(op.path, op.prev);
    case 'route-replace': case 'route-del':
      return op.prev?.via ? { op: 'route-replace', dst: op.dst, via: op.prev.via, dev: op.prev.dev } : { op: 'route-del', dst: op.dst, via: op.via, dev: op.dev };
  }
}

/** A test-only switch (LBCTL_TEST_FAULT_HOSTPREP=k): change k fails as an external fault would. */
function injectedFault(index: number): void {
  const k = Number(process.env.LBCTL_TEST_FAULT_HOSTPREP);
  if (Number.isInteger(k) && k === index + 1) throw new RejectedError(`injected fault at change ${k} (LBCTL_TEST_FAULT_HOSTPREP)`, { code: 'EFAULT' });
}

/**
 * Apply the changes in order. The records first claim everything the plan may add (so a crash
 * leaves nothing lbctl added unowned), and end as the plan's records. When a change fails, the
 * ones already applied are undone in reverse order and the error says exactly what happened.
 */
export async function applyHost(sys: HostSystem, plan: HostPlan, before: HostState, opts: ApplyOptions): Promise<ApplyReport> {
  const records = cloneState(plan.records);
  const save = async (s: HostState) => { if (opts.recordsFile) await saveState(opts.recordsFile, s); };
  if (plan.changes.length === 0) {
    if (!sameRecords(before, records)) await save(records);
    return { applied: 0, records };
  }
  const intent = mergeRecords(before, records);
  if (!sameRecords(before, intent)) await save(intent);
  const done: Array<{ c: HostChange; made: Made }> = [];
  for (let i = 0; i < plan.changes.length; i++) {
    const c = plan.changes[i];
    try {
      injectedFault(i);
      const made = await runOp(sys, c.op);
      if (made.link) records.createdLinks = [...new Set([...records.createdLinks, made.link])];
      done.push({ c, made });
    } catch (err) {
      const undone: string[] = [];
      const failedUndo: string[] = [];
      for (const d of [...done].reverse()) {
        const inv = inverse(d.c.op, d.made);
        if (!inv) continue;
        try { await runOp(sys, inv); undone.push(`${d.c.kind} ${d.c.id}`); } catch { failedUndo.push(`${d.c.kind} ${d.c.id}`); }
      }
      const clean = failedUndo.length === 0;
      await save(clean ? before : mergeRecords(before, records)).catch(() => {});
      const cause = err instanceof LbctlError ? err : undefined;
      const msg = `${opts.what} stopped at change ${i + 1} of ${plan.changes.length} (${c.action} ${c.kind} ${c.id}): ${cause ? cause.oneLine() : (err as Error).message}`
        + `; ${done.length === 0 ? 'nothing had been applied' : clean ? `rolled back the ${done.length} applied before it: ${undone.join(', ') || 'nothing to undo'}, system as before` : `rolled back ${undone.join(', ') || 'nothing'}; could NOT roll back ${failedUndo.join(', ')}`}`;
      // A raw system error keeps its meaning: permission and read-only file systems are exit 5.
      const errno = (err as NodeJS.ErrnoException).code;
      const exitCode = cause?.exitCode ?? (errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS' ? ExitCode.Permission : ExitCode.Rejected);
      throw new LbctlError(msg, exitCode, { code: cause?.code ?? errno ?? 'EAPPLY', hint: clean ? 'fix the cause and run it again' : 'lbctl\'s records still own these: unprep removes them' });
    }
  }
  await save(records);
  return { applied: done.length, records };
}

/** The Provider shape of host settings, for callers that compose providers (`lbctl apply`). */
export function hostProvider(sys: HostSystem, records: HostState, scope: { keys: string[]; files: string[] }, opts: ApplyOptions): Provider<HostActual, HostDesired, HostChange, ApplyReport> {
  let last: HostPlan | undefined;
  return {
    read: () => readHost(sys, records, scope),
    plan: (actual, desired) => (last = planHost(actual, desired)).changes,
    apply: async (changes) => applyHost(sys, { ...(last ?? { items: [], notes: [], records }), changes }, records, opts),
  };
}
