import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The AbortSignal of the command being run (the shell sets one per command; Ctrl-C aborts it). Commands run in-process through
 * oclif, which has no way to hand them extra arguments, so the shell runs each one inside
 * this async context and the command reads it with commandSignal(). Outside the shell
 * (a plain `lbctl` process) there is none: Ctrl-C ends the process.
 */
// One store per process, even if two copies of this module are loaded (a bundle and a test build).
const STORE = Symbol.for('lbctl.commandSignal');
const current: AsyncLocalStorage<AbortSignal> = ((globalThis as Record<symbol, unknown>)[STORE] ??= new AsyncLocalStorage<AbortSignal>()) as AsyncLocalStorage<AbortSignal>;

export function runWithSignal<T>(signal: AbortSignal, fn: () => Promise<T>): Promise<T> {
  return current.run(signal, fn);
}

export function commandSignal(): AbortSignal | undefined {
  return current.getStore();
}
