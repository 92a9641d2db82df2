/**
 * `lbctl shell` fed IPVS commands on stdin inside the kernel lab: the same commands as
 * separate lbctl runs (in-process, the same command classes: forking node per call is slow
 * under TCG) give the same JSON, the same table (`ipvsadm -Sn` as the oracle) and the same
 * exit code at the first failure. The shell keeps one netlink socket for all of them.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot, runLbctl } from '../../src/cli/inprocess.js';
import { tokenize } from '../../src/shell/tokenize.js';
import { labSkipReason } from './lib/topology.js';

const skip = labSkipReason();
const bin = path.join(lbctlRoot(), 'bin', 'run.js');

async function oracle(): Promise<string> {
  return (await execa('ipvsadm', ['-Sn'])).stdout.split('\n').filter(Boolean).sort().join('\n');
}

// [as typed in the shell, as a separate lbctl call]: prefixes in the shell, full words outside.
const SCRIPT: Array<[string, string]> = [
  ['servi ad -t 10.0.9.100:80 -s rr --json', 'service add -t 10.0.9.100:80 -s rr --json'],
  ['ser ad -t 10.0.9.100:80 -r 10.0.9.11:80 -m -w 2 --json', 'server add -t 10.0.9.100:80 -r 10.0.9.11:80 -m -w 2 --json'],
  ['server add -t 10.0.9.100:80 -r 10.0.9.12:80 -m --json', 'server add -t 10.0.9.100:80 -r 10.0.9.12:80 -m --json'],
  ['service edit -t 10.0.9.100:80 -s wlc --json', 'service edit -t 10.0.9.100:80 -s wlc --json'],
  ['server edit -t 10.0.9.100:80 -r 10.0.9.11:80 -w 5 --json', 'server edit -t 10.0.9.100:80 -r 10.0.9.11:80 -w 5 --json'],
  ['service add -u 10.0.9.100:53 -s sh --json', 'service add -u 10.0.9.100:53 -s sh --json'],
  ['li --json', 'list --json'],
  ['server delete -t 10.0.9.100:80 -r 10.0.9.12:80 --json', 'server delete -t 10.0.9.100:80 -r 10.0.9.12:80 --json'],
  ['service add -t 10.0.9.100:80 -s nosuch --json', 'service add -t 10.0.9.100:80 -s nosuch --json'],
  ['clear --yes --json', 'clear --yes --json'],
];

describe('lbctl shell on stdin against the kernel (IPVS)', { skip }, () => {
  before(async () => {
    await execa('ipvsadm', ['-C']);
    await execa('ip', ['link', 'del', 'lbsh0']).catch(() => {});
    await execa('ip', ['link', 'add', 'lbsh0', 'type', 'dummy']);
    await execa('ip', ['link', 'set', 'lbsh0', 'up']);
    await execa('ip', ['addr', 'add', '10.0.9.1/24', 'dev', 'lbsh0']);
  });
  after(async () => {
    await execa('ipvsadm', ['-C']).catch(() => {});
    await execa('ip', ['link', 'del', 'lbsh0']).catch(() => {});
  });

  // --keep-going is covered on the host (haproxy); one pass here keeps the TCG time down.
  for (const keepGoing of [false]) {
    it(`ten IPVS commands: same JSON, same table, same exit code as separate runs${keepGoing ? ' (--keep-going)' : ''}`, async () => {
      await execa('ipvsadm', ['-C']);
      let expected = '';
      let expectedCode = 0;
      for (const [, line] of SCRIPT) {
        const r = await runLbctl(tokenize(line));
        expected += r.stdout;
        if (r.exitCode !== 0) { expectedCode ||= r.exitCode; if (!keepGoing) break; }
      }
      const expectedTable = await oracle();
      assert.equal(expectedCode, 2, 'the bad scheduler line fails with a usage error');
      if (!keepGoing) assert.match(expectedTable, /-A -t 10\.0\.9\.100:80 -s wlc/);
      else assert.equal(expectedTable, '', 'clear --yes ran');

      await execa('ipvsadm', ['-C']);
      const sh = await execa(process.execPath, [bin, 'shell', ...(keepGoing ? ['--keep-going'] : [])], { reject: false, input: SCRIPT.map(([s]) => s).join('\n') + '\n' });
      assert.equal(sh.exitCode, expectedCode, sh.stderr);
      assert.equal(sh.stdout.trim(), expected.trim());
      assert.equal(await oracle(), expectedTable);
      const list = JSON.parse(sh.stdout.trim().split(/\n(?=\{)/)[6]);
      assert.equal(list.driver, 'netlink');
      assert.equal(list.services.length, 2);
    });
  }
});
