/**
 * The ARP problem DR real-server prep exists to solve, shown on a real L2 link between two
 * namespaces: a real server with the VIP on lo but without arp_ignore/arp_announce answers ARP
 * for the VIP, so the client (or router) sends VIP traffic straight to it, bypassing the director.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { runLbctl } from '../../src/cli/inprocess.js';

const VIP = '10.80.0.100';
const tag = `${process.pid % 10000}-${Math.floor(Math.random() * 1e4)}`;
const CLIENT = `lbprep-cli-${tag}`;
const RS = `lbprep-rs-${tag}`;
let stateDir = '';

after(async () => {
  for (const ns of [CLIENT, RS]) await execa('ip', ['netns', 'del', ns], { reject: false });
  if (stateDir) await fs.rm(stateDir, { recursive: true, force: true });
});

async function neighbour(): Promise<{ lladdr?: string; state: string[] } | undefined> {
  const out = JSON.parse((await execa('ip', ['-n', CLIENT, '-j', 'neigh', 'show', VIP])).stdout || '[]');
  return out[0];
}

/** Make the client resolve the VIP the way any host on the LAN would: by sending it a packet. */
async function resolveFromClient(): Promise<{ neigh: Awaited<ReturnType<typeof neighbour>>; arpReplies: number }> {
  await execa('ip', ['-n', CLIENT, 'neigh', 'flush', 'all']);
  await execa('ip', ['netns', 'exec', CLIENT, 'busybox', 'ping', '-c', '1', '-W', '1', VIP], { reject: false });
  const neigh = await neighbour();
  // A second channel: a raw ARP request and the replies counted on the wire.
  const a = await execa('ip', ['netns', 'exec', CLIENT, 'busybox', 'arping', '-c', '1', '-w', '1', '-I', 'c0', VIP], { reject: false });
  const arpReplies = Number(/Received (\d+) response/.exec(a.stdout)?.[1] ?? NaN);
  return { neigh, arpReplies };
}

test('without the ARP sysctls the real server answers ARP for its lo VIP; check flags it; after prep it stays silent', async () => {
  stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbprep-state-'));
  process.env.LBCTL_STATE_DIR = stateDir;
  await execa('ip', ['netns', 'add', CLIENT]);
  await execa('ip', ['netns', 'add', RS]);
  await execa('ip', ['link', 'add', `lbprep-c${tag}`.slice(0, 15), 'netns', CLIENT, 'type', 'veth', 'peer', 'name', `lbprep-r${tag}`.slice(0, 15), 'netns', RS]);
  await execa('ip', ['-n', CLIENT, 'link', 'set', `lbprep-c${tag}`.slice(0, 15), 'name', 'c0']);
  await execa('ip', ['-n', RS, 'link', 'set', `lbprep-r${tag}`.slice(0, 15), 'name', 'r0']);
  await execa('ip', ['-n', CLIENT, 'addr', 'add', '10.80.0.1/24', 'dev', 'c0']);
  await execa('ip', ['-n', RS, 'addr', 'add', '10.80.0.2/24', 'dev', 'r0']);
  for (const [ns, dev] of [[CLIENT, 'c0'], [RS, 'r0'], [CLIENT, 'lo'], [RS, 'lo']]) await execa('ip', ['-n', ns, 'link', 'set', dev, 'up']);
  const rsMac = JSON.parse((await execa('ip', ['-n', RS, '-j', 'link', 'show', 'r0'])).stdout)[0].address;

  // Half-prepared the way a forgotten sysctl.conf leaves it: VIP on lo:0, ARP sysctls at their defaults.
  await execa('ip', ['-n', RS, 'addr', 'add', `${VIP}/32`, 'dev', 'lo', 'label', 'lo:0']);
  const before = await resolveFromClient();
  assert.equal(before.neigh?.lladdr, rsMac, `client's neighbour entry for the VIP points at the real server: ${JSON.stringify(before.neigh)}`);
  assert.equal(before.arpReplies, 1);

  const c1 = await runLbctl(['realserver', 'check', '--netns', RS, '--vip', VIP, '--dev', 'r0', '--json']);
  assert.equal(c1.exitCode, 9);
  const failed = c1.json.items.filter((i: any) => i.severity === 'fail').map((i: any) => i.item).sort();
  assert.deepEqual(failed, ['arp_announce on r0', 'arp_ignore on r0']);
  const human = await runLbctl(['realserver', 'check', '--netns', RS, '--vip', VIP, '--dev', 'r0']);
  assert.equal(human.exitCode, 9);
  assert.match(human.stdout, /FAIL\s+arp_ignore on r0\s+0/);
  assert.equal(human.stderr.trim().split('\n').length, 1);

  const p = await runLbctl(['realserver', 'prep', '--netns', RS, '--vip', VIP, '--dev', 'r0', '--json']);
  assert.equal(p.exitCode, 0, p.stderr);
  assert.equal(p.json.items.find((i: any) => i.kind === 'address').action, 'unchanged', 'the VIP was already there');

  const afterPrep = await resolveFromClient();
  assert.equal(afterPrep.neigh?.lladdr, undefined, `no MAC for the VIP any more: ${JSON.stringify(afterPrep.neigh)}`);
  assert.ok(afterPrep.neigh === undefined || afterPrep.neigh.state.some((s) => s === 'INCOMPLETE' || s === 'FAILED'), JSON.stringify(afterPrep.neigh));
  assert.equal(afterPrep.arpReplies, 0);
  // The real server still answers ARP for its own address on r0 (arp_ignore=1 is not "never").
  const own = await execa('ip', ['netns', 'exec', CLIENT, 'busybox', 'arping', '-c', '1', '-w', '1', '-I', 'c0', '10.80.0.2'], { reject: false });
  assert.match(own.stdout, /Received 1 response/);

  const c2 = await runLbctl(['realserver', 'check', '--netns', RS, '--vip', VIP, '--dev', 'r0', '--json']);
  assert.equal(c2.exitCode, 0, JSON.stringify(c2.json));
});
