// The netlink driver's in-process work of a restore and of a no-op re-apply, in two or more built
// checkouts (npm run build:test), interleaved, each round in a fresh process, medians side by side
// with the ratio to the first:
//   encode: NetlinkDriver.apply() of S services x 10 real servers (encode, frame, windows, ACKs);
//   decode: NetlinkDriver.getTable() of the same table (dump requests, reassembly, decoding);
//   open: the first real netlink socket (loading the native addon); load: importing the driver.
// The kernel is a fake transport answering from bytes prepared before the clock starts (ACKs
// written in place; dump replies framed as the kernel frames them), the same code for every
// checkout. --no-opt --no-sparkplug keeps V8 in its interpreter, nearer to qemu TCG.
//   node bench/lib/nl8-ab.mjs [--rounds N] [--services S] [--node-flags F] BEFORE AFTER...
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const args = process.argv.slice(2);
let rounds = 5;
let services = 1000;
let flags = ['--no-opt', '--no-sparkplug'];
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--rounds') rounds = Number(args[++i]);
  else if (args[i] === '--services') services = Number(args[++i]);
  else if (args[i] === '--node-flags') flags = args[++i].split(/\s+/).filter(Boolean);
  else dirs.push(args[i]);
}
if (dirs.length < 2) { console.error('usage: node bench/lib/nl8-ab.mjs [--rounds N] [--services S] [--node-flags F] BEFORE AFTER...'); process.exit(2); }

const tmp = mkdtempSync(join(tmpdir(), 'nl8-ab-'));
const child = join(tmp, 'child.mjs');
writeFileSync(child, `
const [dir, nsvc] = [process.argv[2], Number(process.argv[3])];
const FAM = 0x22;
const t0 = performance.now();
const { NetlinkDriver } = await import(dir + '/build/src/ipvs/netlink/driver.js');
const { NlConnection } = await import(dir + '/build/src/ipvs/netlink/conn.js');
const tLoad = performance.now() - t0;
// The real socket's first open: loading the native addon (nothing is sent).
const t4 = performance.now();
(await import(dir + '/build/src/ipvs/netlink/socket.js')).openSocketTransport().close();
const tOpen = performance.now() - t4;
const svcs = [];
for (let s = 0; s < nsvc; s++) {
  const svc = { protocol: 'tcp', family: 'inet', address: '10.200.' + ((s >> 8) & 255) + '.' + (s & 255), port: 80, scheduler: 'wrr', persistence: 0, netmask: '255.255.255.255', schedFlags: [], onePacket: false, destinations: [] };
  for (let d = 0; d < 10; d++) svc.destinations.push({ address: '10.99.' + (s & 255) + '.' + (d + 1), port: 8080, family: 'inet', forward: 'masq', weight: 1 + (d % 4), upperThreshold: 0, lowerThreshold: 0 });
  svcs.push(svc);
}
const ops = [];
for (const s of svcs) { ops.push({ kind: 'addService', service: s }); for (const d of s.destinations) ops.push({ kind: 'addDest', service: s, dest: d }); }

// Dump replies, framed by hand (as ip_vs_genl_dump_* does: one datagram of entries, then DONE).
function attr(id, payload) { const b = Buffer.alloc((4 + payload.length + 3) & ~3); b.writeUInt16LE(4 + payload.length, 0); b.writeUInt16LE(id, 2); payload.copy(b, 4); return b; }
const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
const be16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
const addr = (a) => { const b = Buffer.alloc(16); a.split('.').forEach((o, i) => { b[i] = Number(o); }); return b; };
const nest = (id, parts) => attr(id | 0x8000, Buffer.concat(parts));
const stats = nest(10, [1, 2, 3].map((i) => attr(i, u32(i)))); const stats64 = nest(12, [1, 2, 3, 4, 5].map((i) => attr(i, Buffer.alloc(8, i))));
function msg(cmd, attrs) { const h = Buffer.alloc(20); h.writeUInt32LE(20 + attrs.length, 0); h.writeUInt16LE(FAM, 4); h.writeUInt16LE(2, 6); h[16] = cmd; h[17] = 1; return Buffer.concat([h, attrs]); }
const done = () => { const b = Buffer.alloc(20); b.writeUInt32LE(20, 0); b.writeUInt16LE(3, 4); b.writeUInt16LE(2, 6); return b; };
const svcReply = [Buffer.concat(svcs.map((s) => msg(4, nest(1, [attr(1, u16(2)), attr(2, u16(6)), attr(3, addr(s.address)), attr(4, be16(80)), attr(6, Buffer.from('wrr\\0')), attr(7, Buffer.alloc(8)), attr(8, u32(0)), attr(9, Buffer.from([255, 255, 255, 255])), stats, stats64])))), done()];
const destReply = new Map(svcs.map((s) => [s.address, [Buffer.concat(s.destinations.map((d) => msg(8, nest(2, [attr(1, addr(d.address)), attr(2, be16(d.port)), attr(3, u32(0)), attr(4, u32(d.weight)), attr(5, u32(0)), attr(6, u32(0)), attr(7, u32(0)), attr(8, u32(0)), attr(9, u32(0)), stats, attr(11, u16(2)), stats64, attr(13, Buffer.from([0])), attr(14, be16(0)), attr(15, u16(0))])))), done()]]));
const ack = Buffer.alloc(36 * 1024);
let recv = () => {};
const transport = {
  port: 4242, recvBufferSize: 4 * 1024 * 1024,
  async send(d) {
    const cmd = d[16];
    const seq = d.readUInt32LE(8);
    if ((d.readUInt16LE(6) & 0x300) === 0x300) {
      const group = cmd === 4 ? svcReply : destReply.get(d[44] + '.' + d[45] + '.' + d[46] + '.' + d[47]);
      setImmediate(() => { for (const b of group) { for (let o = 0; o < b.length; o += b.readUInt32LE(o)) b.writeUInt32LE(seq, o + 8); recv(b); } });
      return;
    }
    let n = 0;
    for (let o = 0; o < d.length; o += d.readUInt32LE(o), n++) { const a = n * 36; ack.writeUInt32LE(36, a); ack.writeUInt16LE(2, a + 4); ack.writeUInt32LE(d.readUInt32LE(o + 8), a + 8); ack.writeInt32LE(0, a + 16); ack.writeUInt32LE(16, a + 20); }
    const out = Buffer.from(ack.subarray(0, n * 36));
    setImmediate(() => recv(out));
  },
  onReceive(fn) { recv = fn; }, onError() {}, setActive() {}, close() {},
};
const drv = new NetlinkDriver(new NlConnection(transport), FAM, { acks: 'each' });
const t1 = performance.now(); await drv.apply(ops); const t2 = performance.now();
const t = await drv.getTable(); const t3 = performance.now();
const n = t.services.reduce((a, s) => a + s.destinations.length, 0);
if (n !== nsvc * 10 || t.services[nsvc - 1].destinations[9].address !== svcs[nsvc - 1].destinations[9].address) throw new Error('bad table ' + n);
console.log(JSON.stringify({ load: tLoad, open: tOpen, encode: t2 - t1, decode: t3 - t2 }));
`);

const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const res = dirs.map(() => ({ load: [], open: [], encode: [], decode: [] }));
for (let r = 0; r < rounds; r++) {
  dirs.forEach((dir, i) => {
    const o = JSON.parse(execFileSync(process.execPath, [...flags, child, dir, String(services)], { encoding: 'utf8' }));
    for (const k of Object.keys(res[i])) res[i][k].push(o[k]);
  });
}
console.log(`nl8-ab: ${services} services x 10 real servers, ${rounds} rounds, node ${flags.join(' ')}; medians in ms (ratio to ${dirs[0]})`);
for (const k of ['load', 'open', 'encode', 'decode']) {
  const base = med(res[0][k]);
  console.log(`${k.padEnd(7)} ` + dirs.map((d, i) => `${d}: ${med(res[i][k]).toFixed(1)}${i ? ` (${(med(res[i][k]) / base).toFixed(2)}x)` : ''}`).join('   '));
}
