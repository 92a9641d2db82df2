/**
 * Preloaded (`node --expose-gc --import gc-probe.js`) into a process under test: on SIGUSR2 it runs a
 * full garbage collection and writes `{ rss, heapUsed }` as one JSON line to $LBCTL_GC_PROBE_OUT.
 * RSS alone cannot tell a leak from V8 growing its heap; the live heap after a full GC can.
 */
import { appendFileSync } from 'node:fs';

const out = process.env.LBCTL_GC_PROBE_OUT;
const gc = (globalThis as { gc?: () => void }).gc;
if (out && gc) {
  process.on('SIGUSR2', () => {
    gc();
    const m = process.memoryUsage();
    appendFileSync(out, `${JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed })}\n`);
  });
}
