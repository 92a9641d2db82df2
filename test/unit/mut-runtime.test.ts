/**
 * src/haproxy/runtime-ops.ts write path (server state and weight) against a fake haproxy on a
 * unix socket that keeps real admin-state bits: each refusal happens before any write, an
 * interrupt stops between servers and says which changed, a write haproxy "accepted" without
 * effect is refused, and a second run changes nothing. The unit suite had no test of these
 * (host tests use a real haproxy, which Stryker's unit runs do not reach). Sockets: /tmp/mu-rt-*.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { adminWord, clearCounters, counterTotal, openRuntimeSession, parseWeightSpec, setServerState, setServerWeight, type ServerAction } from '../../src/haproxy/runtime-ops.js';
import { LbctlError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

interface Srv { be: string; beId: number; name: string; admin: number; op: number; w: number; iw: number; chk?: number; health?: number; scur?: number; smax?: number; stot?: number }

/** A prompt-mode haproxy with a few servers; `ignore` makes it accept writes without effect. */
class FakeHaproxy {
  servers: Srv[] = [];
  level = 'admin';
  version = '2.8.3';
  ignore = false;
  writes: string[] = [];
  onWrite?: () => void;
  /** Each `show stat` (the drain wait polls it): the filter it was given; onStat may change sessions. */
  stats: string[] = [];
  onStat?: () => void;
  /** Backends without servers (show backend lists them; show servers state has no row). */
  emptyBackends: string[] = [];
  /** Every command received, in order. */
  commands: string[] = [];
  private server?: net.Server;
  private conns = new Set<net.Socket>();
  sock = '';

  reset(): void {
    this.servers = [
      { be: 'app', beId: 3, name: 'web1', admin: 0, op: 2, w: 10, iw: 10 },
      { be: 'app', beId: 3, name: 'web2', admin: 0, op: 2, w: 10, iw: 10 },
      { be: 'app', beId: 3, name: 'web3', admin: 1, op: 0, w: 10, iw: 10, chk: 0x02, health: 0 },
      { be: 'api', beId: 4, name: 'a1', admin: 8, op: 2, w: 100, iw: 200 },
    ];
    this.level = 'admin'; this.version = '2.8.3'; this.ignore = false; this.writes = []; this.onWrite = undefined; this.stats = []; this.onStat = undefined; this.emptyBackends = []; this.commands = [];
  }

  /** Connections still open (a session not released stays open). */
  open(): number { return this.conns.size; }

  private answer(cmd: string): string {
    this.commands.push(cmd);
    if (cmd === 'show info') return `Name: HAProxy\nVersion: ${this.version}\nPid: 1\n`;
    if (cmd === 'show cli level') return `${this.level}\n`;
    if (cmd === 'show backend') return `# name\n${[...new Set([...this.servers.map((s) => s.be), ...this.emptyBackends])].join('\n')}\n`;
    if (cmd === 'show servers state') {
      const head = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n';
      return head + this.servers.map((s, i) => `${s.beId} ${s.be} ${i + 1} ${s.name} 10.94.0.${i + 1} ${s.op} ${s.admin} ${s.w} ${s.iw} 5 6 3 ${s.health ?? 3} ${s.chk ?? 6} 0 0 0 - 80 -`).join('\n') + '\n';
    }
    const st = /^show stat(?: (-?\d+) (-?\d+) (-?\d+))?$/.exec(cmd);
    if (st) {
      this.stats.push(cmd);
      this.onStat?.();
      // Only the server rows of the backend asked for (`show stat ID 4 -1`), or every row.
      const rows = this.servers.filter((x) => !st[1] || Number(st[1]) === -1 || x.beId === Number(st[1]));
      return '# pxname,svname,scur,smax,stot,\n' + rows.map((x) => `${x.be},${x.name},${x.scur ?? 0},${x.smax ?? 0},${x.stot ?? 0},`).join('\n') + '\n';
    }
    if (cmd === 'clear counters' || cmd === 'clear counters all') {
      this.writes.push(cmd);
      if (!this.ignore) for (const x of this.servers) { x.smax = 0; if (cmd.endsWith('all')) x.stot = 0; }
      return '';
    }
    let m = /^(enable|disable) server (\S+)\/(\S+)$/.exec(cmd) ?? /^set server (\S+)\/(\S+) state (\S+)$/.exec(cmd);
    if (m) {
      const [be, name, verb] = cmd.startsWith('set') ? [m[1], m[2], m[3]] : [m[2], m[3], m[1]];
      const s = this.servers.find((x) => x.be === be && x.name === name);
      if (!s) return 'No such server.\n';
      this.writes.push(cmd);
      this.onWrite?.();
      if (this.ignore) return '';
      if (verb === 'enable') s.admin &= ~1;
      if (verb === 'disable' || verb === 'maint') s.admin = verb === 'maint' ? (s.admin | 1) & ~8 : s.admin | 1;
      if (verb === 'drain') s.admin = (s.admin | 8) & ~1;
      if (verb === 'ready') s.admin &= ~9;
      s.op = s.admin & 1 ? 0 : 2;
      return '';
    }
    m = /^set weight (\S+)\/(\S+) (\d+)(%?)$/.exec(cmd);
    if (m) {
      const s = this.servers.find((x) => x.be === m![1] && x.name === m![2])!;
      this.writes.push(cmd);
      if (!this.ignore) s.w = m[4] ? Math.floor((s.iw * Number(m[3])) / 100) : Number(m[3]);
      return '';
    }
    return 'Unknown command.\n';
  }

  async start(): Promise<void> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mu-rt-'));
    this.sock = path.join(dir, 'admin.sock');
    this.server = net.createServer((c) => {
      this.conns.add(c);
      c.on('close', () => this.conns.delete(c));
      c.setEncoding('utf8');
      let pending = '';
      let prompt = false;
      c.on('data', (d: string) => {
        pending += d;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const cmd = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (cmd === 'prompt') { prompt = true; c.write('\n> '); continue; }
          if (cmd === 'quit') { c.end(); return; }
          const a = this.answer(cmd);
          if (!prompt) { c.end(`${a}\n`); return; }
          c.write(`${a}\n> `);
        }
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.sock, r));
  }

  async stop(): Promise<void> {
    for (const c of this.conns) c.destroy();
    await new Promise<void>((r) => this.server?.close(() => r()));
    await fs.rm(path.dirname(this.sock), { recursive: true, force: true });
  }
}

const hp = new FakeHaproxy();
test.before(async () => { await hp.start(); });
test.after(async () => { await hp.stop(); });

async function refused(p: Promise<unknown>): Promise<LbctlError> {
  try { await p; } catch (e) { assert.ok(e instanceof LbctlError, `an LbctlError, got ${String(e)}`); return e; }
  assert.fail('expected a refusal');
}

const state = () => hp.servers.map((s) => `${s.be}/${s.name}:${s.admin}:${s.w}`).join(' ');

test('each action: writes only servers not already there, reports before/after, and a second run changes nothing', async () => {
  const cases: Array<[ServerAction, string[], string[], string]> = [
    ['disable', ['app/web1', 'app/web3'], ['disable server app/web1'], 'maint'],
    ['enable', ['app/web1', 'app/web3'], ['enable server app/web3'], 'ready'],
    ['maint', ['api/a1'], ['set server api/a1 state maint'], 'maint'],
    ['drain', ['app/web2', 'api/a1'], ['set server app/web2 state drain'], 'drain'],
    ['ready', ['api/a1', 'app/web2'], ['set server api/a1 state ready'], 'ready'],
  ];
  for (const [action, refs, writes, word] of cases) {
    hp.reset();
    const r = await setServerState({ socket: hp.sock, refs, action });
    assert.deepEqual(hp.writes, writes, action);
    assert.equal(r.changed, true);
    assert.equal(r.dryRun, false);
    assert.equal(r.command, action);
    assert.equal(r.socket, hp.sock);
    assert.deepEqual(r.servers.map((s) => [`${s.backend}/${s.server}`, s.changed, s.action, s.after.admin]), refs.map((ref) => [ref, writes.some((w) => w.includes(ref)), writes.some((w) => w.includes(ref)) ? 'updated' : 'unchanged', word]), action);
    hp.writes = [];
    const again = await setServerState({ socket: hp.sock, refs, action });
    assert.deepEqual(hp.writes, [], `${action} again: no write`);
    assert.equal(again.changed, false);
  }
});

test('dry run: predicts the after state, writes nothing', async () => {
  hp.reset();
  const before = state();
  const r = await setServerState({ socket: hp.sock, refs: ['app/web1', 'app/web3'], action: 'disable', dryRun: true });
  assert.equal(state(), before);
  assert.deepEqual(hp.writes, []);
  assert.equal(r.dryRun, true);
  assert.equal(r.changed, true);
  assert.deepEqual(r.servers.map((s) => [s.server, s.changed, s.before.admin, s.after.admin, s.after.op]), [['web1', true, 'ready', 'maint', 'stopped'], ['web3', false, 'maint', 'maint', 'stopped']]);
  // Leaving maintenance: running at once unless the health check has counted the server down.
  const e = await setServerState({ socket: hp.sock, refs: ['app/web3'], action: 'ready', dryRun: true });
  assert.deepEqual([e.servers[0].after.admin, e.servers[0].after.op], ['ready', 'stopped']);
  hp.servers[2].health = 2;
  const e2 = await setServerState({ socket: hp.sock, refs: ['app/web3'], action: 'enable', dryRun: true });
  assert.equal(e2.servers[0].after.op, 'running');
  hp.servers[2].health = 0; hp.servers[2].chk = 0;
  const e3 = await setServerState({ socket: hp.sock, refs: ['app/web3'], action: 'enable', dryRun: true });
  assert.equal(e3.servers[0].after.op, 'running', 'no check configured: running');
  const d = await setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'drain', dryRun: true });
  assert.equal(d.servers[0].after.admin, 'drain');
  // Not leaving maintenance: the operational state is left as haproxy has it (a stopped server stays stopped).
  hp.servers[1].op = 0; hp.servers[1].chk = 0;
  const st = await setServerState({ socket: hp.sock, refs: ['app/web2'], action: 'drain', dryRun: true });
  assert.deepEqual([st.servers[0].after.admin, st.servers[0].after.op], ['drain', 'stopped']);
  const nothing = await setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'ready', dryRun: true });
  assert.equal(nothing.changed, false);
  assert.deepEqual(hp.writes, []);
});

test('refused before any write: --wait without drain, a bad ref, a socket below admin, an unknown backend or server', async () => {
  hp.reset();
  const e1 = await refused(setServerState({ socket: '/nonexistent/mu.sock', refs: ['app/web1'], action: 'disable', wait: true }));
  assert.equal(e1.exitCode, ExitCode.Usage);
  assert.match(e1.message, /--wait only applies to drain/);
  const e2 = await refused(setServerState({ socket: '/nonexistent/mu.sock', refs: ['app/web1;shutdown'], action: 'disable' }));
  assert.equal(e2.code, 'ESERVERREF', 'names are checked before connecting');
  hp.level = 'operator';
  const e3 = await refused(setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'disable' }));
  assert.equal(e3.exitCode, ExitCode.Permission);
  assert.equal(e3.code, 'ESOCKLEVEL');
  assert.match(e3.message, /is a "level operator" socket; this needs level admin/);
  hp.level = 'admin';
  const e4 = await refused(setServerState({ socket: hp.sock, refs: ['app/web1', 'nope/x'], action: 'disable' }));
  assert.equal(e4.code, 'ENOBACKEND');
  assert.equal(e4.exitCode, ExitCode.NotFound);
  const e5 = await refused(setServerState({ socket: hp.sock, refs: ['app/web1', 'app/web9'], action: 'disable' }));
  assert.equal(e5.code, 'ENOSERVER');
  assert.match(e5.hint ?? '', /servers: web1, web2, web3/);
  const e6 = await refused(setServerState({ socket: hp.sock, refs: [], allIn: 'app', except: ['web*'], action: 'disable' }));
  assert.equal(e6.code, 'ENOSERVER');
  const e7 = await refused(setServerState({ socket: hp.sock, refs: [], action: 'disable' }));
  assert.equal(e7.exitCode, ExitCode.Usage);
  const e8 = await refused(setServerState({ socket: hp.sock, refs: [], allIn: 'app;x', action: 'disable' }));
  assert.equal(e8.exitCode, ExitCode.Usage);
  assert.deepEqual(hp.writes, [], 'nothing written by any refusal');
  // An old haproxy without `show cli level`: accepted here, refused by haproxy's own answer later.
  hp.version = '1.9.0';
  const r = await setServerState({ socket: hp.sock, refs: [], allIn: 'app', except: ['web1,web3'], action: 'disable' });
  assert.deepEqual(hp.writes, ['disable server app/web2']);
  assert.deepEqual(r.servers.map((s) => s.server), ['web2']);
});

test('an interrupt between servers: stops, says which changed and which are left as before', async () => {
  hp.reset();
  const ac = new AbortController();
  hp.onWrite = () => ac.abort();
  const e = await refused(setServerState({ socket: hp.sock, refs: ['app/web1', 'app/web2', 'api/a1'], action: 'maint', signal: ac.signal }));
  assert.equal(e.code, 'EINTERRUPTED');
  assert.equal(e.message, 'interrupted during "maint": app/web1 changed, app/web2, api/a1 left as before');
  assert.deepEqual(hp.writes, ['set server app/web1 state maint']);
  hp.reset();
  const ac2 = new AbortController();
  ac2.abort();
  const e2 = await refused(setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'disable', signal: ac2.signal }));
  assert.equal(e2.message, 'interrupted during "disable": nothing changed, app/web1 left as before');
  assert.deepEqual(hp.writes, []);
});

test('haproxy accepts a write that does not take: refused, with the state it is still in', async () => {
  hp.reset();
  hp.ignore = true;
  const e = await refused(setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'disable' }));
  assert.equal(e.exitCode, ExitCode.Rejected);
  assert.equal(e.message, 'haproxy accepted "disable" for app/web1 but it is still ready');
  const w = await refused(setServerWeight({ socket: hp.sock, ref: 'app/web1', weight: '5' }));
  assert.equal(w.message, 'haproxy accepted "set weight app/web1 5" but the weight is 10, not 5');
});

test('weight: absolute and percent of the initial weight, unchanged when equal, refused above 256 before writing', async () => {
  hp.reset();
  const r = await setServerWeight({ socket: hp.sock, ref: 'api/a1', weight: '25%' });
  assert.deepEqual(hp.writes, ['set weight api/a1 25%']);
  assert.deepEqual([r.changed, r.servers[0].before.weight, r.servers[0].after.weight, r.servers[0].initialWeight], [true, 100, 50, 200]);
  const same = await setServerWeight({ socket: hp.sock, ref: 'api/a1', weight: '50' });
  assert.equal(same.changed, false);
  assert.equal(hp.writes.length, 1, 'equal: no write');
  const dry = await setServerWeight({ socket: hp.sock, ref: 'app/web1', weight: '7', dryRun: true });
  assert.deepEqual([dry.changed, dry.dryRun, dry.servers[0].after.weight, hp.servers[0].w], [true, true, 7, 10]);
  hp.servers[3].iw = 256;
  const big = await refused(setServerWeight({ socket: hp.sock, ref: 'api/a1', weight: '101%' }));
  assert.equal(big.code, 'EWEIGHT');
  assert.match(big.message, /101% of initial weight 256 is 258, above 256/);
  const w = await setServerWeight({ socket: hp.sock, ref: 'api/a1', weight: '100%' });
  assert.equal(w.servers[0].after.weight, 256);
  assert.equal(w.changed, true);
  await refused(setServerWeight({ socket: hp.sock, ref: 'bad', weight: '1' }));
  hp.level = 'user';
  const lv = await refused(setServerWeight({ socket: hp.sock, ref: 'app/web1', weight: '3' }));
  assert.equal(lv.code, 'ESOCKLEVEL');
  assert.deepEqual(hp.writes, ['set weight api/a1 25%', 'set weight api/a1 100%']);
});

test('parseWeightSpec and adminWord edges', () => {
  assert.deepEqual(parseWeightSpec('256'), { value: 256, percent: false });
  assert.deepEqual(parseWeightSpec(' 0 '), { value: 0, percent: false });
  assert.deepEqual(parseWeightSpec('999999%'), { value: 999999, percent: true });
  for (const bad of ['257', '-1', '1.5', '', '50%%', '1000000%']) assert.throws(() => parseWeightSpec(bad), (e: any) => e.code === 'EWEIGHT', bad);
  assert.equal(adminWord({ maint: true, drain: true } as any), 'maint');
  assert.equal(adminWord({ maint: false, drain: true } as any), 'drain');
  assert.equal(adminWord({ maint: false, drain: false } as any), 'ready');
});

// ---------------------------------------------------------------- clear counters, drain --wait

test('clear counters: nothing to clear is unchanged and unwritten; a dry run predicts zero; `all` needs an admin socket, the max counters an operator one', async () => {
  hp.reset();
  const e0 = await clearCounters({ socket: hp.sock, all: false });
  assert.deepEqual([e0.changed, e0.action, e0.before, e0.after, e0.dryRun, e0.all, e0.socket], [false, 'unchanged', 0, 0, false, false, hp.sock]);
  assert.deepEqual(hp.writes, []);
  hp.servers[0].smax = 4; hp.servers[1].smax = 3; hp.servers[0].stot = 50;
  const dry = await clearCounters({ socket: hp.sock, all: true, dryRun: true });
  assert.deepEqual([dry.changed, dry.action, dry.before, dry.after, dry.dryRun, dry.all], [true, 'cleared', 57, 0, true, true]);
  assert.deepEqual(hp.writes, []);
  hp.level = 'operator';
  const lv = await refused(clearCounters({ socket: hp.sock, all: true }));
  assert.equal(lv.code, 'ESOCKLEVEL');
  assert.match(lv.message, /this needs level admin$/);
  assert.deepEqual(hp.writes, [], 'refused before writing');
  const max = await clearCounters({ socket: hp.sock, all: false });
  assert.deepEqual(hp.writes, ['clear counters']);
  assert.deepEqual([max.changed, max.action, max.before, max.after, max.all], [true, 'cleared', 7, 0, false]);
  assert.equal(hp.servers[0].stot, 50, 'stot is not a max counter');
  hp.level = 'user';
  const u = await refused(clearCounters({ socket: hp.sock, all: false }));
  assert.match(u.message, /this needs level operator$/);
  hp.level = 'admin';
  hp.writes = [];
  const all = await clearCounters({ socket: hp.sock, all: true });
  assert.deepEqual(hp.writes, ['clear counters all']);
  assert.deepEqual([all.before, all.after, all.changed], [50, 0, true]);
  hp.servers[2].smax = 9; hp.ignore = true;
  const rej = await refused(clearCounters({ socket: hp.sock, all: false }));
  assert.equal(rej.exitCode, ExitCode.Rejected);
  assert.equal(rej.message, 'haproxy accepted "clear counters" but the counters did not go down (9 -> 9)');
});

test('counterTotal: the max counters, or all of them; numbers only', () => {
  const rows = [{ smax: 2, stot: 5, qmax: 1, bin: 100, scur: 7, pxname: 'x' }, { smax: 3, rate_max: 4, hrsp_5xx: 6, conn_tot: 1 }] as any;
  assert.equal(counterTotal(rows, false), 10);
  assert.equal(counterTotal(rows, true), 10 + 5 + 100 + 6 + 1);
  assert.equal(counterTotal([{ smax: 'x' } as any], false), 0);
});

test('drain --wait: polls only the targets\' backends and counts only the targets; 0 sessions ends it, a timeout or an interrupt leaves them draining', async () => {
  hp.reset();
  // web2 (not a target) keeps sessions: they must not count.
  hp.servers[0].scur = 3; hp.servers[1].scur = 5;
  hp.onStat = () => { hp.servers[0].scur = Math.max(0, (hp.servers[0].scur ?? 0) - 1); };
  const seen: Array<[number, string[]]> = [];
  const r = await setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'drain', wait: true, pollMs: 5, onProgress: (n, _ms, names) => seen.push([n, names]) });
  assert.deepEqual(seen, [[2, ['app/web1']], [1, ['app/web1']], [0, ['app/web1']]]);
  assert.deepEqual(hp.stats, ['show stat 3 4 -1', 'show stat 3 4 -1', 'show stat 3 4 -1']);
  assert.equal(r.wait?.sessions, 0);
  assert.ok(r.wait!.waitedSeconds >= 0 && r.wait!.waitedSeconds < 5, String(r.wait!.waitedSeconds));
  assert.equal(r.changed, true);

  hp.reset();
  hp.servers[0].scur = 4;
  const t0 = Date.now();
  const to = await refused(setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'drain', wait: true, waitTimeoutMs: 120, pollMs: 20 }));
  assert.ok(Date.now() - t0 >= 120, 'waited the timeout');
  assert.equal(to.exitCode, ExitCode.Timeout);
  assert.equal(to.code, 'EDRAINTIMEOUT');
  assert.equal(to.message, 'app/web1 still had 4 session(s) after 0.1s; left in drain');
  assert.equal(hp.servers[0].admin & 8, 8, 'left in drain');

  hp.reset();
  hp.servers[0].scur = 2; hp.servers[3].scur = 1;
  const ac = new AbortController();
  hp.onStat = () => { if (hp.stats.length === 3) ac.abort(); };
  const ab = await refused(setServerState({ socket: hp.sock, refs: ['app/web1', 'api/a1'], action: 'drain', wait: true, pollMs: 5, signal: ac.signal }));
  assert.equal(ab.code, 'EINTERRUPTED');
  assert.equal(ab.message, 'interrupted while waiting for app/web1, api/a1 to drain (3 session(s) left); left in drain');
  assert.deepEqual(hp.stats.slice(0, 2), ['show stat 3 4 -1', 'show stat 4 4 -1']);
});

// ---------------------------------------------------------------- refusals, word for word

const settle = () => new Promise((r) => setTimeout(r, 30));

test('the socket\'s level: read from `show cli level` where haproxy has it; a session is released on every path', async () => {
  hp.reset();
  for (const [answer, level] of [['admin', 'admin'], ['operator', 'operator'], ['user', 'user'], ['what', 'unknown']] as const) {
    hp.level = answer;
    const o = await openRuntimeSession({ socket: hp.sock });
    assert.equal(o.level, level, answer);
    await o.session.close();
  }
  hp.version = '1.9.0'; hp.level = 'user'; hp.commands = [];
  const old = await openRuntimeSession({ socket: hp.sock });
  assert.equal(old.level, 'unknown');
  assert.ok(!hp.commands.includes('show cli level'), 'not asked of a haproxy without it');
  await old.session.close();
  // identify fails (not a version): the session is closed, not leaked.
  hp.version = 'garbage';
  await settle();
  await refused(openRuntimeSession({ socket: hp.sock }));
  await settle();
  assert.equal(hp.open(), 0, 'no session left open');
  hp.reset();
  hp.level = 'operator';
  const e = await refused(setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'disable' }));
  assert.equal(e.hint, 'use a "stats socket ... level admin" socket');
  await settle();
  assert.equal(hp.open(), 0);
  // Every write, refused or done, releases its session.
  hp.level = 'admin';
  await setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'disable' });
  await setServerWeight({ socket: hp.sock, ref: 'app/web1', weight: '3' });
  hp.servers[0].smax = 2;
  await clearCounters({ socket: hp.sock, all: false });
  await refused(setServerState({ socket: hp.sock, refs: ['app/nope'], action: 'disable' }));
  await settle();
  assert.equal(hp.open(), 0);
});

test('refusals name what and where and say what to do; nothing written', async () => {
  hp.reset();
  hp.emptyBackends = ['empty'];
  hp.servers.push({ be: 'api', beId: 4, name: 'web1', admin: 0, op: 2, w: 10, iw: 10 });
  for (let i = 1; i <= 9; i++) hp.servers.push({ be: 'big', beId: 5, name: `s${i}`, admin: 0, op: 2, w: 1, iw: 1 });
  const one = async (o: Partial<Parameters<typeof setServerState>[0]>) => (await refused(setServerState({ socket: hp.sock, refs: [], action: 'disable', ...o }))).oneLine();
  assert.equal(await one({ refs: ['x/app/web1'] }), '"x/app/web1" is not BACKEND/SERVER (e.g. app/web1; names use letters, digits and -_.:)');
  assert.equal(await one({ refs: ['app/web1/x'] }), '"app/web1/x" is not BACKEND/SERVER (e.g. app/web1; names use letters, digits and -_.:)');
  assert.equal(await one({ refs: ['nope/web1'] }), `no backend "nope" on ${hp.sock} (see lbctl haproxy backends)`);
  assert.equal(await one({ refs: ['api/web9'] }), `no server "web9" in backend "api" on ${hp.sock} (servers: a1, web1)`);
  assert.equal(await one({ refs: ['big/s0'] }), `no server "s0" in backend "big" on ${hp.sock} (servers: s1, s2, s3, s4, s5, s6, s7, s8, ...)`);
  assert.equal(await one({ refs: ['empty/x'] }), `no server "x" in backend "empty" on ${hp.sock} (the backend has no servers)`);
  assert.equal(await one({ allIn: 'a b' }), '"a b" is not a backend name (names use letters, digits and -_.:)');
  const e = await refused(setServerState({ socket: hp.sock, refs: [], allIn: 'a b', action: 'disable' }));
  assert.equal(e.code, 'EUSAGE');
  assert.equal(await one({ allIn: 'app', except: ['web*'] }), `--all-in app --except web* matches no server on ${hp.sock} (check the backend name and the --except patterns)`);
  assert.equal(await one({ allIn: 'empty' }), `--all-in empty matches no server on ${hp.sock} (check the backend name and the --except patterns)`);
  assert.equal(await one({ allIn: 'app', except: ['web1,web2', 'web3'] }), `--all-in app --except web1,web2,web3 matches no server on ${hp.sock} (check the backend name and the --except patterns)`);
  assert.equal(await one({}), 'name a server (BACKEND/SERVER) or use --all-in BACKEND');
  const u = await refused(setServerState({ socket: hp.sock, refs: [], action: 'disable' }));
  assert.equal(u.code, 'EUSAGE');
  const w = await refused(setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'maint', wait: true }));
  assert.equal(w.code, 'EUSAGE');
  assert.equal(w.oneLine(), '--wait only applies to drain');
  hp.servers.splice(hp.servers.findIndex((x) => x.name === 's9'), 1);
  assert.equal(await one({ refs: ['big/s0'] }), `no server "s0" in backend "big" on ${hp.sock} (servers: s1, s2, s3, s4, s5, s6, s7, s8)`);
  assert.deepEqual(hp.writes, []);
  // Weight refusals.
  const wt = async (weight: string, ref = 'app/web1') => (await refused(setServerWeight({ socket: hp.sock, ref, weight }))).oneLine();
  assert.equal(await wt('x'), 'weight "x" is not a number 0-256 or a percentage like 50% (weights run 0-256)');
  assert.equal(await wt('300'), 'weight 300 is out of range (weights run 0-256)');
  hp.servers[0].iw = 200;
  assert.equal(await wt('200%'), '200% of initial weight 200 is 400, above 256 (weights run 0-256)');
  assert.equal(await wt('1', 'api/nope'), `no server "nope" in backend "api" on ${hp.sock} (servers: a1, web1)`);
  assert.deepEqual(hp.writes, []);
});

test('targets: globs escape regex characters and ? is one character; a server named twice is written once; the same server name in another backend is not confused', async () => {
  hp.reset();
  hp.servers.push({ be: 'api', beId: 4, name: 'a.1', admin: 0, op: 2, w: 1, iw: 1 }, { be: 'api', beId: 4, name: 'ab1', admin: 0, op: 2, w: 1, iw: 1 });
  const names = async (except: string[]) => (await setServerState({ socket: hp.sock, refs: [], allIn: 'api', except, action: 'disable', dryRun: true })).servers.map((x) => x.server);
  assert.deepEqual(await names(['a.1']), ['a1', 'ab1']);
  assert.deepEqual(await names([' a?1 ']), ['a1']);
  assert.deepEqual(await names(['a?1,']), ['a1']);
  // One server, named and matched by --all-in: one write, one row.
  const r = await setServerState({ socket: hp.sock, refs: ['app/web1'], allIn: 'app', except: ['web3'], action: 'disable' });
  assert.deepEqual(r.servers.map((x) => x.server), ['web1', 'web2']);
  assert.deepEqual(hp.writes, ['disable server app/web1', 'disable server app/web2']);
  // api/web1 next to app/web1: each is read back by its own backend.
  hp.reset();
  hp.servers.unshift({ be: 'api', beId: 4, name: 'web1', admin: 0, op: 2, w: 10, iw: 20 });
  hp.servers[1].admin = 1;
  const s = await setServerState({ socket: hp.sock, refs: ['api/web1'], action: 'disable' });
  assert.equal(s.servers[0].after.admin, 'maint');
  hp.servers[0].admin = 0; hp.servers[1].admin = 0; hp.writes = [];
  const t = await setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'disable' });
  assert.deepEqual([t.servers[0].backend, t.servers[0].after.admin, t.changed], ['app', 'maint', true]);
  hp.servers[0].w = 5; hp.servers[1].w = 10;
  const w = await setServerWeight({ socket: hp.sock, ref: 'app/web1', weight: '7' });
  assert.deepEqual([w.command, w.servers[0].backend, w.servers[0].after.weight, w.changed], ['weight', 'app', 7, true]);
  hp.writes = [];
  const w2 = await setServerWeight({ socket: hp.sock, ref: 'api/web1', weight: '50%' });
  assert.deepEqual([w2.servers[0].before.weight, w2.servers[0].after.weight, w2.servers[0].initialWeight], [5, 10, 20]);
});

test('maint and drain together: maint, drain, enable and ready each write and predict from both bits', async () => {
  hp.reset();
  hp.servers[0].admin = 9; hp.servers[0].op = 0;
  const dry = async (action: ServerAction) => (await setServerState({ socket: hp.sock, refs: ['app/web1'], action, dryRun: true })).servers[0];
  assert.deepEqual([(await dry('enable')).after.admin, (await dry('enable')).changed], ['drain', true]);
  assert.deepEqual([(await dry('maint')).after.admin, (await dry('maint')).changed], ['maint', true]);
  assert.deepEqual([(await dry('drain')).after.admin, (await dry('drain')).changed], ['drain', true]);
  assert.deepEqual([(await dry('ready')).after.admin, (await dry('ready')).changed], ['ready', true]);
  assert.deepEqual(hp.writes, []);
  await setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'maint' });
  assert.deepEqual([hp.writes, hp.servers[0].admin], [['set server app/web1 state maint'], 1]);
  hp.servers[0].admin = 9; hp.writes = [];
  await setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'drain' });
  assert.deepEqual([hp.writes, hp.servers[0].admin], [['set server app/web1 state drain'], 8]);
  // In maintenance but still starting (not stopped): leaving it keeps haproxy's operational state.
  hp.reset();
  hp.servers[0].admin = 1; hp.servers[0].op = 1; hp.servers[0].chk = 0;
  assert.equal((await dry('enable')).after.op, 'starting');
});

test('an interrupt after two writes names both; a write haproxy ignores is refused with its code and hint', async () => {
  hp.reset();
  const ac = new AbortController();
  hp.onWrite = () => { if (hp.writes.length === 2) ac.abort(); };
  const e = await refused(setServerState({ socket: hp.sock, refs: ['app/web1', 'app/web2', 'api/a1'], action: 'maint', signal: ac.signal }));
  assert.equal(e.message, 'interrupted during "maint": app/web1, app/web2 changed, api/a1 left as before');
  hp.reset();
  hp.ignore = true;
  const r = await refused(setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'disable' }));
  assert.equal(r.code, 'EREJECTED');
  assert.equal(r.hint, 'the server may track another server or be set by DNS; check lbctl haproxy stat');
  const w = await refused(setServerWeight({ socket: hp.sock, ref: 'app/web1', weight: '5' }));
  assert.equal(w.code, 'EREJECTED');
  assert.equal(w.exitCode, ExitCode.Rejected);
});

// ---------------------------------------------------------------- survivors of the 2026-12-01 run

const MAX_NAMES = ['qmax', 'smax', 'rate_max', 'req_rate_max', 'conn_rate_max', 'qtime_max', 'ctime_max', 'rtime_max', 'ttime_max'];
const ALL_NAMES = [...MAX_NAMES, 'stot', 'bin', 'bout', 'dreq', 'dresp', 'ereq', 'econ', 'eresp', 'wretr', 'wredis', 'lbtot',
  'hrsp_1xx', 'hrsp_2xx', 'hrsp_3xx', 'hrsp_4xx', 'hrsp_5xx', 'hrsp_other', 'req_tot', 'cli_abrt', 'srv_abrt', 'conn_tot'];

test('counterTotal counts each counter haproxy clears, by name: each one alone is non-zero', () => {
  for (const name of ALL_NAMES) {
    const row = { [name]: 1 } as any;
    assert.equal(counterTotal([row], true), 1, `all: ${name}`);
    assert.equal(counterTotal([row], false), MAX_NAMES.includes(name) ? 1 : 0, `max: ${name}`);
  }
});

test('clear refused when nothing went down: EREJECTED; weight read back from the server written, not its neighbour', async () => {
  hp.reset();
  hp.servers[0].smax = 3; hp.ignore = true;
  const e = await refused(clearCounters({ socket: hp.sock, all: false }));
  assert.equal(e.code, 'EREJECTED');
  hp.reset();
  const w = await setServerWeight({ socket: hp.sock, ref: 'app/web2', weight: '4' });
  assert.deepEqual([w.servers[0].server, w.servers[0].after.weight, hp.servers[0].w], ['web2', 4, 10]);
});

test('drain --wait: an interrupt before the first count says no count; hints say what to do; only the targets\' rows count; the wait sleeps, not spins', async () => {
  hp.reset();
  hp.servers[0].scur = 2;
  const ac = new AbortController();
  hp.onWrite = () => ac.abort();
  const e = await refused(setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'drain', wait: true, signal: ac.signal }));
  assert.equal(e.oneLine(), 'interrupted while waiting for app/web1 to drain; left in drain (drain --wait again to keep waiting, or ready to undo)');
  hp.reset();
  hp.servers[0].scur = 1;
  const t = await refused(setServerState({ socket: hp.sock, refs: ['app/web1'], action: 'drain', wait: true, waitTimeoutMs: 120 }));
  assert.equal(t.hint, 'raise --timeout, or disable the server to cut them off');
  // No pollMs: the default 200 ms, cut to what is left of a 120 ms timeout: two counts, not a spin.
  assert.ok(hp.stats.length <= 3, `${hp.stats.length} polls`);
  // api/web1 is no target but shares a name with one, in a target's backend.
  hp.reset();
  hp.servers.push({ be: 'api', beId: 4, name: 'web1', admin: 0, op: 2, w: 1, iw: 1, scur: 7 });
  const r = await setServerState({ socket: hp.sock, refs: ['app/web1', 'api/a1'], action: 'drain', wait: true, waitTimeoutMs: 50, pollMs: 1000 });
  assert.equal(r.wait?.sessions, 0, 'api/web1\'s sessions are not counted');
});
