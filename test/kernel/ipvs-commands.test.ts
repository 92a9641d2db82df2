/**
 * Every IPVS command against the real kernel (inside the lab), with `ipvsadm -Sn` as the
 * oracle after each one, for each driver. Commands run in-process (runLbctl): the same oclif
 * command classes as the CLI, without paying node's start-up per call under TCG.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { runLbctl } from '../../src/cli/inprocess.js';
import { openNetlinkDriver } from '../../src/ipvs/netlink/index.js';

async function oracle(): Promise<string> {
  const r = await execa('ipvsadm', ['-Sn']);
  return r.stdout.split('\n').filter(Boolean).sort().join('\n');
}

async function sh(cmd: string, args: string[]) { await execa(cmd, args); }

before(async () => {
  // Real-server addresses must be routable: a dummy interface with the lab's networks.
  await execa('ip', ['link', 'del', 'lbk0']).catch(() => {});
  await sh('ip', ['link', 'add', 'lbk0', 'type', 'dummy']);
  await sh('ip', ['link', 'set', 'lbk0', 'up']);
  await sh('ip', ['addr', 'add', '10.0.1.1/24', 'dev', 'lbk0']);
  await sh('ip', ['addr', 'add', '10.0.0.254/24', 'dev', 'lbk0']);
  await sh('ip', ['-6', 'addr', 'add', '2001:db8:1::1/64', 'dev', 'lbk0', 'nodad']);
  await sh('ip', ['-6', 'addr', 'add', '2001:db8::fe/64', 'dev', 'lbk0', 'nodad']);
});
after(async () => {
  await execa('ipvsadm', ['-C']).catch(() => {});
  await execa('ip', ['link', 'del', 'lbk0']).catch(() => {});
});

const DRIVERS = (process.env.LBCTL_TEST_DRIVERS ?? 'ipvsadm netlink').split(/\s+/).filter(Boolean);

for (const driver of DRIVERS) {
  describe(`driver ${driver}`, async () => {
    let skip: string | false = false;
    if (driver === 'netlink') {
      try { await (await openNetlinkDriver()).close(); } catch (e: any) { skip = `netlink driver not available: ${e.message}`; }
    }
    const lb = (...argv: string[]) => runLbctl([...argv, '--driver', driver]);
    const lbj = async (...argv: string[]) => {
      const r = await lb(...argv, '--json');
      assert.equal(r.exitCode, 0, `lbctl ${argv.join(' ')} failed: ${r.stderr}${r.stdout}`);
      assert.ok(r.json, `no JSON from lbctl ${argv.join(' ')}: ${r.stdout}`);
      return r.json;
    };
    /** Run a mutating command twice: the first reports `action`, the second "unchanged"/"absent" and changes nothing. */
    const twice = async (argv: string[], action: string, expectLine?: string) => {
      const first = await lbj(...argv);
      assert.equal(first.action, action, `${argv.join(' ')}: ${JSON.stringify(first)}`);
      assert.equal(first.changed, true);
      const table = await oracle();
      if (expectLine) assert.ok(table.split('\n').includes(expectLine), `ipvsadm -Sn lacks "${expectLine}":\n${table}`);
      const second = await lbj(...argv);
      assert.equal(second.changed, false, `second run of ${argv.join(' ')} changed: ${JSON.stringify(second)}`);
      assert.ok(['unchanged', 'absent'].includes(second.action));
      assert.equal(await oracle(), table, 'second run changed the table');
      const human = await lb(...argv);
      assert.equal(human.exitCode, 0);
      assert.match(human.stdout, /unchanged|absent/);
    };

    test('service and server add/edit/delete converge, twice is unchanged', { skip }, async () => {
      await execa('ipvsadm', ['-C']);
      await twice(['service', 'add', '-t', '10.0.0.1:80', '-s', 'rr'], 'created', '-A -t 10.0.0.1:80 -s rr');
      await twice(['service', 'add', '-t', '10.0.0.1:80', '-s', 'wrr', '-p'], 'updated', '-A -t 10.0.0.1:80 -s wrr -p 300');
      await twice(['service', 'edit', '-t', '10.0.0.1:80', '-p', '600', '-M', '255.255.255.0'], 'updated', '-A -t 10.0.0.1:80 -s wrr -p 600 -M 255.255.255.0');
      await twice(['server', 'add', '-t', '10.0.0.1:80', '-r', '10.0.1.5:80', '-m', '-w', '3'], 'created', '-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3');
      await twice(['server', 'add', '-t', '10.0.0.1:80', '-r', '10.0.1.5:80', '-m', '-w', '5'], 'updated', '-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 5');
      // ipvsadm -Sn does not show thresholds: check them in ipvsadm -Ln --thresholds.
      await twice(['server', 'edit', '-t', '10.0.0.1:80', '-r', '10.0.1.5', '-x', '100', '-y', '10'], 'updated');
      assert.match((await execa('ipvsadm', ['-Ln', '--thresholds', '--exact'])).stdout, /-> 10\.0\.1\.5:80\s+100\s+10\s/);
      await twice(['server', 'add', '-t', '10.0.0.1:80', '-r', '10.0.1.6', '-g'], 'created', '-a -t 10.0.0.1:80 -r 10.0.1.6:80 -g -w 1');
      await twice(['server', 'edit', '-t', '10.0.0.1:80', '-r', '10.0.1.6', '-i'], 'updated', '-a -t 10.0.0.1:80 -r 10.0.1.6:80 -i -w 1 --tun-type ipip');
      await twice(['server', 'delete', '-t', '10.0.0.1:80', '-r', '10.0.1.6'], 'deleted');
      assert.ok(!(await oracle()).includes('10.0.1.6'));
      await twice(['service', 'delete', '-t', '10.0.0.1:80'], 'deleted');
      assert.equal(await oracle(), '');
    });

    test('UDP, SCTP, fwmark (IPv4 and IPv6), IPv6 services, every scheduler', { skip }, async () => {
      await execa('ipvsadm', ['-C']);
      await twice(['service', 'add', '-u', '10.0.0.1:53', '-s', 'sh', '-b', 'sh-port,sh-fallback', '-o'], 'created', '-A -u 10.0.0.1:53 -s sh -o -b sh-fallback,sh-port');
      await twice(['service', 'add', '--sctp-service', '10.0.0.1:3868', '-s', 'rr'], 'created', '-A --sctp-service 10.0.0.1:3868 -s rr');
      await twice(['service', 'add', '-f', '7', '-s', 'lc'], 'created', '-A -f 7 -s lc');
      await twice(['service', 'add', '-f', '8', '-6', '-s', 'lc', '-p', '60', '-M', '64'], 'created', '-A -f 8 -6 -s lc -p 60 -M 64');
      await twice(['service', 'add', '-t', '[2001:db8::1]:443', '-s', 'mh'], 'created', '-A -t [2001:db8::1]:443 -s mh');
      await twice(['server', 'add', '-t', '[2001:db8::1]:443', '-r', '[2001:db8:1::5]:443', '-m'], 'created', '-a -t [2001:db8::1]:443 -r [2001:db8:1::5]:443 -m -w 1');
      await twice(['server', 'add', '-f', '7', '-r', '10.0.1.9', '-i', '--tun-type', 'gue', '--tun-port', '6080'], 'created', '-a -f 7 -r 10.0.1.9:0 -i -w 1 --tun-type gue --tun-port 6080 --tun-nocsum');
      await twice(['server', 'add', '-f', '7', '-r', '10.0.1.10', '-i', '--tun-type', 'gre', '--tun-csum'], 'created', '-a -f 7 -r 10.0.1.10:0 -i -w 1 --tun-type gre --tun-csum');
      for (const s of ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh']) {
        const r = await lbj('service', 'add', '-t', '10.0.0.2:8080', '-s', s);
        assert.equal(r.changed, true, s);
        assert.ok((await oracle()).includes(`-A -t 10.0.0.2:8080 -s ${s}`), s);
      }
      const list = await lbj('list');
      assert.equal(list.services.length, 6);
      await execa('ipvsadm', ['-C']);
    });

    test('list --stats/--rate --json give numbers; human list looks like ipvsadm -Ln', { skip }, async () => {
      await execa('ipvsadm', ['-C']);
      await lbj('service', 'add', '-t', '10.0.0.1:80', '-s', 'rr');
      await lbj('server', 'add', '-t', '10.0.0.1:80', '-r', '10.0.1.5', '-m', '-w', '2');
      const j = await lbj('list', '--stats');
      assert.equal(typeof j.services[0].stats.conns, 'number');
      assert.equal(typeof j.services[0].destinations[0].stats.inbytes, 'number');
      assert.equal(j.services[0].destinations[0].weight, 2);
      const h = await lb('list', '-t', '10.0.0.1:80');
      assert.match(h.stdout, /TCP\s+10\.0\.0\.1:80\s+rr/);
      assert.match(h.stdout, /-> 10\.0\.1\.5:80\s+Masq\s+2\s+0\s+0/);
      const missing = await lb('list', '-t', '10.0.0.9:80');
      assert.equal(missing.exitCode, 4);
    });

    test('restore converges exactly, --dry-run and --merge, save/restore round trip', { skip }, async () => {
      await execa('ipvsadm', ['-C']);
      const start = ['-A -t 10.0.0.1:80 -s rr', '-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 1', '-a -t 10.0.0.1:80 -r 10.0.1.6:80 -m -w 1', '-A -t 10.0.0.2:80 -s wlc', '-A -u 10.0.0.3:53 -s rr'];
      await execa('ipvsadm', ['-R'], { input: start.join('\n') + '\n' });
      const desired = ['-A -t 10.0.0.1:80 -s wrr', '-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3', '-a -t 10.0.0.1:80 -r 10.0.1.7:80 -m -w 1', '-A -u 10.0.0.3:53 -s rr', '-A -t 10.0.0.4:443 -s sh'].join('\n') + '\n';
      const before = await oracle();
      const dry = await runLbctl(['restore', '-', '--dry-run', '--driver', driver], { stdin: desired });
      assert.equal(dry.exitCode, 0, dry.stderr);
      assert.match(dry.stdout, /Plan: 2 to add, 2 to change, 2 to delete\./);
      assert.equal(await oracle(), before, 'dry run changed the table');
      const dryCode = await runLbctl(['restore', '-', '--dry-run', '--exit-code', '--driver', driver], { stdin: desired });
      assert.equal(dryCode.exitCode, 10);
      const merged = await runLbctl(['restore', '-', '--merge', '--json', '--driver', driver], { stdin: desired });
      assert.equal(merged.exitCode, 0, merged.stderr);
      assert.equal(merged.json.summary.destroy, 0);
      assert.ok((await oracle()).includes('-A -t 10.0.0.2:80 -s wlc'), '--merge deleted a service');
      const r = await runLbctl(['restore', '-', '--json', '--driver', driver], { stdin: desired });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(await oracle(), desired.trim().split('\n').sort().join('\n'));
      const again = await runLbctl(['restore', '-', '--driver', driver], { stdin: desired });
      assert.match(again.stdout, /No changes\./);
      // Round trip: save, clear, restore into an empty table gives identical ipvsadm -Sn.
      const saved = await lb('save');
      const full = await oracle();
      await execa('ipvsadm', ['-C']);
      const back = await runLbctl(['restore', '-', '--driver', driver], { stdin: saved.stdout });
      assert.equal(back.exitCode, 0, back.stderr);
      assert.equal(await oracle(), full);
      for (const fmt of ['yaml', 'json']) {
        const s = await lb('save', '--format', fmt);
        await execa('ipvsadm', ['-C']);
        const b = await runLbctl(['restore', '-', '--format', fmt, '--driver', driver], { stdin: s.stdout });
        assert.equal(b.exitCode, 0, b.stderr);
        assert.equal(await oracle(), full, fmt);
      }
    });

    test('clear asks unless --yes; zero; both idempotent', { skip }, async () => {
      await execa('ipvsadm', ['-C']);
      await lbj('service', 'add', '-t', '10.0.0.1:80');
      const noTty = await lb('clear');
      assert.equal(noTty.exitCode, 2, 'clear without --yes and no TTY must refuse');
      assert.notEqual(await oracle(), '');
      const z = await lbj('zero');
      assert.equal(z.changed, false, 'fresh counters are already zero');
      const c1 = await lbj('clear', '--yes');
      assert.equal(c1.changed, true);
      assert.equal(await oracle(), '');
      const c2 = await lbj('clear', '--yes');
      assert.equal(c2.changed, false);
    });
  });
}
