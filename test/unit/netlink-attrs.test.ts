/**
 * The attribute table against include/uapi/linux/ip_vs.h (enum order = id), and the codec's
 * wire format for every type.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTR_SETS, decodeAttrs, encodeAttrs, IpvsCmd } from '../../src/ipvs/netlink/attrs.js';
import { addrBytes, formatAddr, netmaskBytes, serviceFlags } from '../../src/ipvs/netlink/ipvs.js';
import { encodeGenl, parseGenl, parseMessages, encodeAck, parseErrno } from '../../src/ipvs/netlink/message.js';
import { parseRules } from '../../src/ipvs/rules.js';

// The enums of ip_vs.h, in order (UNSPEC = 0 omitted), copied from the header.
const HEADER: Record<string, string[]> = {
  cmd: ['IPVS_CMD_ATTR_SERVICE', 'IPVS_CMD_ATTR_DEST', 'IPVS_CMD_ATTR_DAEMON', 'IPVS_CMD_ATTR_TIMEOUT_TCP', 'IPVS_CMD_ATTR_TIMEOUT_TCP_FIN', 'IPVS_CMD_ATTR_TIMEOUT_UDP'],
  svc: ['IPVS_SVC_ATTR_AF', 'IPVS_SVC_ATTR_PROTOCOL', 'IPVS_SVC_ATTR_ADDR', 'IPVS_SVC_ATTR_PORT', 'IPVS_SVC_ATTR_FWMARK', 'IPVS_SVC_ATTR_SCHED_NAME', 'IPVS_SVC_ATTR_FLAGS', 'IPVS_SVC_ATTR_TIMEOUT', 'IPVS_SVC_ATTR_NETMASK', 'IPVS_SVC_ATTR_STATS', 'IPVS_SVC_ATTR_PE_NAME', 'IPVS_SVC_ATTR_STATS64'],
  dest: ['IPVS_DEST_ATTR_ADDR', 'IPVS_DEST_ATTR_PORT', 'IPVS_DEST_ATTR_FWD_METHOD', 'IPVS_DEST_ATTR_WEIGHT', 'IPVS_DEST_ATTR_U_THRESH', 'IPVS_DEST_ATTR_L_THRESH', 'IPVS_DEST_ATTR_ACTIVE_CONNS', 'IPVS_DEST_ATTR_INACT_CONNS', 'IPVS_DEST_ATTR_PERSIST_CONNS', 'IPVS_DEST_ATTR_STATS', 'IPVS_DEST_ATTR_ADDR_FAMILY', 'IPVS_DEST_ATTR_STATS64', 'IPVS_DEST_ATTR_TUN_TYPE', 'IPVS_DEST_ATTR_TUN_PORT', 'IPVS_DEST_ATTR_TUN_FLAGS'],
  daemon: ['IPVS_DAEMON_ATTR_STATE', 'IPVS_DAEMON_ATTR_MCAST_IFN', 'IPVS_DAEMON_ATTR_SYNC_ID', 'IPVS_DAEMON_ATTR_SYNC_MAXLEN', 'IPVS_DAEMON_ATTR_MCAST_GROUP', 'IPVS_DAEMON_ATTR_MCAST_GROUP6', 'IPVS_DAEMON_ATTR_MCAST_PORT', 'IPVS_DAEMON_ATTR_MCAST_TTL'],
  stats: ['IPVS_STATS_ATTR_CONNS', 'IPVS_STATS_ATTR_INPKTS', 'IPVS_STATS_ATTR_OUTPKTS', 'IPVS_STATS_ATTR_INBYTES', 'IPVS_STATS_ATTR_OUTBYTES', 'IPVS_STATS_ATTR_CPS', 'IPVS_STATS_ATTR_INPPS', 'IPVS_STATS_ATTR_OUTPPS', 'IPVS_STATS_ATTR_INBPS', 'IPVS_STATS_ATTR_OUTBPS', 'IPVS_STATS_ATTR_PAD'],
  info: ['IPVS_INFO_ATTR_VERSION', 'IPVS_INFO_ATTR_CONN_TAB_SIZE'],
};
const CMDS = ['NEW_SERVICE', 'SET_SERVICE', 'DEL_SERVICE', 'GET_SERVICE', 'NEW_DEST', 'SET_DEST', 'DEL_DEST', 'GET_DEST', 'NEW_DAEMON', 'DEL_DAEMON', 'GET_DAEMON', 'SET_CONFIG', 'GET_CONFIG', 'SET_INFO', 'GET_INFO', 'ZERO', 'FLUSH'];

test('attribute ids and names follow the enums of ip_vs.h', () => {
  for (const [set, names] of Object.entries(HEADER)) {
    const specs = ATTR_SETS[set as keyof typeof ATTR_SETS];
    assert.deepEqual(specs.map((s) => s.name), names, set);
    assert.deepEqual(specs.map((s) => s.id), names.map((_, i) => i + 1), `${set} ids`);
  }
  assert.deepEqual(ATTR_SETS.stats64.map((s) => s.name), HEADER.stats);
  assert.ok(ATTR_SETS.stats64.filter((s) => s.type !== 'pad').every((s) => s.type === 'u64'), 'STATS64 is all u64');
  assert.deepEqual(ATTR_SETS.stats.filter((s) => s.type === 'u64').map((s) => s.key), ['inbytes', 'outbytes']);
  assert.deepEqual(CMDS.map((c) => IpvsCmd[c as keyof typeof IpvsCmd]), CMDS.map((_, i) => i + 1));
});

test('ports are big-endian; af, protocol and weights host order; flags are {flags, mask}', () => {
  const b = encodeAttrs('svc', { af: 2, protocol: 6, port: 80, flags: { flags: 1, mask: 0xffffffff } });
  assert.equal(b.toString('hex'), [
    '0600' + '0100' + '0200' + '0000', // AF u16 = 2, padded
    '0600' + '0200' + '0600' + '0000', // PROTOCOL u16 = 6
    '0600' + '0400' + '0050' + '0000', // PORT be16 = 80
    '0c00' + '0700' + '01000000' + 'ffffffff', // FLAGS
  ].join(''));
  assert.deepEqual(decodeAttrs('svc', b), { af: 2, protocol: 6, port: 80, flags: { flags: 1, mask: 0xffffffff } });
  const d = encodeAttrs('dest', { tunPort: 6080, tunType: 1, tunFlags: 2 });
  assert.equal(d.readUInt16BE(4), 6080);
  assert.deepEqual(decodeAttrs('dest', d), { tunPort: 6080, tunType: 1, tunFlags: 2 });
});

test('nests carry NLA_F_NESTED, are decoded recursively, and unknown attributes are skipped', () => {
  const b = encodeAttrs('cmd', { service: { af: 10, fwmark: 5 } });
  assert.equal(b.readUInt16LE(2), 0x8001);
  const withUnknown = Buffer.concat([b, Buffer.from('0800630001020304', 'hex')]);
  assert.deepEqual(decodeAttrs('cmd', withUnknown), { service: { af: 10, fwmark: 5 } });
  assert.throws(() => encodeAttrs('svc', { nosuch: 1 }), /no attribute "nosuch"/);
  assert.throws(() => decodeAttrs('svc', Buffer.from('ff00010002000000', 'hex')), /malformed/);
});

test('64-bit counters decode to numbers beyond 2^32; strings are NUL-terminated', () => {
  const big = 2 ** 40 + 12345;
  const b = encodeAttrs('stats64', { conns: big, inbytes: 7 });
  assert.deepEqual(decodeAttrs('stats64', b), { conns: big, inbytes: 7 });
  // The kernel pads u64 with IPVS_STATS_ATTR_PAD; it is skipped.
  const padded = Buffer.concat([Buffer.from('04000b00', 'hex'), b]);
  assert.deepEqual(decodeAttrs('stats64', padded), { conns: big, inbytes: 7 });
  const s = encodeAttrs('svc', { schedName: 'wlc' });
  assert.equal(s.toString('hex'), '08000600776c6300');
  assert.equal(decodeAttrs('svc', s).schedName, 'wlc');
});

test('addresses: union nf_inet_addr, IPv4 in the first 4 of 16 bytes; IPv6 canonical', () => {
  assert.equal(addrBytes('10.0.0.1').toString('hex'), '0a000001' + '00'.repeat(12));
  assert.equal(addrBytes('2001:db8::1').toString('hex'), '20010db8' + '00'.repeat(10) + '0001');
  assert.equal(addrBytes('::ffff:10.0.0.1').toString('hex'), '00'.repeat(10) + 'ffff0a000001');
  assert.equal(addrBytes('fe80::1:2:3:4').toString('hex'), 'fe80' + '00'.repeat(6) + '0001000200030004');
  for (const a of ['2001:db8::1', '::1', 'fe80::1:2:3:4', '2001:db8:1:2:3:4:5:6', '::']) assert.equal(formatAddr(addrBytes(a), 'inet6'), a);
  assert.equal(formatAddr(addrBytes('192.168.1.254'), 'inet'), '192.168.1.254');
});

test('netmask: IPv4 mask bytes in network order, IPv6 prefix as host u32; service flags', () => {
  assert.equal(netmaskBytes('inet', '255.255.255.0').toString('hex'), 'ffffff00');
  assert.equal(netmaskBytes('inet6', '64').toString('hex'), '40000000');
  const s = parseRules('-A -u 10.0.0.1:53 -s sh -b sh-fallback,sh-port -p 60 -o').services[0];
  assert.deepEqual(serviceFlags(s), { flags: 0x1 | 0x4 | 0x8 | 0x10, mask: 0xffffffff });
});

test('message framing: nlmsghdr + genlmsghdr, several messages per datagram, ACK/errno', () => {
  const m1 = encodeGenl({ family: 0x20, cmd: 1, version: 1, flags: 5, seq: 7, pid: 9, attrs: Buffer.from('0500010001000000', 'hex') });
  assert.equal(m1.readUInt32LE(0), 16 + 4 + 8);
  const m2 = encodeAck({ type: 0x20, flags: 5, seq: 8, pid: 9 }, 17);
  const [a, b] = parseMessages(Buffer.concat([m1, m2]));
  assert.deepEqual([a.type, a.flags, a.seq, a.pid], [0x20, 5, 7, 9]);
  assert.deepEqual(parseGenl(a.payload).cmd, 1);
  assert.equal(b.seq, 8);
  assert.equal(parseErrno(b.payload), 17);
  assert.throws(() => parseMessages(Buffer.from('ff000000' + '00'.repeat(12), 'hex')), /malformed/);
});
