import { Flags } from '@oclif/core';
import { exitCodeFlag, LbctlCommand } from '../../src/cli/base.js';
import { prepDirector } from '../../src/host/director.js';
import { changeFlags, changeOptions, devFlag, vipFlag } from '../../src/cli/host-flags.js';
import { renderChange } from '../../src/host/render.js';
import type { HostChangeResult } from '../../src/host/types.js';

export default class DirectorPrep extends LbctlCommand {
  static summary = 'Prepare this host as an LVS director (NAT: ip_forward, DR: send_redirects, the VIP alias).';
  static description = 'NAT sets net.ipv4.ip_forward=1; DR sets send_redirects=0 on all, default and --dev (the kernel ORs all with the interface); --vip adds the VIP as an alias on --dev (labelled IF:0, IF:1, ...). Idempotent: reports changed/unchanged per item. prep adds: VIP aliases lbctl added before stay (retire one with unprep --vip), and with --persist the boot files list every lbctl VIP now on the device. --dry-run prints the plan with the equivalent commands. Checks everything first; a change failing midway is rolled back.';
  static examples = [
    '<%= config.bin %> director prep --mode nat',
    '<%= config.bin %> director prep --mode dr --vip 192.168.118.100 --dev ens33 --persist',
  ];
  static flags = {
    mode: Flags.string({ description: 'forwarding method', options: ['nat', 'dr', 'tun'] }),
    vip: vipFlag('VIP to add as an alias on --dev (ADDR or ADDR/PREFIX, default /32)'),
    dev: devFlag('interface for the VIP alias (DR: default the default route\'s)'),
    ...changeFlags,
    ...exitCodeFlag,
  };

  async run(): Promise<HostChangeResult> {
    const { flags } = await this.parse(DirectorPrep);
    const result = await prepDirector(changeOptions<'nat' | 'dr' | 'tun'>(flags));
    this.human(renderChange(result));
    return result;
  }
}
