import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { runLbctl } from '../../src/cli/inprocess.js';
import { httpGet, rawCommand, rawShowStat, spread, startLabHaproxy, startLabServer, type LabHaproxy, type LabServer } from '../support/haproxy-lab.js';
import { OneShotChannel, RuntimeSession } from '../../src/haproxy/runtime.js';
import { openRuntimeSession } from '../../src/haproxy/runtime-ops.js';
import { parseShowStat } from '../../src/haproxy/stat.js';

/**
 * lbctl haproxy * against a real haproxy 2.6 on loopback. Every effect is checked through a
 * second channel: `show stat` read raw over the socket (lab.rawShowStat) and real traffic.
 */

interface Lab { hp: LabHaproxy; servers: Record<string, LabServer>; sock: string }

async function withLab(names: string[], serverLine: (s: LabServer) => string, fn: (lab: Lab) => Promise<void>, extra = ''): Promise<void> {
  const servers: Record<string, LabServer> = {};
  for (const n of names) servers[n] = await startLabServer(n);
  const body = ['backend app', '  balance roundrobin', ...names.map((n) => `  ${serverLine(servers[n])}`), extra].join('\n');
  const hp = await startLabHaproxy({ body, defaultBackend: 'app' });
  try {
    await fn({ hp, servers, sock: hp.adminSocket });
  } finally {
    await hp.stop();
    for (const s of Object.values(servers)) await s.close();
  }
}
const plain = (s: LabServer) => `server ${s.name} 127.0.0.1:${s.port}`;

async function lb(sock: string, ...argv: string[]) {
  const r = await runLbctl(['haproxy', ...argv, '--socket', sock, '--json']);
  return r;
}

async function rawStatus(sock: string, ref: string): Promise<string> {
  return (await rawShowStat(sock)).get(ref)?.status ?? 'absent';
}

describe('haproxy runtime: read commands', () => {
  it('info, stat, backends agree with raw show stat; numbers are numbers', async () => {
    await withLab(['s1', 's2'], plain, async ({ hp, sock }) => {
      await spread(hp.frontendPort, 4);
      const info = await lb(sock, 'info');
      assert.equal(info.exitCode, 0, info.stderr);
      assert.match(info.json.version.text, /^2\.6\./);
      assert.equal(info.json.version.major, 2);
      assert.equal(typeof info.json.info.Pid, 'number');
      assert.equal(info.json.info.Pid, hp.process.pid);

      const stat = await lb(sock, 'stat');
      assert.equal(stat.exitCode, 0, stat.stderr);
      const raw = await rawShowStat(sock);
      assert.equal(stat.json.rows.length, raw.size);
      const s1 = stat.json.rows.find((r: any) => r.pxname === 'app' && r.svname === 's1');
      assert.equal(s1.type, 'server');
      assert.equal(s1.stot, Number(raw.get('app/s1')!.stot));
      assert.equal(s1.stot, 2);
      assert.equal(typeof s1.bin, 'number');

      const servers = await lb(sock, 'stat', '--backend', 'app', '--type', 'server');
      assert.deepEqual(servers.json.rows.map((r: any) => r.svname), ['s1', 's2']);

      const human = await runLbctl(['haproxy', 'stat', '--socket', sock]);
      assert.match(human.stdout, /app\/s1\s+server\s+no check/);

      const be = await lb(sock, 'backends');
      assert.equal(be.exitCode, 0, be.stderr);
      assert.deepEqual(be.json.backends.map((b: any) => [b.name, b.servers, b.up, b.totalSessions]), [['app', 2, 2, 4]]);
    });
  });

  it('finds the socket from LBCTL_HAPROXY_SOCKET and from the stats socket line of haproxy.cfg', async () => {
    await withLab(['s1'], plain, async ({ hp }) => {
      const saved = { ...process.env };
      try {
        process.env.LBCTL_HAPROXY_SOCKET = hp.adminSocket;
        let r = await runLbctl(['haproxy', 'info', '--json']);
        assert.equal(r.json.socket, hp.adminSocket);
        delete process.env.LBCTL_HAPROXY_SOCKET;
        process.env.LBCTL_HAPROXY_CFG = hp.cfgFile;
        r = await runLbctl(['haproxy', 'info', '--json']);
        // The admin-level line wins over the user-level one listed first.
        assert.equal(r.json.socket, hp.adminSocket, r.stdout + r.stderr);
        process.env.LBCTL_HAPROXY_CFG = path.join(hp.dir, 'missing.cfg');
        r = await runLbctl(['haproxy', 'info']);
        assert.equal(r.exitCode, 6);
        assert.match(r.stderr, /missing\.cfg is missing/);
      } finally {
        for (const k of ['LBCTL_HAPROXY_SOCKET', 'LBCTL_HAPROXY_CFG']) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; }
      }
    });
  });

  it('health: exit 9 with the failing server listed while a check fails, 0 once it is in maintenance', async () => {
    const checked = (s: LabServer) => `server ${s.name} 127.0.0.1:${s.name === 'dead' ? 1 : s.port} check inter 100 fall 1 rise 1`;
    await withLab(['s1', 'dead'], checked, async ({ sock }) => {
      for (let i = 0; i < 50 && (await rawStatus(sock, 'app/dead')) !== 'DOWN'; i++) await new Promise((r) => setTimeout(r, 50));
      const r = await lb(sock, 'health');
      assert.equal(r.exitCode, 9, r.stdout + r.stderr);
      assert.equal(r.json.ok, false);
      const dead = r.json.servers.find((s: any) => s.server === 'dead');
      assert.equal(dead.state, 'down');
      assert.equal(dead.checkStatus, 'L4CON');
      assert.equal(typeof dead.secondsInState, 'number');
      assert.equal(r.json.servers.find((s: any) => s.server === 's1').state, 'up');
      const human = await runLbctl(['haproxy', 'health', '--socket', sock]);
      assert.equal(human.exitCode, 9);
      assert.match(human.stderr, /1 server\(s\) DOWN: app\/dead/);

      assert.equal((await lb(sock, 'server', 'maint', 'app/dead')).exitCode, 0);
      const after = await lb(sock, 'health');
      assert.equal(after.exitCode, 0, after.stdout);
      assert.equal(after.json.maint, 1);
    }, '  option httpchk GET /health');
  });
});

describe('haproxy runtime: server state, shown by raw show stat and by traffic', () => {
  it('disable: the server gets no requests; enable: it gets them again; each twice -> unchanged', async () => {
    await withLab(['s1', 's2'], plain, async ({ hp, sock }) => {
      const first = await lb(sock, 'server', 'disable', 'app/s1');
      assert.equal(first.exitCode, 0, first.stderr);
      assert.equal(first.json.changed, true);
      assert.deepEqual(first.json.servers.map((s: any) => [s.action, s.before.admin, s.after.admin]), [['updated', 'ready', 'maint']]);
      assert.equal(await rawStatus(sock, 'app/s1'), 'MAINT');
      assert.deepEqual(await spread(hp.frontendPort, 10), { s2: 10 });

      const again = await runLbctl(['haproxy', 'server', 'disable', 'app/s1', '--socket', sock]);
      assert.equal(again.exitCode, 0);
      assert.match(again.stdout, /unchanged\s+app\/s1\s+already maint/);
      const againJson = await lb(sock, 'server', 'disable', 'app/s1');
      assert.equal(againJson.json.changed, false);

      const en = await lb(sock, 'server', 'enable', 'app/s1');
      assert.equal(en.json.changed, true);
      assert.equal(await rawStatus(sock, 'app/s1'), 'no check');
      assert.deepEqual(await spread(hp.frontendPort, 10), { s1: 5, s2: 5 });
      assert.equal((await lb(sock, 'server', 'enable', 'app/s1')).json.changed, false);
    });
  });

  it('maint and ready; --all-in with --except', async () => {
    await withLab(['s1', 's2', 's3'], plain, async ({ hp, sock }) => {
      const m = await lb(sock, 'server', 'maint', '--all-in', 'app', '--except', 's1');
      assert.equal(m.exitCode, 0, m.stderr);
      assert.deepEqual(m.json.servers.map((s: any) => s.server), ['s2', 's3']);
      const raw = await rawShowStat(sock);
      assert.deepEqual(['s1', 's2', 's3'].map((s) => raw.get(`app/${s}`)!.status), ['no check', 'MAINT', 'MAINT']);
      assert.deepEqual(await spread(hp.frontendPort, 6), { s1: 6 });
      assert.equal((await lb(sock, 'server', 'maint', '--all-in', 'app', '--except', 's1')).json.changed, false);

      const r = await lb(sock, 'server', 'ready', '--all-in', 'app');
      assert.deepEqual(r.json.servers.map((s: any) => s.action), ['unchanged', 'updated', 'updated']);
      assert.equal(r.json.changed, true);
      assert.deepEqual(await spread(hp.frontendPort, 6), { s1: 2, s2: 2, s3: 2 });
      assert.equal((await lb(sock, 'server', 'ready', '--all-in', 'app')).json.changed, false);
    });
  });

  it('drain: the established connection is kept and finishes, new requests go elsewhere', async () => {
    await withLab(['s1', 's2'], plain, async ({ hp, servers, sock }) => {
      const slow = httpGet(hp.frontendPort, '/slow');
      const holder = await waitForHeld(servers);
      const other = holder === 's1' ? 's2' : 's1';
      const d = await lb(sock, 'server', 'drain', `app/${holder}`);
      assert.equal(d.json.changed, true);
      const raw = (await rawShowStat(sock)).get(`app/${holder}`)!;
      assert.equal(raw.status, 'DRAIN');
      assert.equal(raw.scur, '1');
      assert.deepEqual(await spread(hp.frontendPort, 6), { [other]: 6 });
      servers[holder].release();
      assert.deepEqual(await slow, { status: 200, body: `${holder} ${holder}` });
      assert.equal((await lb(sock, 'server', 'drain', `app/${holder}`)).json.changed, false);
      assert.equal((await lb(sock, 'server', 'ready', `app/${holder}`)).json.changed, true);
    });
  });

  it('weight N and N%: raw weight changes and traffic shifts; twice -> unchanged', async () => {
    await withLab(['s1', 's2'], (s) => `server ${s.name} 127.0.0.1:${s.port} weight 10`, async ({ hp, sock }) => {
      const w = await lb(sock, 'server', 'weight', 'app/s1', '30');
      assert.equal(w.exitCode, 0, w.stderr);
      // One shape for every server write (README, "HAProxy runtime operations"): servers[] with before/after.
      assert.deepEqual([w.json.servers[0].before.weight, w.json.servers[0].after.weight, w.json.servers[0].initialWeight, w.json.changed], [10, 30, 10, true]);
      assert.equal((await rawShowStat(sock)).get('app/s1')!.weight, '30');
      const c = await spread(hp.frontendPort, 40);
      assert.deepEqual(c, { s1: 30, s2: 10 });
      assert.equal((await lb(sock, 'server', 'weight', 'app/s1', '30')).json.servers[0].action, 'unchanged');

      const p = await lb(sock, 'server', 'weight', 'app/s1', '50%');
      assert.deepEqual([p.json.servers[0].after.weight, p.json.changed], [5, true]);
      assert.equal((await rawShowStat(sock)).get('app/s1')!.weight, '5');
      assert.equal((await lb(sock, 'server', 'weight', 'app/s1', '50%')).json.changed, false);
      const c2 = await spread(hp.frontendPort, 30);
      assert.deepEqual(c2, { s1: 10, s2: 20 });
    });
  });

  it('clear counters (max) and clear counters --all: raw counters drop to 0; twice -> unchanged', async () => {
    await withLab(['s1', 's2'], plain, async ({ hp, sock }) => {
      await spread(hp.frontendPort, 6);
      assert.equal((await rawShowStat(sock)).get('app/s1')!.smax, '1');
      const m = await lb(sock, 'clear', 'counters');
      assert.equal(m.exitCode, 0, m.stderr);
      assert.equal(m.json.changed, true);
      let raw = (await rawShowStat(sock)).get('app/s1')!;
      assert.equal(raw.smax, '0');
      assert.equal(raw.stot, '3', 'max-only clear keeps the totals');
      assert.equal((await lb(sock, 'clear', 'counters')).json.changed, false);

      const a = await lb(sock, 'clear', 'counters', '--all');
      assert.equal(a.json.changed, true);
      raw = (await rawShowStat(sock)).get('app/s1')!;
      assert.equal(raw.stot, '0');
      assert.equal((await rawShowStat(sock)).get('fe/FRONTEND')!.stot, '0');
      const again = await runLbctl(['haproxy', 'clear', 'counters', '--all', '--socket', sock]);
      assert.match(again.stdout, /unchanged/);
    });
  });
});

describe('haproxy runtime client', () => {
  it('prompt session: several commands on one connection give the same answers as one-shot', async () => {
    await withLab(['s1'], plain, async ({ sock }) => {
      const session = await RuntimeSession.open({ kind: 'unix', path: sock });
      const one = new OneShotChannel({ kind: 'unix', path: sock });
      try {
        const [a, b, c] = await Promise.all([session.send('show backend'), session.send('get weight app/s1'), session.send('show stat')]);
        assert.equal(a, await one.send('show backend'));
        assert.equal(b, '1 (initial 1)\n\n');
        assert.equal(parseShowStat(c).length, parseShowStat(await one.send('show stat')).length);
        assert.equal(await session.send('set weight app/s1 2'), '\n');
        assert.equal((await rawCommand(sock, 'get weight app/s1')).trim(), '2 (initial 1)');
      } finally {
        await session.close();
      }
      await assert.rejects(session.send('show info'), /closed/);
    });
  });

  it('openRuntimeSession reports version and level; host:port sockets work like unix ones', async () => {
    const servers = [await startLabServer('s1')];
    const hp = await startLabHaproxy({ body: `backend app\n  server s1 127.0.0.1:${servers[0].port}`, defaultBackend: 'app', tcpSocket: true });
    try {
      for (const [socket, level] of [[hp.userSocket, 'user'], [hp.adminSocket, 'admin'], [hp.tcpSocket!, 'admin']]) {
        const open = await openRuntimeSession({ socket });
        assert.deepEqual([open.level, open.version.major, open.version.minor], [level, 2, 6]);
        await open.session.close();
      }
      const d = await lb(hp.tcpSocket!, 'server', 'disable', 'app/s1');
      assert.equal(d.exitCode, 0, d.stderr);
      assert.equal(d.json.socket, hp.tcpSocket);
      assert.equal(await rawStatus(hp.adminSocket, 'app/s1'), 'MAINT');
      assert.equal((await lb(hp.tcpSocket!, 'server', 'disable', 'app/s1')).json.changed, false);
    } finally {
      await hp.stop();
      await servers[0].close();
    }
  });
});

async function waitForHeld(servers: Record<string, LabServer>): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const held = Object.values(servers).find((s) => s.held() > 0);
    if (held) return held.name;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('the slow request never reached a server');
}

