#!/usr/bin/env node
'use strict';
/**
 * The floor of any node program in the kernel lab: what a minimal script pays to dump (or fill)
 * an IPVS table over generic netlink, decoding nothing, with hand-written framing and nothing of
 * lbctl, side by side with ipvsadm. It answers "can a node CLI reach this ratio here at all?" for
 * bench/ipvs-bulk's whole-process goals (issue 11): node's own start-up and one netlink exchange
 * per service are paid by every node program, whatever it does.
 *
 *   bash test/lab/run.sh -- node bench/node-floor.cjs [ROUNDS]      (runs as root in the lab)
 *
 * Child modes (used by the runner): `dump` (services, then each service's real servers) and
 * `add N` (N/10 services of 9 real servers, windows of 200 messages, one ACK per window).
 */
if (process.argv[2] === 'dump' || process.argv[2] === 'add') child();
else runner();

function runner() {
  const { spawnSync } = require('node:child_process');
  const rounds = Number(process.argv[2] ?? 3);
  const run = (cmd, args, input) => {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { input, stdio: [input === undefined ? 'ignore' : 'pipe', 'ignore', 'inherit'] });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const rules = (n) => {
    const L = [];
    for (let s = 0; s < n / 10; s++) {
      const v = `10.${200 + (s >> 16)}.${(s >> 8) & 255}.${s & 255}:80`;
      L.push(`-A -t ${v} -s wrr`);
      for (let d = 0; d < 9; d++) L.push(`-a -t ${v} -r 10.99.${s & 255}.${d + 1}:8080 -m -w ${1 + (d % 4)}`);
    }
    return L.join('\n') + '\n';
  };
  // As bench/ipvs-bulk: the ipvsadm-restore script where it is installed (ipvsadm -R behind a grep).
  const restore = require('node:fs').existsSync('/usr/sbin/ipvsadm-restore') ? ['ipvsadm-restore', []] : ['ipvsadm', ['-R']];
  const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const rows = { node: [], dump: [], sn: [], add2000: [], restore2000: [], add10000: [], restore10000: [] };
  for (let i = 0; i < rounds; i++) {
    run('ipvsadm', ['-C']);
    rows.node.push(run(process.execPath, ['-e', '0']));
    rows.add10000.push(run(process.execPath, [__filename, 'add', '10000']));
    rows.dump.push(run(process.execPath, [__filename, 'dump']));
    rows.sn.push(run('ipvsadm', ['-Sn']));
    run('ipvsadm', ['-C']);
    rows.restore10000.push(run(restore[0], restore[1], rules(10000)));
    run('ipvsadm', ['-C']);
    rows.add2000.push(run(process.execPath, [__filename, 'add', '2000']));
    run('ipvsadm', ['-C']);
    rows.restore2000.push(run(restore[0], restore[1], rules(2000)));
  }
  run('ipvsadm', ['-C']);
  const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, med(v)]));
  const f = (x) => `${x.toFixed(0)} ms`;
  console.log(`node-floor, medians of ${rounds} interleaved rounds (10 lines = 1 service + 9 real servers):`);
  console.log(`  node -e 0                          ${f(m.node)}  = ${(m.node / m.sn).toFixed(2)}x one ipvsadm -Sn of 10,000`);
  console.log(`  minimal node dump of 10,000        ${f(m.dump)}  vs ipvsadm -Sn ${f(m.sn)}: ${(m.dump / m.sn).toFixed(2)}x (issue 11's no-op goal: <= 1.2x)`);
  console.log(`  minimal node add of 2,000          ${f(m.add2000)}  vs ${restore[0]} ${f(m.restore2000)}: ${(m.add2000 / m.restore2000).toFixed(2)}x (goal <= 1.0x)`);
  console.log(`  minimal node add of 10,000         ${f(m.add10000)}  vs ${restore[0]} ${f(m.restore10000)}: ${(m.add10000 / m.restore10000).toFixed(2)}x (goal <= 0.6x)`);
}

function child() {
  const t0 = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - t0) / 1e6;
  const mode = process.argv[2];
  const { RawNetlinkSocket } = require(require('node:path').join(__dirname, '..', 'node_modules', 'netlink', 'dist', 'raw.js'));
  const sock = new RawNetlinkSocket(16);
  try { sock.setRecvBufferSize(4 << 20); } catch {}
  const tLoad = ms();
  let seq = 1;
  let onMsg = null;
  sock.on('message', (d) => onMsg(d));
  function hdr(len, type, flags, s) { const b = Buffer.allocUnsafe(16); b.writeUInt32LE(len, 0); b.writeUInt16LE(type, 4); b.writeUInt16LE(flags, 6); b.writeUInt32LE(s, 8); b.writeUInt32LE(0, 12); return b; }
  function attr(type, payload) { const len = 4 + payload.length; const pad = (4 - (len & 3)) & 3; const b = Buffer.alloc(len + pad); b.writeUInt16LE(len, 0); b.writeUInt16LE(type, 2); payload.copy(b, 4); return b; }
  const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const be16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16BE(v); return b; };
  function genl(family, cmd, flags, attrs) { const body = Buffer.concat([Buffer.from([cmd, 1, 0, 0]), ...attrs]); return Buffer.concat([hdr(16 + body.length, family, flags, seq++), body]); }
  // collect replies until DONE or ACK for seq s (dump: NLMSG_DONE=3; error=2)
  function exchange(buf, isDump) {
    return new Promise((res, rej) => {
      const out = [];
      onMsg = (d) => {
        let o = 0;
        while (o + 16 <= d.length) {
          const len = d.readUInt32LE(o), type = d.readUInt16LE(o + 4);
          if (type === 3) { res(out); return; }
          if (type === 2) { const err = d.readInt32LE(o + 16); if (err) { rej(new Error('errno ' + -err)); return; } if (!isDump) { res(out); return; } }
          else out.push(d.subarray(o, o + len));
          o += (len + 3) & ~3;
        }
      };
      sock.send(buf, { port: 0 }, (e) => e && rej(e));
    });
  }
  (async () => {
    const fam = await exchange(genl(16, 3, 1 | 4, [attr(2, Buffer.from('IPVS\0'))]), false);
    // parse family id: attr type 1 after genl header
    const m = fam[0]; let o = 20, fid = 0;
    while (o < m.length) { const l = m.readUInt16LE(o), t = m.readUInt16LE(o + 2); if (t === 1) fid = m.readUInt16LE(o + 4); o += (l + 3) & ~3; }
    const tFam = ms();
    if (mode === 'dump') {
      const svcs = await exchange(genl(fid, 4, 1 | 0x300, []), true);
      let n = 0, bytes = 0;
      for (const s of svcs) {
        // service nest at 20: copy identity attrs (1..5)
        const nestLen = s.readUInt16LE(20); let p = 24; const ids = [];
        while (p < 20 + nestLen) { const l = s.readUInt16LE(p), t = s.readUInt16LE(p + 2); if (t >= 1 && t <= 5) ids.push(s.subarray(p, p + ((l + 3) & ~3))); p += (l + 3) & ~3; }
        const dests = await exchange(genl(fid, 8, 1 | 0x300, [attr(1, Buffer.concat(ids))]), true);
        n += dests.length; for (const d of dests) bytes += d.length;
      }
      console.log(`dump: services ${svcs.length} dests ${n} bytes ${bytes} load ${tLoad.toFixed(0)} fam ${tFam.toFixed(0)} end ${ms().toFixed(0)} ms`);
    } else {
      const N = +process.argv[3]; const msgs = [];
      for (let s = 0; s < N / 10; s++) {
        const a = Buffer.alloc(16); a[0] = 10; a[1] = 200 + (s >> 16); a[2] = (s >> 8) & 255; a[3] = s & 255;
        const id = [attr(1, u16(2)), attr(2, u16(6)), attr(3, a), attr(4, be16(80))];
        const fl = Buffer.alloc(8); fl.writeUInt32LE(0xffffffff, 4);
        msgs.push(genl(fid, 1, 1, [attr(1, Buffer.concat([...id, attr(6, Buffer.from('wrr\0')), attr(7, fl), attr(8, u32(0)), attr(9, u32(0xffffffff))]))]));
        for (let d = 0; d < 9; d++) {
          const r = Buffer.alloc(16); r[0] = 10; r[1] = 99; r[2] = s & 255; r[3] = d + 1;
          msgs.push(genl(fid, 5, 1, [attr(1, Buffer.concat(id)), attr(2, Buffer.concat([attr(1, r), attr(2, be16(8080)), attr(3, u32(0)), attr(4, u32(1 + (d % 4))), attr(5, u32(0)), attr(6, u32(0)), attr(11, u16(2))]))]));
        }
      }
      const tEnc = ms();
      // windows of 200, ack on last
      for (let i = 0; i < msgs.length; i += 200) {
        const w = msgs.slice(i, i + 200); const last = w[w.length - 1]; last.writeUInt16LE(1 | 4, 6);
        await exchange(Buffer.concat(w), false);
      }
      console.log(`add ${msgs.length}: load ${tLoad.toFixed(0)} fam ${tFam.toFixed(0)} encoded ${tEnc.toFixed(0)} end ${ms().toFixed(0)} ms`);
    }
    sock.close();
  })().catch((e) => { console.error(e); process.exit(1); });
}
