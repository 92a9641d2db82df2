/**
 * corosync.conf (corosync 3, votequorum) for a pacemaker cluster. The same file on every
 * node: nodelist with ring addresses and node ids, knet crypto, the token timeout (and with two
 * nodes a shorter consensus: model.ts), two_node. Log timestamps in ms (hires), as pacemaker's own:
 * a failover is timed from the two logs together (docs/DEV.md).
 */
import type { PacemakerModel } from './model.js';

export function renderCorosync(m: PacemakerModel, header: string[], opts: { toStderr?: boolean } = {}): string {
  const out: string[] = header.map((h) => `# ${h}`);
  out.push('totem {', '\tversion: 2', `\tcluster_name: ${m.cluster}`, `\ttransport: ${m.transport}`, `\ttoken: ${m.token}`);
  if (m.consensus !== undefined) out.push(`\tconsensus: ${m.consensus}`);
  if (m.transport === 'knet') out.push(`\tcrypto_cipher: ${m.cipher}`, `\tcrypto_hash: ${m.hash}`);
  out.push('}', '', 'nodelist {');
  for (const n of m.nodes) {
    out.push('\tnode {', `\t\tname: ${n.name}`, `\t\tnodeid: ${n.nodeid}`);
    n.ring.forEach((a, i) => out.push(`\t\tring${i}_addr: ${a}`));
    out.push('\t}');
  }
  out.push('}', '', 'quorum {', '\tprovider: corosync_votequorum');
  if (m.twoNode) out.push('\ttwo_node: 1');
  out.push('}', '', 'logging {', '\tto_logfile: yes', '\tlogfile: /var/log/corosync/corosync.log', `\tto_stderr: ${opts.toStderr ? 'yes' : 'no'}`, '\tto_syslog: yes', '\ttimestamp: hires', '}', '');
  return out.join('\n');
}
