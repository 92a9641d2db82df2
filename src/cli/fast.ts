/**
 * The fast path of `lbctl restore`: the one command scripts and Ansible run with thousands of
 * rules, run without oclif (dist/lbctl-fast.cjs, a bundle of its own that holds no oclif).
 *
 * Why: loading oclif, its configuration and the command manifest was about a fifth of a whole
 * `lbctl restore` of 2,000 real servers in the kernel lab (docs/DEV.md, start-up), where the
 * goal is to be as quick as `ipvsadm-restore` as a whole process.
 *
 * Only plain argv takes this path: known flags of restore, at most one FILE, nothing oclif would
 * read differently. Anything else (help, an unknown or repeated flag, a value oclif would refuse,
 * `--`, DEBUG or LBCTL_CONTENT_TYPE set) returns undefined and bin/run.js runs oclif as always,
 * so every usage error still comes from oclif's parser. What runs is the command's own code
 * (runRestore, IpvsSession, the JSON contract and error printing of src/cli/contract.ts);
 * test/unit/fast-restore.test.ts and the kernel test fast-restore run both paths side by side.
 */
import { contractMessage, reportError, withContract } from './contract.js';
import { ExitCode } from './exit-codes.js';
import { IpvsSession } from './ipvs-session.js';
import { plainText, warnLine } from './output.js';
import { RESTORE_FLAGS, runRestore, type RestoreFlags } from './restore-run.js';

export interface FastArgv { flags: RestoreFlags; json: boolean; exitCode: boolean }

/** restore's argv (after the command word) as the oclif path would read it, or undefined to let oclif read it. */
export function parseRestoreArgv(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): FastArgv | undefined {
  if (env.DEBUG || env.LBCTL_CONTENT_TYPE !== undefined) return undefined;
  const seen = new Map<string, string | true>();
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-' || !a.startsWith('-')) {
      if (file !== undefined) return undefined;
      file = a;
      continue;
    }
    if (!a.startsWith('--') || a === '--') return undefined;
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const def = Object.hasOwn(RESTORE_FLAGS, name) ? RESTORE_FLAGS[name] : undefined;
    if (!def || seen.has(name)) return undefined;
    if (def.kind === 'boolean') {
      if (eq >= 0) return undefined;
      seen.set(name, true);
      continue;
    }
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    // A missing, empty or dash-led value, or one outside the flag's options: oclif's message.
    if (value === undefined || value === '' || value.startsWith('-') || (def.options && !def.options.includes(value))) return undefined;
    seen.set(name, value);
  }
  const flags: RestoreFlags = { file: file ?? '-', timeout: RESTORE_FLAGS.timeout.default! };
  for (const [name, def] of Object.entries(RESTORE_FLAGS)) {
    let v = seen.get(name);
    if (v === undefined && def.kind === 'string') {
      const fromEnv = def.env ? env[def.env] : undefined;
      if (fromEnv !== undefined && (fromEnv === '' || (def.options && !def.options.includes(fromEnv)))) return undefined;
      v = fromEnv ?? def.default;
    }
    if (v !== undefined) (flags as unknown as Record<string, string | boolean>)[name] = v;
  }
  return { flags, json: seen.has('json'), exitCode: seen.has('exit-code') };
}

/**
 * Run `restore` from argv (after the command word) if it takes the fast path: resolves to true
 * once done (process.exitCode set, or the process exited as oclif would have), or false without
 * doing anything when oclif must run it.
 */
export async function fastRestore(argv: readonly string[]): Promise<boolean> {
  const parsed = parseRestoreArgv(argv);
  if (!parsed) return false;
  const { flags, json } = parsed;
  const humanLines: string[] = [];
  const session = new IpvsSession('restore', (m) => { process.stderr.write(warnLine(m) + '\n'); });
  session.start();
  let result: Awaited<ReturnType<typeof runRestore>> | undefined;
  let failed: number | undefined;
  try {
    result = await runRestore(flags, {
      ipvs: (f) => session.ipvs(f),
      human: (text) => {
        humanLines.push(...plainText(text).split('\n').filter((l) => l.trim() !== ''));
        if (!json) process.stdout.write(`${text}\n`);
      },
      json,
      signal: session.signal,
    });
  } catch (e) {
    failed = reportError(e, json);
  } finally {
    await session.finish();
  }
  // As oclif's error handling does: exit at once with the error's code.
  if (failed !== undefined) process.exit(failed);
  if (json) process.stdout.write(`${JSON.stringify(withContract(result, (r) => contractMessage('restore', r, humanLines)), null, 2)}\n`);
  if (result!.changed && parsed.exitCode) process.exit(ExitCode.ChangesPending);
  return true;
}
