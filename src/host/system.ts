import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { PermissionError } from '../cli/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { ip, ipJson, readLinks, type Link } from './links.js';
import { Sysctls } from './sysctl.js';

/** A managed file as read(): its text and whether it carries lbctl's owner mark, or a symlink's target. */
export type FileState =
  | { type: 'file'; content: string; mode: number; uid: number; gid: number }
  | { type: 'symlink'; target: string }
  | { type: 'other' };

/** The exact mode and owner a file is put back with (a rollback recreating a removed file). */
export interface FileOwner { mode: number; uid: number; gid: number }

/**
 * Everything host prep reads from and writes to the machine, in one place. The provider talks
 * only to this, so the unit tests run the same plan/apply code against an in-memory fake.
 */
export interface HostSystem {
  readonly netns?: string;
  readLinks(): Promise<Map<string, Link>>;
  /** Values by key; a key with no /proc/sys file is absent. */
  readSysctls(keys: string[]): Promise<Map<string, string>>;
  readModules(): Promise<Set<string>>;
  /** IPv4 default routes (`ip -4 route show default`); optional: a system without it has none to manage. */
  readRoutes?(): Promise<RouteState[]>;
  readFile(abs: string): Promise<FileState | null>;
  writeSysctl(key: string, value: string): Promise<void>;
  /** `ip ARGS` (inside the namespace): addr add/del, link set up/down, link add/del. */
  ip(args: string[], doing: string): Promise<void>;
  modprobe(name: string): Promise<void>;
  /**
   * Both return the first directory they had to create (mkdir -p), so a rollback can take it away again.
   * `mode`: of a new file (a replaced one keeps its own); `exact`: the mode and owner a new file gets instead.
   */
  writeFile(abs: string, content: string, mode?: number, exact?: FileOwner): Promise<string | undefined>;
  symlink(abs: string, target: string): Promise<string | undefined>;
  /** Remove a file; with `pruneTo`, also the directories up to it that are now empty. */
  remove(abs: string, pruneTo?: string): Promise<void>;
}

export interface RouteState { dst: string; via?: string; dev?: string }

export class RealHostSystem implements HostSystem {
  private readonly sysctls: Sysctls;
  constructor(readonly netns?: string) { this.sysctls = new Sysctls(netns); }

  readLinks() { return readLinks(this.netns); }
  readSysctls(keys: string[]) { return this.sysctls.read(keys); }

  async readModules(): Promise<Set<string>> {
    try {
      const text = await fs.readFile('/proc/modules', 'utf8');
      return new Set(text.split('\n').map((l) => l.split(' ')[0]).filter(Boolean));
    } catch { return new Set(); }
  }

  async readRoutes(): Promise<RouteState[]> {
    const routes = await ipJson<Array<{ dst: string; gateway?: string; dev?: string }>>(this.netns, ['-4', 'route', 'show', 'default'], 'reading the default route');
    return routes.map((r) => ({ dst: r.dst, via: r.gateway, dev: r.dev }));
  }

  async readFile(abs: string): Promise<FileState | null> {
    let st;
    try { st = await fs.lstat(abs); } catch (e: any) {
      // ENOTDIR: a file sits where a directory of the path belongs; writing there is refused before any change.
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return null;
      if (e.code === 'EACCES' || e.code === 'EPERM') throw new PermissionError(`cannot read ${abs}: ${e.code}`, { code: e.code, where: abs, hint: 'run as root' });
      throw e;
    }
    if (st.isSymbolicLink()) return { type: 'symlink', target: await fs.readlink(abs) };
    if (!st.isFile()) return { type: 'other' };
    return { type: 'file', content: await fs.readFile(abs, 'utf8'), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  }

  writeSysctl(key: string, value: string) { return this.sysctls.write([{ key, value }]); }
  async ip(args: string[], doing: string) { await ip(this.netns, args, doing); }

  async modprobe(name: string): Promise<void> {
    // A failed load is not final: the provider then tries to create the device itself and reports that.
    await execa('modprobe', [name], { reject: false });
  }

  async writeFile(abs: string, content: string, mode?: number, exact?: FileOwner): Promise<string | undefined> {
    const made = await fs.mkdir(path.dirname(abs), { recursive: true });
    await writeFileAtomic(abs, content, exact ? { mode: exact.mode, owner: { uid: exact.uid, gid: exact.gid } } : { mode });
    return made;
  }

  async symlink(abs: string, target: string): Promise<string | undefined> {
    const made = await fs.mkdir(path.dirname(abs), { recursive: true });
    const tmp = path.join(path.dirname(abs), `.${path.basename(abs)}.lbctl-tmp-${process.pid}`);
    await fs.rm(tmp, { force: true });
    await fs.symlink(target, tmp);
    await fs.rename(tmp, abs);
    return made;
  }

  async remove(abs: string, pruneTo?: string): Promise<void> {
    await fs.rm(abs, { force: true });
    if (pruneTo === undefined) return;
    for (let dir = path.dirname(abs); dir.startsWith(pruneTo); dir = path.dirname(dir)) {
      try { await fs.rmdir(dir); } catch { return; } // not empty: another file lives there
      if (dir === pruneTo) return;
    }
  }
}
