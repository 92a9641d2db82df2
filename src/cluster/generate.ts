/**
 * Spec -> per-node files. compileSpec validates (schema, then spec checks) and renders in
 * memory; generateFiles writes DIR/<node>/{haproxy.cfg,keepalived.conf}. Nothing is written
 * unless the whole spec is valid.
 */
import path from 'node:path';
import { NotFoundError } from '../cli/errors.js';
import { refusePseudoFs } from '../util/fs.js';
import { FilesProvider, type ManagedFile } from '../converge/files.js';
import { renderHaproxy } from '../haproxy/config.js';
import { renderKeepalived, type KeepalivedConfig } from '../keepalived/config.js';
import { expandKeepalived, header, healthFrontend } from './expand.js';
import { nginxFile } from './expand-nginx.js';
import { findingsError, loadSpec, type SpecLocator } from './load.js';
import { checkSpec } from './rules/index.js';
import type { ClusterSpec } from './types.js';
import { pacemakerFiles, pacemakerSecret, type PacemakerFile } from '../pacemaker/files.js';
import type { PacemakerModel } from '../pacemaker/model.js';
import { tierNodeFiles } from '../tier/files.js';

export type DaemonFile = 'haproxy.cfg' | 'keepalived.conf' | 'nginx.conf' | PacemakerFile | 'frr.conf';

export interface NodeFiles {
  node: string;
  /** installPath: where config install writes it, when the spec says (nginx); else INSTALL_PATHS. */
  files: Array<{ name: DaemonFile; content: string; installPath?: string }>;
  keepalived?: KeepalivedConfig;
  pacemaker?: PacemakerModel;
}

export interface CompiledSpec {
  file: string;
  spec: ClusterSpec;
  locator: SpecLocator;
  nodes: NodeFiles[];
}

export function renderNodes(spec: ClusterSpec, specFile: string): NodeFiles[] {
  const pcmk = pacemakerFiles(spec, specFile);
  return spec.nodes.map((n) => {
    const files: NodeFiles['files'] = [];
    if (spec.haproxy) files.push({ name: 'haproxy.cfg', content: renderHaproxy(spec.haproxy, header(specFile, spec, n.name, 'haproxy.cfg'), healthFrontend(spec)) });
    const ngx = nginxFile(spec, header(specFile, spec, n.name, 'nginx.conf'));
    if (ngx) files.push(ngx);
    const ka = expandKeepalived(spec, n, specFile);
    if (ka) files.push({ name: 'keepalived.conf', content: renderKeepalived(ka) });
    files.push(...(pcmk?.files ?? []));
    files.push(...tierNodeFiles(spec, n.name));
    return { node: n.name, files, keepalived: ka, pacemaker: pcmk?.model };
  });
}

/** Load, validate and render. Throws InputError (exit 3) naming file:line for any finding. */
export async function compileSpec(file: string, node?: string): Promise<CompiledSpec> {
  const { spec, locator } = await loadSpec(file);
  const findings = checkSpec(spec, locator);
  if (findings.length) throw findingsError(findings);
  if (node !== undefined && !spec.nodes.some((n) => n.name === node)) {
    throw new NotFoundError(`node ${node} is not in the spec`, { where: locator.file, hint: `use one of: ${spec.nodes.map((n) => n.name).join(', ')}` });
  }
  const nodes = renderNodes(spec, file).filter((n) => node === undefined || n.node === node);
  return { file: locator.file, spec, locator, nodes };
}

/** keepalived.conf carries the VRRP auth_pass: a new one must not be world-readable. */
export function holdsSecret(name: DaemonFile, content: string): boolean {
  return (name === 'keepalived.conf' && /^\s*auth_pass\s/m.test(content)) || pacemakerSecret(name, content);
}

export interface GeneratedFileResult { node: string; name: DaemonFile; path: string; changed: boolean; action: 'created' | 'updated' | 'unchanged'; diff: string }
export interface GenerateResult { spec: string; cluster: string; out: string; changed: boolean; dryRun: boolean; files: GeneratedFileResult[] }

/** Every node's files under OUT/<node>/, all written or none; unchanged files are not touched. */
export async function generateFiles(file: string, opts: { node?: string; out: string; dryRun?: boolean }): Promise<GenerateResult> {
  const compiled = await compileSpec(file, opts.node);
  await refusePseudoFs(path.resolve(opts.out), '--out');
  const desired: ManagedFile[] = compiled.nodes.flatMap((n) => n.files.map((f) => ({
    // Generated output is reproducible from the spec: no backup copies next to it.
    path: path.join(opts.out, n.node, f.name), content: f.content, backup: false,
    secret: holdsSecret(f.name, f.content),
  })));
  const provider = new FilesProvider(desired.map((d) => d.path));
  const changes = provider.plan(await provider.read(), desired);
  if (!opts.dryRun) await provider.apply(changes);
  const results: GeneratedFileResult[] = compiled.nodes.flatMap((n) => n.files.map((f) => {
    const target = path.join(opts.out, n.node, f.name);
    const c = changes.find((x) => x.id === target);
    return { node: n.node, name: f.name, path: target, changed: Boolean(c), action: !c ? 'unchanged' as const : c.action === '+' ? 'created' as const : 'updated' as const, diff: c?.diff ?? '' };
  }));
  return { spec: compiled.file, cluster: compiled.spec.cluster, out: opts.out, changed: changes.length > 0, dryRun: Boolean(opts.dryRun), files: results };
}
