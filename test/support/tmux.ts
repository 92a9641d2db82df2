import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/**
 * Drive a real terminal program under tmux, for the shell's tests: a private tmux server
 * (its own -L socket), one window of a fixed size, send-keys in, capture-pane out.
 */
export class TmuxSession {
  private constructor(readonly server: string, readonly name: string) {}

  /** Start argv (no shell involved) in a detached 200x50 window; env is added to the program's environment. */
  static async start(argv: string[], env: Record<string, string> = {}, opts: { cwd?: string; prefix?: string } = {}): Promise<TmuxSession> {
    const server = `${opts.prefix ?? 'lbsh'}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    const t = new TmuxSession(server, 'main');
    const envArgs = Object.entries({ TERM: 'xterm-256color', ...env }).map(([k, v]) => `${k}=${v}`);
    await t.tmux(['new-session', '-d', '-s', t.name, '-x', '200', '-y', '50', '-c', opts.cwd ?? process.cwd(), 'env', ...envArgs, ...argv]);
    // Keep the pane after the program exits, so a test can read its last words.
    await t.tmux(['set-option', '-t', t.name, 'remain-on-exit', 'on']);
    return t;
  }

  tmux(args: string[]) {
    return execa('tmux', ['-L', this.server, '-f', '/dev/null', ...args], { reject: true, env: { ...process.env, TMUX: '' } });
  }

  /** Keys as tmux names them: literal text, or 'Enter', 'Tab', 'Escape', 'C-c', 'Up'. */
  async send(...keys: string[]): Promise<void> {
    for (const k of keys) {
      if (/^(Enter|Tab|Escape|Up|Down|Left|Right|BSpace|C-[a-z])$/.test(k)) await this.tmux(['send-keys', '-t', this.name, k]);
      else await this.tmux(['send-keys', '-t', this.name, '-l', '--', k]);
    }
  }

  /** The visible screen; with escapes: true, the SGR attributes too (reverse video is \x1b[7m). */
  async capture(opts: { escapes?: boolean } = {}): Promise<string> {
    const r = await this.tmux(['capture-pane', '-p', '-t', this.name, ...(opts.escapes ? ['-e'] : [])]);
    return r.stdout;
  }

  /** Poll the screen until test(screen) holds; throws with the last screen after timeoutMs. */
  async waitFor(test: RegExp | ((screen: string) => boolean), timeoutMs = 10_000, opts: { escapes?: boolean } = {}): Promise<string> {
    const ok = typeof test === 'function' ? test : (s: string) => test.test(s);
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = await this.capture(opts);
      if (ok(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${test} on the tmux screen:\n${screen.replace(/\n+$/, '')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Is the program still running in the pane? */
  async alive(): Promise<boolean> {
    const r = await this.tmux(['display-message', '-p', '-t', this.name, '#{pane_dead}']).catch(() => undefined);
    return r?.stdout.trim() === '0';
  }

  async kill(): Promise<void> {
    await this.tmux(['kill-server']).catch(() => undefined);
  }
}

/** The last non-empty line of a screen (where the prompt and the line being typed are). */
export function lastLine(screen: string): string {
  return screen.split('\n').filter((l) => l.trim()).pop() ?? '';
}

export const tmpStateDir = (tag: string) => path.join(os.tmpdir(), `lbsh-state-${tag}-${process.pid}`);
