// Proves the kernel lab itself, with raw ipvsadm (no lbctl): for NAT, DR and TUN a client
// fetches through the VIP and both real servers answer in round-robin order, the kernel's
// counters move, and the long-lived connection helper notices when its server goes away.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { buildScenario, clearIpvs, labSkipReason, waitFor, type Mode, type Scenario } from './lib/topology.js';

const skip = labSkipReason();

/** Per-real-server counters from `ipvsadm -Ln --stats --exact -t SERVICE`. */
async function stats(proto: '-t', service: string): Promise<Map<string, { conns: number; inPkts: number; outPkts: number }>> {
  const { stdout } = await execa('ipvsadm', ['-Ln', '--stats', '--exact', proto, service]);
  const out = new Map<string, { conns: number; inPkts: number; outPkts: number }>();
  for (const line of stdout.split('\n')) {
    const m = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (m) out.set(m[1], { conns: Number(m[2]), inPkts: Number(m[3]), outPkts: Number(m[4]) });
  }
  return out;
}

function assertRoundRobin(names: string[]): void {
  assert.equal(names.length, 4);
  assert.deepEqual([...new Set(names)].sort(), ['rs1', 'rs2'], `both real servers answer: ${names.join(',')}`);
  for (let i = 1; i < names.length; i++) assert.notEqual(names[i], names[i - 1], `alternates: ${names.join(',')}`);
}

async function roundRobin(s: Scenario, ipv6: boolean): Promise<void> {
  const vip = ipv6 ? `[${s.vip6}]` : s.vip;
  const service = `${vip}:${s.port}`;
  await execa('ipvsadm', ['-A', '-t', service, '-s', 'rr']);
  for (const rs of s.realServers) {
    const addr = ipv6 ? `[${rs.addr6}]` : rs.addr;
    await execa('ipvsadm', ['-a', '-t', service, '-r', `${addr}:${s.port}`, s.forward]);
  }
  const names = await s.fetch(4, { ipv6 });
  assertRoundRobin(names);

  // Counters reach ipvsadm with the estimator's delay: wait until all four connections show.
  let counters = await stats('-t', service);
  await waitFor(async () => {
    counters = await stats('-t', service);
    return [...counters.values()].reduce((n, c) => n + c.conns, 0) >= 4;
  });
  assert.equal(counters.size, 2, `two real servers in ipvsadm -Ln --stats:\n${[...counters.keys()]}`);
  for (const [rs, c] of counters) {
    assert.equal(c.conns, 2, `${rs}: 2 connections`);
    assert.ok(c.inPkts > 0, `${rs}: packets in`);
    // Only NAT's replies pass the director; DR and TUN servers answer the client directly.
    if (s.mode === 'nat') assert.ok(c.outPkts > 0, `${rs}: packets out`);
    else assert.equal(c.outPkts, 0, `${rs}: no packets out`);
  }
  await clearIpvs();
}

for (const mode of ['dr', 'nat', 'tun'] as Mode[]) {
  test(`lab smoke: ${mode}: round robin through the VIP, counters move`, { skip }, async () => {
    const s = await buildScenario(mode);
    try {
      await roundRobin(s, false);
      if (s.vip6) await roundRobin(s, true);
    } finally {
      await clearIpvs();
      await s.cleanup();
    }
  });
}

test('lab smoke: a long-lived connection through the VIP lives, and dies with its server', { skip }, async () => {
  const s = await buildScenario('nat');
  try {
    const service = `${s.vip}:${s.echoPort}`;
    await execa('ipvsadm', ['-A', '-t', service, '-s', 'rr']);
    await execa('ipvsadm', ['-a', '-t', service, '-r', `${s.rs1.addr}:${s.echoPort}`, '-m']);
    const conn = await s.connect();
    assert.deepEqual(await conn.check(), { alive: true });
    const { stdout } = await execa('ipvsadm', ['-Lnc']);
    assert.match(stdout, new RegExp(`${s.client.addr}:${conn.localPort}\\s+${s.vip.replace(/\./g, '\\.')}:${s.echoPort}\\s+${s.rs1.addr.replace(/\./g, '\\.')}:${s.echoPort}`));
    await s.servers[0].stop();
    const after = await conn.check();
    assert.equal(after.alive, false);
    assert.ok(['EOF', 'ECONNRESET'].includes(after.error ?? ''), `closed by the server: ${after.error}`);
  } finally {
    await clearIpvs();
    await s.cleanup();
  }
});
