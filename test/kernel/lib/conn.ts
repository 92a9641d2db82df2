// One long-lived TCP connection for the kernel lab, started inside the client's namespace by
// topology.ts:  node conn.js HOST PORT INTERVAL_MS DROP_AFTER_MS
// Connects to an echo server (usually through the VIP) and keeps the connection busy: every
// INTERVAL_MS, and on each "ping" line on stdin, it sends "ping N\n" and expects it echoed.
// Reports on stdout, one line each:
//   connected LOCAL_ADDR LOCAL_PORT  |  pong N  |  closed CODE
// CODE is the socket error (ECONNRESET, ECONNREFUSED...), EOF, TIMEOUT (a ping unanswered for
// DROP_AFTER_MS: the packets are dropped silently) or CONNECT_TIMEOUT (none within 30 s).
import net from 'node:net';
import readline from 'node:readline';

const [host, portArg, intervalArg, dropArg] = process.argv.slice(2);
const interval = Number(intervalArg ?? 250);
const dropAfter = Number(dropArg ?? 5000);
const say = (line: string) => process.stdout.write(`${line}\n`);

let seq = 0;
let buffered = '';
const pending = new Map<number, NodeJS.Timeout>();
let closed = false;

const sock = net.connect({ host, port: Number(portArg) });
sock.setNoDelay(true);
const connectTimer = setTimeout(() => close('CONNECT_TIMEOUT'), 30_000);

function close(code: string): void {
  if (closed) return;
  closed = true;
  clearTimeout(connectTimer);
  for (const t of pending.values()) clearTimeout(t);
  say(`closed ${code}`);
  sock.destroy();
  setTimeout(() => process.exit(0), 50);
}

function ping(): void {
  if (closed || sock.connecting) return;
  const n = ++seq;
  pending.set(n, setTimeout(() => close('TIMEOUT'), dropAfter));
  sock.write(`ping ${n}\n`);
}

sock.on('connect', () => {
  clearTimeout(connectTimer);
  say(`connected ${sock.localAddress} ${sock.localPort}`);
  setInterval(ping, interval).unref();
});
sock.on('data', (chunk) => {
  buffered += chunk.toString();
  let nl: number;
  while ((nl = buffered.indexOf('\n')) >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    const n = Number(line.split(' ')[1]);
    const t = pending.get(n);
    if (t) { clearTimeout(t); pending.delete(n); say(`pong ${n}`); }
  }
});
sock.on('end', () => close('EOF'));
sock.on('error', (err: NodeJS.ErrnoException) => close(err.code ?? 'ERROR'));

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'ping') ping();
  if (line === 'quit') { sock.end(); setTimeout(() => process.exit(0), 50); }
}).on('close', () => process.exit(0));
