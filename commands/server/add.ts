import { Flags } from '@oclif/core';
import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/cli/ipvs-flags.js';
import { destFlags, destinationFromFlags, selectorFlags, selectorFromFlags } from '../../src/cli/ipvs-flags.js';
import { convergeDestination, describe, requireService, type OpResult } from '../../src/ipvs/ops.js';
import { actionWord } from '../../src/cli/output.js';
import { exitCodeFlag, predicted } from '../../src/cli/base.js';

export default class ServerAdd extends IpvsCommand {
  static summary = 'Add a real server to a virtual service, or update it to match (ipvsadm -a / -e)';
  static description = 'Idempotent: options not given take ipvsadm\'s defaults (-g, weight 1, the virtual port).';
  static examples = ['<%= config.bin %> server add -t 192.168.0.100:80 -r 10.0.0.11 -m -w 3', '<%= config.bin %> server add -t 192.168.0.100:80 -r 192.168.0.11 -g'];
  static flags = { ...selectorFlags, ...destFlags, 'dry-run': Flags.boolean({ description: 'print the ipvsadm-equivalent command without changing anything' }), ...exitCodeFlag, driver: driverFlag };

  async run(): Promise<OpResult> {
    const { flags } = await this.parse(ServerAdd);
    const sel = selectorFromFlags(flags);
    const desired = destinationFromFlags(sel, flags);
    const driver = await this.ipvs(flags);
    const r = await convergeDestination(driver, await requireService(driver, sel), desired, flags['dry-run']);
    this.human(describe(r, 'real server').replace(r.action, actionWord(r.action)));
    return predicted(r, r.commands.length > 0);
  }
}
