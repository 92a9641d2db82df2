/**
 * `lbctl plan` / `lbctl apply`: one machine brought to the cluster spec through the providers of
 * every kind of state it needs, in one plan.
 *
 *   validate  the whole spec (schema, rules, IPVS validator) and the daemons' checks of the
 *             generated files, before anything is read for writing;
 *   read      host (sysctls, links, addresses, routes, lbctl's records), IPVS table, files, daemons;
 *   plan      each provider, pure, in apply order: host -> IPVS -> files -> daemon reloads;
 *   apply     under the locks of the host records, the IPVS table and the config root; stops at
 *             the first failure and says what was applied before it.
 */
import path from 'node:path';
import { CheckFailedError, LbctlError, NotFoundError, UsageError } from '../cli/errors.js';
import { withIpvsLock } from '../cli/ipvs-command.js';
import { planJson, type Change } from '../converge/change.js';
import { DaemonProvider, type DaemonChange } from '../converge/daemon.js';
import { FilesProvider, type FileChange, type ManagedFile } from '../converge/files.js';
import { checkNodeFiles } from '../cluster/check.js';
import { compileSpec } from '../cluster/generate.js';
import { managedFiles } from '../cluster/install.js';
import { netnsIdentity } from '../host/links.js';
import { applyHost, planHost, readHost, readScope, type HostChange, type HostDesired, type HostPlan } from '../host/provider.js';
import { precheckPlan } from '../host/common.js';
import { loadState, stateFile, type HostState } from '../host/state.js';
import { RealHostSystem } from '../host/system.js';
import type { IpvsDriver } from '../ipvs/driver.js';
import { IpvsProvider, ipvsRecordsFile, type IpvsChange } from '../ipvs/provider.js';
import { openDriver } from '../ipvs/select.js';
import type { NetnsMode } from '../keepalived/config-check.js';
import { refusePseudoFs } from '../util/fs.js';
import { withLock } from '../util/lock.js';
import { bootFiles, bootLink } from './boot.js';
import type { LinkChange, LinkProvider } from '../ipvs/persist.js';
import { expandNode, type NodeDesired, type Role } from './expand.js';
import { TierDaemonProvider, tierDaemonPlan, tierGateFiles, tierGateLink, type TierDaemonChange } from '../tier/apply.js';
import { GATE_PATHS } from '../tier/gate.js';
import { INSTALL_PATHS } from '../cluster/install.js';

export interface NodeRunOptions {
  node: string;
  /** Host settings (and the daemons' config test) inside this network namespace. */
  netns?: string;
  /** Files under this directory instead of / (images, containers, tests). */
  root?: string;
  dryRun?: boolean;
  drain?: boolean;
  drainTimeoutMs?: number;
  /** Reload the daemons whose files changed (default true). */
  reload?: boolean;
  driver?: string;
  lockTimeoutMs?: number;
  haproxyPidfile?: string;
  keepalivedPidfile?: string;
  checkNetns?: NetnsMode;
  signal?: AbortSignal;
  note?: (msg: string) => void;
}

export interface NodeRunResult {
  node: string;
  roles: Role[];
  netns: string | null;
  root: string;
  dryRun: boolean;
  /** Whether anything changed (apply) or would change (plan, --dry-run). */
  changed: boolean;
  /** How many changes each stage applied (all 0 for a plan). */
  applied: { host: number; ipvs: number; files: number; daemons: number };
  warnings: string[];
  plan: ReturnType<typeof planJson>;
}

interface Planned {
  desired: NodeDesired;
  host: Array<{ target: 'director' | 'realserver'; plan: HostPlan; records: HostState; recordsFile: string }>;
  ipvs?: { provider: IpvsProvider; changes: IpvsChange[] };
  files: { provider: FilesProvider; changes: FileChange[] };
  /** The links that enable the IPVS boot unit (directors whose table lbctl programs) and a tier director's gate unit. */
  links: Array<{ provider: LinkProvider; changes: LinkChange[] }>;
  daemons: { provider: DaemonProvider; changes: DaemonChange[] };
  /** A tier director's FRR reload and gate restart. */
  tier?: { provider: TierDaemonProvider; changes: TierDaemonChange[] };
  warnings: string[];
}

const TARGETS = ['director', 'realserver'] as const;

/** What the node's records say lbctl added that the spec no longer wants (and, for a role the node lost, everything). */
function withRemovals(desired: HostDesired | undefined, records: HostState, devices: string[]): HostDesired {
  const d: HostDesired = desired ? { ...desired, addresses: [...desired.addresses] } : { sysctls: [], linksUp: [], addresses: [] };
  const wanted = new Set(d.addresses.map((a) => `${a.dev}|${a.vip.address}`));
  const staleAddrs = records.addresses.filter((a) => (!desired || devices.includes(a.dev)) && !wanted.has(`${a.dev}|${a.address}`));
  const staleRoutes = (records.routes ?? []).filter((r) => !(d.routes ?? []).some((x) => x.dst === r.dst && x.via === r.via)).map((r) => r.dst);
  if (staleAddrs.length || staleRoutes.length || !desired) {
    d.remove = {
      addresses: staleAddrs.map((a) => ({ address: a.address, devs: [a.dev] })),
      routes: staleRoutes,
      // The sysctls serve every VIP: put back only when the node no longer has this role.
      restoreSysctls: !desired,
      deleteCreatedLinks: !desired,
    };
  }
  return d;
}

function fileSummary(c: FileChange): string {
  const lines = c.diff.split('\n').filter((l) => !l.startsWith('+++') && !l.startsWith('---'));
  const plus = lines.filter((l) => l.startsWith('+')).length;
  const minus = lines.filter((l) => l.startsWith('-')).length;
  return `${c.reason}: +${plus} -${minus} lines`;
}

async function planAll(specFile: string, o: NodeRunOptions, driver: () => Promise<IpvsDriver>): Promise<Planned> {
  // 1. The whole spec and every generated file, before anything is read for writing.
  const compiled = await compileSpec(specFile);
  const desired = expandNode(compiled.spec, o.node);
  if (!desired) {
    const names = [...compiled.spec.nodes.map((n) => n.name), ...(compiled.spec.real_servers ?? []).map((r) => r.name)];
    throw new NotFoundError(`node ${o.node} is not in the spec`, { where: compiled.file, hint: `use one of: ${names.join(', ')}` });
  }
  const root = path.resolve(o.root ?? '/');
  const nodeFiles = compiled.nodes.find((n) => n.node === o.node);
  const warnings: string[] = [];
  if (nodeFiles) {
    const checks = await checkNodeFiles(nodeFiles, o.checkNetns);
    const failed = checks.find((c) => !c.ok);
    if (failed) {
      throw new CheckFailedError(failed.errors[0] ?? `${failed.file} failed its daemon check`, { where: `${o.node}/${failed.file}`, hint: 'nothing was changed; fix the spec (lbctl config check shows every finding)', code: 'EDAEMONCHECK' });
    }
    warnings.push(...checks.flatMap((c) => c.warnings.map((w) => `${c.file}: ${w}`)));
  }
  // IPVS has no --netns: the driver programs the namespace lbctl runs in. So a director's --netns
  // is only safe when lbctl already runs inside it (ip netns exec NS lbctl apply --netns NS), which
  // keeps the host records and locks per namespace too.
  if (desired.ipvs && o.netns && (await netnsIdentity(o.netns)) !== (await netnsIdentity())) {
    throw new UsageError(`node ${o.node} is a director whose IPVS table lbctl programs: --netns ${o.netns} names another namespace than the one lbctl runs in`, { code: 'ECONFLICT', hint: `run it inside the namespace: ip netns exec ${o.netns} lbctl apply ... --netns ${o.netns}` });
  }

  // 2. IPVS first: opening the driver loads ip_vs, whose net.ipv4.vs.* sysctls the host plan reads.
  let ipvs: Planned['ipvs'];
  if (desired.ipvs) {
    const provider = new IpvsProvider(await driver(), { recordsFile: ipvsRecordsFile(o.netns), drain: o.drain, drainTimeoutMs: o.drainTimeoutMs, signal: o.signal });
    ipvs = { provider, changes: provider.plan(await provider.read(), desired.ipvs) };
  }

  // 3. Host settings, per host-prep target: the node's own role converged, a lost role removed.
  const netnsId = await netnsIdentity(o.netns);
  const sys = new RealHostSystem(o.netns);
  const host: Planned['host'] = [];
  for (const target of TARGETS) {
    const recordsFile = stateFile(target, o.netns);
    const records = await loadState(recordsFile, netnsId);
    const mine = desired.hostTarget === target;
    const empty = !records.addresses.length && !Object.keys(records.sysctls).length && !records.createdLinks.length && !records.routes?.length;
    if (!mine && empty) continue;
    const want = withRemovals(mine ? desired.host : undefined, records, desired.vipDevices);
    const plan = planHost(await readHost(sys, records, readScope(want, records)), want);
    host.push({ target, plan, records, recordsFile });
  }

  // 4. Files (the daemons' configs, the IPVS boot files), then reloads of the daemons whose file changes.
  await refusePseudoFs(root, '--root');
  const files: ManagedFile[] = [
    ...(nodeFiles ? managedFiles(nodeFiles, root) : []),
    ...(desired.ipvs ? bootFiles(desired.ipvs.table, { root, netns: o.netns, node: o.node }) : []),
    ...(desired.tier ? tierGateFiles(desired.tier, root) : []),
  ];
  const filesProvider = new FilesProvider(files.map((f) => f.path));
  const fileChanges = filesProvider.plan(await filesProvider.read(), files);
  for (const c of fileChanges) c.reason = fileSummary(c);
  const links: Planned['links'] = [];
  for (const l of [...(desired.ipvs ? [bootLink({ root, netns: o.netns })] : []), ...(desired.tier ? [tierGateLink(root)] : [])]) {
    links.push({ provider: l.provider, changes: l.provider.plan(await l.provider.read(), l.desired) });
  }
  const daemons = new DaemonProvider([{ daemon: 'haproxy', pidfile: o.haproxyPidfile }, { daemon: 'keepalived', pidfile: o.keepalivedPidfile }, { daemon: 'nginx' }]);
  let daemonChanges: DaemonChange[] = [];
  if (o.reload !== false && fileChanges.some((c) => c.file.daemon)) {
    let states = await daemons.read();
    // A plan is read-only: a daemon not started yet (a fresh node) is reported, not a failure; apply still refuses before writing.
    if (o.dryRun) {
      for (const s of states) if (s.problem && fileChanges.some((c) => c.file.daemon === s.daemon)) warnings.push(reloadWarning(s.daemon, s.problem));
      states = states.filter((s) => !s.problem);
    }
    daemonChanges = daemons.plan(states, fileChanges);
  }
  let tier: Planned['tier'];
  if (desired.tier && o.reload !== false && fileChanges.length) {
    const paths = { frrConf: path.join(root, INSTALL_PATHS['frr.conf']), gateScript: path.join(root, GATE_PATHS.script), gateUnit: path.join(root, GATE_PATHS.unit) };
    const provider = new TierDaemonProvider(paths);
    const t = tierDaemonPlan(await provider.read(), fileChanges, paths);
    tier = { provider, changes: t.changes };
    warnings.push(...t.notes);
  }
  return { desired, host, ipvs, files: { provider: filesProvider, changes: fileChanges }, links, daemons: { provider: daemons, changes: daemonChanges }, tier, warnings };
}

function reloadWarning(daemon: string, problem: Error): string {
  const hint = problem instanceof LbctlError && problem.hint ? `${problem.hint}, ` : '';
  return `${daemon} not reloaded: ${problem.message}; lbctl apply would refuse this reload (${hint}or apply with --no-reload)`;
}

function allChanges(p: Planned): Change[] {
  return [...p.host.flatMap((h) => h.plan.changes), ...(p.ipvs?.changes ?? []), ...p.files.changes, ...p.links.flatMap((l) => l.changes), ...p.daemons.changes, ...(p.tier?.changes ?? [])];
}

/** The plan as data (no diff text, no provider internals): what `--json` prints. */
function jsonPlan(changes: Change[]) {
  const j = planJson(changes);
  for (const c of j.changes) {
    const orig = changes.find((x) => x.kind === c.kind && x.id === c.id) as Partial<FileChange> | undefined;
    if (orig?.diff !== undefined) (c as Record<string, unknown>).diff = orig.diff;
  }
  return j;
}

function result(p: Planned, o: NodeRunOptions, applied: NodeRunResult['applied']): NodeRunResult {
  const changes = allChanges(p);
  return {
    node: o.node, roles: p.desired.roles, netns: o.netns ?? null, root: path.resolve(o.root ?? '/'), dryRun: Boolean(o.dryRun),
    changed: changes.length > 0, applied, warnings: p.warnings, plan: jsonPlan(changes),
  };
}

export interface NodeRun { result: NodeRunResult; changes: Change[] }

/** `lbctl plan`: validate and read everything, change nothing. */
export async function planNode(specFile: string, o: NodeRunOptions): Promise<NodeRun> {
  let drv: IpvsDriver | undefined;
  try {
    const p = await planAll(specFile, { ...o, dryRun: true }, async () => (drv = await openDriver({ driver: o.driver }, o.note)));
    return { result: result(p, { ...o, dryRun: true }, { host: 0, ipvs: 0, files: 0, daemons: 0 }), changes: allChanges(p) };
  } finally {
    await drv?.close().catch(() => {});
  }
}

/** `lbctl apply`: plan under the locks, then host -> IPVS -> files -> reloads; stop at the first failure. */
export async function applyNode(specFile: string, o: NodeRunOptions): Promise<NodeRun> {
  if (o.dryRun) return planNode(specFile, o);
  const lockMs = o.lockTimeoutMs ?? 30_000;
  const root = path.resolve(o.root ?? '/');
  let drv: IpvsDriver | undefined;
  const openIpvs = async () => (drv = await openDriver({ driver: o.driver }, o.note));
  try {
    return await withLock(`hostprep@${o.netns ?? 'host'}`, lockMs, () => withLock(`config@${root}`, lockMs, () =>
      withIpvsLock(`${lockMs}ms`, async () => {
        const p = await planAll(specFile, o, openIpvs);
        for (const h of p.host) await precheckPlan(h.plan, h.records, h.recordsFile);
        const applied = { host: 0, ipvs: 0, files: 0, daemons: 0 };
        const stage = async (name: keyof typeof applied, count: number, fn: () => Promise<unknown>) => {
          try {
            await fn();
            applied[name] += count;
          } catch (e) {
            const done = Object.entries(applied).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');
            const what = `apply stopped at the ${name} changes; ${done ? `already applied: ${done} change(s)` : 'nothing was applied before'}`;
            if (e instanceof LbctlError) throw new LbctlError(`${e.message} (${what})`, e.exitCode, { code: e.code, where: e.where, hint: e.hint, cause: e });
            throw e;
          }
        };
        const sys = new RealHostSystem(o.netns);
        for (const h of p.host) {
          const changes: HostChange[] = h.plan.changes;
          await stage('host', changes.length, () => applyHost(sys, h.plan, h.records, { recordsFile: h.recordsFile, what: `apply (${h.target} settings)` }));
        }
        if (p.ipvs) { const ipvs = p.ipvs; await stage('ipvs', ipvs.changes.length, () => ipvs.provider.apply(ipvs.changes)); }
        if (p.files.changes.length) await stage('files', p.files.changes.length, () => p.files.provider.apply(p.files.changes));
        for (const link of p.links) if (link.changes.length) await stage('files', link.changes.length, () => link.provider.apply(link.changes));
        if (p.daemons.changes.length) await stage('daemons', p.daemons.changes.length, () => p.daemons.provider.apply(p.daemons.changes));
        const tier = p.tier;
        if (tier?.changes.length) await stage('daemons', tier.changes.length, () => tier.provider.apply(tier.changes));
        return { result: { ...result(p, o, applied), dryRun: false }, changes: allChanges(p) };
      })));
  } finally {
    await drv?.close().catch(() => {});
  }
}
