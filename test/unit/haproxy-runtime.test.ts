import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promises as fs } from 'node:fs';
import fc from 'fast-check';
import {
  AdminFlag, capabilitiesOf, parseGetWeight, parseServersState, parseShowBackend, parseShowInfo, parseShowStat, parseVersion,
} from '../../src/haproxy/stat.js';
import { RuntimeSession, checkAnswer, parseRuntimeAddress, resolveSocket, runtimeCommand, statsSocketsFromConfig } from '../../src/haproxy/runtime.js';
import { SERVER_ACTIONS, counterTotal, healthState, parseServerRef, parseWeightSpec, resolveTargets } from '../../src/haproxy/runtime-ops.js';
import { socketTimeoutMs } from '../../src/cli/haproxy-command.js';
import { duration, bytes } from '../../src/haproxy/runtime-view.js';
import { table } from '../../src/cli/output.js';

/** Pure logic of the runtime client, on text captured from haproxy 2.6.12 (Debian 12). */

const STAT_HEADER = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,';
const STAT = [
  STAT_HEADER,
  'fe,FRONTEND,,,0,1,9985,4,316,588,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,1,,,,0,4,0,0,0,0,,0,1,4,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,',
  'app,42,0,0,0,1,,2,158,294,,0,,0,0,0,0,DOWN,1,1,0,1,1,7,7,,1,3,1,,2,,2,0,,1,L4CON,,0,0,2,0,0,0,0,,,,2,0,0,,,,,-1,Connection refused,,0,0,0,1,,,,Layer4 connection problem,,1,1,0,,,,127.0.0.1:1,,http,',
  'app,BACKEND,0,0,0,1,999,4,316,588,0,0,,0,0,0,0,UP,1,1,0,,0,7,0,,1,3,0,,4,,1,0,,1,,,,0,4,0,0,0,0,,,,4,0,0,0,0,0,0,0,,,0,0,1,1,,,,,,,,,,,,,,http,roundrobin,',
  '',
].join('\n');

describe('haproxy show stat parser', () => {
  const rows = parseShowStat(STAT);
  it('types rows and keeps text columns as text, numbers as numbers, empty as null', () => {
    assert.deepEqual(rows.map((r) => [r.pxname, r.svname, r.type]), [['fe', 'FRONTEND', 'frontend'], ['app', '42', 'server'], ['app', 'BACKEND', 'backend']]);
    const s = rows[1];
    assert.equal(s.svname, '42', 'a numeric server name stays a string');
    assert.equal(s.status, 'DOWN');
    assert.equal(s.stot, 2);
    assert.equal(s.check_status, 'L4CON');
    assert.equal(s.check_code, null);
    assert.equal(s.last_chk, 'Connection refused');
    assert.equal(s.lastsess, -1);
    assert.equal(s.addr, '127.0.0.1:1');
    assert.equal(rows[2].algo, 'roundrobin');
    assert.equal(rows[0].slim, 9985);
  });
  it('rejects text that is not a stat dump', () => {
    assert.throws(() => parseShowStat('HTTP/1.1 400 Bad Request\r\n'), /not a "show stat"/);
  });
  it('counterTotal sums only the counters in scope', () => {
    // smax + rate_max on each row, plus the frontend's req_rate_max.
    assert.equal(counterTotal(rows, false), 7);
    assert.ok(counterTotal(rows, true) > counterTotal(rows, false));
  });
  it('any server name and integer survive a CSV round trip (property)', () => {
    fc.assert(fc.property(fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/), fc.nat(), (name, n) => {
      const line = `app,${name},0,0,${n},1,,2,158,294,,0,,0,0,0,0,UP,1,1,0,0,0,7,0,,1,3,1,,2,,2,0,,1,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,http,`;
      const [r] = parseShowStat(`${STAT_HEADER}\n${line}\n`);
      return r.svname === name && r.scur === n && r.type === 'server';
    }));
  });
});

describe('haproxy info / servers state / backend / weight parsers', () => {
  it('show info: numbers are numbers, version stays text', () => {
    const info = parseShowInfo('Name: HAProxy\nVersion: 2.6.12-1+deb12u4\nRelease_date: 2026/10/17\nNbthread: 2\nPid: 6810\nUptime: 0d 0h00m00s\nUptime_sec: 0\nnode: 10\n\n');
    assert.deepEqual(info, { Name: 'HAProxy', Version: '2.6.12-1+deb12u4', Release_date: '2026/10/17', Nbthread: 2, Pid: 6810, Uptime: '0d 0h00m00s', Uptime_sec: 0, node: '10' });
    assert.throws(() => parseShowInfo('hello\n'), /not a "show info"/);
  });
  it('show servers state: admin bits decoded', () => {
    const text = [
      '1',
      '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port',
      '3 app 1 s1 127.0.0.1 0 8 1 1 1 8 2 0 6 0 0 0 - 18081 - 0 0 - - 0',
      '3 app 3 s3 127.0.0.1 0 5 2 4 9 1 0 0 8 0 0 0 - 18083 - 0 0 - - 0',
      '',
    ].join('\n');
    const [s1, s3] = parseServersState(text);
    assert.deepEqual([s1.server, s1.drain, s1.maint, s1.opState, s1.port], ['s1', true, false, 'stopped', 18081]);
    assert.deepEqual([s3.maint, s3.adminState & AdminFlag.ConfigMaint, s3.weight, s3.initialWeight, s3.secondsSinceLastChange], [true, 4, 2, 4, 9]);
    assert.throws(() => parseServersState('Permission denied\n'), /not a "show servers state"/);
  });
  it('show backend, get weight, version and capabilities', () => {
    assert.deepEqual(parseShowBackend('# name\napp\nstatic\n\n'), ['app', 'static']);
    assert.deepEqual(parseGetWeight('1 (initial 3)\n\n'), { weight: 1, initial: 3 });
    const v = parseVersion('2.6.12-1+deb12u4');
    assert.deepEqual([v.major, v.minor, v.patch], [2, 6, 12]);
    assert.deepEqual(capabilitiesOf(v), { serverState: true, showBackend: true, cliLevel: true, aggregatedStatus: true });
    assert.equal(capabilitiesOf(parseVersion('1.8.30')).cliLevel, false);
    assert.equal(capabilitiesOf(parseVersion('1.5.18')).serverState, false);
  });
});

describe('haproxy socket addresses and discovery', () => {
  it('parses the address forms of --socket and haproxy.cfg', () => {
    assert.deepEqual(parseRuntimeAddress('/run/haproxy/admin.sock'), { kind: 'unix', path: '/run/haproxy/admin.sock' });
    assert.deepEqual(parseRuntimeAddress('unix@/run/h.sock'), { kind: 'unix', path: '/run/h.sock' });
    assert.deepEqual(parseRuntimeAddress('127.0.0.1:9999'), { kind: 'tcp', host: '127.0.0.1', port: 9999 });
    assert.deepEqual(parseRuntimeAddress('ipv4@*:9999'), { kind: 'tcp', host: '127.0.0.1', port: 9999 });
    assert.deepEqual(parseRuntimeAddress('[::1]:9999'), { kind: 'tcp', host: '::1', port: 9999 });
    assert.throws(() => parseRuntimeAddress('1.2.3.4:70000'), /bad port/);
  });
  it('takes the admin-level stats socket from the global section only', () => {
    const cfg = ['global', '    stats socket /run/user.sock', '    stats socket ipv4@127.0.0.1:9999 level admin # admin', 'defaults', '    stats socket /run/nope.sock level admin', ''].join('\n');
    assert.deepEqual(statsSocketsFromConfig(cfg), [{ address: 'ipv4@127.0.0.1:9999', level: 'admin', line: 3 }, { address: '/run/user.sock', level: 'user', line: 2 }]);
  });
  it('resolves --socket, then LBCTL_HAPROXY_SOCKET, then the config, else says what to do', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbhp-unit-'));
    try {
      const cfg = path.join(dir, 'haproxy.cfg');
      await fs.writeFile(cfg, 'global\n  stats socket /x/admin.sock level admin\n');
      assert.equal((await resolveSocket('/flag.sock', { LBCTL_HAPROXY_SOCKET: '/env.sock' })).source, 'flag');
      assert.deepEqual((await resolveSocket(undefined, { LBCTL_HAPROXY_SOCKET: '/env.sock' })).address, { kind: 'unix', path: '/env.sock' });
      const fromCfg = await resolveSocket(undefined, { LBCTL_HAPROXY_CFG: cfg });
      assert.deepEqual([fromCfg.source, fromCfg.where, fromCfg.address], ['config', `${cfg}:2`, { kind: 'unix', path: '/x/admin.sock' }]);
      await fs.writeFile(cfg, 'global\n  daemon\n');
      await assert.rejects(resolveSocket(undefined, { LBCTL_HAPROXY_CFG: cfg }), (e: any) => e.exitCode === 6 && /no "stats socket" line/.test(e.message));
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('haproxy runtime ops: pure parts', () => {
  const servers = parseServersState(['1', '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight',
    '3 app 1 web1 a 2 0 1 1', '3 app 2 web2 a 2 0 1 1', '3 app 3 api1 a 2 0 1 1', ''].join('\n'));
  it('resolves refs, --all-in and --except globs; names are checked', () => {
    const names = (spec: any) => resolveTargets(spec, servers, ['app', 'empty'], 'sock').map((s) => s.server);
    assert.deepEqual(names({ refs: [], allIn: 'app', except: ['web*'] }), ['api1']);
    assert.deepEqual(names({ refs: [], allIn: 'app', except: ['web1,api?'] }), ['web2']);
    assert.deepEqual(names({ refs: ['app/web2'], allIn: 'app' }), ['web2', 'web1', 'api1']);
    assert.throws(() => names({ refs: [], allIn: 'empty' }), (e: any) => e.exitCode === 4);
    assert.throws(() => names({ refs: ['app/zzz'] }), (e: any) => e.exitCode === 4 && /servers: web1, web2, api1/.test(e.hint));
    assert.throws(() => parseServerRef('app/web1\nshutdown'), (e: any) => e.exitCode === 2);
    assert.throws(() => parseServerRef('app'), (e: any) => e.exitCode === 2);
  });
  it('weights and durations', () => {
    assert.deepEqual(parseWeightSpec('256'), { value: 256, percent: false });
    assert.deepEqual(parseWeightSpec('150%'), { value: 150, percent: true });
    for (const bad of ['257', '300', '-1', '1.5', 'x', '']) assert.throws(() => parseWeightSpec(bad), (e: any) => e.exitCode === 2, bad);
    // --socket-timeout takes the one duration syntax (a bare number is seconds), 100ms to 1h.
    assert.deepEqual(['30s', '500ms', '2m', '5', '100ms', '1h'].map(socketTimeoutMs), [30_000, 500, 120_000, 5000, 100, 3_600_000]);
    for (const bad of ['99ms', '2h', 'abc', '-1', '5 s', '']) assert.throws(() => socketTimeoutMs(bad), (e: any) => e.exitCode === 2 && e.code === 'EBADDURATION', bad);
  });
  it('action predicates match what haproxy 2.6 leaves behind', () => {
    const { ForcedMaint: M, ForcedDrain: D } = AdminFlag;
    assert.equal(SERVER_ACTIONS.drain.satisfied(D), true);
    assert.equal(SERVER_ACTIONS.drain.satisfied(D | M), false);
    assert.equal(SERVER_ACTIONS.maint.satisfied(M), true);
    assert.equal(SERVER_ACTIONS.enable.satisfied(D), true, 'enable leaves drain alone');
    assert.equal(SERVER_ACTIONS.ready.satisfied(D), false);
    assert.equal(SERVER_ACTIONS.disable.satisfied(M | AdminFlag.ConfigMaint), true);
    assert.deepEqual(['UP', 'UP 1/3', 'DOWN', 'DOWN 1/2', 'MAINT', 'MAINT (via app/x)', 'DRAIN', 'no check'].map(healthState),
      ['up', 'up', 'down', 'down', 'maint', 'maint', 'drain', 'nocheck']);
  });
  it('in-band haproxy errors become lbctl errors', () => {
    const a = { kind: 'unix' as const, path: '/s' };
    assert.throws(() => checkAnswer(a, 'disable server a/b', 'Permission denied\n\n'), (e: any) => e.exitCode === 5);
    assert.throws(() => checkAnswer(a, 'disable server a/b', 'No such server.\n\n'), (e: any) => e.exitCode === 4);
    assert.throws(() => checkAnswer(a, 'show foo', 'Unknown command, but maybe...\n'), (e: any) => e.exitCode === 6);
    assert.equal(checkAnswer(a, 'show info', 'Name: HAProxy\n'), 'Name: HAProxy\n');
  });
});

describe('runtime client framing (a fake peer on a unix socket)', () => {
  it('prompt session finds each answer at "\\n> " even when chunks split it; one-shot reads to EOF', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbhp-unit-'));
    const sockPath = path.join(dir, 'fake.sock');
    // Answers in tiny chunks so the prompt straddles chunk boundaries.
    const conns = new Set<net.Socket>();
    const server = net.createServer((c) => {
      conns.add(c);
      let interactive = false;
      c.setEncoding('utf8');
      let pending = '';
      c.on('data', async (d: string) => {
        pending += d;
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const cmd = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (cmd === 'prompt') { interactive = true; c.write('\n> '); continue; }
          const answer = `${cmd.toUpperCase()}\nline2\n\n`;
          if (!interactive) { c.end(answer); return; }
          for (const ch of `${answer}> `) { c.write(ch); await new Promise((r) => setImmediate(r)); }
        }
      });
    });
    await new Promise<void>((r) => server.listen(sockPath, r));
    try {
      const address = { kind: 'unix' as const, path: sockPath };
      assert.equal(await runtimeCommand(address, 'show x'), 'SHOW X\nline2\n\n');
      const s = await RuntimeSession.open(address);
      const answers = await Promise.all(['a', 'b', 'c'].map((c) => s.send(c)));
      assert.deepEqual(answers, ['A\nline2\n\n', 'B\nline2\n\n', 'C\nline2\n\n']);
      await assert.rejects(s.send('x;y'), (e: any) => e.exitCode === 2);
      await s.close();
    } finally {
      for (const c of conns) c.destroy();
      server.close();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('haproxy runtime views', () => {
  it('table pads by visible width (colour codes do not count) and aligns right where asked', () => {
    const red = '\x1b[31mDOWN\x1b[39m';
    assert.equal(table([['app/s1', red, '5'], ['app/web10', 'UP', '120']], { head: ['NAME', 'STATUS', 'W'], align: ['left', 'left', 'right'] }),
      ['NAME       STATUS    W', `app/s1     ${red}      5`, 'app/web10  UP      120'].join('\n'));
  });
  it('durations and byte counts read like hatop', () => {
    assert.deepEqual([0, 59, 61, 3700, 90000].map(duration), ['0s', '59s', '1m1s', '1h1m', '1d1h']);
    assert.deepEqual([null, 512, 2048, 5 * 1024 * 1024 * 1024].map(bytes), ['-', '512', '2.0K', '5.0G']);
  });
});
