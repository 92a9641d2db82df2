import { IpvsCommand, selectorGiven } from '../src/cli/ipvs-command.js';
import { driverFlag } from '../src/cli/ipvs-flags.js';
import { selectorFlags, selectorFromFlags } from '../src/cli/ipvs-flags.js';
import { zeroCounters, type ZeroResult } from '../src/ipvs/ops.js';
import { mutatingFlags } from '../src/cli/base.js';
import { dryRunDriver } from '../src/cli/dry-run-driver.js';

export default class Zero extends IpvsCommand {
  static summary = 'Zero the packet, byte and rate counters of one service or all (ipvsadm -Z)';
  static flags = { ...selectorFlags, ...mutatingFlags, driver: driverFlag };

  async run(): Promise<ZeroResult & { dryRun: boolean }> {
    const { flags } = await this.parse(Zero);
    const dryRun = flags['dry-run'] === true;
    const driver = await this.ipvs(flags);
    const r = await zeroCounters(dryRun ? dryRunDriver(driver) : driver, selectorGiven(flags) ? selectorFromFlags(flags) : undefined);
    this.human(`counters of ${r.zeroed}: ${r.changed ? (dryRun ? 'would be zeroed' : 'zeroed') : 'already zero (unchanged)'}`);
    return { ...r, dryRun };
  }
}
