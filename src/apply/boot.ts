/**
 * The files and the enable link that restore lbctl's IPVS rules at boot (issue 13 item 4), part
 * of a director's plan like any other managed state. The same files `lbctl save --persist`
 * writes (src/ipvs/persist.ts), so either way leaves one rules file and one unit per namespace.
 */
import type { ManagedFile } from '../converge/files.js';
import type { IpvsTable } from '../ipvs/model.js';
import { ipvsBootFiles, ipvsBootLink, ipvsBootPaths, LinkProvider } from '../ipvs/persist.js';

export function bootFiles(table: IpvsTable, opts: { root?: string; netns?: string; node?: string }): ManagedFile[] {
  return ipvsBootFiles(table, opts);
}

/** The provider of the multi-user.target.wants link, and the link it should hold. */
export function bootLink(opts: { root?: string; netns?: string }): { provider: LinkProvider; desired: { path: string; target: string } } {
  const desired = ipvsBootLink(opts);
  return { provider: new LinkProvider(desired.path, ipvsBootPaths(opts.netns).unitName), desired };
}
