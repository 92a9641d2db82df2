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
import { adminWord, parseWeightSpec, setServerState, setServerWeight, type ServerAction } from '../../src/haproxy/runtime-ops.js';
import { LbctlError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';

interface Srv { be: string; beId: number; name: string; admin: number; op: number; w: number; iw: number; chk?: number; health?: number }

/** A prompt-mode haproxy with a few servers; `ignore` makes it accept writes without effect. */
class FakeHaproxy {
  servers: Srv[] = [];
  level = 'admin';
  version = '2.8.3';
  ignore = false;
  writes: string[] = [];
  onWrite?: () => void;
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
    this.level = 'admin'; this.version = '2.8.3'; this.ignore = false; this.writes = []; this.onWrite = undefined;
  }

  private answer(cmd: string): string {
    if (cmd === 'show info') return `Name: HAProxy\nVersion: ${this.version}\nPid: 1\n`;
    if (cmd === 'show cli level') return `${this.level}\n`;
    if (cmd === 'show backend') return `# name\n${[...new Set(this.servers.map((s) => s.be))].join('\n')}\n`;
    if (cmd === 'show servers state') {
      const head = '1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord\n';
      return head + this.servers.map((s, i) => `${s.beId} ${s.be} ${i + 1} ${s.name} 10.94.0.${i + 1} ${s.op} ${s.admin} ${s.w} ${s.iw} 5 6 3 ${s.health ?? 3} ${s.chk ?? 6} 0 0 0 - 80 -`).join('\n') + '\n';
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
