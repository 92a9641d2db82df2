import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import { execa } from 'execa';
import { runLbctl, lbctlRoot } from '../../src/cli/inprocess.js';
import { rawShowStat, spread, startLabHaproxy, startLabServer, type LabHaproxy, type LabServer } from '../support/haproxy-lab.js';

/**
 * Bad input against a real haproxy: each case is one error line with its documented exit
 * code, and the raw `show stat` (status and weight of every server) is the same afterwards.
 */

let hp: LabHaproxy;
let servers: LabServer[];
let tmp: string;

before(async () => {
  servers = [await startLabServer('s1'), await startLabServer('s2')];
  hp = await startLabHaproxy({
    body: ['backend app', '  balance roundrobin', ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port}`), 'backend empty', '  balance roundrobin',
      'backend hashed', '  balance source', `  server h1 127.0.0.1:${servers[0].port} weight 4`].join('\n'),
    defaultBackend: 'app',
  });
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lbhp-err-'));
});
after(async () => {
  await hp?.stop();
  for (const s of servers ?? []) await s.close();
  if (tmp) await fs.rm(tmp, { recursive: true, force: true });
});

async function snapshot(): Promise<string> {
  const raw = await rawShowStat(hp.adminSocket);
  return [...raw.entries()].filter(([, r]) => r.svname !== 'FRONTEND').map(([k, r]) => `${k}=${r.status}/${r.weight}`).join(' ');
}

/** Run in-process and check: exit code, exactly one error line matching `msg`, nothing changed. */
async function expectError(argv: string[], exitCode: number, msg: RegExp): Promise<void> {
  const stateBefore = await snapshot();
  const r = await runLbctl(['haproxy', ...argv]);
  const errorLines = r.stderr.split('\n').filter((l) => l.includes('lbctl: error:'));
  assert.equal(r.exitCode, exitCode, `${argv.join(' ')}: ${r.stderr}`);
  assert.equal(errorLines.length, 1, r.stderr);
  assert.match(errorLines[0], msg);
  assert.equal(r.stdout, '', 'nothing on stdout for a human-mode error');
  assert.equal(await snapshot(), stateBefore, 'nothing changed');
  const j = await runLbctl(['haproxy', ...argv, '--json']);
  assert.equal(j.exitCode, exitCode);
  assert.equal(j.json?.error?.exitCode, exitCode, j.stdout);
}

describe('haproxy runtime: bad input', () => {
  it('missing socket -> Unavailable 6', async () => {
    await expectError(['info', '--socket', path.join(tmp, 'nope.sock')], 6, /no HAProxy runtime socket at .*nope\.sock/);
    await expectError(['server', 'disable', 'app/s1', '--socket', path.join(tmp, 'nope.sock')], 6, /no HAProxy runtime socket/);
  });

  it('a socket that is not haproxy -> Unavailable 6, saying what answered', async () => {
    const sockPath = path.join(tmp, 'http.sock');
    const srv = http.createServer((_q, res) => res.end('hi'));
    await new Promise<void>((r) => srv.listen(sockPath, r));
    const silentPath = path.join(tmp, 'silent.sock');
    const silent = net.createServer(() => { /* accepts and never answers */ });
    await new Promise<void>((r) => silent.listen(silentPath, r));
    try {
      await expectError(['info', '--socket', sockPath], 6, /answered "HTTP\/1\.1 400 Bad Request" to "show info": not the HAProxy runtime API/);
      await expectError(['stat', '--socket', sockPath], 6, /not the HAProxy runtime API/);
      await expectError(['server', 'disable', 'app/s1', '--socket', sockPath], 6, /answered "HTTP\/1\.1 400 Bad Request" to "prompt"/);
      await expectError(['info', '--socket', silentPath, '--socket-timeout', '300ms'], 6, /did not answer like haproxy within 0\.3s/);
      // A regular file where the socket should be.
      await fs.writeFile(path.join(tmp, 'file.sock'), 'x');
      await expectError(['info', '--socket', path.join(tmp, 'file.sock')], 6, /file\.sock is not a socket/);
    } finally {
      srv.close();
      silent.close();
    }
  });

  it('permission denied on the socket -> Permission 5 (root without capabilities, socket owned by nobody)', async () => {
    // Dropping every capability keeps uid 0 (so the checkout stays readable wherever CI puts it)
    // but loses CAP_DAC_OVERRIDE, so the socket's owner and mode apply.
    await fs.chown(hp.adminSocket, 65534, 65534);
    try {
      const before = await snapshot();
      for (const argv of [['info'], ['server', 'disable', 'app/s1']]) {
        const r = await execa('setpriv', ['--bounding-set=-all', process.execPath, path.join(lbctlRoot(), 'bin', 'run.js'), 'haproxy', ...argv, '--socket', hp.adminSocket], { reject: false });
        assert.equal(r.exitCode, 5, r.stderr);
        assert.match(r.stderr, /permission denied connecting to .*admin\.sock/);
      }
      assert.equal(await snapshot(), before);
    } finally {
      await fs.chown(hp.adminSocket, 0, 0);
    }
  });

  it('a level user socket: reads work, writes -> Permission 5', async () => {
    const r = await runLbctl(['haproxy', 'stat', '--socket', hp.userSocket, '--json']);
    assert.equal(r.exitCode, 0, r.stderr);
    await expectError(['server', 'disable', 'app/s1', '--socket', hp.userSocket], 5, /is a "level user" socket; this needs level admin/);
    await expectError(['server', 'weight', 'app/s1', '5', '--socket', hp.userSocket], 5, /level user/);
    await spread(hp.frontendPort, 2);
    await expectError(['clear', 'counters', '--socket', hp.userSocket], 5, /needs level operator/);
    await expectError(['clear', 'counters', '--all', '--socket', hp.userSocket], 5, /needs level admin/);
  });

  it('unknown backend or server -> NotFound 4', async () => {
    const s = ['--socket', hp.adminSocket];
    await expectError(['server', 'disable', 'nope/s1', ...s], 4, /no backend "nope"/);
    await expectError(['server', 'disable', 'app/s9', ...s], 4, /no server "s9" in backend "app" .*servers: s1, s2/);
    await expectError(['server', 'weight', 'app/s9', '3', ...s], 4, /no server "s9"/);
    await expectError(['stat', '--backend', 'nope', ...s], 4, /no backend or frontend "nope"/);
    // One bad name among good ones: the good ones must not change either.
    await expectError(['server', 'drain', 'app/s1', 'app/s9', ...s], 4, /no server "s9"/);
  });

  it('weight 300, -1, junk and a percentage above 256 -> Usage 2', async () => {
    const s = ['--socket', hp.adminSocket];
    await expectError(['server', 'weight', 'app/s1', '300', ...s], 2, /weight 300 is out of range/);
    await expectError(['server', 'weight', 'app/s1', '-1', ...s], 2, /weight "-1" is not a number 0-256/);
    await expectError(['server', 'weight', 'app/s1', 'heavy', ...s], 2, /weight "heavy"/);
    await expectError(['server', 'weight', 'app/s1', '30000%', ...s], 2, /above 256/);
    await expectError(['server', 'disable', 'app;shutdown/s1', ...s], 2, /is not BACKEND\/SERVER/);
  });

  it('a weight haproxy refuses (static algorithm) -> Rejected 7', async () => {
    await expectError(['server', 'weight', 'hashed/h1', '2', '--socket', hp.adminSocket], 7, /haproxy refused "set weight hashed\/h1 2": Backend is using a static LB algorithm/);
  });

  it('--all-in with no match -> NotFound 4', async () => {
    const s = ['--socket', hp.adminSocket];
    await expectError(['server', 'disable', '--all-in', 'app', '--except', 's*', ...s], 4, /--all-in app --except s\* matches no server/);
    await expectError(['server', 'disable', '--all-in', 'empty', ...s], 4, /--all-in empty matches no server/);
    await expectError(['server', 'disable', '--all-in', 'nope', ...s], 4, /no backend "nope"/);
  });
});
