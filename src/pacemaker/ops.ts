/**
 * Operations on a running pacemaker cluster: standby / online a node, move a resource, clean
 * up failed actions. Each reads the status first, so it can refuse an unknown name (crmsh's
 * `crm node standby NAME` exits 0 and does nothing when NAME does not resolve), say
 * "unchanged" when there is nothing to do, and with --wait poll crm_mon until the resources
 * have settled where they should be.
 */
import { execa } from 'execa';
import { NotFoundError, RejectedError, TimeoutError } from '../cli/errors.js';
import { readStatus, type HaStatus } from './status.js';

export interface OpResult {
  changed: boolean;
  action: 'updated' | 'unchanged';
  target: string;
  command?: string[];
  waitedMs?: number;
  status: HaStatus;
}

export interface OpOptions {
  wait?: boolean; timeoutMs?: number; signal?: AbortSignal; read?: () => Promise<HaStatus>; run?: (argv: string[]) => Promise<void>;
  /** The node a resource's cli-prefer constraint (left by an earlier move) names, if any. */
  preferred?: (resource: string) => Promise<string | undefined>;
}

async function runTool(argv: string[]): Promise<void> {
  const r = await execa(argv[0], argv.slice(1), { reject: false, all: true });
  if (r.exitCode !== 0) throw new RejectedError(`${argv.join(' ')}: ${(r.all ?? '').split('\n').map((l) => l.trim()).filter(Boolean)[0] ?? `exited ${r.exitCode}`}`, { code: 'EPCMK' });
}

/** cibadmin honours CIB_file, so this reads an offline CIB as well as a live one; a failed query counts as no preference. */
async function movePreference(resource: string): Promise<string | undefined> {
  const r = await execa('cibadmin', ['--query', '--xpath', `//constraints/rsc_location[@id='cli-prefer-${resource}']`], { reject: false }).catch(() => undefined);
  if (r?.exitCode !== 0) return undefined;
  return /\snode="([^"]+)"/.exec(String(r.stdout))?.[1];
}

function requireNode(s: HaStatus, name: string) {
  const n = s.nodes.find((x) => x.name === name);
  if (!n) throw new NotFoundError(`node ${name} is not in the cluster`, { code: 'ENONODE', hint: `use one of: ${s.nodes.map((x) => x.name).join(', ')}` });
  return n;
}

/** A resource, or a group (whose members then stand for it). */
function requireResource(s: HaStatus, id: string) {
  const members = s.resources.filter((r) => r.id === id || r.group === id);
  if (!members.length) {
    const ids = [...new Set(s.resources.flatMap((r) => (r.group ? [r.group, r.id] : [r.id])))];
    throw new NotFoundError(`resource ${id} is not in the cluster`, { code: 'ENORESOURCE', hint: `use one of: ${ids.join(', ')}` });
  }
  return members;
}

async function waitUntil(what: string, done: (s: HaStatus) => boolean, o: OpOptions, read: () => Promise<HaStatus>): Promise<{ status: HaStatus; ms: number }> {
  const start = Date.now();
  const limit = o.timeoutMs ?? 60_000;
  for (;;) {
    const s = await read();
    if (done(s)) return { status: s, ms: Date.now() - start };
    if (Date.now() - start > limit) throw new TimeoutError(`${what}: not done after ${Math.round(limit / 1000)} s`, { code: 'EWAIT', hint: 'see lbctl ha status; failed actions may need lbctl ha cleanup' });
    if (o.signal?.aborted) throw o.signal.reason;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Every resource that should run is started, and none runs on the nodes in `avoid`. A clone
 * has one instance per node: an instance stopped on an avoided node is what standby asks for,
 * so a clone counts as settled when one instance runs and none runs on an avoided node.
 */
const settled = (avoid: string[]) => (s: HaStatus) => {
  const runs = (r: HaStatus['resources'][number]) => r.role === 'Started' && r.nodes.length > 0;
  const avoided = (r: HaStatus['resources'][number]) => r.nodes.some((n) => avoid.includes(n));
  const clones = new Set(s.resources.flatMap((r) => (r.clone ? [r.clone] : [])));
  for (const c of clones) {
    const inst = s.resources.filter((r) => r.clone === c);
    if (!inst.some(runs) || inst.some(avoided) || inst.some((r) => r.role !== 'Started' && r.role !== 'Stopped')) return false;
  }
  // A fence device kept off the only node left (standby of its peer) stays stopped: pacemaker
  // still uses a stopped device, so it is settled as long as it is not on an avoided node.
  const fence = (r: HaStatus['resources'][number]) => (r.agent ?? '').startsWith('stonith:');
  return s.resources.filter((r) => !r.clone).every((r) => (runs(r) || (fence(r) && r.role === 'Stopped')) && !avoided(r));
};

export async function setStandby(node: string, standby: boolean, o: OpOptions = {}): Promise<OpResult> {
  const read = o.read ?? readStatus;
  const run = o.run ?? runTool;
  const before = await read();
  const n = requireNode(before, node);
  const command = ['crm_attribute', '--node', node, '--name', 'standby', '--update', standby ? 'on' : 'off', '--lifetime', 'forever'];
  const changed = n.standby !== standby;
  if (changed) await run(command);
  let status = before;
  let waitedMs: number | undefined;
  if (o.wait) {
    const w = await waitUntil(`${standby ? 'standby' : 'online'} ${node}`, (s) => {
      const x = s.nodes.find((y) => y.name === node);
      return Boolean(x && x.standby === standby) && settled(standby ? [node] : [])(s);
    }, o, read);
    status = w.status; waitedMs = w.ms;
  } else if (changed) status = await read();
  return { changed, action: changed ? 'updated' : 'unchanged', target: node, command: changed ? command : undefined, waitedMs, status };
}

export async function moveResource(resource: string, node: string, o: OpOptions = {}): Promise<OpResult> {
  const read = o.read ?? readStatus;
  const run = o.run ?? runTool;
  const before = await read();
  const members = requireResource(before, resource);
  requireNode(before, node);
  const there = members.every((r) => r.nodes.length === 1 && r.nodes[0] === node);
  // crm_resource --move leaves a cli-prefer constraint: the resource stays on NODE until
  // `crm_resource --clear`. That constraint already naming NODE means an earlier move asked the
  // same (an offline CIB's status never shows the resource moved): moving again changes nothing.
  const command = ['crm_resource', '--move', '--resource', resource, '--node', node];
  const changed = !there && (await (o.preferred ?? movePreference)(resource)) !== node;
  if (changed) await run(command);
  let status = before;
  let waitedMs: number | undefined;
  if (o.wait && !there) {
    const w = await waitUntil(`move ${resource} to ${node}`, (s) => s.resources.filter((r) => r.id === resource || r.group === resource).every((r) => r.role === 'Started' && r.nodes.length === 1 && r.nodes[0] === node), o, read);
    status = w.status; waitedMs = w.ms;
  }
  return { changed, action: changed ? 'updated' : 'unchanged', target: `${resource} -> ${node}`, command: changed ? command : undefined, waitedMs, status };
}

export async function cleanup(resource: string | undefined, o: OpOptions = {}): Promise<OpResult> {
  const read = o.read ?? readStatus;
  const run = o.run ?? runTool;
  const before = await read();
  if (resource !== undefined) requireResource(before, resource);
  const failures = before.failures.filter((f) => resource === undefined || f.resource === resource || before.resources.some((r) => r.group === resource && r.id === f.resource));
  const failed = before.resources.some((r) => r.failed && (resource === undefined || r.id === resource || r.group === resource));
  const changed = failures.length > 0 || failed;
  const command = ['crm_resource', '--cleanup', ...(resource ? ['--resource', resource] : [])];
  if (changed) await run(command);
  return { changed, action: changed ? 'updated' : 'unchanged', target: resource ?? 'all resources', command: changed ? command : undefined, status: changed ? await read() : before };
}
