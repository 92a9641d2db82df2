import { Flags } from '@oclif/core';
import { exitCodeFlag, LbctlCommand } from '../../src/cli/base.js';
import { prepRealServer } from '../../src/host/realserver.js';
import { changeFlags, changeOptions, devFlag, vipFlag } from '../../src/cli/host-flags.js';
import { renderChange } from '../../src/host/render.js';
import type { HostChangeResult } from '../../src/host/types.js';

export default class RealserverPrep extends LbctlCommand {
  static summary = 'Prepare this host as an LVS DR/TUN real server (ARP sysctls, VIP on lo or tunl0).';
  static description = 'Sets arp_ignore=1/arp_announce=2 on all, the VIP device and the egress interface, adds each VIP as /32 on lo (labelled lo:0, lo:1, ...) or on tunl0 (TUN: also ipip and rp_filter=0). Idempotent: reports changed/unchanged per item. prep adds: VIPs lbctl added before stay (retire one with unprep --vip), and with --persist the boot files list every lbctl VIP now on the device. --dry-run prints the plan with the equivalent commands. Checks everything first; a change failing midway is rolled back.';
  static examples = [
    '<%= config.bin %> realserver prep --vip 192.168.118.100',
    '<%= config.bin %> realserver prep --vip 192.168.118.100 --mode tun --persist',
    '<%= config.bin %> realserver prep --vip 10.0.0.100 --netns rs1 --dry-run',
  ];
  static flags = {
    vip: vipFlag('VIP (IPv4, /32); repeat or comma-separate for several'),
    mode: Flags.string({ description: 'forwarding method the director uses', options: ['dr', 'tun'], default: 'dr' }),
    dev: devFlag('egress interface (default: the default route\'s)'),
    ...changeFlags,
    ...exitCodeFlag,
  };

  async run(): Promise<HostChangeResult> {
    const { flags } = await this.parse(RealserverPrep);
    const result = await prepRealServer(changeOptions<'dr' | 'tun'>(flags));
    this.human(renderChange(result));
    return result;
  }
}
