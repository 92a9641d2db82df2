/**
 * Stand-ins for haproxy and keepalived, so unit tests can reach `config install` (installNode)
 * without the real daemons, root or network namespaces:
 * - the config checks: LBCTL_HAPROXY_BIN / LBCTL_KEEPALIVED_BIN point at scripts here. Those
 *   switches are read once, when src/haproxy/config-check.ts and src/keepalived/config-check.ts
 *   load, so call useFakeDaemonChecks() before importing anything that imports them (a dynamic
 *   import after it). The scripts answer as the real ones do, or as told per call
 *   (checkBehaviour), and log each run with the network namespace it ran in;
 * - the reload targets: a fake master-worker haproxy (argv has -W; on SIGUSR2 it forks a new
 *   worker) and a fake keepalived (records SIGHUP), each with its own pid file.
 * Everything lives in one /tmp/mu-inst-fake-* directory, removed when the process exits.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa, type ResultPromise } from 'execa';

let dir: string | undefined;

/** Point lbctl's daemon checks at the fake scripts (once per process); returns their directory. */
export function useFakeDaemonChecks(): string {
  if (dir) return dir;
  dir = mkdtempSync(path.join(os.tmpdir(), 'mu-inst-fake-'));
  const d = dir;
  process.once('exit', () => rmSync(d, { recursive: true, force: true }));
  // $MU_FAKE_HAPROXY / $MU_FAKE_KEEPALIVED: "" (valid), "warn", or "fail".
  const script = (name: string, valid: string, warn: string, fail: string) => `#!/bin/sh
echo "${name} $* ns=$(readlink /proc/self/ns/net)" >> "${d}/runs.log"
case "$MU_FAKE_${name.toUpperCase()}" in
  fail) echo "${fail}"; exit 1 ;;
  warn) echo "${warn}" ;;
esac
${valid}
exit 0
`;
  writeFileSync(path.join(d, 'haproxy'), script('haproxy', 'echo "Configuration file is valid"',
    '[WARNING]  (1) : config : mu: a warning from the fake haproxy', '[ALERT]    (1) : config : mu: the fake haproxy refuses this file'), { mode: 0o755 });
  writeFileSync(path.join(d, 'keepalived'), script('keepalived', '', 'mu: a note from the fake keepalived', 'mu: the fake keepalived found an error'), { mode: 0o755 });
  process.env.LBCTL_HAPROXY_BIN = path.join(d, 'haproxy');
  process.env.LBCTL_KEEPALIVED_BIN = path.join(d, 'keepalived');
  return d;
}

/** How the fake checks answer from now on. */
export function checkBehaviour(b: { haproxy?: '' | 'warn' | 'fail'; keepalived?: '' | 'warn' | 'fail' }): void {
  process.env.MU_FAKE_HAPROXY = b.haproxy ?? '';
  process.env.MU_FAKE_KEEPALIVED = b.keepalived ?? '';
}

/** The fake checks run so far, one line each: "haproxy -c -f FILE ns=net:[INODE]"; then forgotten. */
export function takeCheckRuns(): string[] {
  const file = path.join(useFakeDaemonChecks(), 'runs.log');
  let text = '';
  try { text = readFileSync(file, 'utf8'); } catch { /* none yet */ }
  rmSync(file, { force: true });
  return text.split('\n').filter(Boolean);
}

export interface FakeDaemon { pid: number; pidfile: string; signals: () => Promise<string[]>; stop: () => Promise<void> }

// One node process per fake daemon. haproxy: SIGUSR2 forks a worker (what reloadHaproxy waits
// for), after first removing the file named by unlinkOnReload (a keepalived that vanished
// meanwhile) or putting a directory in place of dirOnReload. keepalived: SIGHUP is only recorded.
const DAEMON_JS = `
const fs = require('node:fs'); const { spawn } = require('node:child_process');
const [log, unlinkOnReload, dirOnReload] = [process.env.MU_SIGNAL_LOG, process.env.MU_UNLINK_ON_RELOAD, process.env.MU_DIR_ON_RELOAD];
const workers = [];
const note = (s) => fs.appendFileSync(log, s + '\\n');
process.on('SIGHUP', () => note('HUP'));
process.on('SIGUSR2', () => {
  note('USR2');
  if (unlinkOnReload) fs.rmSync(unlinkOnReload, { force: true });
  if (dirOnReload) { fs.rmSync(dirOnReload, { force: true }); fs.mkdirSync(dirOnReload); }
  workers.push(spawn('sleep', ['60'], { stdio: 'ignore' }));
});
process.on('SIGTERM', () => { for (const w of workers) w.kill(); process.exit(0); });
fs.writeFileSync(process.env.MU_PIDFILE, process.pid + '\\n');
setInterval(() => {}, 1000);
`;

/** Start a fake daemon whose pid file is DIR/NAME.pid; haproxy runs as a master (-W). */
export async function startFakeDaemon(dir: string, name: 'haproxy' | 'keepalived', opts: { unlinkOnReload?: string; dirOnReload?: string } = {}): Promise<FakeDaemon> {
  const pidfile = path.join(dir, `${name}.pid`);
  const log = path.join(dir, `${name}.signals`);
  await fs.writeFile(log, '');
  const child: ResultPromise = execa(process.execPath, ['-e', DAEMON_JS, '--', ...(name === 'haproxy' ? ['-W'] : [])], {
    reject: false, stdio: 'ignore',
    env: { MU_PIDFILE: pidfile, MU_SIGNAL_LOG: log, MU_UNLINK_ON_RELOAD: opts.unlinkOnReload ?? '', MU_DIR_ON_RELOAD: opts.dirOnReload ?? '' },
  });
  for (let i = 0; i < 200; i++) {
    const text = await fs.readFile(pidfile, 'utf8').catch(() => '');
    if (text.trim() === String(child.pid)) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    pid: child.pid!,
    pidfile,
    signals: async () => (await fs.readFile(log, 'utf8')).split('\n').filter(Boolean),
    stop: async () => { child.kill('SIGTERM'); await child; },
  };
}
