/**
 * `lbctl haproxy stat --json` against the `echo "show stat" | socat stdio UNIX:sock` one-liner
 * on a haproxy with 1,000 servers, side by side in one run (rounds interleaved).
 * Also times what the lbctl number is made of: bare node startup, oclif startup
 * (`lbctl --version`) and the in-process work (connect, read, parse, serialise).
 *
 *   node build/bench/haproxy-runtime.js [--servers 1000] [--rounds 15]
 * Needs haproxy and socat; prints medians and the ratio (target: <= 1.5x).
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import { lbctlRoot } from '../src/cli/inprocess.js';
import { startLabHaproxy } from '../test/support/haproxy-lab.js';
import { haproxyStat } from '../src/haproxy/runtime-ops.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const SERVERS = arg('servers', 1000);
const ROUNDS = arg('rounds', 15);
const PER_BACKEND = 100;

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

async function main(): Promise<void> {
  const backends: string[] = [];
  for (let b = 0; b * PER_BACKEND < SERVERS; b++) {
    const lines = [`backend be${b}`, '  balance roundrobin'];
    for (let s = 0; s < PER_BACKEND && b * PER_BACKEND + s < SERVERS; s++) lines.push(`  server srv${b}_${s} 127.0.0.1:${10000 + s}`);
    backends.push(lines.join('\n'));
  }
  const hp = await startLabHaproxy({ body: backends.join('\n'), defaultBackend: 'be0', prefix: 'lbhp-bench-' });
  const run = path.join(lbctlRoot(), 'bin', 'run.js');
  const sock = hp.adminSocket;
  try {
    // The one-liner exactly as an operator types it; the socket path is a positional parameter, not spliced in.
    const socat = () => execa('sh', ['-c', 'echo "show stat" | socat stdio UNIX:"$1"', 'sh', sock]);
    const lbctl = () => execa(process.execPath, [run, 'haproxy', 'stat', '--json', '--socket', sock]);

    // Warm up once (page cache, haproxy) and check both see the same servers.
    const [a, b] = [await socat(), await lbctl()];
    const socatRows = a.stdout.split('\n').filter((l) => l && !l.startsWith('#')).length;
    const lbctlRows = JSON.parse(b.stdout).rows.length;
    if (socatRows !== lbctlRows) throw new Error(`row count differs: socat ${socatRows}, lbctl ${lbctlRows}`);

    const t = { socat: [] as number[], lbctl: [] as number[], node: [] as number[], oclif: [] as number[], inproc: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      t.socat.push((await timed(socat))[0]);
      t.lbctl.push((await timed(lbctl))[0]);
      t.node.push((await timed(() => execa(process.execPath, ['-e', ''])))[0]);
      t.oclif.push((await timed(() => execa(process.execPath, [run, '--version'])))[0]);
      t.inproc.push((await timed(async () => JSON.stringify(await haproxyStat({ socket: sock }), null, 2)))[0]);
    }
    const m = Object.fromEntries(Object.entries(t).map(([k, v]) => [k, median(v)])) as Record<keyof typeof t, number>;
    const ratio = m.lbctl / m.socat;
    const ms = (x: number) => `${x.toFixed(1).padStart(7)} ms`;
    console.log(`haproxy ${SERVERS} servers (${socatRows} stat rows, ${(a.stdout.length / 1024).toFixed(0)} KiB CSV, ${(b.stdout.length / 1024).toFixed(0)} KiB JSON), ${ROUNDS} rounds, medians:`);
    console.log(`  echo "show stat" | socat stdio UNIX:sock   ${ms(m.socat)}`);
    console.log(`  lbctl haproxy stat --json                  ${ms(m.lbctl)}`);
    console.log(`  ratio lbctl/socat                          ${ratio.toFixed(2)}x (target <= 1.5x)`);
    console.log('  where the lbctl time goes:');
    console.log(`    node startup (node -e '')                ${ms(m.node)}`);
    console.log(`    oclif startup (lbctl --version)          ${ms(m.oclif)}`);
    console.log(`    in-process read+parse+JSON               ${ms(m.inproc)}`);
    console.log(`  ratio excluding process startup (in-process vs socat): ${(m.inproc / m.socat).toFixed(2)}x`);
    console.log(JSON.stringify({ bench: 'haproxy-runtime', servers: SERVERS, rounds: ROUNDS, medianMs: m, ratio: Number(ratio.toFixed(3)) }));
  } finally {
    await hp.stop();
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
