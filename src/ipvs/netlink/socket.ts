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

/** The addon's own class (node_modules/netlink/src/binding.cc), as raw.js drives it. */
interface NativeNetlink {
  bind(port: number, groups: number): void;
  send(port: number, groups: number, msg: Buffer, cb: (err?: Error) => void): void;
  address(): { port: number };
  setRecvBufferSize(n: number): void;
  getRecvBufferSize(): number;
  ref(): void;
  unref(): void;
  close(): void;
}
type NativeCtor = new (protocol: number, msgBuffer: number, onMessage: (msg: Buffer, rinfo: { truncated?: number }) => void, onError: (err: Error) => void) => NativeNetlink;

/**
 * The prebuilt addon for this platform, required by path. Going through raw.js costs a
 * node-gyp-build search of the package (dozens of stat calls) plus raw.js's own requires: about
 * 150 ms of a 2 s restore under qemu TCG. Undefined when the path does not hold a loadable
 * addon (another libc, a source build): then raw.js, which knows every layout.
 */
let nativeCtor: NativeCtor | null | undefined;
function loadPrebuild(): NativeCtor | undefined {
  if (process.env.LBCTL_NETLINK_MODULE) return undefined;
  if (nativeCtor !== undefined) return nativeCtor ?? undefined;
  nativeCtor = null;
  if (process.platform !== 'linux') return undefined;
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('netlink/package.json');
    const binding = require(`${pkg.slice(0, -'package.json'.length)}prebuilds/linux-${process.arch}/node.napi.node`) as { NativeNetlink?: NativeCtor };
    if (typeof binding.NativeNetlink === 'function') nativeCtor = binding.NativeNetlink;
  } catch { /* raw.js below */ }
  return nativeCtor ?? undefined;
}

/** raw.js's port choice (generateLocalPort): pid in the low 22 bits, a counter above; the first 32 left to libnl. */
let portCounter = 32;
const EADDRINUSE = 98;

/** A RawSocket straight over the addon: the same calls raw.js makes, without its EventEmitter. */
function prebuildSocket(Native: NativeCtor, protocol: number): RawSocket {
  const on: { message?: (m: Buffer, r: { truncated?: number }) => void; truncatedMessage?: (m: Buffer) => void; error?: (e: Error) => void } = {};
  // msgBuffer 0: the addon peeks at each datagram's size, as raw.js's default.
  const native = new Native(protocol, 0,
    (msg, rinfo) => { if (rinfo.truncated) on.truncatedMessage?.(msg); else on.message?.(msg, rinfo); },
    (err) => on.error?.(err));
  try {
    for (let tries = 0; ; tries++) {
      const port = (portCounter << 22) | (process.pid & 0x3fffff);
      portCounter = (portCounter + 1) & 0x3ff;
      try { native.bind(port, 0); break; } catch (e) {
        if ((e as { errno?: number }).errno !== EADDRINUSE && (e as { errno?: number }).errno !== -EADDRINUSE) throw e;
        if (tries >= 99) throw new Error("Couldn't find a free address");
      }
    }
  } catch (e) {
    native.close();
    throw e;
  }
  return {
    address: () => native.address(),
    send: (msg, opts, cb) => native.send(opts.port ?? 0, 0, msg, cb),
    on: ((ev: keyof typeof on, fn: never) => { on[ev] = fn; }) as RawSocket['on'],
    setRecvBufferSize: (n) => native.setRecvBufferSize(n),
    getRecvBufferSize: () => native.getRecvBufferSize(),
    ref: () => native.ref(),
    unref: () => native.unref(),
    close: () => native.close(),
  };
}

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

function openRaw(protocol: number): RawSocket {
  const Native = loadPrebuild();
  if (Native) return prebuildSocket(Native, protocol);
  const Raw = loadNative();
  return new Raw(protocol);
}

export function openSocketTransport(): Transport {
  let sock: RawSocket;
  try {
    sock = openRaw(NETLINK_GENERIC);
  } catch (e) {
    if (e instanceof UnavailableError) throw e;
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
