import { Flags } from '@oclif/core';
import { exitCodeFlag, LbctlCommand } from '../../src/cli/base.js';
import { unprepDirector } from '../../src/host/director.js';
import { changeFlags, changeOptions, devFlag, vipFlag } from '../../src/cli/host-flags.js';
import { renderChange } from '../../src/host/render.js';
import type { HostChangeResult } from '../../src/host/types.js';

export default class DirectorUnprep extends LbctlCommand {
  static summary = 'Undo director prep: remove the VIP aliases, restore the sysctls lbctl changed.';
  static description = 'Removes the VIP aliases lbctl added (default: all of them; an address lbctl did not add, such as the interface\'s own, is kept whatever --vip/--dev say), then restores each sysctl lbctl changed to its earlier value unless someone changed it since or other lbctl VIPs remain. --persist brings the boot files in step: the VIPs left, or no files at all.';
  static examples = [
    '<%= config.bin %> director unprep',
    '<%= config.bin %> director unprep --vip 192.168.118.100 --dev ens33 --persist',
  ];
  static flags = {
    mode: Flags.string({ description: 'forwarding method (informational: unprep undoes what was recorded)', options: ['nat', 'dr', 'tun'] }),
    vip: vipFlag('VIP alias to remove (default: those lbctl added)'),
    dev: devFlag('interface to remove the VIPs from (default: where lbctl added them)'),
    ...changeFlags,
    ...exitCodeFlag,
  };

  async run(): Promise<HostChangeResult> {
    const { flags } = await this.parse(DirectorUnprep);
    const result = await unprepDirector(changeOptions<'nat' | 'dr' | 'tun'>(flags));
    this.human(renderChange(result));
    return result;
  }
}
