import type { IpvsDriver } from '../ipvs/driver.js';
import type { Timeouts } from '../ipvs/driver.js';

/**
 * An IPVS driver that reads the real kernel and writes nothing: `clear`, `zero`, `timeout set`
 * and `daemon start|stop` run their own code against it under --dry-run, so the dry run decides
 * `changed` and before/after with the very logic a real run uses. Timeouts "set" here are read
 * back as set, since the real run reports what it reads back.
 */
export function dryRunDriver(real: IpvsDriver): IpvsDriver {
  let pending: Partial<Timeouts> = {};
  return {
    name: real.name,
    getTable: (o) => real.getTable(o),
    apply: async () => {},
    getInfo: () => real.getInfo(),
    getTimeouts: async () => ({ ...(await real.getTimeouts()), ...pending }),
    setTimeouts: async (t) => { pending = { ...pending, ...t }; },
    getDaemons: () => real.getDaemons(),
    startDaemon: async () => {},
    stopDaemon: async () => {},
    close: () => real.close(),
  };
}
