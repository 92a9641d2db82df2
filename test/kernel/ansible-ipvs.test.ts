/**
 * The collection's IPVS modules (ipvs_service, ipvs_server) run by Debian's ansible-playbook
 * inside the kernel lab, against the real kernel's table, with `ipvsadm -Sn` as the oracle:
 * --check on a fresh table reports the changes the real run then makes and changes nothing; the
 * real run changes; the second run reports changed=0; --check --diff of an update shows the
 * same before/after as the real run; an unknown service and a bad scheduler fail with lbctl's
 * message. PLAY RECAP lines are printed.
 *
 * Python under TCG is slow (a playbook run costs minutes on a loaded host), so there are five
 * playbook runs with several tasks each, no fact gathering, and no retry files.
 *
 * Names: temp dirs an-kans-*, addresses 10.95.0.0/16.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { ansibleLab, ansibleSkip, play, type AnsibleLab } from '../support/ansible.js';

const inLab = process.env.LBCTL_IN_LAB === '1';
const skip = !inLab ? 'runs inside the kernel lab (LBCTL_TEST_SUITES=kernel)' : ansibleSkip;
const LONG = { timeout: 1_500_000 };

const table = async () => (await execa('ipvsadm', ['-Sn'])).stdout.split('\n').filter(Boolean).sort().join('\n');

/** Each task's name and its diff and status lines, as Ansible printed them. */
function taskReports(out: string): string[] {
  return out.split(/^TASK /m).slice(1).map((t) => t.split(/^PLAY RECAP/m)[0].replace(/\*+/g, '').replace(/\n+/g, '\n').trim());
}

describe('lbctl.lbctl IPVS modules against the lab kernel', { skip }, () => {
  let lab: AnsibleLab;
  before(async () => {
    lab = await ansibleLab('an-kans-', 'copy');
    await execa('ipvsadm', ['-C']);
  });
  after(async () => {
    await execa('ipvsadm', ['-C']).catch(() => {});
    await lab?.cleanup();
  });

  test('ansible-playbook runs in the guest', LONG, async () => {
    const r = await execa('ansible-playbook', ['--version'], { env: lab.env });
    process.stdout.write(`# ${r.stdout.split('\n')[0]}\n`);
    assert.match(r.stdout, /^ansible-playbook \[core 2\.\d+/);
  });

  const site = play(
    '    - name: web service\n      lbctl.lbctl.ipvs_service: { service: "10.95.0.1:80", scheduler: rr }',
    '    - name: app1\n      lbctl.lbctl.ipvs_server: { service: "10.95.0.1:80", real_server: 10.95.1.5, method: nat, weight: 3 }',
    '    - name: app2\n      lbctl.lbctl.ipvs_server: { service: "10.95.0.1:80", real_server: "10.95.1.6:8080", method: nat, weight: 2 }',
  );

  test('--check on a fresh table predicts and changes nothing; the real run changes; the second run reports changed=0', LONG, async () => {
    const fresh = await table();
    assert.equal(fresh, '');
    const check = await lab.playbook('site', site, '--check', '--diff');
    assert.equal(check.exitCode, 0, check.out);
    assert.equal(check.recap.changed, 3, check.out);
    assert.equal(await table(), fresh, 'check mode changed the table');
    assert.match(check.out, /^\+# ipvsadm -A -t 10\.95\.0\.1:80 -s rr$/m, check.out);
    // The servers' service does not exist yet in check mode: predicted, with a warning.
    // (Ansible wraps warnings to the terminal width.)
    assert.match(check.out.replace(/\s+/g, ' '), /virtual service TCP 10\.95\.0\.1:80 does not exist: check mode assumes an earlier task creates it/, check.out);

    const real = await lab.playbook('site', site, '--diff');
    assert.equal(real.exitCode, 0, real.out);
    assert.equal(real.recap.changed, check.recap.changed, 'check mode and the real run disagree');
    const status = (p: { out: string }) => taskReports(p.out).map((t) => t.split('\n')[0] + ' ' + (/^(changed|ok|fatal)/m.exec(t)?.[1] ?? '?'));
    assert.deepEqual(status(check), status(real));
    assert.equal(taskReports(check.out)[0], taskReports(real.out)[0], 'the service task: check mode diff differs from the real run');
    assert.match(real.out, /^\+# ipvsadm -a -t 10\.95\.0\.1:80 -r 10\.95\.1\.5:80 -m -w 3$/m, real.out);
    const applied = await table();
    assert.equal(applied, ['-A -t 10.95.0.1:80 -s rr', '-a -t 10.95.0.1:80 -r 10.95.1.5:80 -m -w 3', '-a -t 10.95.0.1:80 -r 10.95.1.6:8080 -m -w 2'].sort().join('\n'));

    const again = await lab.playbook('site', site, '--diff');
    assert.equal(again.exitCode, 0, again.out);
    assert.equal(again.recap.changed, 0, again.out);
    assert.equal(await table(), applied, 'the second run changed the table');
  });

  test('an update: --check --diff shows the real run\'s before/after; unknown service and bad input fail with lbctl\'s message', LONG, async () => {
    const change = play(
      '    - name: scheduler\n      lbctl.lbctl.ipvs_service: { service: "10.95.0.1:80", scheduler: wrr }',
      '    - name: app1 weight\n      lbctl.lbctl.ipvs_server: { service: "10.95.0.1:80", real_server: 10.95.1.5, method: nat, weight: 5 }',
      '    - name: app2 leaves\n      lbctl.lbctl.ipvs_server: { service: "10.95.0.1:80", real_server: "10.95.1.6:8080", state: absent }',
      '    - name: unknown service\n      lbctl.lbctl.ipvs_server: { service: "10.95.9.9:80", real_server: 10.95.1.5, state: absent }\n      ignore_errors: true',
      '    - name: bad scheduler\n      lbctl.lbctl.ipvs_service: { service: "10.95.0.2:80", scheduler: nope }\n      ignore_errors: true',
    );
    const before = await table();
    const check = await lab.playbook('change', change, '--check', '--diff');
    assert.equal(check.exitCode, 0, check.out);
    assert.deepEqual([check.recap.changed, check.recap.ignored], [3, 2], check.out);
    assert.equal(await table(), before, 'check mode changed the table');

    const real = await lab.playbook('change', change, '--diff');
    assert.equal(real.exitCode, 0, real.out);
    assert.deepEqual([real.recap.changed, real.recap.ignored], [3, 2], real.out);
    // Every task's report (diff, status, error) is the same in check mode as in the real run.
    assert.deepEqual(taskReports(check.out).map((t) => t.replace(/, "--dry-run"/g, '')), taskReports(real.out));
    assert.match(real.out, /^-TCP 10\.95\.0\.1:80 -> 10\.95\.1\.6:8080$/m, real.out);
    assert.match(real.out, /^\+# ipvsadm -e -t 10\.95\.0\.1:80 -r 10\.95\.1\.5:80 .*-w 5\b/m);
    const errors = real.out.replace(/\\"/g, '"');
    assert.match(errors, /"msg": "virtual service TCP 10\.95\.9\.9:80 does not exist/, real.out);
    assert.match(errors, /"msg": "[^"]*nope[^"]*"/);
    assert.doesNotMatch(real.out, /non-zero return code/);
    assert.equal(await table(), ['-A -t 10.95.0.1:80 -s wrr', '-a -t 10.95.0.1:80 -r 10.95.1.5:80 -m -w 5'].sort().join('\n'));
  });
});
