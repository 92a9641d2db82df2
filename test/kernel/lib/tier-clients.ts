// The tier test's client, run inside the client namespace:
//   node tier-clients.js VIP PORT ADDRS(comma-separated local addresses)
// stdin commands, one JSON line answered for each:
//   open N         open N long-lived connections (round-robin over ADDRS), each pinging every
//                  500 ms; answers {up, servers} once all are up
//   report         {up, closed: [{i, code, server}], pongs, servers}
//   burst N        N short connections (20 at a time): {servers, failed}
//   close          close every long-lived connection: {closed}
// A long-lived connection counts as lost on a reset, an EOF, or no echo within 15 s (longer
// than any failover here, so only real losses count).
import net from 'node:net';
import readline from 'node:readline';

const [vip, portArg, addrsArg] = process.argv.slice(2);
const port = Number(portArg);
const addrs = addrsArg.split(',');
const DROP_AFTER_MS = 15_000;
const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);

interface Conn { i: number; sock: net.Socket; server?: string; done: boolean; timer?: NodeJS.Timeout }
let conns: Conn[] = [];
let closed: Array<{ i: number; code: string; server?: string }> = [];
let pongs = 0;

function count(names: Array<string | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of names) if (n) out[n] = (out[n] ?? 0) + 1;
  return out;
}

function openOne(i: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: vip, port, localAddress: addrs[i % addrs.length] });
    const c: Conn = { i, sock, done: false };
    sock.setNoDelay(true);
    let buf = '';
    let seq = 0;
    const pending = new Map<number, NodeJS.Timeout>();
    const lose = (code: string) => {
      if (c.done) return;
      c.done = true;
      clearInterval(c.timer);
      for (const t of pending.values()) clearTimeout(t);
      if (!c.server) { reject(new Error(`connect ${i}: ${code}`)); return; }
      closed.push({ i, code, server: c.server });
      sock.destroy();
    };
    sock.on('data', (chunk) => {
      buf += chunk.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!c.server) {
          c.server = line;
          resolve(c);
          c.timer = setInterval(() => {
            const n = ++seq;
            pending.set(n, setTimeout(() => lose('TIMEOUT'), DROP_AFTER_MS));
            sock.write(`ping ${n}\n`);
          }, 500);
          continue;
        }
        const m = /^ping (\d+)$/.exec(line);
        if (m) { clearTimeout(pending.get(Number(m[1]))); pending.delete(Number(m[1])); pongs++; }
      }
    });
    sock.on('error', (e: NodeJS.ErrnoException) => lose(e.code ?? 'ERROR'));
    sock.on('end', () => lose('EOF'));
  });
}

function shortOne(i: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: vip, port, localAddress: addrs[i % addrs.length] });
    const t = setTimeout(() => { sock.destroy(); resolve(undefined); }, 10_000);
    let buf = '';
    sock.on('data', (chunk) => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) { clearTimeout(t); sock.end(); resolve(buf.slice(0, nl)); }
    });
    sock.on('error', () => { clearTimeout(t); resolve(undefined); });
  });
}

readline.createInterface({ input: process.stdin }).on('line', async (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  try {
    if (cmd === 'open') {
      closed = []; pongs = 0;
      const n = Number(arg);
      const opened: Conn[] = [];
      for (let i = 0; i < n; i += 10) opened.push(...await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, k) => openOne(i + k))));
      conns = opened;
      say({ up: conns.length, servers: count(conns.map((c) => c.server)) });
    } else if (cmd === 'report') {
      say({ up: conns.length - closed.length, closed, pongs, servers: count(conns.filter((c) => !c.done).map((c) => c.server)) });
    } else if (cmd === 'burst') {
      const n = Number(arg);
      const names: Array<string | undefined> = [];
      for (let i = 0; i < n; i += 20) names.push(...await Promise.all(Array.from({ length: Math.min(20, n - i) }, (_, k) => shortOne(i + k))));
      say({ servers: count(names), failed: names.filter((x) => !x).length });
    } else if (cmd === 'close') {
      for (const c of conns) { c.done = true; clearInterval(c.timer); c.sock.destroy(); }
      say({ closed: conns.length });
      conns = [];
    }
  } catch (e) {
    say({ error: (e as Error).message });
  }
});
process.stdin.on('end', () => process.exit(0));
