import { Flags } from '@oclif/core';
import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/cli/ipvs-flags.js';
import { selectorFlags, selectorFromFlags, serviceFlags, serviceFromFlags } from '../../src/cli/ipvs-flags.js';
import { convergeService, describe, requireService, type OpResult } from '../../src/ipvs/ops.js';
import { actionWord } from '../../src/cli/output.js';
import { exitCodeFlag, predicted } from '../../src/cli/base.js';

export default class ServiceEdit extends IpvsCommand {
  static summary = 'Change an existing virtual service (ipvsadm -E); options not given keep their current values';
  static examples = ['<%= config.bin %> service edit -t 192.168.0.100:80 -s wrr'];
  static flags = { ...selectorFlags, ...serviceFlags, 'dry-run': Flags.boolean({ description: 'print the ipvsadm-equivalent command without changing anything' }), ...exitCodeFlag, driver: driverFlag };

  async run(): Promise<OpResult> {
    const { flags } = await this.parse(ServiceEdit);
    const driver = await this.ipvs(flags);
    const current = await requireService(driver, selectorFromFlags(flags));
    const r = await convergeService(driver, serviceFromFlags(flags, current), flags['dry-run']);
    this.human(describe(r, 'service').replace(r.action, actionWord(r.action)));
    return predicted(r, r.commands.length > 0);
  }
}
