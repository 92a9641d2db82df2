import { Flags } from '@oclif/core';
import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/cli/ipvs-flags.js';
import { selectorFlags, selectorFromFlags } from '../../src/cli/ipvs-flags.js';
import { deleteService, describe, type OpResult } from '../../src/ipvs/ops.js';
import { actionWord } from '../../src/cli/output.js';
import { exitCodeFlag, predicted } from '../../src/cli/base.js';

export default class ServiceDelete extends IpvsCommand {
  static summary = 'Delete a virtual service and its real servers (ipvsadm -D); "absent" if it does not exist';
  static examples = ['<%= config.bin %> service delete -t 192.168.0.100:80'];
  static flags = {
    ...selectorFlags,
    // The interactive shell asks before deleting a service with active connections; --yes skips that.
    yes: Flags.boolean({ char: 'y', description: 'do not ask for confirmation (interactive shell)' }),
    'dry-run': Flags.boolean({ description: 'print the ipvsadm-equivalent command without changing anything' }), ...exitCodeFlag,
    driver: driverFlag,
  };

  async run(): Promise<OpResult> {
    const { flags } = await this.parse(ServiceDelete);
    const r = await deleteService(await this.ipvs(flags), selectorFromFlags(flags), flags['dry-run']);
    this.human(describe(r, 'service').replace(r.action, actionWord(r.action)));
    return predicted(r, r.commands.length > 0);
  }
}
