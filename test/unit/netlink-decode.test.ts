/**
 * Decoding against golden data: the kernel's raw replies captured in the kernel lab
 * (test/fixtures/netlink/decode.json, see capture.ts there), next to what ipvsadm printed for
 * the same state. The decoded table must print exactly as `ipvsadm -Sn` parsed by lbctl, and
 * thresholds/info/timeouts/daemons must match ipvsadm's listings. The same replies are also
 * replayed through NlConnection + NetlinkDriver (a fake transport answering each request with
 * the captured datagrams), which exercises dump reassembly and sequence matching.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAttrs, type AttrValues } from '../../src/ipvs/netlink/attrs.js';
import { NLMSG_DONE, NLMSG_ERROR, parseGenl, parseMessages } from '../../src/ipvs/netlink/message.js';
import { decodeDaemon, decodeDest, decodeService, decodeTimeouts, formatVersion } from '../../src/ipvs/netlink/ipvs.js';
import { NlConnection } from '../../src/ipvs/netlink/conn.js';
import { replayTransport } from '../support/netlink-replay.js';
import { NetlinkDriver } from '../../src/ipvs/netlink/driver.js';
import { parseRules, printRules } from '../../src/ipvs/rules.js';
import { destinationKey, serviceLabel, type VirtualService } from '../../src/ipvs/model.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const golden = JSON.parse(readFileSync(path.join(root, 'test/fixtures/netlink/decode.json'), 'utf8')) as {
  family: number; ipvsadmSave: string; ipvsadmThresholds: string; ipvsadmList: string; ipvsadmTimeout: string; ipvsadmDaemon: string;
  replies: Record<string, string[]>;
};

function dataMessages(datagrams: string[], set: 'cmd' | 'info' = 'cmd'): AttrValues[] {
  const out: AttrValues[] = [];
  for (const hex of datagrams) {
    for (const m of parseMessages(Buffer.from(hex, 'hex'))) {
      if (m.type === NLMSG_DONE || m.type === NLMSG_ERROR) continue;
      out.push(decodeAttrs(set, parseGenl(m.payload).attrs));
    }
  }
  return out;
}

function decodedTable(): VirtualService[] {
  const services = dataMessages(golden.replies.services).map((v) => decodeService(v.service as AttrValues, true)!);
  services.forEach((s, i) => { s.destinations = dataMessages(golden.replies[`dests${i}`]).map((v) => decodeDest(v.dest as AttrValues, s.family, true)); });
  return services;
}

/** ipvsadm -Sn does not save -x/-y (they are checked against --thresholds below). */
function withoutThresholds(services: VirtualService[]): VirtualService[] {
  return services.map((s) => ({ ...s, destinations: s.destinations.map((d) => ({ ...d, upperThreshold: 0, lowerThreshold: 0 })) }));
}

test('decoded services and real servers print exactly as ipvsadm -Sn', () => {
  const mine = printRules({ services: withoutThresholds(decodedTable()) });
  assert.equal(mine, printRules(parseRules(golden.ipvsadmSave, 'ipvsadm -Sn')));
  assert.ok(mine.includes('-r 10.0.1.4:8080 -m -w 0'), 'a real server with port != virtual port and weight 0');
  assert.ok(mine.includes('--tun-type gue --tun-port 6080 --tun-remcsum'));
  assert.ok(mine.includes('-A -f 5 -6 -s lc'));
});

test('decoded thresholds and connection counters match ipvsadm -Ln --thresholds', () => {
  const want = new Map<string, number[]>();
  let svc = '';
  for (const line of golden.ipvsadmThresholds.split('\n')) {
    const s = /^(TCP|UDP|SCTP|FWM)\s+(\S+)(\s+IPv6)?/.exec(line);
    if (s) { svc = `${s[1]} ${s[2]}${s[3] ? ' IPv6' : ''}`; continue; }
    const d = /^\s+->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)/.exec(line);
    if (d) want.set(`${svc} ${d[1]}`, d.slice(2).map(Number));
  }
  let n = 0;
  for (const s of decodedTable()) {
    for (const d of s.destinations) {
      const key = `${serviceLabel(s)} ${destinationKey(d)}`;
      assert.deepEqual([d.upperThreshold, d.lowerThreshold, d.activeConns, d.inactiveConns], want.get(key), key);
      n++;
    }
  }
  assert.equal(n, want.size);
  assert.ok([...want.values()].some((v) => v[0] === 100 && v[1] === 10));
});

test('stats come from the 64-bit nest, as numbers, on services and real servers', () => {
  for (const s of decodedTable()) {
    assert.equal(typeof s.stats?.inbytes, 'number');
    for (const d of s.destinations) assert.deepEqual(Object.keys(d.stats!).sort(), ['conns', 'cps', 'inbps', 'inbytes', 'inpkts', 'inpps', 'outbps', 'outbytes', 'outpkts', 'outpps']);
  }
});

test('info, timeouts and daemons match ipvsadm', () => {
  const [info] = dataMessages(golden.replies.info, 'info');
  const m = /version (\S+) \(size=(\d+)\)/.exec(golden.ipvsadmList)!;
  assert.deepEqual({ version: formatVersion(info.version as number), size: info.connTabSize }, { version: m[1], size: Number(m[2]) });
  const [cfg] = dataMessages(golden.replies.config);
  const t = /(\d+) (\d+) (\d+)/.exec(golden.ipvsadmTimeout)!;
  assert.deepEqual(decodeTimeouts(cfg), { tcp: Number(t[1]), tcpfin: Number(t[2]), udp: Number(t[3]) });
  const daemons = dataMessages(golden.replies.daemons).map((v) => decodeDaemon(v.daemon as AttrValues));
  const dm = /(master|backup) sync daemon \(mcast=(\S+), syncid=(\d+)/.exec(golden.ipvsadmDaemon)!;
  assert.deepEqual(daemons, [{ state: dm[1], mcastIfn: dm[2], syncId: Number(dm[3]) }]);
});

test('replayed through the driver, getTable() gives the same table (dumps reassembled, seqs matched)', async () => {
  const r = golden.replies;
  const groups = [r.services, ...Object.keys(r).filter((k) => k.startsWith('dests')).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5))).map((k) => r[k])];
  const d = new NetlinkDriver(new NlConnection(replayTransport(groups)), golden.family);
  const t = await d.getTable({ stats: true });
  assert.equal(printRules({ services: withoutThresholds(t.services) }), printRules(parseRules(golden.ipvsadmSave)));
  assert.ok(groups.some((g) => g.length > 1) || groups.every((g) => parseMessages(Buffer.from(g[g.length - 1], 'hex')).some((m) => m.type === NLMSG_DONE)));
});
