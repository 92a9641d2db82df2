/**
 * The collection's IPVS modules (ipvs_service, ipvs_server) run by Debian's ansible-playbook
 * inside the kernel lab, against the real kernel's table, with `ipvsadm -Sn` as the oracle:
 * --check --diff on a fresh table reports the changes the real run then makes (the same task
 * reports) and changes nothing; the real run changes; the second run reports changed=0; a real
 * server absent from an unknown service is ok (unchanged); a bad scheduler fails with lbctl's
 * message in every run. PLAY RECAP lines are printed.
 *
 * Python under TCG is slow (a task costs 20-60 s on a loaded host), so there are three playbook
 * runs of one playbook, no fact gathering, and no retry files.
 *
 * Names: temp dirs an-kans-*, addresses 10.95.0.0/16.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { ansibleLab, ansibleSkip, play, type AnsibleLab } from '../support/ansible.js';

const inLab = process.env.LBCTL_IN_LAB === '1';
const skip = !inLab ? 'runs inside the kernel lab (LBCTL_TEST_SUITES=kernel)' : ansibleSkip;

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

  const site = play(
    '    - name: web service\n      lbctl.lbctl.ipvs_service: { service: "10.95.0.1:80", scheduler: rr }',
    '    - name: app1\n      lbctl.lbctl.ipvs_server: { service: "10.95.0.1:80", real_server: "10.95.1.5:8080", method: nat, weight: 3 }',
    '    - name: absent from an unknown service\n      lbctl.lbctl.ipvs_server: { service: "10.95.9.9:80", real_server: 10.95.1.5, state: absent }',
    '    - name: bad scheduler\n      lbctl.lbctl.ipvs_service: { service: "10.95.0.2:80", scheduler: nope }\n      ignore_errors: true',
  );
  const applied = ['-A -t 10.95.0.1:80 -s rr', '-a -t 10.95.0.1:80 -r 10.95.1.5:8080 -m -w 3'].sort().join('\n');

  test('--check predicts and changes nothing; the real run changes; the second run reports changed=0; errors carry lbctl\'s message', async () => {
    assert.equal(await table(), '');
    const check = await lab.playbook('site', site, '--check', '--diff');
    assert.equal(check.exitCode, 0, check.out);
    assert.deepEqual([check.recap.changed, check.recap.ignored], [2, 1], check.out);
    assert.equal(await table(), '', 'check mode changed the table');
    assert.match(check.out, /^\+# ipvsadm -A -t 10\.95\.0\.1:80 -s rr$/m, check.out);
    // The server's service does not exist yet in check mode: predicted, with a warning (wrapped
    // to the terminal width by Ansible).
    assert.match(check.out.replace(/\s+/g, ' '), /virtual service TCP 10\.95\.0\.1:80 does not exist: check mode assumes an earlier task creates it/, check.out);

    const real = await lab.playbook('site', site, '--diff');
    assert.equal(real.exitCode, 0, real.out);
    assert.deepEqual([real.recap.changed, real.recap.ignored], [2, 1], real.out);
    const reports = (p: { out: string }) => taskReports(p.out).map((t) => t.replace(/, "--dry-run"/g, ''));
    const status = (p: { out: string }) => taskReports(p.out).map((t) => `${t.split('\n')[0]} ${/^(changed|ok|fatal)/m.exec(t)?.[1] ?? '?'}`);
    assert.deepEqual(status(check), status(real));
    // The service's diff, the absent server and the failure read the same in check mode as in the real run.
    for (const i of [0, 2, 3]) assert.equal(reports(check)[i], reports(real)[i], `task ${i + 1}: check mode and the real run report differently`);
    assert.match(real.out, /^\+TCP 10\.95\.0\.1:80 -> 10\.95\.1\.5:8080\n\+# ipvsadm -a -t 10\.95\.0\.1:80 -r 10\.95\.1\.5:8080 -m -w 3$/m, real.out);
    const errors = real.out.replace(/\\"/g, '"');
    // Absent from a service that is absent too: ok, unchanged (Ansible's convention), not a failure.
    assert.match(status(real)[2], / ok$/, real.out);
    assert.match(errors, /"msg": "--scheduler: unknown scheduler "nope" \(use one of rr wrr /);
    assert.doesNotMatch(real.out, /non-zero return code/);
    assert.equal(await table(), applied);

    const again = await lab.playbook('site', site, '--diff');
    assert.equal(again.exitCode, 0, again.out);
    assert.deepEqual([again.recap.changed, again.recap.ignored], [0, 1], again.out);
    assert.equal(await table(), applied, 'the second run changed the table');
  });
});
