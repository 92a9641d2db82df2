// Many long-lived TCP connections from one process (the soak test's 50; one node each would not
// fit in the lab's memory), started inside the client's namespace:
//   node conns.js HOST PORT COUNT INTERVAL_MS DROP_AFTER_MS
// Each connection sends "ping N\n" every INTERVAL_MS and expects it echoed. Prints one line:
//   connected COUNT            once all are up (or "failed CODE" if one cannot connect)
// then, for each line "report" on stdin, a JSON line {pongs, closed: [{i, code}], pending}.
// A connection that gets a reset, an EOF, or no echo within DROP_AFTER_MS counts as closed.
import net from 'node:net';
import readline from 'node:readline';

const [host, portArg, countArg, intervalArg, dropArg] = process.argv.slice(2);
const count = Number(countArg);
const interval = Number(intervalArg ?? 500);
const dropAfter = Number(dropArg ?? 5000);
const say = (line: string) => process.stdout.write(`${line}\n`);

let pongs = 0;
const closed: Array<{ i: number; code: string }> = [];
let up = 0;

function open(i: number): void {
  let seq = 0;
  let buffered = '';
  let done = false;
  const pending = new Map<number, NodeJS.Timeout>();
  const sock = net.connect({ host, port: Number(portArg) });
  sock.setNoDelay(true);
  const close = (code: string) => {
    if (done) return;
    done = true;
    for (const t of pending.values()) clearTimeout(t);
    if (up < count) { say(`failed ${code}`); process.exit(1); }
    closed.push({ i, code });
    sock.destroy();
  };
  sock.on('connect', () => {
    if (++up === count) say(`connected ${count}`);
    // Spread the pings over the interval so the echo servers see a steady trickle.
    setTimeout(() => setInterval(() => {
      if (done) return;
      const n = ++seq;
      pending.set(n, setTimeout(() => close('TIMEOUT'), dropAfter));
      sock.write(`ping ${n}\n`);
    }, interval), (i * interval) / count);
  });
  sock.on('data', (chunk) => {
    buffered += chunk.toString();
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const m = /^ping (\d+)$/.exec(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      if (m) { clearTimeout(pending.get(Number(m[1]))); pending.delete(Number(m[1])); pongs++; }
    }
  });
  sock.on('error', (e: NodeJS.ErrnoException) => close(e.code ?? 'ERROR'));
  sock.on('end', () => close('EOF'));
}

for (let i = 0; i < count; i++) open(i);
setTimeout(() => { if (up < count) { say(`failed CONNECT_TIMEOUT (${up} of ${count} up)`); process.exit(1); } }, 60_000).unref();

readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (line.trim() === 'report') say(JSON.stringify({ pongs, closed, up }));
});
process.stdin.on('end', () => process.exit(0));
