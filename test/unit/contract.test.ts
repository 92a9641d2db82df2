/**
 * The JSON contract: every command's --json document (results and errors) validates against its
 * schema in schemas/, carries `changed` and a one-line `msg`; a dry run reports what the real
 * run then does; --exit-code exits 10 exactly when something changed / would change; and the
 * command snapshot (test/fixtures/command-snapshot.json) matches the built CLI.
 *
 * IPVS commands run in this process against an in-memory driver (the shell's shared-driver
 * hook), config commands (generate, diff, check, install, apply) against specs in a temp dir,
 * the pacemaker commands against a CIB file, and the HAProxy runtime commands against a real
 * haproxy on loopback when the binary is installed. Host prep and plan (root, namespaces) are
 * validated in test/host/contract-host.test.ts; the coverage test fails when a command is
 * validated nowhere.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot, runLbctl } from '../../src/cli/inprocess.js';
import { keepDriverOpen, releaseSharedDrivers } from '../../src/ipvs/select.js';
import type { IpvsDriver, Op, SyncDaemon, Timeouts } from '../../src/ipvs/driver.js';
import type { IpvsTable } from '../../src/ipvs/model.js';
import { applyOpsToTable } from './fake-driver.js';
import { ajv, assertContract, CHECKED_IN_HOST_SUITE, jsonCommands, manifest, runContract, schemaDir, schemaOf, validated } from '../support/contract.js';
import { startLabHaproxy, startLabServer, rawShowStat, type LabHaproxy, type LabServer } from '../support/haproxy-lab.js';

const root = lbctlRoot();
const run = runContract;

test('every schema compiles, and every command that speaks --json has its own result schema', () => {
  const ids = jsonCommands();
  assert.ok(ids.length >= 30, `only ${ids.length} commands`);
  // A new command cannot slip out of the contract: it needs schemas/<topic>-<verb>.json.
  assert.deepEqual(ids.filter((id) => schemaOf(id) === 'result.json'), [], 'commands without a schema of their own (add schemas/<id with - for :>.json)');
  for (const f of readdirSync(schemaDir).filter((n) => n.endsWith('.json'))) assert.ok(ajv.getSchema(f), f);
});

test('the command snapshot matches the built CLI (npm run snapshot:update after an intended change)', async () => {
  const r = await execa(process.execPath, [path.join(root, 'scripts', 'command-snapshot.mjs')], { reject: false });
  assert.equal(r.exitCode, 0, r.stdout + r.stderr);
});

test('every mutating command takes --dry-run and --exit-code', () => {
  const mutating = ['clear', 'zero', 'restore', 'timeout:set', 'daemon:start', 'daemon:stop', 'service:add', 'service:edit', 'service:delete',
    'server:add', 'server:edit', 'server:delete', 'realserver:prep', 'realserver:unprep', 'director:prep', 'director:unprep',
    'config:generate', 'config:install', 'haproxy:server:enable', 'haproxy:server:disable', 'haproxy:server:drain', 'haproxy:server:ready',
    'haproxy:server:maint', 'haproxy:server:weight', 'haproxy:clear:counters'];
  const missing = mutating.filter((id) => !manifest.commands[id]?.flags['dry-run'] || !manifest.commands[id]?.flags['exit-code']);
  assert.deepEqual(missing, []);
});

test('every command: a usage error is a JSON error with changed:false and a one-line msg (exit 2)', async () => {
  const ids = jsonCommands();
  for (const id of ids) {
    const r = await runLbctl([...id.split(':'), '--ct-no-such-flag', '--json']);
    assert.equal(r.exitCode, 2, `${id}: ${r.stdout}${r.stderr}`);
    const doc = assertContract(id, r);
    assert.equal(doc.error.code, 'EUSAGE');
    assert.match(doc.msg, /ct-no-such-flag/);
  }
  const unknown = await runLbctl(['no-such-command', '--json']);
  assert.equal(unknown.exitCode, 2);
  assert.ok(ajv.getSchema('error.json')!(unknown.json), unknown.stdout);
});

/** An in-memory IPVS table behind the IpvsDriver interface. */
class MemoryDriver implements IpvsDriver {
  readonly name = 'netlink' as const;
  table: IpvsTable = { services: [] };
  timeouts: Timeouts = { tcp: 900, tcpfin: 120, udp: 300 };
  daemons: SyncDaemon[] = [];
  writes = 0;
  async getTable(): Promise<IpvsTable> { return structuredClone(this.table); }
  async apply(ops: Op[]): Promise<void> { this.writes++; this.table = applyOpsToTable(this.table, ops); if (ops.some((o) => o.kind === 'zero')) this.table.services.forEach((s) => { s.stats = undefined; }); }
  async getInfo() { return { version: '1.2.1', connTableSize: 4096 }; }
  async getTimeouts() { return { ...this.timeouts }; }
  async setTimeouts(t: Partial<Timeouts>) { this.writes++; this.timeouts = { ...this.timeouts, ...t }; }
  async getDaemons() { return this.daemons.map((d) => ({ ...d })); }
  async startDaemon(d: SyncDaemon) { this.writes++; this.daemons.push({ ...d }); }
  async stopDaemon(state: SyncDaemon['state']) { this.writes++; this.daemons = this.daemons.filter((d) => d.state !== state); }
  async close() {}
}

/**
 * The dry run first (nothing written, same `changed` and `after` as the real run, exit 10 with
 * --exit-code), then the real run, then the real run again (unchanged, exit 0 with --exit-code).
 */
async function dryThenReal(argv: string[], fake: MemoryDriver, compare: (dry: any, real: any) => void = () => {}, opts: { stdin?: string } = {}) {
  const writes = fake.writes;
  const dry = await run([...argv, '--dry-run', '--exit-code'], opts);
  assert.equal(fake.writes, writes, `${argv.join(' ')} --dry-run wrote`);
  assert.equal(dry.json.changed, true, `${argv.join(' ')} --dry-run: ${dry.stdout}`);
  assert.equal(dry.exitCode, 10, `${argv.join(' ')} --dry-run --exit-code`);
  assert.equal(dry.json.dryRun, true);
  const real = await run(argv, opts);
  assert.equal(real.exitCode, 0, real.stdout);
  assert.equal(real.json.changed, true);
  assert.ok(fake.writes > writes, `${argv.join(' ')} wrote nothing`);
  compare(dry.json, real.json);
  const again = await run([...argv, '--exit-code'], opts);
  assert.equal(again.exitCode, 0, again.stdout);
  assert.equal(again.json.changed, false);
  return real.json;
}

describe('IPVS commands against an in-memory table', () => {
  const fake = new MemoryDriver();
  let lockDir: string;
  before(async () => {
    lockDir = await fs.mkdtemp(path.join(os.tmpdir(), 'ct-lock-'));
    process.env.LBCTL_LOCK_DIR = lockDir;
    keepDriverOpen('auto', fake);
  });
  after(async () => {
    releaseSharedDrivers();
    delete process.env.LBCTL_LOCK_DIR;
    await fs.rm(lockDir, { recursive: true, force: true });
  });

  test('service/server add, edit, delete; list; restore; zero; clear; timeouts; sync daemon', async () => {
    const same = (dry: any, real: any) => assert.deepEqual([dry.action, dry.commands], [real.action, real.commands]);
    await dryThenReal(['service', 'add', '-t', '10.9.0.1:80', '-s', 'rr'], fake, same);
    await dryThenReal(['service', 'edit', '-t', '10.9.0.1:80', '-s', 'wrr'], fake, same);
    await dryThenReal(['server', 'add', '-t', '10.9.0.1:80', '-r', '10.9.1.5', '-m', '-w', '3'], fake, same);
    await dryThenReal(['server', 'edit', '-t', '10.9.0.1:80', '-r', '10.9.1.5', '-w', '5'], fake, same);
    const list = await run(['list']);
    assert.equal(list.json.services[0].destinations[0].weight, 5);
    assert.match(list.json.msg, /^list: 1 services$/);
    await dryThenReal(['server', 'delete', '-t', '10.9.0.1:80', '-r', '10.9.1.5'], fake, same);
    await dryThenReal(['restore', '-'], fake, (dry, real) => assert.deepEqual(dry.changes, real.changes), { stdin: '-A -t 10.9.0.1:80 -s rr\n-A -t 10.9.0.2:80 -s wlc\n' });
    fake.table.services[0].stats = { conns: 3, inpkts: 1, outpkts: 1, inbytes: 1, outbytes: 1, cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 } as any;
    await dryThenReal(['zero'], fake, (dry, real) => assert.equal(dry.zeroed, real.zeroed));
    await dryThenReal(['timeout', 'set', '--tcp', '600'], fake, (dry, real) => assert.deepEqual(dry.after, real.after));
    assert.deepEqual((await run(['timeout', 'show'])).json.tcp, 600);
    await dryThenReal(['daemon', 'start', '--state', 'master', '--mcast-interface', 'eth0', '--syncid', '7'], fake, (dry, real) => assert.deepEqual(dry.daemon, real.daemon));
    assert.equal((await run(['daemon', 'status'])).json.daemons.length, 1);
    await dryThenReal(['daemon', 'stop', '--state', 'master'], fake, (dry, real) => assert.deepEqual(dry.previous, real.previous));
    await dryThenReal(['service', 'delete', '-t', '10.9.0.2:80'], fake, same);
    const saved = await run(['save', '--format', 'json']);
    assert.equal(saved.exitCode, 0, saved.stdout);
    assert.equal(saved.json.services, 1);
    assert.match(saved.json.content, /10\.9\.0\.1/);
    const image = await fs.mkdtemp(path.join(os.tmpdir(), 'ct-save-'));
    try {
      const persist = await run(['save', '--persist', '--root', image, '--dry-run']);
      assert.equal(persist.exitCode, 0, persist.stdout);
      assert.deepEqual(await fs.readdir(image), [], 'save --persist --dry-run wrote');
      assert.equal((await run(['save', '--persist', '--root', image])).json.changed, true);
    } finally {
      await fs.rm(image, { recursive: true, force: true });
    }
    await dryThenReal(['clear', '--yes'], fake, (dry, real) => assert.equal(dry.services, real.services));
    assert.equal(fake.table.services.length, 0);

    // Errors keep the contract too.
    const missing = await run(['server', 'edit', '-t', '10.9.0.77:80', '-r', '10.9.1.5', '-w', '1']);
    assert.equal(missing.exitCode, 4);
    assert.equal(missing.json.changed, false);
    const bad = await run(['service', 'add', '-t', '10.9.0.1:99999']);
    assert.equal(bad.exitCode, 2);
  });
});

describe('config commands against the examples', () => {
  let dir: string;
  before(async () => { dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ct-config-')); });
  after(async () => { await fs.rm(dir, { recursive: true, force: true }); });

  test('generate (dry run = real run, with diffs), diff --exit-code keeps the diff, check', async () => {
    const spec = path.join(root, 'examples', 'minimal-pair.yaml');
    const out = path.join(dir, 'gen');
    const dry = await run(['config', 'generate', spec, '--out', out, '--dry-run', '--exit-code']);
    assert.equal(dry.exitCode, 10);
    assert.equal(existsSync(out), false, 'a dry run wrote files');
    const real = await run(['config', 'generate', spec, '--out', out]);
    assert.deepEqual(dry.json.files.map((f: any) => [f.path, f.action, f.diff]), real.json.files.map((f: any) => [f.path, f.action, f.diff]));
    assert.match(real.json.files[0].diff, /^--- \/dev\/null\n\+\+\+ /);
    assert.equal((await run(['config', 'generate', spec, '--out', out, '--exit-code'])).exitCode, 0);

    const diff = await run(['config', 'diff', spec, '--node', 'lb1', '--root', dir, '--exit-code']);
    assert.equal(diff.exitCode, 10);
    assert.equal(diff.json.changed, true);
    assert.match(diff.json.files[0].diff, /^\+global/m);
    const check = await run(['config', 'check', spec, '--no-daemons']);
    assert.equal(check.exitCode, 0, check.stdout);

    // install into a root without reloading: the dry run names the files the real run writes.
    const installRoot = path.join(dir, 'root');
    const drySet = await run(['config', 'install', spec, '--node', 'lb1', '--root', installRoot, '--dry-run', '--exit-code']);
    assert.equal(drySet.exitCode, 10, drySet.stdout);
    const installed = await run(['config', 'install', spec, '--node', 'lb1', '--root', installRoot]);
    assert.equal(installed.exitCode, 0, installed.stdout);
    assert.deepEqual(drySet.json.files.map((f: any) => [f.path, f.action]), installed.json.files.map((f: any) => [f.path, f.action]));
    assert.equal((await run(['config', 'install', spec, '--node', 'lb1', '--root', installRoot])).json.changed, false);

    // apply a proxy-only node (files, no host settings) into a root, reloading nothing.
    const proxySpec = path.join(dir, 'proxy.yaml');
    await fs.writeFile(proxySpec, [
      'cluster: ct', 'nodes: [{ name: lb1, address: 10.95.0.1/24, interface: eth0 }]',
      "haproxy: { listens: [{ name: web, bind: ['127.0.0.1:19950'], mode: http, servers: [{ name: a, address: '127.0.0.1:19951' }] }] }", ''].join('\n'));
    const applyRoot = path.join(dir, 'apply-root');
    await fs.mkdir(applyRoot);
    const applyArgs = ['apply', proxySpec, '--node', 'lb1', '--root', applyRoot, '--no-reload'];
    const dryApply = await run([...applyArgs, '--dry-run', '--exit-code']);
    assert.equal(dryApply.exitCode, 10, dryApply.stdout);
    const applied = await run(applyArgs);
    assert.equal(applied.exitCode, 0, applied.stdout);
    assert.deepEqual(dryApply.json.plan.changes.map((c: any) => c.id), applied.json.plan.changes.map((c: any) => c.id));
    assert.equal((await run(applyArgs)).json.changed, false);
    const badSpec = await run(['config', 'check', path.join(dir, 'missing.yaml')]);
    assert.equal(badSpec.exitCode, 4);
  });
});

const haveCrmMon = existsSync('/usr/sbin/crm_mon');
describe('pacemaker commands against an offline CIB (CIB_file)', { skip: !haveCrmMon && 'crm_mon is not installed' }, () => {
  let dir: string;
  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'ct-cib-'));
    await fs.copyFile(path.join(root, 'test', 'fixtures', 'pacemaker', 'cib-running.xml'), path.join(dir, 'cib.xml'));
    process.env.CIB_file = path.join(dir, 'cib.xml');
  });
  after(async () => {
    delete process.env.CIB_file;
    await fs.rm(dir, { recursive: true, force: true });
  });

  test('status, standby, online, move, cleanup; unknown names are errors', async () => {
    const status = await run(['ha', 'status']);
    assert.deepEqual(status.json.nodes.map((n: any) => n.name), ['server1', 'server4']);
    assert.equal((await run(['ha', 'standby', 'server4'])).json.changed, true);
    assert.equal((await run(['ha', 'standby', 'server4'])).json.changed, false);
    assert.equal((await run(['ha', 'online', 'server4'])).json.changed, true);
    assert.equal((await run(['ha', 'move', 'article002-lb', 'server4'])).exitCode, 0);
    assert.equal((await run(['ha', 'cleanup'])).json.action, 'unchanged');
    assert.equal((await run(['ha', 'standby', 'server9'])).exitCode, 4);
    assert.equal((await run(['ha', 'move', 'nope', 'server4'])).exitCode, 4);
  });
});

const haveHaproxy = existsSync('/usr/sbin/haproxy');
describe('HAProxy runtime commands against a real haproxy', { skip: !haveHaproxy && 'haproxy is not installed' }, () => {
  let hp: LabHaproxy;
  const servers: LabServer[] = [];
  before(async () => {
    for (const n of ['s1', 's2']) servers.push(await startLabServer(n));
    hp = await startLabHaproxy({ prefix: 'ct-hp-', defaultBackend: 'app', body: ['backend app', ...servers.map((s) => `  server ${s.name} 127.0.0.1:${s.port} weight 10`)].join('\n') });
  });
  after(async () => {
    await hp?.stop();
    for (const s of servers) await s.close();
  });
  const hap = (...argv: string[]) => run(['haproxy', ...argv, '--socket', hp.adminSocket]);

  test('reads, and every write: the dry run predicts the real run, which then changes nothing the second time', async () => {
    for (const read of [['info'], ['stat'], ['backends'], ['health']]) assert.equal((await hap(...read)).exitCode, 0);
    const cases: string[][] = [['server', 'disable', 'app/s1'], ['server', 'enable', 'app/s1'], ['server', 'drain', 'app/s2'], ['server', 'maint', 'app/s2'],
      ['server', 'ready', '--all-in', 'app'], ['server', 'weight', 'app/s1', '30'], ['server', 'weight', 'app/s1', '50%']];
    for (const argv of cases) {
      const rawBefore = await rawShowStat(hp.adminSocket);
      const dry = await hap(...argv, '--dry-run', '--exit-code');
      assert.equal(dry.exitCode, 10, `${argv.join(' ')}: ${dry.stdout}`);
      assert.deepEqual(await rawShowStat(hp.adminSocket).then((m) => [...m].map(([k, v]) => [k, v.status, v.weight])), [...rawBefore].map(([k, v]) => [k, v.status, v.weight]), `${argv.join(' ')} --dry-run changed haproxy`);
      const real = await hap(...argv);
      assert.equal(real.exitCode, 0, real.stdout);
      assert.deepEqual(dry.json.servers, real.json.servers, `${argv.join(' ')}: dry run and real run differ`);
      const again = await hap(...argv, '--exit-code');
      assert.equal(again.exitCode, 0);
      assert.equal(again.json.changed, false);
    }
    const weight = await hap('server', 'weight', 'app/s1', '10');
    assert.deepEqual([weight.json.servers[0].before.weight, weight.json.servers[0].after.weight, weight.json.servers[0].initialWeight], [5, 10, 10]);
    const clear = await hap('clear', 'counters', '--all', '--dry-run');
    assert.equal(clear.exitCode, 0);
    for (const bad of [['server', 'drain', 'nope/s1'], ['server', 'weight', 'app/nope', '3'], ['server', 'weight', 'app/s1', '999'], ['server', 'ready', 'app']]) {
      const r = await hap(...bad);
      assert.ok([2, 4].includes(r.exitCode), `${bad.join(' ')}: ${r.exitCode}`);
      assert.equal(r.json.changed, false);
    }
  });
});

test('coverage: every command\'s result and error is validated, here or (root, namespaces) in the host suite', () => {
  const ids = jsonCommands();
  const here = ids.filter((id) => validated.has(id));
  const host = ids.filter((id) => !validated.has(id) && CHECKED_IN_HOST_SUITE.includes(id));
  const nowhere = ids.filter((id) => !validated.has(id) && !CHECKED_IN_HOST_SUITE.includes(id));
  process.stdout.write(`# contract: results of ${here.length}/${ids.length} commands validated here, ${host.length} in test/host/contract-host.test.ts (${host.join(', ')}); errors of ${ids.filter((id) => validated.has(`${id} (error)`)).length}\n`);
  assert.deepEqual(nowhere, [], 'commands whose --json result no test validates against its schema');
  assert.deepEqual(ids.filter((id) => !validated.has(`${id} (error)`)), []);
});
