/**
 * Preloaded (`node --expose-gc --import gc-probe.js`) into a process under test: on SIGUSR2 it runs a
 * full garbage collection and writes one JSON line to $LBCTL_GC_PROBE_OUT with what the process's
 * memory is made of: `process.memoryUsage()`, V8's heap spaces (size and used), and the kernel's
 * split of RSS (anonymous / file-backed). RSS alone cannot tell a leak from V8 sizing its heap; the
 * live heap after a full GC can, and the spaces say which part of the heap holds the rest.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';

export interface GcSample {
  rss: number; heapTotal: number; heapUsed: number; external: number; arrayBuffers: number;
  /** V8 heap spaces by name: bytes reserved (size) and live (used) after the GC. */
  spaces: Record<string, { size: number; used: number }>;
  /** From /proc/self/status, bytes: RssAnon (heap, malloc, JIT code) and RssFile (mapped binaries). */
  rssAnon: number; rssFile: number;
  /** CPU time of the process so far (user + system), microseconds. */
  cpuUs: number;
}

function procStatus(): { rssAnon: number; rssFile: number } {
  const text = readFileSync('/proc/self/status', 'utf8');
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rssAnon: kib('RssAnon'), rssFile: kib('RssFile') };
}

export function sampleNow(): GcSample {
  const m = process.memoryUsage();
  const spaces: GcSample['spaces'] = {};
  for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = { size: s.space_size, used: s.space_used_size };
  return { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, spaces, ...procStatus(), cpuUs: (({ user, system }) => user + system)(process.cpuUsage()) };
}

const out = process.env.LBCTL_GC_PROBE_OUT;
const gc = (globalThis as { gc?: () => void }).gc;
if (out && gc) {
  process.on('SIGUSR2', () => {
    gc();
    appendFileSync(out, `${JSON.stringify(sampleNow())}\n`);
  });
}
