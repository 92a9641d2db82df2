/** The human view of `lbctl ha status` and of the state after an operation. */
import type { HaStatus } from './status.js';

export function renderStatus(s: HaStatus): string {
  const lines: string[] = [];
  lines.push(`DC: ${s.dc ?? '(none)'}${s.quorum === undefined ? '' : s.quorum ? ', quorate' : ', NO QUORUM'}`);
  for (const n of s.nodes) {
    const state = n.unclean ? 'UNCLEAN' : !n.online ? 'offline' : n.standby ? 'standby' : 'online';
    lines.push(`node ${n.name}: ${state}${n.dc ? ' (DC)' : ''}`);
  }
  for (const r of s.resources) {
    lines.push(`${r.group ?? r.clone ? `${r.group ?? r.clone}/` : ''}${r.id} (${r.agent}): ${r.role}${r.nodes.length ? ` on ${r.nodes.join(', ')}` : ''}${r.failed ? ' FAILED' : ''}`);
  }
  for (const f of s.failures) lines.push(`failed: ${f.resource} ${f.task} on ${f.node}: ${f.status}${f.exitReason ? ` (${f.exitReason})` : ''}`);
  return lines.join('\n');
}
