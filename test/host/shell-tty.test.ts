import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { httpGet, rawCommand, rawShowStat, startCountingProxy, startLabHaproxy, startLabServer, type LabHaproxy, type LabServer } from '../support/haproxy-lab.js';
import { lastLine, TmuxSession, tmpStateDir } from '../support/tmux.js';

/**
 * The interactive shell in a real terminal (tmux) against a real haproxy 2.6 on loopback.
 * Effects are read back through a second channel: raw `show stat` on the admin socket.
 */

const bin = path.join(lbctlRoot(), 'bin', 'run.js');
let hp: LabHaproxy;
const servers: LabServer[] = [];
let stateDir: string;

before(async () => {
  for (const n of ['a1', 'a2', 'only']) servers.push(await startLabServer(n));
  const [a1, a2, only] = servers;
  hp = await startLabHaproxy({
    prefix: 'lbsh-',
    defaultBackend: 'app',
    body: [
      'backend app', '  balance roundrobin', `  server a1 127.0.0.1:${a1.port}`, `  server a2 127.0.0.1:${a2.port}`,
      'backend shopcart', `  server only 127.0.0.1:${only.port}`,
    ].join('\n'),
  });
  stateDir = tmpStateDir('tty');
  await fs.rm(stateDir, { recursive: true, force: true });
});

after(async () => {
  await hp?.stop();
  for (const s of servers) await s.close();
  await fs.rm(stateDir, { recursive: true, force: true });
});

const promptRe = (socket = hp.adminSocket) => new RegExp(`lbctl \\S+ \\[no ipvs\\] haproxy:${socket.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}(?: \\[exit \\d+\\])?> $`);
const atPrompt = (screen: string, socket?: string) => promptRe(socket).test(`${lastLine(screen).trimEnd()} `);

/** A shell in tmux; `plain` starts it as bare `lbctl` (the no-argument TTY path of bin/run.js). */
async function startShell(plain = false, socket = hp.adminSocket): Promise<TmuxSession> {
  const argv = plain ? [process.execPath, bin] : [process.execPath, bin, 'shell', '--socket', socket];
  const env: Record<string, string> = { XDG_STATE_HOME: stateDir, LBCTL_HAPROXY_SOCKET: hp.adminSocket, NO_COLOR: '1' };
  const t = await TmuxSession.start(argv, env);
  await t.waitFor((screen) => atPrompt(screen, socket), 15_000);
  return t;
}

async function status(ref: string): Promise<string> {
  return (await rawShowStat(hp.adminSocket)).get(ref)?.status ?? 'absent';
}

describe('lbctl shell on a terminal (tmux)', () => {
  it('plain lbctl opens the shell; unique prefixes run commands, an ambiguous one lists the candidates', async () => {
    const t = await startShell(true);
    try {
      await t.send('hap ba', 'Enter');
      let screen = await t.waitFor(/shopcart\s+UP\s+http\s+\S+\s+1\/1/);
      assert.match(screen, /app\s+UP\s+http\s+roundrobin\s+2\/2/);
      await t.send('hap s', 'Enter');
      screen = await t.waitFor(/"haproxy s" is ambiguous: haproxy server, haproxy stat/);
      await t.waitFor((s) => /\[exit 2\]>$/.test(lastLine(s)));
      await t.send('hap ser dr shopcart/only --json', 'Enter');
      screen = await t.waitFor(/"command": "drain"/);
      assert.equal(await status('shopcart/only'), 'DRAIN');
      await t.send('hap ser rea shopcart/only', 'Enter');
      await t.waitFor(/updated\s+shopcart\/only\s+drain -> ready/);
      assert.equal(await status('shopcart/only'), 'no check');
      // Ctrl-C at the prompt drops the line being typed; Ctrl-D on an empty line leaves.
      await t.send('hap ser dis app/a1', 'C-c');
      await t.waitFor((s) => /dis app\/a1\^C$/.test(s.split('\n').filter((l) => l.trim()).slice(-2)[0] ?? '') && atPrompt(s));
      assert.equal(await status('app/a1'), 'no check');
      await t.send('C-d');
      const deadline = Date.now() + 5000;
      while ((await t.alive()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await t.alive(), false, 'Ctrl-D ends the shell');
    } finally {
      await t.kill();
    }
  });

  it('Tab completes commands, flags and live backend and server names', async () => {
    const t = await startShell();
    try {
      await t.send('hap', 'Tab');
      await t.waitFor((s) => lastLine(s).endsWith('> haproxy'));
      await t.send('sta', 'Tab', '--ty', 'Tab', 'ser', 'Tab');
      await t.waitFor((s) => lastLine(s).endsWith('> haproxy stat --type server'));
      await t.send('-b sh', 'Tab');
      await t.waitFor((s) => lastLine(s).endsWith('> haproxy stat --type server -b shopcart'));
      await t.send('Enter');
      await t.waitFor(/shopcart\/only\s+server/);

      // A server added to haproxy after the shell started is offered: the names are read live.
      assert.match(await rawCommand(hp.adminSocket, 'add server shopcart/late 127.0.0.1:1'), /New server registered/);
      await new Promise((r) => setTimeout(r, 2100)); // past the completion cache
      await t.send('hap ser dis sho', 'Tab');
      await t.waitFor((s) => lastLine(s).endsWith('> hap ser dis shopcart/'));
      await t.send('Tab', 'Tab');
      await t.waitFor(/shopcart\/late\s+shopcart\/only/);
      await t.send('l', 'Tab');
      await t.waitFor((s) => lastLine(s).endsWith('> hap ser dis shopcart/late'));
      await t.send('C-u');
      await t.waitFor((s) => lastLine(s).endsWith('>'));
    } finally {
      await rawCommand(hp.adminSocket, 'del server shopcart/late').catch(() => undefined);
      await t.kill();
    }
  });

  it('history is kept in $XDG_STATE_HOME/lbctl/history and recalled after a restart', async () => {
    let t = await startShell();
    const marker = `hap info # marker-${process.pid}`;
    try {
      await t.send(marker, 'Enter');
      await t.waitFor(/version\s+2\.6\./);
      await t.send('exit', 'Enter');
      const deadline = Date.now() + 5000;
      while ((await t.alive()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await t.alive(), false, 'exit ends the shell');
    } finally {
      await t.kill();
    }
    const file = await fs.readFile(path.join(stateDir, 'lbctl', 'history'), 'utf8');
    assert.ok(file.split('\n').includes(marker), file);
    t = await startShell();
    try {
      await t.send('Up', 'Up');
      await t.waitFor((s) => lastLine(s).endsWith(`> ${marker}`));
      await t.send('Enter');
      await t.waitFor(/version\s+2\.6\./);
    } finally {
      await t.kill();
    }
  });

  it('watch haproxy stat redraws in place, highlights changed cells, and q / Esc return to the prompt', async () => {
    const t = await startShell();
    try {
      await t.send('watch hap stat -b app -t server -n 1', 'Enter');
      let screen = await t.waitFor(/Every 1s: lbctl haproxy stat -b app -t server/);
      assert.doesNotMatch(screen, /> watch hap/, 'the view has the screen to itself');
      const stot = async () => Number((await rawShowStat(hp.adminSocket)).get('app/a1')!.stot);
      const before = await stot();
      for (let i = 0; i < 4; i++) await httpGet(hp.frontendPort);
      const now = await stot();
      assert.ok(now > before);
      // The next frame shows a1's new STOT in reverse video: a changed cell.
      const a1Row = (s: string) => s.split('\n').find((l) => l.includes('app/a1')) ?? '';
      screen = await t.waitFor((s) => new RegExp(`\x1b\\[7m${now}\\b`).test(a1Row(s)), 10_000, { escapes: true });
      assert.match(a1Row(screen).replace(/\x1b\[[0-9;]*m/g, ''), new RegExp(`\\s${now}\\s`));
      assert.equal(screen.split('\n').filter((l) => l.includes('Every 1s')).length, 1, 'redrawn in place, not scrolled');
      // One frame later nothing changed in that cell: the highlight goes.
      await t.waitFor((s) => !new RegExp(`\x1b\\[7m${now}\\b`).test(a1Row(s)) && a1Row(s).includes(String(now)), 5000, { escapes: true });
      await t.send('q');
      screen = await t.waitFor(atPrompt);
      assert.doesNotMatch(screen, /Every 1s/);
      assert.match(screen, /> watch hap stat -b app -t server -n 1/);

      await t.send('wat hap st -n 1', 'Enter');
      await t.waitFor(/Every 1s: lbctl haproxy stat/);
      await t.send('Escape');
      await t.waitFor(atPrompt);
    } finally {
      await t.kill();
    }
  });

  it('disabling the last UP server asks; no changes nothing (exit 11), --yes goes ahead, others do not ask', async () => {
    const t = await startShell();
    try {
      await t.send('hap ser dis shopcart/only', 'Enter');
      await t.waitFor(/backend shopcart loses its last UP server \(only\).*Continue\?/);
      await t.send('n', 'Enter');
      await t.waitFor(/haproxy server disable cancelled; nothing changed/);
      await t.waitFor((s) => / \[exit 11\]>$/.test(lastLine(s)));
      const raw = await rawShowStat(hp.adminSocket);
      assert.equal(raw.get('shopcart/only')!.status, 'no check', 'still up after the declined question');

      // Not the last UP server: no question.
      await t.send('hap ser dis app/a1', 'Enter');
      await t.waitFor(/updated\s+app\/a1\s+ready -> maint/);
      assert.equal(await status('app/a1'), 'MAINT');
      // a2 is now app's last UP server: maint asks too; --yes skips the question.
      await t.send('hap ser mai app/a2 --yes', 'Enter');
      await t.waitFor(/updated\s+app\/a2\s+ready -> maint/);
      assert.equal(await status('app/a2'), 'MAINT');
      await t.send('hap ser ena app/a1 app/a2', 'Enter');
      await t.waitFor(/updated\s+app\/a2\s+maint -> ready/);
      assert.equal(await status('app/a1'), 'no check');
    } finally {
      await t.kill();
    }
  });

  it('Ctrl-C cancels the running command, not the shell: the drain wait stops polling, the server stays draining', async () => {
    // The shell talks to haproxy through a counting proxy, so the test sees whether it still polls.
    const proxy = await startCountingProxy(hp.adminSocket, path.join(hp.dir, 'lbr6-count.sock'));
    const t = await startShell(false, proxy.path);
    const a2 = servers[1];
    // Hold a session on a2 so that drain --wait blocks.
    const held = [httpGet(hp.frontendPort, '/slow'), httpGet(hp.frontendPort, '/slow')];
    try {
      const deadline = Date.now() + 5000;
      while (a2.held() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.ok(a2.held() > 0);
      await t.send('hap ser drain app/a2 --wait --timeout 60s', 'Enter');
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(await status('app/a2'), 'DRAIN');
      const polling = proxy.count(/^show stat /);
      assert.ok(polling >= 2, `drain --wait polls (${polling} polls)`);
      await t.send('C-c');
      await t.waitFor(/interrupted while waiting for app\/a2 to drain \(\d+ session\(s\) left\); left in drain/);
      await t.waitFor((s) => / \[exit 11\]>$/.test(lastLine(s)));
      assert.equal(await t.alive(), true);
      // The wait really stopped: no more polls, and haproxy still has a2 draining with its session.
      const after = proxy.count(/^show stat /);
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(proxy.count(/^show stat /), after, 'no poll after Ctrl-C');
      const raw = (await rawShowStat(hp.adminSocket)).get('app/a2')!;
      assert.equal(raw.status, 'DRAIN');
      assert.ok(Number(raw.scur) > 0);
      await t.send('hap ser rea app/a2', 'Enter');
      await t.waitFor(/updated\s+app\/a2\s+drain -> ready/);
      assert.equal(await status('app/a2'), 'no check');
    } finally {
      for (const s of servers) s.release();
      await Promise.allSettled(held);
      await t.kill();
      await proxy.close();
    }
  });
});
