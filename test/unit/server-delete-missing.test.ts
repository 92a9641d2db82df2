/**
 * `server delete --missing-ok` (what Ansible's ipvs_server state=absent runs): a real server of a
 * virtual service that does not exist is absent, unchanged, exit 0; without the flag it stays
 * exit 4 (ESRCH); with the service present the flag changes nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runLbctl } from '../../src/cli/inprocess.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { keepDriverOpen, releaseSharedDrivers } from '../../src/ipvs/select.js';
import { asDriver, driverOf } from './fake-driver.js';

const fake = driverOf('-A -t 10.93.0.1:80 -s rr\n-a -t 10.93.0.1:80 -r 10.93.1.5:80 -g -w 1\n');
let lockDir = '';
before(async () => {
  lockDir = await fs.mkdtemp(path.join(os.tmpdir(), 'bg-lock-'));
  process.env.LBCTL_LOCK_DIR = lockDir;
  keepDriverOpen('auto', asDriver(fake));
});
after(async () => {
  releaseSharedDrivers();
  delete process.env.LBCTL_LOCK_DIR;
  await fs.rm(lockDir, { recursive: true, force: true });
});

test('server delete --missing-ok: a missing service is absent/unchanged (exit 0, --exit-code too); without it exit 4', async () => {
  const missing = ['server', 'delete', '-t', '10.93.0.9:80', '-r', '10.93.1.5'];
  const strict = await runLbctl([...missing, '--json']);
  assert.equal(strict.exitCode, ExitCode.NotFound, strict.stdout);
  assert.equal(strict.json.error.code, 'ESRCH');
  for (const extra of [[], ['--dry-run'], ['--drain', '--timeout', '1s'], ['--exit-code']]) {
    const r = await runLbctl([...missing, '--missing-ok', ...extra, '--json']);
    assert.equal(r.exitCode, 0, `${extra.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.equal(r.json.changed, false);
    assert.equal(r.json.action, 'absent');
    assert.equal(r.json.service, 'TCP 10.93.0.9:80');
    assert.deepEqual(r.json.commands, []);
  }
  assert.equal(fake.batches.length, 0, 'nothing written');
  // The service exists: --missing-ok deletes as before.
  const del = await runLbctl(['server', 'delete', '-t', '10.93.0.1:80', '-r', '10.93.1.5:80', '--missing-ok', '--json']);
  assert.equal(del.exitCode, 0, del.stdout);
  assert.equal(del.json.action, 'deleted');
  assert.equal(fake.table.services[0].destinations.length, 0);
});
