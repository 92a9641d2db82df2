/**
 * A throwaway network namespace holding veth links named like the spec's interfaces.
 * keepalived's config test refuses (exit 5) names of interfaces that do not exist; on a
 * workstation or in CI the spec's eth0/ens33 usually don't, so the test runs in here.
 */
import { promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { execa } from 'execa';
import { PermissionError, UnavailableError } from '../cli/errors.js';

export async function interfaceExists(name: string): Promise<boolean> {
  return fs.access(`/sys/class/net/${name}`).then(() => true, () => false);
}

export async function missingInterfaces(names: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of names) if (!(await interfaceExists(n))) out.push(n);
  return out;
}

async function ip(args: string[]): Promise<void> {
  const r = await execa('ip', args, { reject: false, all: true });
  if (r.exitCode !== 0) {
    const msg = String(r.all ?? '').trim();
    if (/Operation not permitted|Permission denied/.test(msg)) throw new PermissionError(`ip ${args.join(' ')}: ${msg}`, { hint: 'run as root, or use --netns never on a machine that has the interfaces' });
    throw new UnavailableError(`ip ${args.join(' ')} failed: ${msg || `exit ${r.exitCode}`}`, { hint: 'check iproute2 and network namespace support' });
  }
}

/** Run fn(nsName) inside a fresh namespace with veths named `interfaces`; always deleted after. */
export async function withScratchNetns<T>(interfaces: string[], fn: (ns: string) => Promise<T>): Promise<T> {
  const ns = `lbctl-chk-${process.pid}-${randomBytes(3).toString('hex')}`;
  await ip(['netns', 'add', ns]);
  try {
    let i = 0;
    for (const name of interfaces) {
      let peer = `lbctlp${i++}`;
      while (interfaces.includes(peer)) peer = `lbctlp${i++}`;
      await ip(['-n', ns, 'link', 'add', name, 'type', 'veth', 'peer', 'name', peer]);
      await ip(['-n', ns, 'link', 'set', name, 'up']);
    }
    return await fn(ns);
  } finally {
    await execa('ip', ['netns', 'del', ns], { reject: false });
  }
}
