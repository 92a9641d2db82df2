/**
 * A running cluster's state, from `crm_mon -1 --output-as=xml --inactive`: node states, where
 * each resource runs, failed actions. The XML is pacemaker's stable API (api-version 2.x);
 * only the attributes read here are relied on.
 */
import { execa } from 'execa';
import { UnavailableError } from '../cli/errors.js';

export interface HaNode { name: string; id: string; online: boolean; standby: boolean; unclean: boolean; dc: boolean; resourcesRunning: number }
export interface HaResource { id: string; agent: string; group?: string; clone?: string; role: string; active: boolean; failed: boolean; nodes: string[] }
export interface HaFailure { resource: string; node: string; task: string; status: string; exitReason: string }
export interface HaStatus { quorum?: boolean; dc?: string; nodes: HaNode[]; resources: HaResource[]; failures: HaFailure[] }

function attrs(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([A-Za-z_:-]+)="([^"]*)"/g)) out[m[1]] = m[2].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&amp;/g, '&');
  return out;
}
const section = (xml: string, name: string) => xml.match(new RegExp(`<${name}>([\\s\\S]*?)</${name}>`))?.[1] ?? '';

export function parseCrmMon(xml: string): HaStatus {
  const summary = section(xml, 'summary');
  const dcTag = summary.match(/<current_dc [^>]*>/)?.[0];
  const dc = dcTag ? attrs(dcTag) : {};
  const nodes = [...section(xml, 'nodes').matchAll(/<node [^>]*>/g)].map((m) => {
    const a = attrs(m[0]);
    return { name: a.name, id: a.id, online: a.online === 'true', standby: a.standby === 'true', unclean: a.unclean === 'true', dc: a.is_dc === 'true', resourcesRunning: Number(a.resources_running ?? 0) };
  });
  const resources: HaResource[] = [];
  // A group opens, its resources follow, it closes; a resource's <node/> children name where it runs.
  // A clone's instances are resources of the same id inside <clone>, one per node.
  let group: string | undefined;
  let clone: string | undefined;
  const body = section(xml, 'resources');
  for (const m of body.matchAll(/<group [^>]*>|<\/group>|<clone [^>]*>|<\/clone>|<resource [^>]*?(\/>|>[\s\S]*?<\/resource>)/g)) {
    const t = m[0];
    if (t.startsWith('<group')) { group = attrs(t).id; continue; }
    if (t.startsWith('</group')) { group = undefined; continue; }
    if (t.startsWith('<clone')) { clone = attrs(t).id; continue; }
    if (t.startsWith('</clone')) { clone = undefined; continue; }
    const a = attrs(t.match(/<resource [^>]*>/)![0]);
    resources.push({
      id: a.id, agent: a.resource_agent, group, ...(clone ? { clone } : {}), role: a.role, active: a.active === 'true', failed: a.failed === 'true',
      nodes: [...t.matchAll(/<node [^>]*>/g)].map((n) => attrs(n[0]).name),
    });
  }
  const failures = [...section(xml, 'failures').matchAll(/<failure [^>]*>/g)].map((m) => {
    const a = attrs(m[0]);
    return { resource: (a.op_key ?? '').replace(/_[a-z]+_\d+$/, ''), node: a.node, task: a.task, status: a.status, exitReason: a.exitreason ?? '' };
  });
  return { dc: dc.present === 'true' ? dc.name : undefined, quorum: dc.present === 'true' ? dc.with_quorum === 'true' : undefined, nodes, resources, failures };
}

export async function readStatus(): Promise<HaStatus> {
  const r = await execa('crm_mon', ['-1', '--output-as=xml', '--inactive'], { reject: false }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') throw new UnavailableError('crm_mon is not installed', { code: 'ENOCRMMON', hint: 'apt-get install pacemaker-cli-utils' });
    throw e;
  });
  const st = r.stdout.match(/<status code="(\d+)" message="([^"]*)"/);
  if (!st || st[1] !== '0') {
    const why = st ? st[2] : ((r.stderr || r.stdout).split('\n').map((l) => l.trim()).filter(Boolean)[0] ?? `crm_mon exited ${r.exitCode}`);
    throw new UnavailableError(`cannot read the cluster status: ${why}`, { code: 'ENOCLUSTER', hint: 'start pacemaker on this node, or run this on a cluster node' });
  }
  return parseCrmMon(r.stdout);
}
