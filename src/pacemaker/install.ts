/**
 * The pacemaker part of `config install`, after the files are in place:
 *   - the corosync authkey: made once (random, 0400) when the node has none, never printed,
 *     never replaced (every node must hold the same key: copy the first node's);
 *   - corosync reloaded (`corosync-cfgtool -R`) only when corosync.conf changed;
 *   - the resource configuration loaded into the running cluster, scope by scope
 *     (crm_config, resources, constraints, rsc_defaults), and only the scopes whose content
 *     differs from the CIB's once both are canonical (attribute order, whitespace, comments
 *     and pacemaker's own bookkeeping attributes do not count): an equal CIB is not touched.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { RejectedError } from '../cli/errors.js';
import type { Change } from '../converge/change.js';
import type { PacemakerModel } from './model.js';
import { OWNED_SCOPES, renderScopes, type OwnedScope } from './resources.js';

export const AUTHKEY_PATH = '/etc/corosync/authkey';

/** Elements as (name, sorted attributes, children); text, comments and whitespace dropped. */
export function canonicalXml(xml: string): string {
  const out: string[] = [];
  const body = xml.replace(/<\?[\s\S]*?\?>/g, '').replace(/<!--[\s\S]*?-->/g, '');
  for (const m of body.matchAll(/<(\/?)([A-Za-z_][\w:.-]*)([^>]*?)(\/?)>/g)) {
    const [, close, name, rest, selfClose] = m;
    if (close) { out.push(`</${name}>`); continue; }
    const attrs = [...rest.matchAll(/([\w:.-]+)="([^"]*)"/g)].map((a) => `${a[1]}=${a[2]}`).sort();
    out.push(`<${name} ${attrs.join(' ')}>`);
    if (selfClose) out.push(`</${name}>`);
  }
  return out.join('');
}

/** The crm_config scope holds pacemaker's own properties too (dc-version, ...): compare only ours. */
function ownedPart(scope: OwnedScope, xml: string, desired: string): string {
  if (scope !== 'crm_config') return canonicalXml(xml);
  const wanted = new Set([...desired.matchAll(/<nvpair id="([^"]+)"/g)].map((m) => m[1]));
  const ours = [...xml.matchAll(/<nvpair [^>]*\/>/g)].map((m) => m[0]).filter((t) => wanted.has(t.match(/id="([^"]+)"/)?.[1] ?? ''));
  return canonicalXml(ours.sort().join(''));
}

export interface CibChange extends Change { kind: 'cib'; scope: OwnedScope; xml: string }

export async function readScopes(): Promise<Record<OwnedScope, string>> {
  const out = {} as Record<OwnedScope, string>;
  for (const scope of OWNED_SCOPES) {
    const r = await execa('cibadmin', ['--query', '--scope', scope], { reject: false });
    // No such section yet (rsc_defaults in a fresh CIB): empty.
    out[scope] = r.exitCode === 0 ? r.stdout : '';
  }
  return out;
}

export function planCib(actual: Record<OwnedScope, string>, m: PacemakerModel): CibChange[] {
  const desired = renderScopes(m);
  const changes: CibChange[] = [];
  for (const scope of OWNED_SCOPES) {
    const want = scope === 'crm_config' ? ownedPart(scope, desired[scope], desired[scope]) : canonicalXml(desired[scope]);
    const have = ownedPart(scope, actual[scope], desired[scope]);
    if (want === have) continue;
    changes.push({
      action: actual[scope] ? '~' : '+', kind: 'cib', id: scope, scope, xml: desired[scope], reason: actual[scope] ? 'differs from the spec' : 'not in the CIB',
      command: ['cibadmin', scope === 'crm_config' ? '--modify' : actual[scope] ? '--replace' : '--create', '--scope', actual[scope] || scope === 'crm_config' ? scope : 'configuration', '--xml-text', `<${scope}>...`],
    });
  }
  return changes;
}

export async function applyCib(changes: CibChange[]): Promise<void> {
  for (const c of changes) {
    // --modify merges our properties into crm_config and keeps pacemaker's own ones.
    // A section the CIB lacks (rsc_defaults in a fresh cluster) is created under configuration.
    const argv = c.scope === 'crm_config' ? ['--modify', '--scope', c.scope, '--xml-text', c.xml]
      : c.action === '+' ? ['--create', '--scope', 'configuration', '--xml-text', c.xml]
        : ['--replace', '--scope', c.scope, '--xml-text', c.xml];
    const r = await execa('cibadmin', argv, { reject: false, all: true });
    if (r.exitCode !== 0) throw new RejectedError(`cibadmin ${argv[0]} --scope ${c.scope}: ${(r.all ?? '').trim().split('\n')[0]}`, { code: 'ECIB', hint: 'run lbctl config check; the scopes before this one were loaded' });
  }
}

export interface PacemakerInstallReport { authkey: 'created' | 'unchanged'; corosyncReloaded: boolean; cib: Array<{ scope: string; action: string }>; clusterRunning: boolean }

/** Is a cluster running here (the CIB answers)? */
async function cibAnswers(): Promise<boolean> {
  const r = await execa('cibadmin', ['--query', '--scope', 'nodes'], { reject: false, timeout: 10_000 }).catch(() => ({ exitCode: 1 }));
  return r.exitCode === 0;
}

export async function installPacemaker(m: PacemakerModel, opts: { root: string; dryRun: boolean; corosyncChanged: boolean; reload: boolean }): Promise<PacemakerInstallReport> {
  const keyPath = path.join(opts.root, AUTHKEY_PATH);
  const hasKey = await fs.lstat(keyPath).then(() => true, () => false);
  if (!hasKey && !opts.dryRun) {
    await fs.mkdir(path.dirname(keyPath), { recursive: true });
    // Printable key material (192 random bytes, base64): corosync reads the file's bytes as the key.
    await fs.writeFile(keyPath, randomBytes(192).toString('base64'), { mode: 0o400, flag: 'wx' });
  }
  const report: PacemakerInstallReport = { authkey: hasKey ? 'unchanged' : 'created', corosyncReloaded: false, cib: [], clusterRunning: false };
  if (!opts.reload || opts.root !== '/') return report;
  report.clusterRunning = await cibAnswers();
  if (!report.clusterRunning) return report;
  if (opts.corosyncChanged && !opts.dryRun) {
    const r = await execa('corosync-cfgtool', ['-R'], { reject: false, all: true });
    if (r.exitCode !== 0) throw new RejectedError(`corosync-cfgtool -R: ${(r.all ?? '').trim().split('\n')[0]}`, { code: 'ECOROSYNC' });
    report.corosyncReloaded = true;
  }
  const changes = planCib(await readScopes(), m);
  if (!opts.dryRun) await applyCib(changes);
  report.cib = changes.map((c) => ({ scope: c.scope, action: opts.dryRun ? `would ${c.action === '+' ? 'create' : 'replace'}` : c.action === '+' ? 'created' : 'replaced' }));
  return report;
}
