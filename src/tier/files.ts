/** The tier's generated files of one node, for `lbctl config generate/check/install`. */
import type { ClusterSpec } from '../cluster/types.js';
import { tierDirectorDesired } from './expand.js';
import { renderFrr } from './frr.js';

/** frr.conf for a director of a bgp-routed tier; nothing for other nodes or static routing. */
export function tierNodeFiles(spec: ClusterSpec, node: string): Array<{ name: 'frr.conf'; content: string }> {
  if (!spec.tier?.directors.some((d) => d.name === node)) return [];
  const frr = tierDirectorDesired(spec, node).frr;
  return frr ? [{ name: 'frr.conf', content: renderFrr(frr) }] : [];
}
