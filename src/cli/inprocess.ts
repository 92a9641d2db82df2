import { Config, Errors } from '@oclif/core';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';

/**
 * Run lbctl commands inside this node process: the same command classes, flags and output
 * as the CLI. Used by the test suites (the kernel lab is slow to fork node in) and by the
 * interactive shell. stdout/stderr are captured.
 */
export interface InProcessResult { exitCode: number; stdout: string; stderr: string; json?: any }

let configPromise: Promise<Config> | undefined;
const here = path.dirname(fileURLToPath(import.meta.url));
/** True inside the product bundle (scripts/build.mjs defines it); false in tsc output (tests). */
const bundled = (globalThis as { LBCTL_BUNDLE?: boolean }).LBCTL_BUNDLE === true;

export function lbctlRoot(): string {
  // tsc output: <root>/<out>/src/cli/inprocess.js, <out> = build/ (tests). In the bundle this code
  // sits in <root>/dist/ or one of its chunk folders: the nearest package.json is the root's.
  if (!bundled) return path.resolve(here, '..', '..', '..');
  let dir = here;
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}
export async function loadConfig(): Promise<Config> {
  configPromise ??= (async () => {
    const root = lbctlRoot();
    // The bundle's package.json names the bundle's own COMMANDS: the same classes as the caller.
    if (bundled) return Config.load({ root });
    // tsc output (tests): run the command classes compiled next to this file, so that in-process
    // runs share one copy of every module with their caller (the tests' build/ copy), and the
    // hooks and help class compiled with them. oclif.manifest.json (built from the bundle) gives
    // the flags and names no file, so each command is imported from build/commands.
    const pjson = JSON.parse(await readFile(path.join(root, 'package.json'), 'utf8'));
    const rel = (p: string) => './' + path.relative(root, path.resolve(here, p));
    pjson.oclif = {
      ...pjson.oclif,
      commands: rel('../../commands'),
      hooks: {
        init: { target: rel('hooks/command-not-found.js'), identifier: 'init' },
        command_not_found: { target: rel('hooks/command-not-found.js'), identifier: 'commandNotFound' },
      },
      helpClass: { target: rel('hooks/help.js'), identifier: 'LbctlHelp' },
    };
    return Config.load({ root, pjson });
  })();
  return configPromise;
}

/** argv as the user types it after `lbctl`, e.g. ['service', 'add', '-t', '10.0.0.1:80']. */
export async function runLbctl(argv: string[], opts: { stdin?: string } = {}): Promise<InProcessResult> {
  const config = await loadConfig();
  const { id, args } = resolveCommand(config, argv);
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  // Only string writes are the command's: node's test runner reports from a child process by
  // writing serialized Buffers to the same stdout, and those must go through untouched.
  (process.stdout as any).write = (chunk: any, ...rest: any[]) => {
    if (typeof chunk !== 'string') return ow(chunk, ...rest);
    stdout += chunk; const cb = rest.find((r) => typeof r === 'function'); if (cb) cb(); return true;
  };
  (process.stderr as any).write = (chunk: any, ...rest: any[]) => {
    if (typeof chunk !== 'string') return ew(chunk, ...rest);
    stderr += chunk; const cb = rest.find((r) => typeof r === 'function'); if (cb) cb(); return true;
  };
  const prevStdin = process.env.LBCTL_STDIN_TEXT;
  if (opts.stdin !== undefined) process.env.LBCTL_STDIN_TEXT = opts.stdin;
  let exitCode = 0;
  try {
    // Unknown commands go through oclif too: its command_not_found hook answers them.
    if (bundled || !config.findCommand(id)) await config.runCommand(id, args);
    else {
      // tsc output (tests): oclif would take each command's path from the root's
      // oclif.manifest.json, which describes the bundle; load the class compiled next to this file.
      const base = path.join(here, '..', '..', 'commands', ...id.split(':'));
      // A topic that is itself a command lives in its folder's index.js (commands/watch/index.ts).
      const file = existsSync(`${base}.js`) ? `${base}.js` : path.join(base, 'index.js');
      const mod = await import(pathToFileURL(file).href);
      // oclif names a command run this way after its class ("serviceadd"); the bundle gives it its
      // id ("service:add"), which the JSON contract's msg is made of: give it the same here.
      mod.default.id = id;
      await mod.default.run(args, config);
    }
  } catch (err) {
    const e = err as Errors.CLIError & { oclif?: { exit?: number } };
    exitCode = e.oclif?.exit ?? 1;
    if (!(err instanceof Errors.ExitError)) stderr += `${e.message}\n`;
  } finally {
    (process.stdout as any).write = ow;
    (process.stderr as any).write = ew;
    if (opts.stdin !== undefined) {
      if (prevStdin === undefined) delete process.env.LBCTL_STDIN_TEXT; else process.env.LBCTL_STDIN_TEXT = prevStdin;
    }
  }
  let json: any;
  if (argv.includes('--json')) {
    try { json = JSON.parse(stdout); } catch { /* left undefined: the test will say so */ }
  }
  return { exitCode, stdout, stderr, json };
}

/** Map `service add ...` to the oclif id `service:add` by longest matching prefix. */
export function resolveCommand(config: Config, argv: string[]): { id: string; args: string[] } {
  for (let n = Math.min(argv.length, 3); n >= 1; n--) {
    const id = argv.slice(0, n).join(':');
    if (config.findCommand(id)) return { id, args: argv.slice(n) };
  }
  return { id: argv[0] ?? 'help', args: argv.slice(1) };
}
