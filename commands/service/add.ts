import { Flags } from '@oclif/core';
import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/cli/ipvs-flags.js';
import { selectorFlags, serviceFlags, serviceFromFlags } from '../../src/cli/ipvs-flags.js';
import { convergeService, describe, type OpResult } from '../../src/ipvs/ops.js';
import { actionWord } from '../../src/cli/output.js';
import { exitCodeFlag, predicted } from '../../src/cli/base.js';

export default class ServiceAdd extends IpvsCommand {
  static summary = 'Create a virtual service, or update it to match (ipvsadm -A / -E)';
  static description = 'Idempotent: creates the service, updates it when it differs (options not given take ipvsadm\'s defaults), or reports "unchanged".';
  static examples = ['<%= config.bin %> service add -t 192.168.0.100:80 -s rr', '<%= config.bin %> service add -t [2001:db8::1]:443 -s wlc -p 600', '<%= config.bin %> service add -f 1 -s sh -b sh-port'];
  static flags = { ...selectorFlags, ...serviceFlags, 'dry-run': Flags.boolean({ description: 'print the ipvsadm-equivalent command without changing anything' }), ...exitCodeFlag, driver: driverFlag };

  async run(): Promise<OpResult> {
    const { flags } = await this.parse(ServiceAdd);
    const desired = serviceFromFlags(flags);
    const r = await convergeService(await this.ipvs(flags), desired, flags['dry-run']);
    this.human(describe({ ...r, action: r.action }, 'service').replace(r.action, actionWord(r.action)));
    return predicted(r, r.commands.length > 0);
  }
}
