import { AsyncLocalStorage } from 'node:async_hooks';
import { Errors, loadHelpClass } from '@oclif/core';
import { toLbctlError } from '../cli/base.js';
import { UsageError } from '../cli/errors.js';
import { ExitCode } from '../cli/exit-codes.js';
import { errorLine } from '../cli/output.js';
import type { ShellContext } from './context.js';
import { confirmDestructive } from './guards.js';
import { listCommands, resolvePrefix } from './resolve.js';
import { runWithSignal } from '../util/signal.js';

/**
 * Run one command line inside the shell: the same oclif command classes as `lbctl ...`,
 * in this process, writing straight to the terminal. Ctrl-C (SIGINT) gives the prompt back
 * at once with exit 11; a command that is still busy then is silenced (its async context is
 * marked cancelled, and the output gate drops what it writes) rather than killed, because
 * JavaScript cannot stop a running promise.
 */
export interface LineResult { exitCode: number; exit?: boolean }

const runs = new AsyncLocalStorage<{ cancelled: boolean }>();
let gated = false;

function installOutputGate(): void {
  if (gated) return;
  gated = true;
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write;
    (stream as any).write = function gatedWrite(this: unknown, ...a: any[]) {
      if (runs.getStore()?.cancelled) { const cb = a.find((x) => typeof x === 'function'); if (cb) cb(); return true; }
      return (write as any).apply(stream, a);
    };
  }
}

function report(err: unknown): number {
  const e = toLbctlError(err);
  process.stderr.write(errorLine(e.oneLine()) + '\n');
  return e.exitCode;
}

export async function runArgv(ctx: ShellContext, argv: string[]): Promise<LineResult> {
  if (!argv.length) return { exitCode: 0 };
  let id: string;
  let words: string[];
  let args: string[];
  try {
    ({ id, words, args } = resolvePrefix(ctx.tree, argv));
  } catch (e) {
    return { exitCode: report(e) };
  }
  if (id === '!exit') return { exitCode: 0, exit: true };
  if (id === '!help') return { exitCode: await help(ctx, args) };
  if (id === 'shell') return { exitCode: report(new UsageError('already in the lbctl shell', { code: 'ENESTED' })) };
  const dash = args.indexOf('--');
  if ((dash < 0 ? args : args.slice(0, dash)).includes('--help')) return { exitCode: await help(ctx, words) };

  installOutputGate();
  const state = { cancelled: false };
  // Ctrl-C aborts the command's signal: drains and waits that take it stop and say what state
  // they left. A command that does not settle within the grace period is silenced instead.
  const controller = new AbortController();
  let onSigint: () => void = () => {};
  const interrupted = new Promise<number>((resolve) => {
    const giveUp = () => {
      if (state.cancelled) return;
      state.cancelled = true;
      process.stderr.write(`\n${errorLine('interrupted; back at the prompt')}\n`);
      resolve(ExitCode.Aborted);
    };
    onSigint = () => {
      if (controller.signal.aborted) { giveUp(); return; }
      controller.abort();
      setTimeout(giveUp, ABORT_GRACE_MS).unref();
    };
  });
  process.on('SIGINT', onSigint);
  try {
    const work = runs.run(state, () => runWithSignal(controller.signal, async () => {
      const finalArgs = ctx.opts.interactive ? await confirmDestructive(ctx, ctx.opts.config, id, args) : args;
      if (controller.signal.aborted) return ExitCode.Aborted;
      // Hand the runtime client a live shared session (when it takes one; see ShellContext.haproxy).
      if (ctx.sharesSession && id.startsWith('haproxy:')) await ctx.haproxy().catch(() => undefined);
      await ctx.opts.config.runCommand(id, finalArgs);
      return 0;
    })).catch((err) => {
      if (state.cancelled) return ExitCode.Aborted;
      // A command reports its own errors and exits; what arrives here unreported is the shell's (a declined guard).
      if (err instanceof Errors.ExitError) return err.oclif.exit ?? 1;
      return report(err);
    });
    const code = await Promise.race([work, interrupted]);
    // A command that finished normally after Ctrl-C was still interrupted from the user's view.
    return { exitCode: controller.signal.aborted && code === 0 ? ExitCode.Aborted : code };
  } finally {
    process.off('SIGINT', onSigint);
    ctx.invalidate();
  }
}

/** How long an interrupted command gets to stop and report the state it left. */
const ABORT_GRACE_MS = 2000;

async function help(ctx: ShellContext, args: string[]): Promise<number> {
  const words = args.filter((a) => !a.startsWith('-'));
  if (!words.length) {
    const rows = listCommands(ctx.tree);
    const w = Math.max(...rows.map(([c]) => c.length));
    process.stdout.write(`${rows.map(([c, s]) => `  ${c.padEnd(w)}  ${s}`).join('\n')}\nAny unique prefix of each word works (ser ad = server add). Tab completes commands, flags and live names.\n`);
    return 0;
  }
  try {
    const { id } = resolvePrefix(ctx.tree, words);
    if (id.startsWith('!')) { process.stdout.write(`${words[0]}: ${listCommands(ctx.tree).find(([c]) => c === words[0])?.[1] ?? ''}\n`); return 0; }
    const Help = await loadHelpClass(ctx.opts.config);
    await new Help(ctx.opts.config).showHelp(id.split(':'));
    return 0;
  } catch (e) {
    return report(e);
  }
}
