/**
 * The real Transport: a NETLINK_GENERIC socket from the `netlink` package's RawNetlinkSocket
 * (a prebuilt N-API module). Loaded lazily, so a machine where the native module cannot load
 * gets an UnavailableError (and the ipvsadm driver) instead of a crash at startup.
 */
import { createRequire } from 'node:module';
import { UnavailableError } from '../../cli/errors.js';
import type { Transport } from './conn.js';

const NETLINK_GENERIC = 16;
/** Asked for; the kernel caps it at net.core.rmem_max and doubles it. */
const WANT_RCVBUF = 4 * 1024 * 1024;

interface RawSocket {
  address(): { port: number };
  send(msg: Buffer, opts: { port?: number }, cb: (err?: Error) => void): void;
  on(ev: 'message', fn: (msg: Buffer, rinfo: { truncated?: number }) => void): void;
  on(ev: 'truncatedMessage', fn: (msg: Buffer) => void): void;
  on(ev: 'error', fn: (err: Error & { errno?: number; code?: string }) => void): void;
  setRecvBufferSize(n: number): void;
  getRecvBufferSize(): number;
  ref(): void;
  unref(): void;
  close(): void;
}

let ctor: (new (protocol: number, opts?: object) => RawSocket) | undefined;

function loadNative(): new (protocol: number, opts?: object) => RawSocket {
  if (ctor) return ctor;
  try {
    const require = createRequire(import.meta.url);
    // LBCTL_NETLINK_MODULE: tests point it at a module that cannot load, to see the fallback.
    // Only the raw socket: the package's index also loads its rtnetlink, nl80211 and wireguard layers.
    ctor = require(process.env.LBCTL_NETLINK_MODULE ?? 'netlink/dist/raw.js').RawNetlinkSocket;
    if (typeof ctor !== 'function') { ctor = undefined; throw new Error('RawNetlinkSocket missing from the netlink module'); }
    return ctor!;
  } catch (e) {
    const why = (e as Error).message.split('\n')[0];
    throw new UnavailableError(`the native netlink module cannot load (${why})`, { code: 'ENONETLINK', hint: 'use --driver ipvsadm, or reinstall lbctl for this architecture' });
  }
}

export function openSocketTransport(): Transport {
  const Raw = loadNative();
  let sock: RawSocket;
  try {
    sock = new Raw(NETLINK_GENERIC);
  } catch (e) {
    const err = e as Error & { code?: string };
    throw new UnavailableError(`cannot open a generic netlink socket (${err.code ?? err.message})`, { code: 'ENONETLINK', hint: 'use --driver ipvsadm' });
  }
  try { sock.setRecvBufferSize(WANT_RCVBUF); } catch { /* keep the default */ }
  sock.unref();
  const receivers: Array<(d: Buffer) => void> = [];
  const errorFns: Array<(e: Error & { errno?: number; code?: string }) => void> = [];
  sock.on('message', (msg) => { for (const f of receivers) f(msg); });
  sock.on('truncatedMessage', () => {
    const e = Object.assign(new Error('netlink: a reply was truncated'), { code: 'EMSGSIZE' });
    for (const f of errorFns) f(e);
  });
  sock.on('error', (e) => { for (const f of errorFns) f(e); });
  const port = sock.address().port;
  let active = false;
  let closed = false;
  return {
    port,
    recvBufferSize: sock.getRecvBufferSize(),
    send: (d) => new Promise<void>((resolve, reject) => sock.send(d, { port: 0 }, (err) => (err ? reject(err) : resolve()))),
    onReceive: (fn) => { receivers.push(fn); },
    onError: (fn) => { errorFns.push(fn); },
    setActive: (a) => {
      if (closed || a === active) return;
      active = a;
      if (a) sock.ref(); else sock.unref();
    },
    close: () => {
      if (closed) return;
      closed = true;
      sock.close();
    },
  };
}
