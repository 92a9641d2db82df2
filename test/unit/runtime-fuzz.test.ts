import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LbctlError } from '../../src/cli/errors.js';
import { checkAnswer, expectEmpty, type RuntimeAddress, type RuntimeChannel } from '../../src/haproxy/runtime.js';
import { identify, readParsed } from '../../src/haproxy/runtime-ops.js';
import { parseServersState, parseShowBackend, parseShowInfo, parseShowStat } from '../../src/haproxy/stat.js';

/**
 * Property-based fuzzing of the runtime-socket answer parsers, as the client uses them
 * (readParsed: the answer checked for in-band errors, then parsed). Random and mutated
 * answers either parse or fail with an LbctlError whose exit code is not 1; and parsing time
 * grows linearly with the answer's size.
 */

const address: RuntimeAddress = { kind: 'unix', path: '/run/lbr6-fuzz.sock' };
const channel = (answer: string): RuntimeChannel => ({ address, send: async () => answer, close: async () => {} });

const STAT_HEADER = '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,';
const STAT_ROW = 'app,web1,0,0,0,1,,2,158,294,,0,,0,0,0,0,UP,1,1,0,1,1,7,7,,1,3,1,,2,,2,0,,1,L7OK,200,0,0,2,0,0,0,0,,,,2,0,0,,,,,-1,OK,,0,0,0,1,,,,Layer7 check passed,,2,3,4,,,,127.0.0.1:8080,,http,';
const STAT = `${STAT_HEADER}\nfe,FRONTEND,,,0,1,9985,4,316,588,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,1,,,,0,4,0,0,0,0,,0,1,4,,,0,0,0,0,,,,,,,,,,,,,,,,,,,,,http,\n${STAT_ROW}\n\n`;
const INFO = 'Name: HAProxy\nVersion: 2.6.12-1+deb12u4\nRelease_date: 2026/10/17\nNbthread: 2\nPid: 6810\nUptime: 0d 0h00m00s\nUptime_sec: 0\nCurrConns: 3\n\n';
const STATE_HEADER = '# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port';
const STATE_ROW = '3 app 1 s1 127.0.0.1 2 0 1 1 1 8 2 0 6 0 0 0 - 18081 - 0 0 - - 0';
const STATE = `1\n${STATE_HEADER}\n${STATE_ROW}\n3 app 3 s3 127.0.0.1 0 5 2 4 9 1 0 0 8 0 0 0 - 18083 - 0 0 - - 0\n\n`;
const BACKEND = '# name\napp\nstatic\n\n';
const ERRORS = ['Permission denied\n\n', 'Unknown command. Please enter one of the following commands only :\n  help\n\n', 'No such backend.\n\n', "Can't find backend.\n\n", 'No such server.\n\n'];

const PARSERS: Array<{ command: string; parse: (t: string) => unknown; sample: string }> = [
  { command: 'show stat', parse: parseShowStat, sample: STAT },
  { command: 'show info', parse: parseShowInfo, sample: INFO },
  { command: 'show servers state', parse: parseServersState, sample: STATE },
  { command: 'show backend', parse: parseShowBackend, sample: BACKEND },
];

/** Characters that matter to these formats, plus NUL, high Unicode and lone surrogates. */
const special = fc.constantFrom(',', '\n', '\r', ' ', '\t', ':', ': ', '#', '# pxname,', '1\n# be_id ', '\0', '\u2028', '\ud800', '__proto__', 'constructor', '-1', '1e308', 'NaN', '> ');
const piece = fc.oneof(fc.string({ unit: 'binary', maxLength: 20 }), special);

/** A sample answer with random edits: delete a range, insert pieces, repeat a part, truncate. */
function mutated(sample: string): fc.Arbitrary<string> {
  const edit = fc.tuple(fc.nat(), fc.nat({ max: 40 }), fc.array(piece, { maxLength: 3 }), fc.boolean());
  return fc.array(edit, { minLength: 1, maxLength: 8 }).map((edits) => {
    let s = sample;
    for (const [at, del, ins, repeat] of edits) {
      const i = s.length ? at % s.length : 0;
      const insert = repeat ? s.slice(i, i + del).repeat(3) : ins.join('');
      s = s.slice(0, i) + insert + s.slice(i + (repeat ? 0 : del));
    }
    return s;
  });
}

/** The property: the client either parses the answer or fails with a documented, non-internal error. */
async function parsesOrRefuses(command: string, parse: (t: string) => unknown, answer: string): Promise<boolean> {
  try {
    await readParsed(channel(answer), command, parse);
    return true;
  } catch (e) {
    if (!(e instanceof LbctlError)) throw new Error(`${command}: ${JSON.stringify(answer.slice(0, 200))} threw a non-lbctl error: ${(e as Error)?.stack ?? e}`);
    if (e.exitCode === 1) throw new Error(`${command}: exit 1 for ${JSON.stringify(answer.slice(0, 200))}`);
    if (/\n/.test(e.oneLine())) throw new Error('error is not one line');
    return true;
  }
}

describe('runtime answers: fuzzed', () => {
  for (const { command, parse, sample } of PARSERS) {
    it(`${command}: random answers never crash`, async () => {
      await fc.assert(fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary', maxLength: 400 }), fc.array(piece, { maxLength: 40 }).map((a) => a.join(''))), (answer) => parsesOrRefuses(command, parse, answer)), { numRuns: 400 });
    });
    it(`${command}: mutated real answers never crash`, async () => {
      await fc.assert(fc.asyncProperty(fc.oneof(mutated(sample), ...ERRORS.map((e) => mutated(e))), (answer) => parsesOrRefuses(command, parse, answer)), { numRuns: 600 });
    });
  }

  it('identify (show info, then the version) never crashes', async () => {
    await fc.assert(fc.asyncProperty(mutated(INFO), async (answer) => {
      try {
        await identify(channel(answer));
      } catch (e) {
        assert.ok(e instanceof LbctlError && e.exitCode !== 1, `${JSON.stringify(answer)}: ${(e as Error)?.stack ?? e}`);
      }
    }), { numRuns: 500 });
  });

  it('error answers of write commands: checkAnswer / expectEmpty refuse with 4, 5, 6 or 7', () => {
    fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 200 }), ...ERRORS.map((e) => mutated(e))), (answer) => {
      try {
        checkAnswer(address, 'set server app/web1 state drain', answer);
        expectEmpty(address, 'set server app/web1 state drain', answer);
        return answer.trim() === '';
      } catch (e) {
        return e instanceof LbctlError && [4, 5, 6, 7].includes(e.exitCode) && !/\n/.test(e.oneLine());
      }
    }), { numRuns: 1000 });
  });

  it('a "__proto__" column stays a plain field', () => {
    const [row] = parseShowStat('# pxname,svname,__proto__,\napp,web1,7,\n');
    assert.equal(Object.getPrototypeOf(row), Object.prototype);
    assert.equal(Object.getOwnPropertyDescriptor(row, '__proto__')?.value, 7);
  });
});

/**
 * Best CPU time of fn over a few runs, in ms. CPU time, not wall time: the machine is shared
 * and a preempted run would look slow; the minimum drops garbage-collection outliers.
 */
function best(fn: () => void, runs = 7): number {
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = process.cpuUsage();
    fn();
    const used = process.cpuUsage(t0);
    min = Math.min(min, (used.user + used.system) / 1000);
  }
  return min;
}

/**
 * Linear means: 16x the input costs about 16x the time; a quadratic parser takes 256x. The
 * bound (16x, times 5 for garbage collection and a shared machine) separates the two.
 */
function assertLinear(name: string, make: (n: number) => string, parse: (t: string) => unknown, n: number): void {
  const small = make(n);
  const big = make(n * 16);
  const run = (t: string) => () => { try { parse(t); } catch { /* refused is fine: the time counts */ } };
  run(small)(); run(big)(); // warm up
  const a = Math.max(best(run(small)), 1);
  const b = best(run(big), 3);
  assert.ok(b < a * 16 * 5, `${name}: ${small.length} chars took ${a.toFixed(2)} ms, ${big.length} chars ${b.toFixed(2)} ms (ratio ${(b / a).toFixed(1)})`);
}

describe('runtime answers: time linear in size', () => {
  it('show stat: many rows, and a very wide header', () => {
    assertLinear('rows', (n) => `${STAT_HEADER}\n${`${STAT_ROW}\n`.repeat(n)}`, parseShowStat, 500);
    assertLinear('wide', (n) => `# pxname,svname,${Array.from({ length: n }, (_, i) => `f${i}`).join(',')},\n${'1,'.repeat(n + 2)}\n`, parseShowStat, 200);
  });
  it('show servers state: many rows, and a very wide header', () => {
    assertLinear('rows', (n) => `1\n${STATE_HEADER}\n${`${STATE_ROW}\n`.repeat(n)}`, parseServersState, 500);
    assertLinear('wide', (n) => `1\n${STATE_HEADER} ${Array.from({ length: n }, (_, i) => `x${i}`).join(' ')}\n${`${STATE_ROW} ${'0 '.repeat(n)}\n`.repeat(50)}`, parseServersState, 300);
  });
  it('show info and error answers', () => {
    assertLinear('info', (n) => `${INFO}${Array.from({ length: n }, (_, i) => `K${i}: ${i}`).join('\n')}\n`, parseShowInfo, 100);
    // Past 1,000 keys it is refused, still in linear time.
    assertLinear('info, refused', (n) => `${INFO}${Array.from({ length: n }, (_, i) => `K${i}: ${i}`).join('\n')}\n`, parseShowInfo, 5000);
    assert.throws(() => parseShowInfo(`${INFO}${Array.from({ length: 1001 }, (_, i) => `K${i}: ${i}`).join('\n')}`), /more than 1000 keys/);
    assertLinear('garbage', (n) => 'x'.repeat(n * 100), (t) => checkAnswer(address, 'show info', t), 2000);
  });
});
