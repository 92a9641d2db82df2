/**
 * The files that restore lbctl's IPVS rules at boot, part of a director's plan like any other
 * managed file (issue 13 item 4).
 */
import type { ManagedFile } from '../converge/files.js';
import type { IpvsTable } from '../ipvs/model.js';

// TODO(issue 13 item 4): return ipvsBootFiles(table, opts) from src/ipvs/persist.ts (the rules
// file and the systemd unit that runs `lbctl restore` at boot) once that module is merged.
export function bootFiles(_table: IpvsTable, _opts: { root?: string; netns?: string; node?: string }): ManagedFile[] {
  return [];
}
