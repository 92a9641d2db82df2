/** An in-memory IPVS table that applies Ops like the kernel would (for pure plan tests). */
import type { IpvsDriver, Op, Timeouts } from '../../src/ipvs/driver.js';
import { destinationKey, serviceKey, type IpvsTable } from '../../src/ipvs/model.js';
import { parseRules } from '../../src/ipvs/rules.js';

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

/**
 * A driver over an in-memory table: records each batch, applies it like the kernel, and reports
 * the active connections a test sets per real-server address (what drains read).
 */
export class MemoryDriver {
  name = 'netlink' as const;
  batches: Op[][] = [];
  timeouts: Timeouts = { tcp: 900, tcpfin: 120, udp: 300 };
  timeoutWrites = 0;
  active = new Map<string, number>();
  constructor(public table: IpvsTable) {}
  async getTable(): Promise<IpvsTable> {
    return { services: this.table.services.map((s) => ({ ...s, destinations: s.destinations.map((d) => ({ ...d, activeConns: this.active.get(d.address) ?? 0 })) })) };
  }
  async apply(ops: Op[]): Promise<void> {
    this.batches.push(ops);
    this.table = applyOpsToTable(this.table, ops);
  }
  async getTimeouts(): Promise<Timeouts> { return { ...this.timeouts }; }
  async setTimeouts(t: Partial<Timeouts>): Promise<void> { this.timeoutWrites++; this.timeouts = { ...this.timeouts, ...t }; }
}

export const driverOf = (rules: string) => new MemoryDriver(parseRules(rules));
export const asDriver = (m: MemoryDriver) => m as unknown as IpvsDriver;
