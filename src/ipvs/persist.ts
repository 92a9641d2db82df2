/**
 * Boot persistence of the IPVS table: the node's rules file and a systemd unit that restores it
 * at boot with `lbctl restore --merge` (`lbctl save --persist`; `lbctl apply` calls
 * ipvsBootFiles for the same files).
 *
 * Choices, against what the distributions' ipvsadm services do:
 * - Start: Debian's init script flushes (`ipvsadm -C`) and loads, RHEL's unit runs
 *   `ipvsadm-restore` without a flush (and fails on a service that already exists). lbctl restores
 *   with --merge: it adds and updates, never deletes, never flushes, so a service keepalived or
 *   an operator set up before the unit ran stays, and a second run changes nothing.
 * - Stop: none. Debian flushes on stop, RHEL saves over the rules file and then flushes. A flush
 *   on `systemctl stop`/`restart` cuts every connection (the kernel table goes at power-off
 *   anyway), and saving at shutdown would replace what was persisted on purpose with whatever
 *   the kernel held at that moment.
 * - An empty saved table: the file still holds lbctl's header, so restore reads "no services"
 *   and, merging, changes nothing. A zero-byte file (not something lbctl writes: a truncated
 *   disk) is refused by restore (exit 3, "no input"), so the unit fails visibly instead.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { lazyCrypto } from '../util/builtin.js';
import { statSync, readdirSync } from 'node:fs';
import { LbctlError, RejectedError, UsageError } from '../cli/errors.js';
import { planJson, renderPlan, type Change, type Provider } from '../converge/change.js';
import { FilesProvider, type FileChange, type ManagedFile } from '../converge/files.js';
import { ensureDir, errnoName, fsError, refusePseudoFs } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import { sortTable, type IpvsTable } from './model.js';
import { parseRules, printRules } from './rules.js';

const OWNER_MARK = '# Managed by lbctl';
/** ip-netns(8) keeps names as files under /run/netns; lbctl takes the safe subset of them. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Absolute binary paths: systemd before 239 requires them in Exec lines. */
const MODPROBE = '/usr/sbin/modprobe';
const IP = '/usr/sbin/ip';
/** lbctl is installed by npm (/usr/local/bin) or a distribution package (/usr/bin): env finds either in systemd's PATH. */
const ENV = '/usr/bin/env';

export interface IpvsBootOptions { root?: string; netns?: string; node?: string }

/** Where the files live on the booted system (not under --root). */
export interface IpvsBootPaths { rules: string; unit: string; unitName: string; wants: string }

function checkName(value: string | undefined, what: string): void {
  if (value !== undefined && !NAME.test(value)) {
    throw new UsageError(`${what} ${JSON.stringify(value)} is not a valid name for a boot file`, { code: 'EBADNAME', hint: 'letters, digits, ".", "_" and "-", at most 64, starting with a letter or digit' });
  }
}

/** One rules file and one unit per network namespace, so a namespace's boot files never replace the host's. */
export function ipvsBootPaths(netns?: string): IpvsBootPaths {
  checkName(netns, 'network namespace');
  const suffix = netns ? `-netns-${netns}` : '';
  const unitName = `lbctl-ipvs${suffix}.service`;
  return {
    rules: `/etc/lbctl/ipvs${suffix}.rules`,
    unit: `/etc/systemd/system/${unitName}`,
    unitName,
    wants: `/etc/systemd/system/multi-user.target.wants/${unitName}`,
  };
}

/** The argv the unit's ExecStart runs. */
export function ipvsBootCommand(netns?: string): string[] {
  const restore = [ENV, 'lbctl', 'restore', '--merge', '--format', 'rules', ipvsBootPaths(netns).rules];
  return netns ? [IP, 'netns', 'exec', netns, ...restore] : restore;
}

function where(o: IpvsBootOptions): string {
  return [o.netns ? ` in network namespace ${o.netns}` : '', o.node ? ` (node ${o.node})` : ''].join('');
}

/**
 * The rules text, refused when restore would refuse it at boot: the kernel can hold values
 * lbctl would not write (a mask another tool set), and a boot that fails on them is found out
 * too late.
 */
function rulesText(table: IpvsTable, file: string): string {
  const rules = printRules(table);
  try {
    parseRules(rules, file);
  } catch (e) {
    const err = e as LbctlError;
    throw new RejectedError(`the table cannot be persisted: lbctl restore would refuse it at boot (${err.message})`, { code: 'EPERSIST', where: err.where, hint: 'change that service with lbctl service edit, then persist again' });
  }
  return rules;
}

/**
 * The node's boot files for `rules`: the rules file (lbctl's save format, 0644) and the unit
 * that restores it at boot. Pure. The unit is enabled by a symlink (ipvsBootLink), which a
 * ManagedFile cannot describe.
 */
export function ipvsBootFiles(rules: IpvsTable, opts: { root?: string; netns?: string; node?: string }): ManagedFile[] {
  checkName(opts.node, 'node');
  const root = opts.root ?? '/';
  const p = ipvsBootPaths(opts.netns);
  const table = sortTable(rules);
  const n = table.services.length;
  const rulesFile = [
    `${OWNER_MARK}: the IPVS table ${p.unitName} restores at boot${where(opts)}.`,
    '# Restored with `lbctl restore --merge`: services are added and updated, never deleted.',
    '# lbctl replaces this file whole (lbctl save --persist, lbctl apply); edits are lost.',
    ...(n ? [] : ['# No virtual services: the boot restore changes nothing.']),
    '',
  ].join('\n') + rulesText(table, p.rules);
  const unit = [
    `${OWNER_MARK}: restores the IPVS table from ${p.rules} at boot${where(opts)}.`,
    '# lbctl replaces this file whole (lbctl save --persist, lbctl apply); edits are lost.',
    '[Unit]',
    `Description=lbctl: IPVS table from ${p.rules}${opts.netns ? ` (netns ${opts.netns})` : ''}`,
    'Documentation=man:ipvsadm(8)',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    '# "-": a kernel with IPVS built in has no module to load.',
    `ExecStartPre=-${MODPROBE} ip_vs`,
    '# --merge: adds and updates, never deletes or flushes; what keepalived or an operator set up first stays.',
    `ExecStart=${ipvsBootCommand(opts.netns).join(' ')}`,
    '# No ExecStop: a flush would cut every connection, and a save would overwrite what was persisted.',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
  return [
    { path: path.join(root, p.rules), content: rulesFile, mode: 0o644, label: `generated/${path.basename(p.rules)}` },
    { path: path.join(root, p.unit), content: unit, mode: 0o644, label: `generated/${p.unitName}` },
  ];
}

/** The multi-user.target.wants link that enables the unit (what `systemctl enable` makes). */
export function ipvsBootLink(opts: IpvsBootOptions): { path: string; target: string } {
  const p = ipvsBootPaths(opts.netns);
  return { path: path.join(opts.root ?? '/', p.wants), target: p.unit };
}

// ---------------------------------------------------------------------------------------------
// The enable link as converge state

export type LinkState = { path: string; kind: 'absent' } | { path: string; kind: 'symlink'; target: string };
export interface LinkChange extends Change { kind: 'link'; link: { path: string; target: string }; actual: LinkState }

/**
 * One symlink lbctl owns. read() refuses a file or directory at the path (lbctl never replaces
 * what is not a link); apply() makes the link under a scratch name and renames it into place,
 * so a link planted there is replaced, never followed.
 */
export class LinkProvider implements Provider<LinkState, { path: string; target: string }, LinkChange, { path: string; action: 'created' | 'updated' } | undefined> {
  constructor(private readonly file: string, private readonly enables: string) {}

  async read(): Promise<LinkState> {
    let st;
    try { st = await fs.lstat(this.file); } catch (e) {
      if (errnoName(e) === 'ENOENT') return { path: this.file, kind: 'absent' };
      throw fsError(e, this.file, 'read');
    }
    if (!st.isSymbolicLink()) {
      throw new RejectedError(`read: ${st.isDirectory() ? 'a directory' : 'a file'} where lbctl puts the link that enables ${this.enables}`, { code: 'ENOTLINK', where: this.file, hint: 'move it away, or enable the unit yourself (systemctl enable)' });
    }
    return { path: this.file, kind: 'symlink', target: await fs.readlink(this.file) };
  }

  plan(actual: LinkState, desired: { path: string; target: string }): LinkChange[] {
    if (actual.kind === 'symlink' && actual.target === desired.target) return [];
    return [{
      action: actual.kind === 'absent' ? '+' : '~', kind: 'link', id: desired.path, link: desired, actual,
      reason: actual.kind === 'absent' ? `enables ${this.enables} (what systemctl enable does)` : `points to ${actual.target}`,
      command: ['ln', '-sfn', desired.target, desired.path],
      before: actual.kind === 'symlink' ? actual.target : undefined, after: desired.target,
    }];
  }

  async apply(changes: LinkChange[]): Promise<{ path: string; action: 'created' | 'updated' } | undefined> {
    const c = changes[0];
    if (!c) return undefined;
    const { path: file, target } = c.link;
    const dir = path.dirname(file);
    const made = await ensureDir(dir);
    const tmp = path.join(dir, `.${path.basename(file)}.lbctl-new-${process.pid}-${lazyCrypto().randomBytes(4).toString('hex')}`);
    try {
      await fs.symlink(target, tmp);
      const now = await this.read();
      if (now.kind !== c.actual.kind || (now.kind === 'symlink' && c.actual.kind === 'symlink' && now.target !== c.actual.target)) {
        throw new RejectedError('write: changed while lbctl was writing', { code: 'ERACE', where: file, hint: 'run it again' });
      }
      await fs.rename(tmp, file);
    } catch (e) {
      await fs.unlink(tmp).catch(() => undefined);
      for (const d of [...made].reverse()) await fs.rmdir(d).catch(() => undefined);
      throw fsError(e, file, 'link');
    }
    const fh = await fs.open(dir, constants.O_RDONLY | constants.O_DIRECTORY);
    try { await fh.sync().catch(() => undefined); } finally { await fh.close(); }
    return { path: file, action: c.action === '+' ? 'created' : 'updated' };
  }
}

// ---------------------------------------------------------------------------------------------
// lbctl save --persist

/**
 * The name of the network namespace this process is in (undefined: the host's). IPVS tables are
 * per namespace: a unit written from inside one must restore into it at boot.
 */
export function currentNetns(): string | undefined {
  let mine: number;
  try {
    mine = statSync('/proc/self/ns/net').ino;
    if (mine === statSync('/proc/1/ns/net').ino) return undefined;
  } catch {
    return undefined;
  }
  try {
    for (const name of readdirSync('/run/netns')) {
      try { if (statSync(`/run/netns/${name}`).ino === mine) return name; } catch { /* gone */ }
    }
  } catch { /* none named */ }
  throw new UsageError('this network namespace has no name (ip netns), so no boot unit can enter it', { code: 'ENONAME', hint: 'run lbctl in a namespace made with ip netns add, or persist from the host' });
}

export interface PersistOptions {
  root?: string;
  netns?: string;
  node?: string;
  dryRun?: boolean;
  lockTimeoutMs?: number;
  /** Reads the kernel's table (the caller holds the table's lock around it). */
  readTable: () => Promise<IpvsTable>;
}

export interface PersistResult extends ReturnType<typeof planJson> {
  changed: boolean;
  dryRun: boolean;
  root: string;
  unit: string;
  rules: string;
  services: number;
  files: Array<{ path: string; action: 'created' | 'updated' | 'unchanged' }>;
}

/**
 * Write the boot files for the kernel's current table: plan (files, then the enable link), and
 * unless dryRun apply, holding the lock of the root (config@ROOT, as config install). Everything
 * is read and checked before the first write; a second run plans nothing.
 */
export async function persistTable(o: PersistOptions): Promise<PersistResult & { text: string }> {
  const root = path.resolve(o.root ?? '/');
  let st;
  try { st = await fs.stat(root); } catch (e) { throw new UsageError(`--root ${root} does not exist`, { code: errnoName(e) ?? 'ENOENT', where: root, hint: 'create it first, or give an existing directory' }); }
  if (!st.isDirectory()) throw new UsageError(`--root ${root} is not a directory`, { code: 'ENOTDIR', where: root, hint: 'give a directory' });
  await refusePseudoFs(root, '--root');
  const paths = ipvsBootPaths(o.netns);

  const run = async (): Promise<PersistResult & { text: string }> => {
    const table = await o.readTable();
    const desired = ipvsBootFiles(table, { root, netns: o.netns, node: o.node });
    const link = ipvsBootLink({ root, netns: o.netns });
    const files = new FilesProvider(desired.map((f) => f.path));
    const links = new LinkProvider(link.path, paths.unitName);
    const fileChanges: FileChange[] = files.plan(await files.read(), desired);
    const linkChanges = links.plan(await links.read(), link);
    const changes: Change[] = [...fileChanges, ...linkChanges];
    if (!o.dryRun) {
      await files.apply(fileChanges);
      try {
        await links.apply(linkChanges);
      } catch (e) {
        if (!(e instanceof LbctlError) || fileChanges.length === 0) throw e;
        throw new LbctlError(`${e.message} (the rules file and unit are written; the unit is not enabled)`, e.exitCode, { code: e.code, where: e.where, hint: `enable it: systemctl ${root === '/' ? '' : `--root ${root} `}enable ${paths.unitName}`, cause: e });
      }
    }
    const all = [...desired.map((f) => f.path), link.path];
    return {
      ...planJson(changes),
      changed: !o.dryRun && changes.length > 0,
      dryRun: Boolean(o.dryRun),
      root, unit: paths.unitName, rules: desired[0].path, services: table.services.length,
      files: all.map((p) => {
        const c = changes.find((x) => x.id === p);
        return { path: p, action: !c ? 'unchanged' : c.action === '+' ? 'created' : 'updated' };
      }),
      text: renderPlan(changes, { commands: Boolean(o.dryRun) }),
    };
  };
  return o.dryRun ? run() : withLock(`config@${root}`, o.lockTimeoutMs ?? 30_000, run);
}
