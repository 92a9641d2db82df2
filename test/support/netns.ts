import { execa } from 'execa';

/**
 * A fresh network namespace for host tests: lo and a veth pair eth0/eth1 up, ADDR (CIDR) on eth0
 * and a default route via GATEWAY, the shape a real server's host prep expects. A namespace left
 * by an earlier run under the same name is deleted first.
 */
export async function vethNamespace(name: string, addr: string, gateway: string): Promise<void> {
  await execa('ip', ['netns', 'del', name], { reject: false });
  await execa('ip', ['netns', 'add', name]);
  const ip = (...a: string[]) => execa('ip', ['-n', name, ...a]);
  await ip('link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
  for (const dev of ['lo', 'eth0', 'eth1']) await ip('link', 'set', dev, 'up');
  await ip('addr', 'add', addr, 'dev', 'eth0');
  await ip('route', 'add', 'default', 'via', gateway);
}

/** Delete the namespaces; one already gone is fine (after hooks run after a failed before). */
export async function deleteNamespaces(names: string[]): Promise<void> {
  for (const n of names) await execa('ip', ['netns', 'del', n], { reject: false });
}
