/**
 * `lbctl timeout show|set` and `lbctl daemon start|stop|status` against the real kernel, with
 * each driver, checked through ipvsadm (the second channel); twice is "unchanged"/"absent".
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { runLbctl } from '../../src/cli/inprocess.js';
import { labSkipReason } from './lib/topology.js';

const skip = labSkipReason() ?? false;
const ipvsadm = async (...args: string[]) => (await execa('ipvsadm', args, { env: { LC_ALL: 'C' } })).stdout;
let orig = '';

before(async () => {
  if (skip) return;
  orig = (/(\d+) (\d+) (\d+)/.exec(await ipvsadm('-Ln', '--timeout')) ?? []).slice(1).join(' ');
});
after(async () => {
  if (skip) return;
  await ipvsadm('--set', ...orig.split(' ')).catch(() => {});
  await ipvsadm('--stop-daemon', 'master').catch(() => {});
  await ipvsadm('--stop-daemon', 'backup').catch(() => {});
});

/**
 * The JSON document at the end of captured stdout. Under `node --test`, the runner's own
 * (binary) event stream to the parent can land in runLbctl's capture window ahead of it.
 */
function jsonTail(stdout: string): any {
  // Only the top-level object opens with '{' + newline + two spaces + a quote.
  const i = stdout.lastIndexOf('{\n  "');
  try { return JSON.parse(stdout.slice(Math.max(0, i))); } catch { return undefined; }
}

for (const driver of (process.env.LBCTL_TEST_DRIVERS ?? 'netlink ipvsadm').split(/\s+/).filter(Boolean)) {
  describe(`driver ${driver}`, () => {
    const lb = (...argv: string[]) => runLbctl([...argv, '--driver', driver]);
    const lbj = async (...argv: string[]) => {
      const r = await lb(...argv, '--json');
      assert.equal(r.exitCode, 0, `lbctl ${argv.join(' ')}: ${r.stderr}${r.stdout}`);
      const json = r.json ?? jsonTail(r.stdout);
      assert.ok(json, `lbctl ${argv.join(' ')} printed no JSON: ${JSON.stringify(r)}`);
      return json;
    };

    // Reported to the ipvsadm driver's owner: its getTimeouts regex expects "tcp N tcpfin N udp N".
    test('timeout set/show: converges, numbers in JSON, unchanged the second time', { skip }, async () => {
      await ipvsadm('--set', '900', '120', '300');
      assert.deepEqual(await lbj('timeout', 'show'), { changed: false, msg: 'timeout show: Timeout (tcp tcpfin udp): 900 120 300', tcp: 900, tcpfin: 120, udp: 300 });
      const r = await lbj('timeout', 'set', '--tcp', '3600', '--udp', '61');
      assert.equal(r.changed, true);
      assert.equal(r.action, 'updated');
      assert.deepEqual(r.after, { tcp: 3600, tcpfin: 120, udp: 61 });
      assert.match(await ipvsadm('-Ln', '--timeout'), /3600 120 61/);
      const again = await lbj('timeout', 'set', '--tcp', '3600', '--udp', '61');
      assert.equal(again.changed, false);
      assert.equal(again.action, 'unchanged');
      const human = await lb('timeout', 'set', '--tcpfin', '120');
      assert.match(human.stdout, /unchanged/);
      assert.match((await lb('timeout', 'show')).stdout, /^Timeout \(tcp tcpfin udp\): 3600 120 61$/m);
      const bad = await lb('timeout', 'set', '--udp', 'x');
      assert.equal(bad.exitCode, 2);
      assert.match(await ipvsadm('-Ln', '--timeout'), /3600 120 61/);
    });

    test('daemon start/status/stop: matches ipvsadm --daemon; idempotent; restart on other settings', { skip }, async () => {
      const s1 = await lbj('daemon', 'start', '--state', 'master', '--mcast-interface', 'lo', '--syncid', '5');
      assert.equal(s1.action, 'created');
      assert.match(await ipvsadm('-Ln', '--daemon'), /master sync daemon \(mcast=lo, syncid=5/);
      assert.equal((await lbj('daemon', 'start', '--state', 'master', '--mcast-interface', 'lo', '--syncid', '5')).action, 'unchanged');
      const s2 = await lbj('daemon', 'start', '--state', 'master', '--mcast-interface', 'lo', '--syncid', '6');
      assert.equal(s2.action, 'updated');
      assert.equal(s2.previous.syncId, 5);
      assert.match(await ipvsadm('-Ln', '--daemon'), /master sync daemon \(mcast=lo, syncid=6/);
      await lbj('daemon', 'start', '--state', 'backup', '--mcast-interface', 'lo', '--syncid', '6');
      const st = await lbj('daemon', 'status');
      assert.deepEqual(st.daemons, [{ state: 'master', mcastIfn: 'lo', syncId: 6 }, { state: 'backup', mcastIfn: 'lo', syncId: 6 }]);
      assert.match((await lb('daemon', 'status')).stdout, /backup sync daemon \(mcast=lo, syncid=6\)/);
      assert.equal((await lbj('daemon', 'stop', '--state', 'master')).action, 'deleted');
      assert.equal((await lbj('daemon', 'stop', '--state', 'master')).action, 'absent');
      assert.doesNotMatch(await ipvsadm('-Ln', '--daemon'), /master/);
      await lbj('daemon', 'stop', '--state', 'backup');
      assert.equal((await ipvsadm('-Ln', '--daemon')).trim(), '');
      const nodev = await lb('daemon', 'start', '--state', 'master', '--mcast-interface', 'lbnl-none');
      assert.equal(nodev.exitCode, 4);
      assert.equal((await ipvsadm('-Ln', '--daemon')).trim(), '');
    });
  });
}

test('without CAP_NET_ADMIN: exit 5 with a clear message (netlink), nothing changed', { skip }, async () => {
  const before = await ipvsadm('-Ln', '--timeout');
  const r = await execa('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all',
    process.execPath, 'bin/run.js', 'timeout', 'set', '--tcp', '1111', '--driver', 'netlink'], { reject: false, env: { HOME: '/tmp', LC_ALL: 'C' } });
  assert.equal(r.exitCode, 5, `${r.stdout}${r.stderr}`);
  assert.match(r.stderr, /not permitted .*IPVS.*CAP_NET_ADMIN/);
  assert.equal(await ipvsadm('-Ln', '--timeout'), before);
});
