/** An in-memory IPVS table that applies Ops like the kernel would (for pure plan tests). */
import type { Op } from '../../src/ipvs/driver.js';
import { destinationKey, serviceKey, type IpvsTable } from '../../src/ipvs/model.js';

export function applyOpsToTable(t: IpvsTable, ops: Op[]): IpvsTable {
  const services = t.services.map((s) => ({ ...s, destinations: s.destinations.map((d) => ({ ...d })) }));
  const find = (k: string) => services.findIndex((s) => serviceKey(s) === k);
  for (const op of ops) {
    const k = op.service ? serviceKey(op.service) : '';
    const i = find(k);
    switch (op.kind) {
      case 'addService': if (i >= 0) throw new Error('EEXIST'); services.push({ ...op.service!, destinations: [] }); break;
      case 'editService': if (i < 0) throw new Error('ESRCH'); services[i] = { ...op.service!, destinations: services[i].destinations }; break;
      case 'delService': if (i < 0) throw new Error('ESRCH'); services.splice(i, 1); break;
      case 'flush': services.length = 0; break;
      case 'zero': break;
      default: {
        if (i < 0) throw new Error('ESRCH');
        const ds = services[i].destinations;
        const j = ds.findIndex((d) => destinationKey(d) === destinationKey(op.dest!));
        if (op.kind === 'addDest') { if (j >= 0) throw new Error('EEXIST'); ds.push({ ...op.dest! }); }
        else if (op.kind === 'editDest') { if (j < 0) throw new Error('ENOENT'); ds[j] = { ...op.dest! }; }
        else { if (j < 0) throw new Error('ENOENT'); ds.splice(j, 1); }
      }
    }
  }
  return { services };
}
