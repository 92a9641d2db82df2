import { Flags } from '@oclif/core';
import { exitCodeFlag, LbctlCommand } from '../../src/cli/base.js';
import { unprepRealServer } from '../../src/host/realserver.js';
import { changeFlags, changeOptions, devFlag, vipFlag } from '../../src/cli/host-flags.js';
import { renderChange } from '../../src/host/render.js';
import type { HostChangeResult } from '../../src/host/types.js';

export default class RealserverUnprep extends LbctlCommand {
  static summary = 'Undo realserver prep: remove the VIPs, restore the sysctls lbctl changed.';
  static description = 'Removes from lo/tunl0 the VIPs lbctl added (default: all of them; an address lbctl did not add is kept, whatever --vip says), then restores each sysctl lbctl changed to its earlier value unless someone changed it since, or other VIPs stay on lo. --persist brings the boot files in step: the VIPs left, or no files at all.';
  static examples = [
    '<%= config.bin %> realserver unprep',
    '<%= config.bin %> realserver unprep --vip 192.168.118.100 --persist',
  ];
  static flags = {
    vip: vipFlag('VIP to remove (default: those lbctl added)'),
    mode: Flags.string({ description: 'forwarding method (informational: unprep undoes what was recorded)', options: ['dr', 'tun'] }),
    dev: devFlag('egress interface (validated only)'),
    ...changeFlags,
    ...exitCodeFlag,
  };

  async run(): Promise<HostChangeResult> {
    const { flags } = await this.parse(RealserverUnprep);
    const result = await unprepRealServer(changeOptions<'dr' | 'tun'>(flags));
    this.human(renderChange(result));
    return result;
  }
}
