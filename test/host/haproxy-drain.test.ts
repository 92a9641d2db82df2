import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { AbortedError } from '../../src/cli/errors.js';
import { setServerState } from '../../src/haproxy/runtime-ops.js';
import { httpGet, rawShowStat, startLabHaproxy, startLabServer, type LabServer } from '../support/haproxy-lab.js';

/**
 * `lbctl haproxy server drain --wait` as a real process: it returns when the long-lived
 * connection on the drained server closes, and exits 8 (Timeout) when it does not.
 */

async function withOneSlowRequest(fn: (ctx: { sock: string; holder: LabServer; slow: Promise<{ status: number; body: string }> }) => Promise<void>): Promise<void> {
  const servers = [await startLabServer('s1'), await startLabServer('s2')];
  const hp = await startLabHaproxy({
    body: ['backend app', '  balance roundrobin', ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port}`)].join('\n'),
    defaultBackend: 'app',
  });
  try {
    const slow = httpGet(hp.frontendPort, '/slow');
    let holder: LabServer | undefined;
    for (let i = 0; i < 100 && !holder; i++) { holder = servers.find((s) => s.held() > 0); await new Promise((r) => setTimeout(r, 20)); }
    assert.ok(holder, 'the slow request reached a server');
    await fn({ sock: hp.adminSocket, holder, slow });
  } finally {
    for (const s of servers) s.release();
    await hp.stop();
    for (const s of servers) await s.close();
  }
}

function lbctl(...argv: string[]) {
  return execa(process.execPath, [path.join(lbctlRoot(), 'bin', 'run.js'), 'haproxy', ...argv], { reject: false });
}

describe('haproxy server drain --wait', () => {
  it('returns once the long-lived connection closes', async () => {
    await withOneSlowRequest(async ({ sock, holder, slow }) => {
      const started = Date.now();
      const run = lbctl('server', 'drain', `app/${holder.name}`, '--wait', '--timeout', '20s', '--socket', sock, '--json');
      // Once draining (node start-up may be slow on a busy machine), still waiting while the connection is open.
      for (let i = 0; i < 200 && (await rawShowStat(sock)).get(`app/${holder.name}`)!.status !== 'DRAIN'; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(run.exitCode, null, 'drain --wait must not return while a session is open');
      assert.equal((await rawShowStat(sock)).get(`app/${holder.name}`)!.status, 'DRAIN');
      const releasedAt = Date.now();
      holder.release();
      assert.equal((await slow).status, 200);
      const r = await run;
      assert.equal(r.exitCode, 0, r.stderr);
      const json = JSON.parse(r.stdout);
      assert.equal(json.changed, true);
      assert.equal(json.wait.sessions, 0);
      assert.ok(json.wait.waitedSeconds >= 0.3, `waited ${json.wait.waitedSeconds}s`);
      assert.ok(Date.now() - releasedAt < 3000, 'returned soon after the connection closed');
      assert.ok(Date.now() - started < 20_000);
    });
  });

  it('times out with exit 8 and leaves the server draining', async () => {
    await withOneSlowRequest(async ({ sock, holder }) => {
      const t0 = Date.now();
      const r = await lbctl('server', 'drain', `app/${holder.name}`, '--wait', '--timeout', '1s', '--socket', sock);
      assert.equal(r.exitCode, 8, r.stderr);
      assert.match(r.stderr, new RegExp(`app/${holder.name} still had 1 session\\(s\\) after 1s; left in drain`));
      assert.ok(Date.now() - t0 >= 1000);
      const raw = (await rawShowStat(sock)).get(`app/${holder.name}`)!;
      assert.deepEqual([raw.status, raw.scur], ['DRAIN', '1']);
      // Rerun: already draining (unchanged), and an already-empty server returns at once.
      const again = await lbctl('server', 'drain', `app/${holder.name}`, '--socket', sock, '--json');
      assert.equal(JSON.parse(again.stdout).changed, false);
    });
  });

  it('an aborted wait stops polling at once, exits 11 and leaves the server draining', async () => {
    await withOneSlowRequest(async ({ sock, holder }) => {
      const controller = new AbortController();
      let polls = 0;
      const run = setServerState({
        socket: sock, action: 'drain', refs: [`app/${holder.name}`], wait: true, waitTimeoutMs: 60_000, pollMs: 50,
        signal: controller.signal, onProgress: () => { polls++; },
      });
      await new Promise((r) => setTimeout(r, 600));
      assert.ok(polls >= 2, `polled ${polls} times before the abort`);
      const abortedAt = Date.now();
      controller.abort();
      await assert.rejects(run, (e: any) => {
        assert.ok(e instanceof AbortedError, String(e));
        assert.equal(e.exitCode, 11);
        assert.match(e.message, new RegExp(`interrupted while waiting for app/${holder.name} to drain \\(1 session\\(s\\) left\\); left in drain`));
        return true;
      });
      assert.ok(Date.now() - abortedAt < 500, 'stopped at once');
      const pollsAtAbort = polls;
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(polls, pollsAtAbort, 'no poll after the abort');
      const raw = (await rawShowStat(sock)).get(`app/${holder.name}`)!;
      assert.deepEqual([raw.status, raw.scur], ['DRAIN', '1'], 'left draining, the in-flight request untouched');
    });
  });

  it('aborted before the write: nothing changes', async () => {
    await withOneSlowRequest(async ({ sock, holder }) => {
      const before = (await rawShowStat(sock)).get(`app/${holder.name}`)!.status;
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(setServerState({ socket: sock, action: 'drain', refs: [`app/${holder.name}`], wait: true, signal: controller.signal }), (e: any) => e.exitCode === 11 && /nothing changed/.test(e.message));
      assert.equal((await rawShowStat(sock)).get(`app/${holder.name}`)!.status, before);
      assert.notEqual(before, 'DRAIN');
    });
  });
});
