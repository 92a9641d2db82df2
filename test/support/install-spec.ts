/**
 * A cluster spec and an empty --root for unit tests of `config install`: the smallest pair
 * (examples/minimal-pair.yaml) with lb1 on interface mu9, which no test machine has, so a
 * keepalived check that looked for it would need a scratch network namespace.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// build/test/support/ -> the checkout (also in Stryker's sandbox).
const checkout = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export interface InstallCase { dir: string; spec: string; root: string; h: string; k: string }

export async function installSpec(dir: string): Promise<InstallCase> {
  const text = (await fs.readFile(path.join(checkout, 'examples', 'minimal-pair.yaml'), 'utf8')).replaceAll('interface: eth0', 'interface: mu9');
  const spec = path.join(dir, 'spec.yaml');
  await fs.writeFile(spec, text);
  const root = path.join(dir, 'root');
  return { dir, spec, root, h: path.join(root, 'etc/haproxy/haproxy.cfg'), k: path.join(root, 'etc/keepalived/keepalived.conf') };
}

/** This process's network namespace, as the fake daemons log theirs ("net:[INODE]"). */
export async function nsOfThisProcess(): Promise<string> {
  return fs.readlink('/proc/self/ns/net');
}
