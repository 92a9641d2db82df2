/**
 * Host rollback on the real file system: a persist file removed by a plan whose next change fails
 * comes back with the mode (0640) and owner (1234:5678) it had, not a new file's 0644 root:root.
 * Temp dirs bg-rollback-*.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyHost, type HostChange, type HostOp } from '../../src/host/provider.js';
import { emptyState } from '../../src/host/state.js';
import { RealHostSystem } from '../../src/host/system.js';
import { RejectedError } from '../../src/cli/errors.js';

const dirs: string[] = [];
after(async () => { for (const d of dirs) await fs.rm(d, { recursive: true, force: true }); });

const change = (op: HostOp, id: string): HostChange => ({ action: '-', kind: 'file', id, reason: 'test', op, item: { kind: 'file', item: id, before: 'present', after: null, action: 'deleted', changed: true } });

test('a removed persist file is recreated by the rollback with its 0640 mode and 1234:5678 owner', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'bg-rollback-'));
  dirs.push(dir);
  const file = path.join(dir, '90-lbctl-realserver.conf');
  await fs.writeFile(file, 'net.ipv4.conf.all.arp_ignore = 1\n');
  await fs.chmod(file, 0o640);
  await fs.chown(file, 1234, 5678);
  const prev = await new RealHostSystem().readFile(file);
  assert.equal(prev?.type, 'file');
  // The second change fails as an external fault would, after the file is gone.
  const failing = new RealHostSystem();
  const plan = { changes: [change({ op: 'file-remove', path: file, prev }, file), change({ op: 'file-write', path: path.join(dir, 'other.conf'), content: 'x\n', prev: null }, 'other')], items: [], records: emptyState(1), notes: [] };
  // The rollback writes through the same system: fail only the forward write of other.conf.
  let calls = 0;
  failing.writeFile = async (abs, content, mode, exact) => {
    calls++;
    if (abs.endsWith('other.conf')) throw new RejectedError('disk said no');
    return RealHostSystem.prototype.writeFile.call(failing, abs, content, mode, exact);
  };
  await assert.rejects(applyHost(failing, plan, emptyState(1), { what: 'test' }), /rolled back the 1 applied before it/);
  assert.equal(calls, 2, 'the failed write, then the restore');
  const st = await fs.stat(file);
  assert.equal((st.mode & 0o7777).toString(8), '640');
  assert.deepEqual([st.uid, st.gid], [1234, 5678]);
  assert.equal(await fs.readFile(file, 'utf8'), 'net.ipv4.conf.all.arp_ignore = 1\n');
});
