import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { ANSWER_LIMITS, RuntimeSession, runtimeCommand, type RuntimeAddress } from '../../src/haproxy/runtime.js';
import { haproxyInfo, haproxyStat } from '../../src/haproxy/runtime-ops.js';
import { LbctlError } from '../../src/cli/errors.js';

/**
 * The runtime client against peers that misbehave: a small unix-socket server per case that
 * floods, trickles forever, sends NULs, hangs up, or answers like something else. Every read
 * must end within its deadline and byte cap with a one-line LbctlError (exit 6), never exit 1.
 */

let dir: string;
before(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbr6-sock-')); });
after(async () => { await fs.rm(dir, { recursive: true, force: true }); });

type Behaviour = (sock: net.Socket, command: string) => void;

/** A fake peer: reads the first line of each connection and reacts to it. */
async function fakePeer(name: string, behave: Behaviour): Promise<{ address: RuntimeAddress; close(): Promise<void>; connections: () => number }> {
  const file = path.join(dir, `${name}.sock`);
  const open = new Set<net.Socket>();
  let connections = 0;
  // allowHalfOpen: the client half-closes after its command, and a misbehaving peer keeps writing.
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    connections++;
    open.add(sock);
    sock.on('close', () => open.delete(sock));
    sock.on('error', () => {});
    let buf = '';
    let seen = 0;
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (let at = buf.indexOf('\n'); at >= 0; at = buf.indexOf('\n')) {
        const line = buf.slice(0, at);
        buf = buf.slice(at + 1);
        seen++;
        behave(sock, seen === 1 ? line : `#${seen} ${line}`);
      }
    });
  });
  await new Promise<void>((r) => server.listen(file, r));
  return {
    address: { kind: 'unix', path: file },
    connections: () => connections,
    close: () => new Promise<void>((r) => { for (const s of open) s.destroy(); server.close(() => r()); }),
  };
}

/** Write `chunk` as fast as the socket takes it, until it closes. */
function flood(sock: net.Socket, chunk: Buffer): void {
  const pump = () => { while (!sock.destroyed && sock.write(chunk)); };
  sock.on('drain', pump);
  pump();
}

async function rejection(p: Promise<unknown>): Promise<LbctlError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof LbctlError, `an LbctlError, got ${(e as Error)?.stack ?? e}`);
    assert.doesNotMatch(e.oneLine(), /\n/);
    // eslint-disable-next-line no-control-regex
    assert.doesNotMatch(e.oneLine(), /[\x00-\x08\x0b-\x1f]/, 'no control characters in the error line');
    return e;
  }
  assert.fail('expected a rejection');
}

const MB = 1024 * 1024;

describe('runtime socket: bounded in bytes and time', () => {
  it('a peer flooding "show info" is cut at the 1 MiB cap, fast, with exit 6', async () => {
    const peer = await fakePeer('flood-info', (s) => flood(s, Buffer.alloc(64 * 1024, 'A')));
    try {
      const t0 = Date.now();
      const rss0 = process.memoryUsage().rss;
      const e = await rejection(haproxyInfo({ socket: peer.address.kind === 'unix' ? peer.address.path : '', timeoutMs: 1000 }));
      assert.equal(e.exitCode, 6);
      assert.equal(e.code, 'EANSWERSIZE');
      assert.match(e.message, /sent more than 1 MiB in answer to "show info": not a HAProxy runtime answer/);
      assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
      assert.ok(process.memoryUsage().rss - rss0 < 100 * MB, 'memory stays bounded');
    } finally { await peer.close(); }
  });

  it('a peer flooding "show stat" is cut at the 64 MiB cap within the deadline', async () => {
    const peer = await fakePeer('flood-stat', (s) => { s.write('# pxname,svname,\n'); flood(s, Buffer.alloc(256 * 1024, 'x,y\n')); });
    try {
      const t0 = Date.now();
      const e = await rejection(haproxyStat({ socket: (peer.address as { path: string }).path, timeoutMs: 20_000 }));
      assert.equal(e.exitCode, 6);
      assert.match(e.message, /more than 64 MiB in answer to "show stat"/);
      assert.ok(Date.now() - t0 < 20_000);
    } finally { await peer.close(); }
  });

  it('one-line commands get the small cap', async () => {
    const peer = await fakePeer('flood-line', (s) => flood(s, Buffer.alloc(16 * 1024, 'B')));
    try {
      const e = await rejection(runtimeCommand(peer.address, 'show cli level', 5000));
      assert.equal(e.code, 'EANSWERSIZE');
      assert.match(e.message, /more than 64 KiB/);
      assert.equal(ANSWER_LIMITS.line, 64 * 1024);
    } finally { await peer.close(); }
  });

  it('a peer trickling forever meets a total deadline, not a per-chunk one', async () => {
    const peer = await fakePeer('trickle', (s) => { const t = setInterval(() => { if (s.destroyed) clearInterval(t); else s.write('N'); }, 20); s.on('close', () => clearInterval(t)); });
    try {
      const t0 = Date.now();
      const e = await rejection(runtimeCommand(peer.address, 'show info', 500));
      const took = Date.now() - t0;
      assert.equal(e.exitCode, 6);
      assert.match(e.message, /did not answer like haproxy within 0\.5s \(it sent "NNN/);
      assert.ok(took >= 450 && took < 1500, `took ${took} ms`);
    } finally { await peer.close(); }
  });

  it('NULs and binary garbage: exit 6 and a printable excerpt', async () => {
    const peer = await fakePeer('garbage', (s) => s.end(Buffer.from([0, 0, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 10, 0x41])));
    try {
      const e = await rejection(haproxyInfo({ socket: (peer.address as { path: string }).path, timeoutMs: 1000 }));
      assert.equal(e.exitCode, 6);
      assert.match(e.message, /answered "\?\?.*" to "show info": not the HAProxy runtime API/);
    } finally { await peer.close(); }
  });

  it('a peer that hangs up at once: "answered nothing", exit 6', async () => {
    const peer = await fakePeer('hangup', (s) => s.destroy());
    try {
      const e = await rejection(haproxyInfo({ socket: (peer.address as { path: string }).path, timeoutMs: 1000 }));
      assert.equal(e.exitCode, 6);
      assert.match(e.message, /answered nothing to "show info"/);
    } finally { await peer.close(); }
  });

  it('answers shaped like show info but not haproxy, or with a bad version: exit 6', async () => {
    for (const [name, answer] of [['nginx', 'Name: nginx\nVersion: 1.25.0\n'], ['badver', 'Name: HAProxy\nVersion: garbage\n'], ['nover', 'Name: HAProxy\n']]) {
      const peer = await fakePeer(name, (s) => s.end(answer));
      try {
        const e = await rejection(haproxyInfo({ socket: (peer.address as { path: string }).path, timeoutMs: 1000 }));
        assert.equal(e.exitCode, 6, name);
        assert.match(e.message, /not the HAProxy runtime API/, name);
      } finally { await peer.close(); }
    }
  });

  it('prompt mode: a flood instead of an answer, and unasked-for data between answers, are cut', async () => {
    // Answers "prompt" properly, then floods whatever comes next without ever printing the prompt.
    const peer = await fakePeer('session-flood', (s, cmd) => { if (cmd === 'prompt') s.write('\n> '); else flood(s, Buffer.alloc(64 * 1024, 'C')); });
    try {
      const session = await RuntimeSession.open(peer.address, 5000);
      const e = await rejection(session.send('show info'));
      assert.equal(e.code, 'EANSWERSIZE');
      assert.equal(session.closed, true, 'the session is closed after a flood');
    } finally { await peer.close(); }
    const idle = await fakePeer('session-idle-flood', (s, cmd) => { if (cmd === 'prompt') { s.write('\n> '); setTimeout(() => flood(s, Buffer.alloc(8192, 'D')), 20); } });
    try {
      const session = await RuntimeSession.open(idle.address, 5000);
      for (let i = 0; i < 100 && !session.closed; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(session.closed, true, 'unasked-for data beyond the cap closes the session');
      await rejection(session.send('show info'));
    } finally { await idle.close(); }
  });

  it('prompt mode: a trickle without the prompt meets the per-answer deadline', async () => {
    const peer = await fakePeer('session-trickle', (s, cmd) => {
      if (cmd === 'prompt') { s.write('\n> '); return; }
      const t = setInterval(() => { if (s.destroyed) clearInterval(t); else s.write('z'); }, 20);
      s.on('close', () => clearInterval(t));
    });
    try {
      const session = await RuntimeSession.open(peer.address, 400);
      const t0 = Date.now();
      const e = await rejection(session.send('show stat'));
      assert.equal(e.exitCode, 6);
      assert.ok(Date.now() - t0 < 1500);
    } finally { await peer.close(); }
  });
});
