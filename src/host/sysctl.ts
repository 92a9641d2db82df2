import { promises as fs } from 'node:fs';
import { execa } from 'execa';
import { NotFoundError, PermissionError, RejectedError } from '../cli/errors.js';

/**
 * IPv4 sysctls in sysctl(8) notation ("net.ipv4.conf.eth0.arp_ignore"). An interface name may
 * contain dots (VLANs: eth0.100); sysctl(8) writes those dots as "/" inside the key, and the
 * /proc/sys path keeps them as dots.
 */
export function confKey(dev: string, name: string): string {
  return `net.ipv4.conf.${dev.replaceAll('.', '/')}.${name}`;
}

export function keyToPath(key: string): string {
  return '/proc/sys/' + key.split('.').map((seg) => seg.replaceAll('/', '.')).join('/');
}

export function pathToKey(path: string): string {
  return path.replace(/^\/proc\/sys\//, '').split('/').map((seg) => seg.replaceAll('.', '/')).join('.');
}

/** The command a user would type for one write (what --dry-run prints). */
export function sysctlWriteCommand(key: string, value: string, netns?: string): string[] {
  const base = ['sysctl', '-w', `${key}=${value}`];
  return netns ? ['ip', 'netns', 'exec', netns, ...base] : base;
}

/**
 * How the kernel combines conf/all/<name> with conf/<dev>/<name> (include/linux/inetdevice.h):
 * arp_ignore, arp_announce and rp_filter use the larger of the two (IN_DEV_MAXCONF);
 * send_redirects is on when either is (IN_DEV_ORCONF), so turning it off needs both at 0.
 */
export type Combine = 'max' | 'or';
export const COMBINE: Record<string, Combine> = {
  arp_ignore: 'max', arp_announce: 'max', rp_filter: 'max', send_redirects: 'or',
};

export function effective(name: string, all: string | undefined, dev: string | undefined): number | undefined {
  if (all === undefined && dev === undefined) return undefined;
  const a = Number(all ?? 0);
  const d = Number(dev ?? 0);
  return COMBINE[name] === 'or' ? (a || d ? 1 : 0) : Math.max(a, d);
}

/** Reads and writes sysctls in the current network namespace, or in a named one via `ip netns exec`. */
export class Sysctls {
  constructor(readonly netns?: string) {}

  /** Values by key; a key whose file does not exist (no such interface) is absent from the map. */
  async read(keys: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const unique = [...new Set(keys)];
    if (unique.length === 0) return out;
    if (!this.netns) {
      await Promise.all(unique.map(async (key) => {
        try { out.set(key, (await fs.readFile(keyToPath(key), 'utf8')).trim()); } catch (e: any) {
          if (e.code !== 'ENOENT') throw e;
        }
      }));
      return out;
    }
    // /proc/sys/net shows the namespace of the process reading it, so read it from inside.
    // grep -H prints "path:value" and skips missing files (-s); interface names cannot contain ':'.
    const r = await execa('ip', ['netns', 'exec', this.netns, 'grep', '-H', '-s', '.', ...unique.map(keyToPath)], { reject: false });
    if (r.exitCode !== 0 && r.exitCode !== 2 && r.exitCode !== 1) throw ipFailure(r.stderr, `reading sysctls in netns ${this.netns}`);
    if (/Permission denied|Operation not permitted/.test(r.stderr)) throw new PermissionError(`cannot enter network namespace ${this.netns}`, { hint: 'run as root' });
    for (const line of r.stdout.split('\n')) {
      const i = line.indexOf(':');
      if (i > 0) out.set(pathToKey(line.slice(0, i)), line.slice(i + 1).trim());
    }
    return out;
  }

  async write(entries: Array<{ key: string; value: string }>): Promise<void> {
    if (entries.length === 0) return;
    if (!this.netns) {
      for (const { key, value } of entries) {
        try { await fs.writeFile(keyToPath(key), value + '\n'); } catch (e: any) {
          if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') throw new PermissionError(`cannot write ${key}: ${e.code}`, { hint: 'run as root, with /proc/sys writable (in a container: --privileged or a netns of its own)' });
          if (e.code === 'ENOENT') throw new NotFoundError(`sysctl ${key} does not exist`, { hint: 'is the interface still there? ip link show' });
          throw new RejectedError(`the kernel refused ${key}=${value}: ${e.code ?? e.message}`);
        }
      }
      return;
    }
    const r = await execa('ip', ['netns', 'exec', this.netns, 'sysctl', '-q', '-w', ...entries.map((e) => `${e.key}=${e.value}`)], { reject: false });
    if (r.exitCode !== 0 || /error|denied|cannot/i.test(r.stderr)) throw ipFailure(r.stderr, `writing sysctls in netns ${this.netns}`);
  }
}

/** Map `ip`/`sysctl` stderr to an lbctl error. */
export function ipFailure(stderr: string, doing: string): Error {
  const msg = stderr.split('\n').map((l) => l.trim()).filter(Boolean).join('; ') || 'failed';
  if (/Operation not permitted|Permission denied/i.test(msg)) return new PermissionError(`${doing}: ${msg}`, { hint: 'run as root' });
  if (/Cannot find device|does not exist|No such file|Cannot open network namespace/i.test(msg)) return new NotFoundError(`${doing}: ${msg}`);
  return new RejectedError(`${doing}: ${msg}`);
}
