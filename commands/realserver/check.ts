import { Flags } from '@oclif/core';
import { LbctlCommand } from '../../src/cli/base.js';
import { CheckFailedError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { checkRealServer } from '../../src/host/realserver.js';
import { devFlag, hostFlags, vipFlag } from '../../src/cli/host-flags.js';
import { renderCheck } from '../../src/host/render.js';
import type { CheckResult } from '../../src/host/types.js';

export default class RealserverCheck extends LbctlCommand {
  static summary = 'Check that this host is a working LVS DR/TUN real server.';
  static description = `Reports every expected setting (including the effective per-interface ARP values the kernel uses, max(all, <if>)), its state and a verdict. Exits ${ExitCode.CheckFailed} when something would break DR/TUN, e.g. arp_ignore=0 or the VIP missing from lo.`;
  static examples = [
    '<%= config.bin %> realserver check --vip 192.168.118.100',
    '<%= config.bin %> realserver check --mode tun --json',
  ];
  static flags = {
    vip: vipFlag('VIP to check (default: recorded by prep, else every non-127 address on lo/tunl0)'),
    mode: Flags.string({ description: 'forwarding method the director uses', options: ['dr', 'tun'], default: 'dr' }),
    dev: devFlag('egress interface (default: the default route\'s)'),
    ...hostFlags,
  };

  async run(): Promise<CheckResult> {
    const { flags } = await this.parse(RealserverCheck);
    const result = await checkRealServer({ vips: flags.vip, mode: flags.mode as 'dr' | 'tun', dev: flags.dev, netns: flags.netns });
    if (!result.ok) {
      // The report is the useful part of a failed check: print it whole, then exit 9.
      if (this.jsonEnabled()) { this.logJson(result); this.exit(ExitCode.CheckFailed); }
      this.log(renderCheck(result));
      throw new CheckFailedError(result.verdict, { code: 'ECHECK', hint: 'lbctl realserver prep fixes these' });
    }
    this.human(renderCheck(result));
    return result;
  }
}
