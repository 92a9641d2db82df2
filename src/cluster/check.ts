/**
 * `lbctl config check`: schema, spec checks, pair comparison, then the daemons' own checks
 * on every generated file. Findings are collected (not thrown) so all of them are reported;
 * checkError() turns a report into the one error and exit code the command ends with:
 * spec findings are InvalidInput (3), daemon and pair findings CheckFailed (9).
 */
import path from 'node:path';
import { NotFoundError, type LbctlError } from '../cli/errors.js';
import { CheckFindingsError, SpecFindingsError } from './errors.js';
import { checkHaproxyText } from '../haproxy/config-check.js';
import { checkKeepalivedText, type NetnsMode } from '../keepalived/config-check.js';
import { keepalivedInterfaces } from '../keepalived/config.js';
import { checkNginxText } from '../nginx/check.js';
import { findingLine, readSpec } from './load.js';
import { checkSpec } from './rules/index.js';
import { comparePair } from './pair-compare.js';
import { checkPacemakerFile, isPacemakerFile } from '../pacemaker/check.js';
import { pacemakerSpecFindings } from '../pacemaker/spec-check.js';
import { renderNodes, type DaemonFile, type NodeFiles } from './generate.js';
import { checkFrrText } from '../tier/frr.js';
import { tierWarnings } from './rules/tier.js';

export type FindingKind = 'schema' | 'spec' | 'pair' | 'daemon';

export interface CheckFinding { kind: FindingKind; line: string; where: string; path?: string; message: string; hint?: string }

export interface FileCheck { node: string; file: DaemonFile; ok: boolean; errors: string[]; warnings: string[]; netns?: string }

export interface CheckReport {
  spec: string;
  cluster?: string;
  ok: boolean;
  nodes: string[];
  findings: CheckFinding[];
  files: FileCheck[];
  /** Spec lines that pass but deserve a look (file:line:col). */
  warnings?: string[];
}

export async function checkCluster(file: string, opts: { netns?: NetnsMode; daemons?: boolean; node?: string } = {}): Promise<CheckReport> {
  const parsed = await readSpec(file);
  const shown = parsed.file;
  const report: CheckReport = { spec: shown, ok: false, nodes: [], findings: [], files: [] };
  if (!parsed.spec) {
    report.findings = parsed.findings.map((f) => ({ kind: 'schema', line: findingLine(f), where: f.where, path: f.path, message: f.message, hint: f.hint }));
    return report;
  }
  const spec = parsed.spec;
  report.cluster = spec.cluster;
  report.nodes = spec.nodes.map((n) => n.name);
  const specFindings = checkSpec(spec, parsed.locator);
  if (!specFindings.length && opts.daemons !== false) specFindings.push(...await pacemakerSpecFindings(spec, parsed.locator));
  report.findings = specFindings.map((f) => ({ kind: 'spec', line: findingLine(f), where: f.where, path: f.path, message: f.message, hint: f.hint }));
  if (specFindings.length) return report;
  report.warnings = tierWarnings(spec, parsed.locator).map(findingLine);
  if (opts.node !== undefined && !report.nodes.includes(opts.node)) {
    throw new NotFoundError(`node ${opts.node} is not in the spec`, { where: shown, hint: `use one of: ${report.nodes.join(', ')}` });
  }

  const nodes = renderNodes(spec, file);
  const kaModels = nodes.filter((n) => n.keepalived).map((n) => ({ node: n.node, config: n.keepalived! }));
  for (const p of comparePair(kaModels)) {
    report.findings.push({ kind: 'pair', line: `${shown}: vrrp ${p.instance}: ${p.message} (${p.hint})`, where: shown, message: p.message, hint: p.hint });
  }
  if (opts.daemons !== false) {
    for (const n of nodes.filter((x) => opts.node === undefined || x.node === opts.node)) {
      for (const fc of await checkNodeFiles(n, opts.netns)) {
        report.files.push(fc);
        for (const e of fc.errors) report.findings.push({ kind: 'daemon', line: `${fc.node}/${e}`, where: `${fc.node}/${fc.file}`, message: e });
      }
    }
  }
  report.ok = report.findings.length === 0;
  return report;
}

/** The daemons' own checks of one node's files. */
export async function checkNodeFiles(n: NodeFiles, netns?: NetnsMode): Promise<FileCheck[]> {
  const out: FileCheck[] = [];
  for (const f of n.files) {
    if (isPacemakerFile(f.name)) {
      out.push({ node: n.node, file: f.name, ...(await checkPacemakerFile(n.pacemaker!, f.name, f.content)) });
    } else if (f.name === 'haproxy.cfg') {
      const r = await checkHaproxyText(f.content, 'haproxy.cfg');
      out.push({ node: n.node, file: f.name, ok: r.ok, errors: r.errors, warnings: r.warnings });
    } else if (f.name === 'nginx.conf') {
      const r = await checkNginxText(f.content, { confD: path.basename(f.installPath ?? 'nginx.conf') !== 'nginx.conf' });
      out.push({ node: n.node, file: f.name, ok: r.ok, errors: r.errors, warnings: r.warnings });
    } else if (f.name === 'frr.conf') {
      const r = await checkFrrText(f.content, 'frr.conf');
      out.push({ node: n.node, file: f.name, ok: r.ok, errors: r.errors, warnings: r.warnings });
    } else {
      const r = await checkKeepalivedText(f.content, keepalivedInterfaces(n.keepalived!), { netns, label: 'keepalived.conf' });
      out.push({ node: n.node, file: f.name, ok: r.ok, errors: r.errors, warnings: r.warnings, netns: r.netns });
    }
  }
  return out;
}

/** The error a failed report ends with (first finding, and how many more). */
export function checkError(report: CheckReport): LbctlError | undefined {
  if (report.ok) return undefined;
  const first = report.findings[0];
  const more = report.findings.length > 1 ? ` (${report.findings.length - 1} more above)` : '';
  const all = report.findings.map(({ kind, where, path, message, hint }) => ({ kind, where, path, message, hint }));
  if (first.kind === 'schema' || first.kind === 'spec') {
    return new SpecFindingsError(`${first.path}: ${first.message}`, all, { where: first.where, hint: `${first.hint ?? 'fix the spec'}${more}`, code: 'ESPEC' });
  }
  return new CheckFindingsError(first.message, all, { where: first.where, hint: `${first.kind === 'daemon' ? 'the daemon rejected the generated file; fix the spec (often an extra: line)' : first.hint ?? 'fix the spec'}${more}`, code: first.kind === 'daemon' ? 'EDAEMONCHECK' : 'EPAIR' });
}
