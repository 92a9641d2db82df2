import { IpvsCommand } from '../src/cli/ipvs-command.js';
import { driverFlag } from '../src/ipvs/select.js';
import { selectorFlags, selectorFromFlags } from '../src/cli/ipvs-flags.js';
import { requireService } from '../src/ipvs/ops.js';
import { serviceLabel } from '../src/ipvs/model.js';

export default class Zero extends IpvsCommand {
  static summary = 'Zero the packet, byte and rate counters of one service or all (ipvsadm -Z)';
  static flags = { ...selectorFlags, driver: driverFlag };

  async run() {
    const { flags } = await this.parse(Zero);
    const driver = await this.ipvs(flags);
    const one = ['tcp-service', 'udp-service', 'sctp-service', 'fwmark-service'].some((k) => (flags as any)[k] !== undefined);
    const svc = one ? await requireService(driver, selectorFromFlags(flags)) : undefined;
    const what = svc ? serviceLabel(svc) : 'all services';
    // Idempotent: only counters that are not already zero count as a change.
    const t = await driver.getTable({ stats: true });
    const scope = svc ? t.services.filter((s) => serviceLabel(s) === what) : t.services;
    const nonzero = scope.some((s) => [s.stats, ...s.destinations.map((d) => d.stats)].some((st) => st && Object.values(st).some((v) => v !== 0)));
    if (!nonzero) {
      this.human(`counters of ${what}: already zero (unchanged)`);
      return { changed: false, zeroed: what };
    }
    await driver.apply([{ kind: 'zero', service: svc }]);
    this.human(`counters of ${what}: zeroed`);
    return { changed: true, zeroed: what };
  }
}
