import { parseMessages } from '../../src/ipvs/netlink/message.js';
import type { Transport } from '../../src/ipvs/netlink/conn.js';

/**
 * A fake netlink transport that answers request i with reply group i (captured datagrams, hex),
 * the request's seq patched in. `mutate` may rewrite each datagram before it is delivered
 * (the fuzz test corrupts them).
 */
export function replayTransport(groups: string[][], mutate?: (datagram: Buffer, group: number, index: number) => Buffer): Transport {
  let recv: (d: Buffer) => void = () => {};
  let i = 0;
  return {
    port: 4242,
    recvBufferSize: 425984,
    async send(d) {
      const [req] = parseMessages(d);
      const g = i++;
      const group = groups[g] ?? [];
      setImmediate(() => {
        group.forEach((hex, n) => {
          const b = Buffer.from(hex, 'hex');
          for (let off = 0; off + 16 <= b.length; off += (b.readUInt32LE(off) + 3) & ~3) b.writeUInt32LE(req.seq, off + 8);
          recv(mutate ? mutate(b, g, n) : b);
        });
      });
    },
    onReceive(fn) { recv = fn; },
    onError() {},
    setActive() {},
    close() {},
  };
}
