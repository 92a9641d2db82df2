/**
 * The collection's lbctl version check (ansible/lbctl/plugins/module_utils/lbctl.py): every module
 * runs it before its work, so it reads the version from the package.json of the installed lbctl
 * (the executable's bin/../package.json) instead of starting node for `lbctl --version`, and
 * asks `--version` only when there is no such file. The python runs with a stand-in for
 * AnsibleModule that records the commands it is asked to run.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';

const PY = '/usr/bin/python3';
const utils = path.join(lbctlRoot(), 'ansible', 'lbctl', 'plugins', 'module_utils', 'lbctl.py');
const skip = existsSync('/usr/lib/python3/dist-packages/ansible/module_utils/basic.py') ? false : 'ansible-core is not installed (test/deps.sh)';

// The stand-in module: fail_json and a finished check both print one JSON line and stop.
const HARNESS = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location('lbctl_utils', sys.argv[1])
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
calls = []
class Module(object):
    params = {'lbctl_path': sys.argv[2]}
    check_mode = False
    def get_bin_path(self, name): return None
    def fail_json(self, **kw):
        print(json.dumps({'fail': kw['msg'], 'calls': calls})); sys.exit(0)
    def run_command(self, argv):
        calls.append(argv)
        return json.loads(sys.argv[3])
v = m.Lbctl(Module()).version
print(json.dumps({'version': v, 'calls': calls}))
`;

let dir = '';
before(async () => { dir = await mkdtemp(path.join(os.tmpdir(), 'r2-ver-')); });
after(async () => { if (dir) await rm(dir, { recursive: true, force: true }); });

interface Outcome { version?: string; fail?: string; calls: string[][] }

/** An npm-style install under DIR/NAME (NAME/pkg/bin/run.js, NAME/bin/lbctl -> it) with PKG as its package.json (none if undefined). */
async function check(name: string, pkg: object | undefined, versionReply: [number, string, string]): Promise<Outcome & { bin: string }> {
  const base = path.join(dir, name);
  await mkdir(path.join(base, 'pkg', 'bin'), { recursive: true });
  await mkdir(path.join(base, 'bin'));
  await writeFile(path.join(base, 'pkg', 'bin', 'run.js'), '#!/usr/bin/env node\n');
  await chmod(path.join(base, 'pkg', 'bin', 'run.js'), 0o755);
  if (pkg) await writeFile(path.join(base, 'pkg', 'package.json'), JSON.stringify(pkg));
  const bin = path.join(base, 'bin', 'lbctl');
  await symlink(path.join('..', 'pkg', 'bin', 'run.js'), bin);
  const r = await execa(PY, ['-c', HARNESS, utils, bin, JSON.stringify(versionReply)], { reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  return { ...(JSON.parse(r.stdout) as Outcome), bin };
}

test('the version comes from the package.json beside the executable it links to: no `lbctl --version` run', { skip }, async () => {
  const o = await check('npm', { name: 'lbctl', version: '0.1.0' }, [1, '', 'must not be asked']);
  assert.deepEqual(o, { version: '0.1.0', calls: [], bin: o.bin });
});

test('too old by its package.json: the upgrade message, still without starting lbctl', { skip }, async () => {
  const o = await check('old', { name: 'lbctl', version: '0.0.9' }, [0, 'lbctl/0.2.0 linux-x64 node-v20.0.0\n', '']);
  assert.equal(o.fail, 'lbctl 0.0.9 is too old for this collection (needs 0.1.0 or later): upgrade it');
  assert.deepEqual(o.calls, []);
});

test("another package's package.json, or none: `lbctl --version` decides", { skip }, async () => {
  const other = await check('other', { name: 'not-lbctl', version: '9.9.9' }, [0, 'lbctl/0.2.0 linux-x64 node-v20.0.0\n', '']);
  assert.deepEqual([other.version, other.calls], ['0.2.0', [[other.bin, '--version']]]);
  const none = await check('none', undefined, [127, '', 'node: not found']);
  assert.equal(none.fail, `${none.bin} --version failed (exit 127): node: not found; reinstall lbctl or set lbctl_path`);
  assert.deepEqual(none.calls, [[none.bin, '--version']]);
});
