/**
 * src/cluster/install.ts paths that install-node.test.ts left to chance (mutants survived there:
 * docs/DEV.md "Mutation testing"): a reload that fails with an OS error after the files were
 * installed still ends as one lbctl error, with its exit code, saying what was installed. Temp dirs: /tmp/mu-inst-*.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { rejectsLbctl, scratchDirs } from '../support/scratch.js';
import { checkBehaviour, startFakeDaemon, useFakeDaemonChecks } from '../support/fake-daemons.js';
import { installSpec } from '../support/install-spec.js';

process.env.LBCTL_LOCK_DIR = path.join(useFakeDaemonChecks(), 'locks');
const { installNode } = await import('../../src/cluster/install.js');
const scratch = scratchDirs('mu-inst-');

test('keepalived\'s pid file turns into a directory while haproxy reloads: Rejected (7), and the files are said installed', async (t) => {
  checkBehaviour({});
  const c = await installSpec(await scratch());
  const ka = await startFakeDaemon(c.dir, 'keepalived');
  const ha = await startFakeDaemon(c.dir, 'haproxy', { dirOnReload: ka.pidfile });
  t.after(async () => { await ka.stop(); await ha.stop(); });
  const e = await rejectsLbctl(installNode(c.spec, {
    node: 'lb1', root: c.root, netns: 'never', reload: true, haproxyPidfile: ha.pidfile, keepalivedPidfile: ka.pidfile, nginxPidfile: path.join(c.dir, 'no-nginx.pid'),
  }));
  assert.equal(e.exitCode, ExitCode.Rejected);
  assert.equal(e.code, 'EISDIR');
  // node's EISDIR from reading a directory carries no path: the error says "a pid file".
  assert.equal(e.where, 'a pid file');
  assert.match(e.message, new RegExp(`^reload: read: .* \\(the new files are installed: ${c.h}, ${c.k}\\)$`));
  assert.match(await fs.readFile(c.k, 'utf8'), /auth_pass/);
});
