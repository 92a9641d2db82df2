import { IpvsCommand, selectorGiven } from '../src/cli/ipvs-command.js';
import { driverFlag } from '../src/ipvs/select.js';
import { selectorFlags, selectorFromFlags } from '../src/cli/ipvs-flags.js';
import { zeroCounters, type ZeroResult } from '../src/ipvs/ops.js';

export default class Zero extends IpvsCommand {
  static summary = 'Zero the packet, byte and rate counters of one service or all (ipvsadm -Z)';
  static flags = { ...selectorFlags, driver: driverFlag };

  async run(): Promise<ZeroResult> {
    const { flags } = await this.parse(Zero);
    const r = await zeroCounters(await this.ipvs(flags), selectorGiven(flags) ? selectorFromFlags(flags) : undefined);
    this.human(`counters of ${r.zeroed}: ${r.changed ? 'zeroed' : 'already zero (unchanged)'}`);
    return r;
  }
}
