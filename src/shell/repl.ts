import readline from 'node:readline';
import { color, errorLine } from '../cli/output.js';
import { toLbctlError } from '../cli/base.js';
import { ShellContext, type ShellOptions } from './context.js';
import { complete } from './complete.js';
import { runArgv } from './exec.js';
import { appendHistory, HISTORY_SIZE, historyFile, loadHistory } from './history.js';
import { tokenize } from './tokenize.js';

export interface ShellResult { mode: 'interactive' | 'script'; commands: number; failed: number; exitCode: number; firstFailure?: { line: number; text: string; exitCode: number } }

/** Tokenise and run one line; a tokenising error is that line's usage error. */
async function runLine(ctx: ShellContext, line: string): Promise<{ exitCode: number; exit?: boolean; empty?: boolean }> {
  let argv: string[];
  try {
    argv = tokenize(line);
  } catch (e) {
    const err = toLbctlError(e);
    process.stderr.write(errorLine(err.oneLine()) + '\n');
    return { exitCode: err.exitCode };
  }
  if (!argv.length) return { exitCode: 0, empty: true };
  return runArgv(ctx, argv);
}

export async function runShell(opts: ShellOptions): Promise<ShellResult> {
  const ctx = await ShellContext.open(opts);
  try {
    return opts.interactive ? await interactive(ctx) : await script(ctx, Boolean(opts.keepGoing));
  } finally {
    await ctx.close();
  }
}

/**
 * stdin is not a TTY: one command per line, no prompt, no colour. Stops at the first failure
 * with that command's exit code; with --keep-going runs everything and exits with the first
 * failure's code.
 */
async function script(ctx: ShellContext, keepGoing: boolean): Promise<ShellResult> {
  color.level = 0;
  const rl = readline.createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity });
  const result: ShellResult = { mode: 'script', commands: 0, failed: 0, exitCode: 0 };
  let n = 0;
  for await (const line of rl) {
    n++;
    const r = await runLine(ctx, line);
    if (r.empty) continue;
    if (r.exit) break;
    result.commands++;
    if (r.exitCode !== 0) {
      result.failed++;
      result.firstFailure ??= { line: n, text: line.trim(), exitCode: r.exitCode };
      if (!keepGoing) break;
    }
  }
  rl.close();
  result.exitCode = result.firstFailure?.exitCode ?? 0;
  return result;
}

async function interactive(ctx: ShellContext): Promise<ShellResult> {
  const file = historyFile();
  const history = await loadHistory(file);
  const result: ShellResult = { mode: 'interactive', commands: 0, failed: 0, exitCode: 0 };
  let last = 0;
  // Between commands a stray SIGINT must not end the shell (readline turns Ctrl-C at the prompt into an event).
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.stdout.write(`${color.bold('lbctl shell')}: any unique prefix works (hap ser dis = haproxy server disable), Tab completes, help lists commands, Ctrl-D leaves.\n`);
  if (ctx.driverError) process.stdout.write(color.dim(`IPVS: not available here (${ctx.driverError}); IPVS commands will say why.\n`));
  try {
    for (;;) {
      const prompt = `${color.cyan(ctx.promptText())}${last ? color.red(` [exit ${last}]`) : ''}> `;
      const line = await readOneLine(ctx, prompt, history);
      if (line === null) { process.stdout.write('\n'); break; }
      const text = line.trim();
      if (text && text !== history[0]) {
        history.unshift(text);
        if (history.length > HISTORY_SIZE) history.length = HISTORY_SIZE;
        await appendHistory(text, file);
      }
      const r = await runLine(ctx, line);
      if (r.exit) break;
      if (r.empty) continue;
      result.commands++;
      last = r.exitCode;
      if (r.exitCode) result.failed++;
    }
  } finally {
    process.off('SIGINT', ignore);
  }
  return result;
}

/**
 * One prompt. readline is opened per line and closed before the command runs, so that a
 * command's own prompt (inquirer) or a watch view gets the terminal to itself.
 * Resolves null on Ctrl-D; Ctrl-C drops the line being typed and prompts again.
 */
function readOneLine(ctx: ShellContext, prompt: string, history: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal: true,
      history: [...history],
      historySize: HISTORY_SIZE,
      removeHistoryDuplicates: true,
      tabSize: 4,
      completer: (line: string, cb: (err: Error | null, r: [string[], string]) => void) => { complete(ctx, line).then((r) => cb(null, r), () => cb(null, [[], line])); },
    });
    let done = false;
    const finish = (v: string | null) => { if (done) return; done = true; rl.close(); resolve(v); };
    rl.on('line', (l) => finish(l));
    rl.on('SIGINT', () => { process.stdout.write('^C\n'); finish(''); });
    rl.on('close', () => finish(null));
    rl.setPrompt(prompt);
    rl.prompt();
  });
}
