/** restore: make the kernel table equal to a file by applying only the difference (never a flush). */
import { readFile } from 'node:fs/promises';
import { NotFoundError, TimeoutError } from '../cli/errors.js';
import { Progress } from '../cli/output.js';
import type { IpvsDriver, Op } from './driver.js';
import { loadTable, type RulesFormat } from './formats.js';
import { destinationKey, serviceKey, type Destination, type IpvsTable, type VirtualService } from './model.js';
import { plan, planJson, toOps, type Change } from './plan.js';
import { printDestination, printService } from './rules.js';

export async function readInput(file: string): Promise<{ text: string; name: string }> {
  if (file === '-') {
    if (process.env.LBCTL_STDIN_TEXT !== undefined) return { text: process.env.LBCTL_STDIN_TEXT, name: '<stdin>' };
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return { text: Buffer.concat(chunks).toString('utf8'), name: '<stdin>' };
  }
  try {
    return { text: await readFile(file, 'utf8'), name: file };
  } catch (e: any) {
    if (e.code === 'ENOENT') throw new NotFoundError(`rules file ${file} does not exist`, { code: 'ENOENT', hint: 'give a path, or - for stdin' });
    throw e;
  }
}

export interface RestoreOptions { dryRun?: boolean; merge?: boolean; drain?: boolean; drainTimeoutMs?: number; progress?: boolean; format?: RulesFormat }

export interface RestoreResult {
  changed: boolean;
  dryRun: boolean;
  plan: ReturnType<typeof planJson>;
  changes: Change[];
}

/** Compute (and unless dryRun, apply) the plan from the kernel's table to `desired`. */
export async function restore(driver: IpvsDriver, desired: IpvsTable, o: RestoreOptions = {}): Promise<RestoreResult> {
  const actual = await driver.getTable();
  const changes = plan(actual, desired, { merge: o.merge });
  if (!o.dryRun && changes.length) {
    const ops: Op[] = toOps(changes);
    for (const op of ops) op.origin ??= `rule "${op.kind.endsWith('Service') ? printService(op.service!) : printDestination(op.service!, op.dest!)}"`;
    if (o.drain) await drainLeaving(driver, changes, o);
    await driver.apply(ops);
  }
  return { changed: !o.dryRun && changes.length > 0, dryRun: Boolean(o.dryRun), plan: planJson(changes), changes };
}

/** Weight 0 for every leaving real server, then wait for all their active connections to end. */
async function drainLeaving(driver: IpvsDriver, changes: Change[], o: RestoreOptions): Promise<void> {
  const leaving: Array<{ svc: VirtualService; dest: Destination }> = [];
  for (const c of changes) {
    if (c.action !== '-') continue;
    if (c.kind === 'destination') leaving.push({ svc: c.service, dest: c.dest! });
    else for (const d of c.service.destinations) leaving.push({ svc: c.service, dest: d });
  }
  if (!leaving.length) return;
  const zero = leaving.filter((l) => l.dest.weight !== 0).map((l): Op => ({ kind: 'editDest', service: l.svc, dest: { ...l.dest, weight: 0 } }));
  await driver.apply(zero);
  const progress = new Progress(Boolean(o.progress));
  const deadline = Date.now() + (o.drainTimeoutMs ?? 300_000);
  for (;;) {
    const t = await driver.getTable({ stats: true });
    let active = 0;
    for (const l of leaving) {
      const d = t.services.find((s) => serviceKey(s) === serviceKey(l.svc))?.destinations.find((x) => destinationKey(x) === destinationKey(l.dest));
      active += d?.activeConns ?? 0;
    }
    if (active === 0) { progress.done(); return; }
    if (Date.now() >= deadline) {
      progress.done();
      throw new TimeoutError(`${leaving.length} leaving real server(s) still have ${active} active connection(s)`, { code: 'ETIMEDOUT', hint: 'their weight is left at 0 and nothing else was changed; rerun with a longer --timeout' });
    }
    progress.update(`draining ${leaving.length} real server(s): ${active} active connection(s)`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function loadDesired(file: string, format?: RulesFormat): Promise<IpvsTable> {
  const { text, name } = await readInput(file);
  return loadTable(text, name, format);
}
