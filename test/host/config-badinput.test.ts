/**
 * Bad input and hostile file systems for config generate/check/install/diff, table-driven.
 * Every case asserts its documented exit code (never 1), exactly one line on stderr (or the
 * JSON error under --json), and that the case's directory tree (paths, contents, modes, owners,
 * symlink targets) is byte for byte what it was before. Real faults: read-only mounts, a full
 * tmpfs, directories, FIFOs and symlinks where files belong, /proc and /sys, a held lock,
 * LBCTL_FAULT=rename:K. Temp dirs are /tmp/lbf3-bad-*.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot, runLbctl } from '../../src/cli/inprocess.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { snapshotTree } from '../support/tree-snapshot.js';

const SPEC = await fs.readFile(path.join(lbctlRoot(), 'examples', 'minimal-pair.yaml'), 'utf8');
const HAPROXY_GID = Number((await execa('getent', ['group', 'haproxy'], { reject: false })).stdout.split(':')[2] ?? 0);

interface Ctx { dir: string; spec: string; root: string; out: string; mounts: string[] }

/** A case directory: spec.yaml, an installed root (root:haproxy 0640 haproxy.cfg, 0600 keepalived.conf), out/, victim. */
async function makeCtx(): Promise<Ctx> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'lbf3-bad-'));
  const ctx: Ctx = { dir, spec: path.join(dir, 'spec.yaml'), root: path.join(dir, 'root'), out: path.join(dir, 'out'), mounts: [] };
  await fs.writeFile(ctx.spec, SPEC);
  await installed(ctx.root);
  await fs.mkdir(ctx.out);
  await fs.writeFile(path.join(dir, 'victim'), 'precious\n');
  await fs.writeFile(path.join(dir, 'plainfile'), 'a regular file\n');
  return ctx;
}

async function installed(root: string): Promise<void> {
  await fs.mkdir(path.join(root, 'etc/haproxy'), { recursive: true });
  await fs.mkdir(path.join(root, 'etc/keepalived'), { recursive: true });
  const h = path.join(root, 'etc/haproxy/haproxy.cfg');
  await fs.writeFile(h, 'old haproxy\n');
  await fs.chown(h, 0, HAPROXY_GID);
  await fs.chmod(h, 0o640);
  const k = path.join(root, 'etc/keepalived/keepalived.conf');
  await fs.writeFile(k, 'old keepalived\n');
  await fs.chmod(k, 0o600);
}

async function mount(ctx: Ctx, args: string[], at: string): Promise<void> {
  await fs.mkdir(at, { recursive: true });
  await execa('mount', [...args, at]);
  ctx.mounts.push(at);
}

/** A tmpfs at `at` holding an installed root, then remounted read-only. */
async function readOnlyRoot(ctx: Ctx, at: string): Promise<void> {
  await mount(ctx, ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs'], at);
  await installed(at);
  await execa('mount', ['-o', 'remount,ro', at]);
}

/** A small tmpfs at `at` holding an installed root, filled up to the last byte. */
async function fullRoot(ctx: Ctx, at: string): Promise<void> {
  await mount(ctx, ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs'], at);
  await installed(at);
  const fh = await fs.open(path.join(at, 'filler'), 'w');
  try {
    for (;;) await fh.write(Buffer.alloc(4096));
  } catch (e: any) {
    if (e.code !== 'ENOSPC') throw e;
  } finally { await fh.close(); }
}

interface Case {
  name: string;
  args: (c: Ctx) => string[];
  exit: number;
  setup?: (c: Ctx) => Promise<unknown>;
  env?: Record<string, string>;
  /** stderr (or the JSON error message) must match. */
  match?: RegExp;
}

const H = (c: Ctx) => path.join(c.root, 'etc/haproxy/haproxy.cfg');
const K = (c: Ctx) => path.join(c.root, 'etc/keepalived/keepalived.conf');
const long = 'x'.repeat(300);

const install = (c: Ctx, ...more: string[]) => ['config', 'install', c.spec, '--node', 'lb1', '--root', c.root, ...more];
const diff = (c: Ctx, ...more: string[]) => ['config', 'diff', c.spec, '--node', 'lb1', '--root', c.root, ...more];
const generate = (c: Ctx, ...more: string[]) => ['config', 'generate', c.spec, '--out', c.out, ...more];

const CASES: Case[] = [
  // config generate: bad --out
  { name: 'generate --out /proc/x', args: (c) => ['config', 'generate', c.spec, '--out', '/proc/lbf3-x'], exit: ExitCode.Usage, match: /--out is on proc/ },
  { name: 'generate --out /proc/sys/net', args: (c) => ['config', 'generate', c.spec, '--out', '/proc/sys/net'], exit: ExitCode.Usage, match: /on proc/ },
  { name: 'generate --out /sys/x', args: (c) => ['config', 'generate', c.spec, '--out', '/sys/lbf3-x'], exit: ExitCode.Usage, match: /on sysfs/ },
  { name: 'generate --out /sys/fs/cgroup/x', args: (c) => ['config', 'generate', c.spec, '--out', '/sys/fs/cgroup/lbf3-x'], exit: ExitCode.Usage, match: /on sysfs/ },
  { name: 'generate --out a regular file', args: (c) => ['config', 'generate', c.spec, '--out', path.join(c.dir, 'plainfile')], exit: ExitCode.Rejected, match: /plainfile.*not a directory/ },
  { name: 'generate --out under a regular file', args: (c) => ['config', 'generate', c.spec, '--out', path.join(c.dir, 'plainfile', 'sub')], exit: ExitCode.Rejected, match: /not a directory/ },
  { name: 'generate: node dir is a regular file', setup: async (c) => fs.writeFile(path.join(c.out, 'lb1'), 'x'), args: (c) => generate(c), exit: ExitCode.Rejected, match: /out\/lb1.*not a directory/ },
  { name: 'generate: a directory at lb1/haproxy.cfg', setup: async (c) => fs.mkdir(path.join(c.out, 'lb1/haproxy.cfg'), { recursive: true }), args: (c) => generate(c), exit: ExitCode.Rejected, match: /haproxy\.cfg: read: is a directory/ },
  { name: 'generate: a directory at lb2/keepalived.conf (lb1 not written either)', setup: async (c) => fs.mkdir(path.join(c.out, 'lb2/keepalived.conf'), { recursive: true }), args: (c) => generate(c), exit: ExitCode.Rejected, match: /lb2\/keepalived\.conf/ },
  { name: 'generate: a symlink at lb1/haproxy.cfg', setup: async (c) => { await fs.mkdir(path.join(c.out, 'lb1')); await fs.symlink(path.join(c.dir, 'victim'), path.join(c.out, 'lb1/haproxy.cfg')); }, args: (c) => generate(c), exit: ExitCode.Rejected, match: /symbolic link/ },
  { name: 'generate: a FIFO at lb1/keepalived.conf', setup: async (c) => { await fs.mkdir(path.join(c.out, 'lb1')); await execa('mkfifo', [path.join(c.out, 'lb1/keepalived.conf')]); }, args: (c) => generate(c), exit: ExitCode.Rejected, match: /not a regular file/ },
  { name: 'generate --out name too long', args: (c) => ['config', 'generate', c.spec, '--out', path.join(c.dir, long)], exit: ExitCode.Usage, match: /name too long/ },
  { name: 'generate --out on a read-only file system', setup: async (c) => readOnlyRoot(c, path.join(c.dir, 'ro')), args: (c) => ['config', 'generate', c.spec, '--out', path.join(c.dir, 'ro', 'gen')], exit: ExitCode.Rejected, match: /read-only file system/ },
  { name: 'generate --out on a full file system', setup: async (c) => fullRoot(c, path.join(c.dir, 'full')), args: (c) => ['config', 'generate', c.spec, '--out', path.join(c.dir, 'full')], exit: ExitCode.Rejected, match: /no space left/ },
  { name: 'generate: missing spec', args: (c) => ['config', 'generate', path.join(c.dir, 'nope.yaml'), '--out', c.out], exit: ExitCode.NotFound },
  { name: 'generate: --node not in the spec', args: (c) => generate(c, '--node', 'nosuch'), exit: ExitCode.NotFound, match: /nosuch/ },
  { name: 'generate: invalid YAML', setup: async (c) => fs.writeFile(c.spec, 'cluster: [\n'), args: (c) => generate(c), exit: ExitCode.InvalidInput },
  { name: 'generate: --json error on /proc', args: (c) => ['config', 'generate', c.spec, '--out', '/proc/lbf3-y', '--json'], exit: ExitCode.Usage, match: /on proc/ },
  // config check
  { name: 'check: missing spec', args: (c) => ['config', 'check', path.join(c.dir, 'nope.yaml')], exit: ExitCode.NotFound },
  { name: 'check: invalid YAML', setup: async (c) => fs.writeFile(c.spec, 'nodes: {\n'), args: (c) => ['config', 'check', c.spec], exit: ExitCode.InvalidInput },
  { name: 'check: --netns bogus', args: (c) => ['config', 'check', c.spec, '--netns', 'bogus'], exit: ExitCode.Usage },
  { name: 'check: --node not in the spec', args: (c) => ['config', 'check', c.spec, '--node', 'nosuch', '--no-daemons'], exit: ExitCode.NotFound },
  // config install: bad --root and hostile targets
  { name: 'install --root /proc', args: (c) => ['config', 'install', c.spec, '--node', 'lb1', '--root', '/proc'], exit: ExitCode.Usage, match: /--root is on proc/ },
  { name: 'install --root /sys/x', args: (c) => ['config', 'install', c.spec, '--node', 'lb1', '--root', '/sys/lbf3-x'], exit: ExitCode.Usage, match: /on sysfs/ },
  { name: 'install --root a regular file', args: (c) => ['config', 'install', c.spec, '--node', 'lb1', '--root', path.join(c.dir, 'plainfile')], exit: ExitCode.Rejected, match: /not a directory/ },
  { name: 'install --root name too long', args: (c) => ['config', 'install', c.spec, '--node', 'lb1', '--root', path.join(c.dir, long)], exit: ExitCode.Usage, match: /name too long/ },
  { name: 'install: haproxy.cfg is a directory', setup: async (c) => { await fs.rm(H(c)); await fs.mkdir(H(c)); }, args: (c) => install(c), exit: ExitCode.Rejected, match: /haproxy\.cfg: read: is a directory/ },
  { name: 'install: second target keepalived.conf is a directory', setup: async (c) => { await fs.rm(K(c)); await fs.mkdir(K(c)); }, args: (c) => install(c), exit: ExitCode.Rejected, match: /keepalived\.conf: read: is a directory/ },
  { name: 'install: etc/keepalived is a regular file', setup: async (c) => { await fs.rm(path.dirname(K(c)), { recursive: true }); await fs.writeFile(path.dirname(K(c)), 'x'); }, args: (c) => install(c), exit: ExitCode.Rejected, match: /not a directory/ },
  { name: 'install: haproxy.cfg is a symlink', setup: async (c) => { await fs.rm(H(c)); await fs.symlink(path.join(c.dir, 'victim'), H(c)); }, args: (c) => install(c), exit: ExitCode.Rejected, match: /symbolic link/ },
  { name: 'install: keepalived.conf is a symlink', setup: async (c) => { await fs.rm(K(c)); await fs.symlink(path.join(c.dir, 'victim'), K(c)); }, args: (c) => install(c), exit: ExitCode.Rejected, match: /symbolic link/ },
  { name: 'install: keepalived.conf is a dangling symlink', setup: async (c) => { await fs.rm(K(c)); await fs.symlink(path.join(c.dir, 'nowhere'), K(c)); }, args: (c) => install(c), exit: ExitCode.Rejected, match: /symbolic link/ },
  { name: 'install: haproxy.cfg is a FIFO', setup: async (c) => { await fs.rm(H(c)); await execa('mkfifo', [H(c)]); }, args: (c) => install(c), exit: ExitCode.Rejected, match: /not a regular file/ },
  { name: 'install: a directory at the backup path', setup: async (c) => fs.mkdir(`${K(c)}.lbctl-bak`), args: (c) => install(c), exit: ExitCode.Rejected, match: /keepalived\.conf\.lbctl-bak: write backup: is a directory.*nothing was changed/ },
  { name: 'install: read-only etc/keepalived (bind mount)', setup: async (c) => { await mount(c, ['--bind', path.dirname(K(c))], path.dirname(K(c))); await execa('mount', ['-o', 'remount,ro,bind', path.dirname(K(c))]); }, args: (c) => install(c), exit: ExitCode.Rejected, match: /keepalived\.conf: write: read-only file system.*nothing was changed/ },
  { name: 'install: read-only root', setup: async (c) => { await fs.rm(c.root, { recursive: true }); await readOnlyRoot(c, c.root); }, args: (c) => install(c), exit: ExitCode.Rejected, match: /read-only file system/ },
  { name: 'install: full file system', setup: async (c) => { await fs.rm(c.root, { recursive: true }); await fullRoot(c, c.root); }, args: (c) => install(c), exit: ExitCode.Rejected, match: /no space left on device.*nothing was changed/ },
  { name: 'install: fault at the first rename', env: { LBCTL_FAULT: 'rename:1' }, args: (c) => install(c), exit: ExitCode.Rejected, match: /injected fault.*nothing was changed: all 2 files as before/ },
  { name: 'install: fault at the second rename', env: { LBCTL_FAULT: 'rename:2' }, args: (c) => install(c), exit: ExitCode.Rejected, match: /keepalived\.conf: replace: injected fault.*the 1 file already replaced was restored/ },
  { name: 'install: fault at the second rename, --json', env: { LBCTL_FAULT: 'rename:2' }, args: (c) => install(c, '--json'), exit: ExitCode.Rejected, match: /injected fault/ },
  { name: 'install: --node not in the spec', args: (c) => ['config', 'install', c.spec, '--node', 'nosuch', '--root', c.root], exit: ExitCode.NotFound, match: /nosuch/ },
  { name: 'install: --node missing', args: (c) => ['config', 'install', c.spec, '--root', c.root], exit: ExitCode.Usage },
  { name: 'install: missing spec', args: (c) => ['config', 'install', path.join(c.dir, 'nope.yaml'), '--node', 'lb1', '--root', c.root], exit: ExitCode.NotFound },
  { name: 'install: invalid spec', setup: async (c) => fs.writeFile(c.spec, SPEC.replace('virtual_router_id: 51', 'virtual_router_id: 256')), args: (c) => install(c), exit: ExitCode.InvalidInput },
  { name: 'install: --lock-timeout not a duration', args: (c) => install(c, '--lock-timeout', 'soon'), exit: ExitCode.Usage, match: /--lock-timeout/ },
  {
    name: 'install: the config root is locked by another lbctl', args: (c) => install(c, '--lock-timeout', '300ms'), exit: ExitCode.Busy, match: new RegExp(`locked by pid ${process.ppid}`),
    env: { LBCTL_LOCK_DIR: '' },
    setup: async (c) => {
      const dir = path.join(c.dir, 'locks');
      await fs.mkdir(dir);
      process.env.LBCTL_LOCK_DIR = dir;
      const name = `config@${c.root}`.replace(/[^\w.@-]/g, '_');
      await fs.writeFile(path.join(dir, `${name}.lock`), JSON.stringify({ pid: process.ppid, command: 'lbctl config install (test holder)', since: new Date().toISOString() }));
    },
  },
  { name: 'install --reload: haproxy pid file missing (refused before writing)', args: (c) => install(c, '--reload', '--haproxy-pidfile', path.join(c.dir, 'none.pid'), '--keepalived-pidfile', path.join(c.dir, 'none.pid')), exit: ExitCode.NotFound, match: /pid file .* does not exist/ },
  {
    name: 'install --reload: the pid is not a master-worker haproxy (refused before writing)',
    setup: async (c) => fs.writeFile(path.join(c.dir, 'h.pid'), `${process.pid}\n`),
    args: (c) => install(c, '--reload', '--haproxy-pidfile', path.join(c.dir, 'h.pid'), '--keepalived-pidfile', path.join(c.dir, 'h.pid')), exit: ExitCode.Rejected, match: /not a master-worker haproxy/,
  },
  // config diff
  { name: 'diff --root /proc', args: (c) => ['config', 'diff', c.spec, '--node', 'lb1', '--root', '/proc'], exit: ExitCode.Usage },
  { name: 'diff: haproxy.cfg is a directory', setup: async (c) => { await fs.rm(H(c)); await fs.mkdir(H(c)); }, args: (c) => diff(c), exit: ExitCode.Rejected, match: /is a directory/ },
  { name: 'diff: keepalived.conf is a symlink', setup: async (c) => { await fs.rm(K(c)); await fs.symlink(path.join(c.dir, 'victim'), K(c)); }, args: (c) => diff(c), exit: ExitCode.Rejected, match: /symbolic link/ },
  { name: 'diff: --node missing', args: (c) => ['config', 'diff', c.spec, '--root', c.root], exit: ExitCode.Usage },
  { name: 'diff: missing spec', args: (c) => ['config', 'diff', path.join(c.dir, 'nope.yaml'), '--node', 'lb1', '--root', c.root], exit: ExitCode.NotFound },
  { name: 'diff --root under a regular file', args: (c) => ['config', 'diff', c.spec, '--node', 'lb1', '--root', path.join(c.dir, 'plainfile', 'x')], exit: ExitCode.Rejected, match: /not a directory/ },
];

const leftovers: Ctx[] = [];
after(async () => {
  for (const c of leftovers) {
    for (const m of [...c.mounts].reverse()) await execa('umount', [m], { reject: false });
    await fs.rm(c.dir, { recursive: true, force: true });
  }
});

test(`config bad-input table (${CASES.length} cases): documented exit code, one line, nothing changed`, { timeout: 600_000 }, async (t) => {
  assert.ok(CASES.length >= 40);
  for (const k of CASES) {
    await t.test(k.name, async () => {
      const c = await makeCtx();
      leftovers.push(c);
      const saved: Record<string, string | undefined> = {};
      for (const [key, v] of Object.entries(k.env ?? {})) { saved[key] = process.env[key]; process.env[key] = v; }
      try {
        await k.setup?.(c);
        const before = await snapshotTree(c.dir);
        const t0 = Date.now();
        const r = await runLbctl(k.args(c));
        assert.ok(Date.now() - t0 < 60_000, 'fails in bounded time');
        assert.notEqual(r.exitCode, ExitCode.Internal, `never Internal: ${r.stderr}${r.stdout}`);
        assert.equal(r.exitCode, k.exit, r.stderr + r.stdout);
        let message: string;
        if (k.args(c).includes('--json')) {
          assert.equal(r.json?.error?.exitCode, k.exit, r.stdout);
          message = `${r.json.error.where}: ${r.json.error.message}`;
        } else {
          const lines = r.stderr.trim().split('\n');
          assert.equal(lines.length, 1, `one line on stderr, got:\n${r.stderr}`);
          assert.match(lines[0], /lbctl: error: /);
          message = lines[0];
        }
        if (k.match) assert.match(message, k.match);
        assert.deepEqual(await snapshotTree(c.dir), before, 'nothing under the case directory changed');
      } finally {
        for (const [key, v] of Object.entries(saved)) { if (v === undefined) delete process.env[key]; else process.env[key] = v; }
      }
    });
  }
});
