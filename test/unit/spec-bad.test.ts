/**
 * Broken specs, table-driven. Fixtures (test/fixtures/specs-bad/*.yaml) say on their first
 * line what must happen: `# expect: <line> <regex>`; they all exit 3 (InvalidInput). The
 * file-level cases (a directory, a FIFO, /dev/zero, a file over the size limit, a missing or
 * unreadable file) are made at run time and carry their own exit code.
 *
 * Every case goes through the commands themselves (in-process: the same command classes,
 * error printing and exit codes as the CLI) as `config generate --out DIR` and
 * `config install --node lb1 --root DIR`, each into a directory that already holds files:
 * the exit code must be the documented one (never 1), stderr exactly one line naming the
 * place, and DIR unchanged (paths, modes, contents) afterwards. `config check` must report
 * the same place first, before any daemon runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot, runLbctl } from '../../src/cli/inprocess.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { LbctlError } from '../../src/cli/errors.js';
import { generateFiles } from '../../src/cluster/generate.js';
import { checkCluster, checkError } from '../../src/cluster/check.js';
import { SPEC_LIMITS } from '../../src/cluster/load.js';
import { lbctl } from '../support/keepalived-lab.js';

const dir = path.join(lbctlRoot(), 'test', 'fixtures', 'specs-bad');
const fixtures = (await fs.readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
const shown = (file: string) => path.relative(process.cwd(), file) || file;
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function expectation(file: string): Promise<{ line: string; pattern: RegExp }> {
  const m = /^# expect: (\d+) (.+)$/.exec((await fs.readFile(file, 'utf8')).split('\n')[0]);
  assert.ok(m, `${file}: first line must be "# expect: <line> <regex>"`);
  return { line: m[1], pattern: new RegExp(m[2]) };
}

type Snapshot = Array<[string, string, string]>;

/** Every path under `root` with its type and mode, and the content of files and links. */
async function snapshot(root: string): Promise<Snapshot> {
  const out: Snapshot = [];
  const walk = async (d: string) => {
    for (const name of (await fs.readdir(d)).sort()) {
      const p = path.join(d, name);
      const st = await fs.lstat(p);
      const rel = path.relative(root, p);
      if (st.isDirectory()) { out.push([rel, `dir ${st.mode.toString(8)}`, '']); await walk(p); }
      else if (st.isSymbolicLink()) out.push([rel, 'link', await fs.readlink(p)]);
      else out.push([rel, `file ${st.mode.toString(8)} ${st.uid}:${st.gid}`, await fs.readFile(p, 'utf8')]);
    }
  };
  await walk(root);
  return out;
}

/** An output directory and an install root that already hold files, as on a real machine. */
async function populatedDirs(): Promise<{ base: string; out: string; root: string }> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'lbc1-bad-'));
  const out = path.join(base, 'out');
  const root = path.join(base, 'root');
  await fs.mkdir(path.join(out, 'lb1'), { recursive: true });
  await fs.writeFile(path.join(out, 'lb1', 'haproxy.cfg'), '# generated earlier\n', { mode: 0o640 });
  await fs.mkdir(path.join(root, 'etc', 'haproxy'), { recursive: true });
  await fs.mkdir(path.join(root, 'etc', 'keepalived'), { recursive: true });
  await fs.writeFile(path.join(root, 'etc', 'haproxy', 'haproxy.cfg'), 'global\n  daemon\n', { mode: 0o640 });
  await fs.writeFile(path.join(root, 'etc', 'keepalived', 'keepalived.conf'), 'global_defs {\n}\n', { mode: 0o600 });
  return { base, out, root };
}

/**
 * Runs generate and install on `file`; asserts the exit code, one stderr line starting with
 * `where` and matching `pattern`, and that nothing under either directory changed.
 */
async function assertRefused(file: string, exitCode: number, where: RegExp, pattern: RegExp): Promise<void> {
  const { base, out, root } = await populatedDirs();
  try {
    const before = await snapshot(base);
    for (const argv of [['config', 'generate', file, '--out', out], ['config', 'install', file, '--node', 'lb1', '--root', root, '--netns', 'never']]) {
      const r = await runLbctl(argv);
      const what = `${argv.slice(0, 2).join(' ')}: ${r.stderr}`;
      assert.notEqual(r.exitCode, ExitCode.Internal, what);
      assert.equal(r.exitCode, exitCode, what);
      assert.equal(r.stdout, '', what);
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, what);
      assert.ok(r.stderr.endsWith('\n'), what);
      assert.match(lines[0], new RegExp(`^lbctl: error: ${where.source}`), what);
      assert.match(lines[0], pattern, what);
      assert.deepEqual(await snapshot(base), before, `${what}: nothing may change under ${base}`);
    }
  } finally {
    await fs.rm(base, { recursive: true, force: true });
  }
}

test('at least 60 bad-spec cases', () => {
  assert.ok(fixtures.length + fileCases.length >= 60, `only ${fixtures.length} + ${fileCases.length}`);
});

for (const f of fixtures) {
  test(`bad spec: ${f}`, async () => {
    const file = path.join(dir, f);
    const { line, pattern } = await expectation(file);
    await assertRefused(file, ExitCode.InvalidInput, new RegExp(`${escape(shown(file))}:${line}:\\d+: `), pattern);

    // The functions behind the commands say the same, and config check finds it first.
    const err = await generateFiles(file, { out: path.join(os.tmpdir(), 'lbc1-never-written') }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof LbctlError, `expected an error, got ${String(err)}`);
    assert.equal(err.exitCode, ExitCode.InvalidInput, err.oneLine());
    const report = await checkCluster(file, { daemons: false });
    const cerr = checkError(report);
    assert.equal(cerr?.exitCode, ExitCode.InvalidInput);
    assert.match(cerr!.where!, new RegExp(`:${line}:\\d+$`));
    await assert.rejects(fs.access(path.join(os.tmpdir(), 'lbc1-never-written')));
  });
}

interface FileCase { name: string; make: (tmp: string) => Promise<string>; exitCode: number; pattern: RegExp; located?: boolean }

const fileCases: FileCase[] = [
  { name: 'a directory', make: async (t) => { await fs.mkdir(path.join(t, 'spec.yaml')); return path.join(t, 'spec.yaml'); }, exitCode: ExitCode.InvalidInput, pattern: /is a directory, not a regular file/ },
  { name: 'a FIFO (no writer: must not hang)', make: async (t) => { await execa('mkfifo', [path.join(t, 'fifo.yaml')]); return path.join(t, 'fifo.yaml'); }, exitCode: ExitCode.InvalidInput, pattern: /is a FIFO, not a regular file/ },
  { name: '/dev/zero', make: async () => '/dev/zero', exitCode: ExitCode.InvalidInput, pattern: /is a character device, not a regular file/ },
  { name: 'missing', make: async (t) => path.join(t, 'missing.yaml'), exitCode: ExitCode.NotFound, pattern: /does not exist/ },
  { name: 'a path under a regular file (ENOTDIR)', make: async (t) => { await fs.writeFile(path.join(t, 'f'), ''); return path.join(t, 'f', 'spec.yaml'); }, exitCode: ExitCode.NotFound, pattern: /a part of its path is not a directory/ },
  { name: 'a symlink loop', make: async (t) => { await fs.symlink('loop.yaml', path.join(t, 'loop.yaml')); return path.join(t, 'loop.yaml'); }, exitCode: ExitCode.InvalidInput, pattern: /cannot read spec file .*ELOOP/ },
  {
    name: `one byte over ${SPEC_LIMITS.maxBytes} bytes`,
    make: async (t) => {
      const p = path.join(t, 'big.yaml');
      // A valid start, then comment lines: only the size is wrong.
      const head = 'cluster: c\n';
      const line = `#${'x'.repeat(1022)}\n`;
      const body = head + line.repeat(Math.ceil(SPEC_LIMITS.maxBytes / line.length));
      await fs.writeFile(p, body.slice(0, SPEC_LIMITS.maxBytes + 1));
      return p;
    },
    exitCode: ExitCode.InvalidInput, pattern: /the file is larger than 4 MiB/, located: true,
  },
];

for (const c of fileCases) {
  test(`bad spec file: ${c.name}`, async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lbc1-file-'));
    try {
      const file = await c.make(tmp);
      // A problem in the text names file:line:col (relative, as findings do); one with the file itself names the path as given.
      const where = c.located ? new RegExp(`${escape(shown(file))}:\\d+:\\d+: `) : new RegExp(`${escape(file)}: `);
      await assertRefused(file, c.exitCode, where, c.pattern);
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  });
}

test(`exactly ${SPEC_LIMITS.maxBytes} bytes is not too large`, async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lbc1-file-'));
  try {
    const p = path.join(tmp, 'max.yaml');
    const spec = await fs.readFile(path.join(lbctlRoot(), 'examples', 'minimal-pair.yaml'), 'utf8');
    const pad = SPEC_LIMITS.maxBytes - Buffer.byteLength(spec) - 2;
    await fs.writeFile(p, `${spec}\n#${'x'.repeat(pad)}`);
    assert.equal((await fs.stat(p)).size, SPEC_LIMITS.maxBytes);
    const r = await runLbctl(['config', 'generate', p, '--out', path.join(tmp, 'out')]);
    assert.equal(r.exitCode, 0, r.stderr);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});

test('the real CLI: exit 3, one stderr line with file:line, nothing written', async () => {
  for (const f of ['vrid-300.yaml', 'yaml-duplicate-key.yaml', 'duplicate-priorities.yaml', 'yaml-alias-bomb.yaml', 'yaml-deep-compact.yaml']) {
    const file = path.join(dir, f);
    const { line, pattern } = await expectation(file);
    const out = await fs.mkdtemp(path.join(os.tmpdir(), 'lbc1-bad-'));
    try {
      const r = await lbctl(['config', 'generate', file, '--out', out]);
      assert.equal(r.exitCode, ExitCode.InvalidInput, r.stderr);
      const lines = r.stderr.trim().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0], new RegExp(`^lbctl: error: \\S*${escape(f)}:${line}:\\d+: `));
      assert.match(lines[0], pattern);
      assert.deepEqual(await fs.readdir(out), []);
    } finally {
      await fs.rm(out, { recursive: true, force: true });
    }
  }
});

test('the real CLI: a spec the user may not read exits 5 (permission), naming the file', async () => {
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'lbc1-perm-'));
  try {
    await fs.chmod(tmp, 0o755);
    const file = path.join(tmp, 'secret.yaml');
    await fs.copyFile(path.join(lbctlRoot(), 'examples', 'minimal-pair.yaml'), file);
    await fs.chmod(file, 0o600);
    const bin = path.join(lbctlRoot(), 'bin', 'run.js');
    const r = await execa(process.execPath, [bin, 'config', 'generate', file, '--out', path.join(tmp, 'out')], { reject: false, uid: 65534, gid: 65534, env: { NO_COLOR: '1', HOME: tmp } });
    assert.equal(r.exitCode, ExitCode.Permission, String(r.stderr));
    const lines = String(r.stderr).trim().split('\n');
    assert.equal(lines.length, 1, String(r.stderr));
    assert.match(lines[0], new RegExp(`^lbctl: error: ${escape(file)}: cannot read spec file .*permission denied`));
    await assert.rejects(fs.access(path.join(tmp, 'out')));
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
});
