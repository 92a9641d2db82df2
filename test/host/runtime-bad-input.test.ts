import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { execa } from 'execa';
import { lbctlRoot, runLbctl } from '../../src/cli/inprocess.js';
import { rawCommand, startLabHaproxy, startLabServer, type LabHaproxy, type LabServer } from '../support/haproxy-lab.js';

/**
 * The HAProxy / shell / watch bad-input catalogue, table-driven against a real haproxy on
 * loopback. Every case: the documented exit code (never 1), one error line on stderr (or the
 * JSON error under --json), and haproxy's server states unchanged, read raw before and after.
 */

let hp: LabHaproxy;
let servers: LabServer[];
let tmp: string;
const peers: Array<net.Server | http.Server> = [];
const S: Record<string, string> = {};

async function listen(server: net.Server | http.Server, file: string): Promise<string> {
  await new Promise<void>((r) => server.listen(file, r));
  peers.push(server);
  return file;
}

before(async () => {
  servers = [await startLabServer('s1'), await startLabServer('s2')];
  hp = await startLabHaproxy({
    prefix: 'lbr6-',
    body: ['backend app', '  balance roundrobin', ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port}`),
      'backend hashed', '  balance source', `  server h1 127.0.0.1:${servers[0].port} weight 4`].join('\n'),
    defaultBackend: 'app',
  });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lbr6-bad-'));
  // The default socket of every case without --socket.
  process.env.LBCTL_HAPROXY_SOCKET = hp.adminSocket;
  S.admin = hp.adminSocket;
  S.user = hp.userSocket;
  S.missing = path.join(tmp, 'missing.sock');
  S.dir = path.join(tmp, 'a-directory');
  await fs.mkdir(S.dir);
  S.file = path.join(tmp, 'regular-file');
  await fs.writeFile(S.file, 'not a socket\n');
  S.http = await listen(http.createServer((_q, res) => res.end('hi')), path.join(tmp, 'http.sock'));
  S.silent = await listen(net.createServer(() => { /* never answers */ }), path.join(tmp, 'silent.sock'));
  S.closer = await listen(net.createServer((c) => c.destroy()), path.join(tmp, 'closer.sock'));
  S.flood = await listen(net.createServer({ allowHalfOpen: true }, (c) => {
    c.on('error', () => {});
    const chunk = Buffer.alloc(64 * 1024, 'F');
    const pump = () => { while (!c.destroyed && c.write(chunk)); };
    c.on('drain', pump);
    pump();
  }), path.join(tmp, 'flood.sock'));
  S.nuls = await listen(net.createServer({ allowHalfOpen: true }, (c) => { c.on('error', () => {}); c.end(Buffer.alloc(300, 0)); }), path.join(tmp, 'nuls.sock'));
});

after(async () => {
  delete process.env.LBCTL_HAPROXY_SOCKET;
  for (const p of peers) p.close();
  await hp?.stop();
  for (const s of servers ?? []) await s.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

/** haproxy's server states, raw: `show servers state` without its clock column, and status/weight from `show stat`. */
async function snapshot(): Promise<string> {
  const state = (await rawCommand(hp.adminSocket, 'show servers state')).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const cells = l.split(' ');
    if (cells.length > 9) cells[9] = '-'; // srv_time_since_last_change
    return cells.join(' ');
  });
  const stat = (await rawCommand(hp.adminSocket, 'show stat')).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => {
    const c = l.split(',');
    return `${c[0]}/${c[1]}=${c[17]}/${c[18]}`;
  });
  return [...state, ...stat].join('\n');
}

interface Case { argv: string[]; exit: number; msg: RegExp; json?: boolean }

/** `lbctl haproxy ...` cases; `@name` is replaced by that socket's path. */
const HAPROXY: Case[] = [
  // unknown backend / server
  { argv: ['server', 'disable', 'app/nosuch'], exit: 4, msg: /no server "nosuch" in backend "app"/ },
  { argv: ['server', 'disable', 'nosuch/s1'], exit: 4, msg: /no backend "nosuch"/ },
  { argv: ['server', 'enable', 'nosuch/s1'], exit: 4, msg: /no backend "nosuch"/ },
  { argv: ['server', 'drain', 'app/nosuch', '--wait'], exit: 4, msg: /no server "nosuch"/ },
  { argv: ['server', 'maint', 'app/s1', 'app/nosuch'], exit: 4, msg: /no server "nosuch"/ },
  { argv: ['server', 'weight', 'app/nosuch', '10'], exit: 4, msg: /no server "nosuch"/ },
  { argv: ['server', 'disable', '--all-in', 'nosuch'], exit: 4, msg: /no backend "nosuch"/ },
  { argv: ['server', 'disable', '--all-in', 'app', '--except', 's*'], exit: 4, msg: /matches no server/ },
  { argv: ['stat', '-b', 'nosuch'], exit: 4, msg: /no backend or frontend "nosuch"/ },
  { argv: ['health', '-b', 'nosuch'], exit: 4, msg: /no backend or frontend "nosuch"/ },
  // bad weights and server references
  { argv: ['server', 'weight', 'app/s1', '300'], exit: 2, msg: /weight 300 is out of range/ },
  { argv: ['server', 'weight', 'app/s1', '257'], exit: 2, msg: /weight 257 is out of range/ },
  { argv: ['server', 'weight', 'app/s1', '-1'], exit: 2, msg: /-1/ },
  { argv: ['server', 'weight', 'app/s1', 'abc'], exit: 2, msg: /weight "abc" is not a number/ },
  { argv: ['server', 'weight', 'app/s1', '1.5'], exit: 2, msg: /weight "1\.5" is not a number/ },
  { argv: ['server', 'weight', 'app/s1', ''], exit: 2, msg: /weight "" is not a number/ },
  { argv: ['server', 'weight', 'hashed/h1', '9999%'], exit: 2, msg: /9999% of initial weight 4 is 399, above 256/ },
  { argv: ['server', 'weight', 'app/s1'], exit: 2, msg: /Missing 1 required arg/ },
  { argv: ['server', 'weight', 'app', '10'], exit: 2, msg: /"app" is not BACKEND\/SERVER/ },
  { argv: ['server', 'weight', 'app/s1;shutdown', '10'], exit: 2, msg: /is not BACKEND\/SERVER/ },
  { argv: ['server', 'disable', 'app/s1\nshutdown sessions server app/s2'], exit: 2, msg: /is not BACKEND\/SERVER/ },
  { argv: ['server', 'disable', 'app/*'], exit: 2, msg: /is not BACKEND\/SERVER/ },
  { argv: ['server', 'maint', 'app/s1', 'bogus'], exit: 2, msg: /"bogus" is not BACKEND\/SERVER/ },
  { argv: ['server', 'disable'], exit: 2, msg: /name a server/ },
  { argv: ['server', 'enable', '--except', 's1'], exit: 2, msg: /all-in/ },
  { argv: ['server', 'weight', 'hashed/h1', '2'], exit: 7, msg: /haproxy refused "set weight hashed\/h1 2"/ },
  // bad durations and flags
  { argv: ['server', 'drain', 'app/s1', '--timeout', '5s'], exit: 2, msg: /--wait/ },
  { argv: ['server', 'drain', 'app/s1', '--wait', '--timeout', 'abc'], exit: 2, msg: /--timeout "abc" is not a duration/ },
  { argv: ['server', 'drain', 'app/s1', '--wait', '--timeout', '0'], exit: 2, msg: /--timeout 0 is out of range/ },
  { argv: ['server', 'drain', 'app/s1', '--wait', '--timeout', '5x'], exit: 2, msg: /not a duration/ },
  { argv: ['server', 'drain', 'app/s1', '--wait', '--timeout', '9999h'], exit: 2, msg: /out of range/ },
  { argv: ['server', 'ready', 'app/s1', '--wait'], exit: 2, msg: /Nonexistent flag: --wait/ },
  { argv: ['info', '--socket-timeout', 'abc'], exit: 2, msg: /--socket-timeout "abc" is not a duration/ },
  { argv: ['info', '--socket-timeout', '10ms'], exit: 2, msg: /--socket-timeout 10ms is out of range/ },
  { argv: ['server', 'disable', 'app/s1', '--socket-timeout', '2h'], exit: 2, msg: /out of range/ },
  { argv: ['stat', '--type', 'bogus'], exit: 2, msg: /bogus/ },
  { argv: ['info', '--bogus'], exit: 2, msg: /Nonexistent flag: --bogus/ },
  // bad sockets
  { argv: ['info', '--socket', '@missing'], exit: 6, msg: /no HAProxy runtime socket at .*missing\.sock/ },
  { argv: ['server', 'disable', 'app/s1', '--socket', '@missing'], exit: 6, msg: /no HAProxy runtime socket/ },
  { argv: ['info', '--socket', '@dir'], exit: 6, msg: /a-directory is not a socket/ },
  { argv: ['info', '--socket', '@file'], exit: 6, msg: /regular-file is not a socket/ },
  { argv: ['server', 'weight', 'app/s1', '10', '--socket', '@file'], exit: 6, msg: /is not a socket/ },
  { argv: ['info', '--socket', '@http'], exit: 6, msg: /answered "HTTP\/1\.1 400 Bad Request" to "show info": not the HAProxy runtime API/ },
  { argv: ['stat', '--socket', '@http'], exit: 6, msg: /not the HAProxy runtime API/ },
  { argv: ['server', 'disable', 'app/s1', '--socket', '@http'], exit: 6, msg: /to "prompt": not the HAProxy runtime API/ },
  { argv: ['info', '--socket', '@silent', '--socket-timeout', '300ms'], exit: 6, msg: /did not answer like haproxy within 0\.3s/ },
  { argv: ['server', 'drain', 'app/s1', '--socket', '@silent', '--socket-timeout', '300ms'], exit: 6, msg: /did not answer like haproxy within 0\.3s/ },
  { argv: ['info', '--socket', '@closer'], exit: 6, msg: /answered nothing to "show info"/ },
  { argv: ['info', '--socket', '@nuls'], exit: 6, msg: /answered "\?+(\.\.\.)?" to "show info"/ },
  { argv: ['info', '--socket', '@flood', '--socket-timeout', '1s'], exit: 6, msg: /sent more than 1 MiB in answer to "show info"/ },
  { argv: ['backends', '--socket', '@flood', '--socket-timeout', '1s'], exit: 6, msg: /sent more than 64 MiB in answer to "show backend"|flood\.sock did not answer like haproxy within 1s/ },
  { argv: ['server', 'weight', 'app/s1', '10', '--socket', '@flood'], exit: 6, msg: /sent more than 64 KiB in answer to "prompt"/ },
  { argv: ['info', '--socket', '1.2.3.4:70000'], exit: 2, msg: /bad port/ },
  { argv: ['info', '--socket', 'ipv4@nonsense'], exit: 2, msg: /cannot parse socket address/ },
  // level too low
  { argv: ['server', 'disable', 'app/s1', '--socket', '@user'], exit: 5, msg: /"level user" socket; this needs level admin/ },
  { argv: ['server', 'weight', 'app/s1', '10', '--socket', '@user'], exit: 5, msg: /level user/ },
  { argv: ['clear', 'counters', '--all', '--socket', '@user'], exit: 5, msg: /level user/ },
];

/** `lbctl watch ...`: refused before anything runs (watch has no --json). */
const WATCH: Case[] = [
  { argv: ['haproxy', 'server', 'disable', 'app/s1'], exit: 2, msg: /read commands only, and "haproxy server disable" changes state/ },
  { argv: ['haproxy', 'server', 'weight', 'app/s1', '10'], exit: 2, msg: /read commands only/ },
  { argv: ['hap', 'ser', 'dra', 'app/s1', '-n', '1'], exit: 2, msg: /"haproxy server drain" changes state/ },
  { argv: ['haproxy', 'clear', 'counters'], exit: 2, msg: /read commands only/ },
  { argv: ['clear', '--yes'], exit: 2, msg: /"clear" changes state/ },
  { argv: ['service', 'add', '-t', '10.0.0.1:80'], exit: 2, msg: /"service add" changes state/ },
  { argv: ['restore', '/dev/null'], exit: 2, msg: /"restore" changes state/ },
  { argv: ['watch', 'list'], exit: 2, msg: /cannot watch "watch"/ },
  { argv: ['haproxy', 'stat', '-n', '0'], exit: 2, msg: /at least 0\.1/ },
  { argv: ['haproxy', 'stat', '--json'], exit: 2, msg: /--json is for one-shot reads/ },
  { argv: [], exit: 2, msg: /Missing 1 required arg|needs a command/ },
];

/** Lines for `lbctl shell` in script mode (stdin): each its own run. */
const SHELL: Case[] = [
  { argv: ['haproxy server disable "app/s1'], exit: 2, msg: /unterminated double quote/ },
  { argv: ["haproxy server weight 'app/s1 10"], exit: 2, msg: /unterminated single quote/ },
  { argv: ['nosuchcommand'], exit: 2, msg: /nosuchcommand/ },
  { argv: ['hap ser dis app/nosuch'], exit: 4, msg: /no server "nosuch"/ },
  { argv: ['hap ser wei app/s1 300'], exit: 2, msg: /out of range/ },
  { argv: ['watch haproxy server disable app/s1'], exit: 2, msg: /read commands only/ },
  { argv: ['shell'], exit: 2, msg: /already in the lbctl shell/ },
  { argv: ['hap info --socket-timeout 1x'], exit: 2, msg: /not a duration/ },
  { argv: ['hap ser ena app/s1', 'hap ser wei app/s1 abc', 'hap ser dis app/s1'], exit: 2, msg: /weight "abc"/ },
];

const sub = (argv: string[]) => argv.map((a) => (a.startsWith('@') && S[a.slice(1)] ? S[a.slice(1)] : a));
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.trim());

describe('runtime / shell / watch bad input (real haproxy)', () => {
  it(`has at least 50 cases (${HAPROXY.length + WATCH.length + SHELL.length})`, () => {
    assert.ok(HAPROXY.length + WATCH.length + SHELL.length >= 50);
  });

  for (const c of HAPROXY) {
    it(`haproxy ${c.argv.join(' ').replace(/\n/g, '\\n')} -> ${c.exit}`, async () => {
      const before = await snapshot();
      const r = await runLbctl(['haproxy', ...sub(c.argv)]);
      assert.equal(r.exitCode, c.exit, r.stderr);
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, `one error line: ${r.stderr}`);
      assert.match(lines[0], /lbctl: error: /);
      assert.match(lines[0], c.msg);
      assert.equal(r.stdout, '');
      const j = await runLbctl(['haproxy', ...sub(c.argv), '--json']);
      assert.equal(j.exitCode, c.exit, j.stdout + j.stderr);
      assert.equal(j.json?.error?.exitCode, c.exit, j.stdout);
      assert.match(j.json.error.message, /\S/);
      assert.equal(await snapshot(), before, 'haproxy server states unchanged');
    });
  }

  for (const c of WATCH) {
    it(`watch ${c.argv.join(' ')} -> ${c.exit}`, async () => {
      const before = await snapshot();
      const t0 = Date.now();
      const r = await runLbctl(['watch', ...c.argv]);
      assert.equal(r.exitCode, c.exit, r.stderr);
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], c.msg);
      assert.equal(r.stdout, '', 'no frame drawn');
      assert.ok(Date.now() - t0 < 5000);
      assert.equal(await snapshot(), before, 'haproxy server states unchanged');
    });
  }

  const bin = path.join(lbctlRoot(), 'bin', 'run.js');
  for (const c of SHELL) {
    it(`shell script: ${c.argv.join(' | ')} -> ${c.exit}`, async () => {
      const before = await snapshot();
      const r = await execa(process.execPath, [bin, 'shell', '--socket', hp.adminSocket], { input: `${c.argv.join('\n')}\n`, reject: false, env: { NO_COLOR: '1' } });
      assert.equal(r.exitCode, c.exit, r.stderr);
      const lines = errorLines(r.stderr);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], c.msg);
      assert.equal(await snapshot(), before, 'haproxy server states unchanged');
    });
  }
});
