/**
 * Checks of the pacemaker section that need the machine (the fence agents' metadata), worded
 * as spec findings so they name file:line: an unknown fence agent, an unknown parameter.
 */
import type { SpecFinding, SpecLocator } from '../cluster/load.js';
import type { ClusterSpec } from '../cluster/types.js';
import { unknownFenceParams } from './check.js';

export async function pacemakerSpecFindings(spec: ClusterSpec, loc: SpecLocator): Promise<SpecFinding[]> {
  const p = spec.pacemaker;
  if (spec.ha !== 'pacemaker' || !p || !Array.isArray(p.fencing)) return [];
  const out: SpecFinding[] = [];
  for (const [i, f] of p.fencing.entries()) {
    const r = await unknownFenceParams(f.agent, Object.keys(f.params ?? {}));
    if (r.missingAgent) out.push({ ...loc.finding(['pacemaker', 'fencing', i, 'agent'], `fence agent ${f.agent} is not installed here (/usr/sbin/${f.agent})`, 'install fence-agents, or fix the agent name'), rule: 'pacemaker-fence-agent' });
    for (const name of r.unknown) out.push({ ...loc.finding(['pacemaker', 'fencing', i, 'params', name], `${f.agent} has no parameter "${name}"`, `see ${f.agent} -o metadata`, true), rule: 'pacemaker-fence-agent' });
  }
  return out;
}
