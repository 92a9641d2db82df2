import { Flags } from '@oclif/core';
import { LbctlCommand } from '../../src/cli/base.js';
import { CheckFailedError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { checkDirector } from '../../src/host/director.js';
import { devFlag, hostFlags, vipFlag } from '../../src/cli/host-flags.js';
import { renderCheck } from '../../src/host/render.js';
import type { CheckResult } from '../../src/host/types.js';

export default class DirectorCheck extends LbctlCommand {
  static summary = 'Check that this host is a working LVS director.';
  static description = `Reports every expected setting (for DR the effective send_redirects, all OR <if>), its state and a verdict. Exits ${ExitCode.CheckFailed} when something would break NAT/DR/TUN, e.g. ip_forward=0 for NAT or the VIP missing from --dev.`;
  static examples = [
    '<%= config.bin %> director check --mode nat',
    '<%= config.bin %> director check --mode dr --vip 192.168.118.100 --dev ens33 --json',
  ];
  static flags = {
    mode: Flags.string({ description: 'forwarding method', options: ['nat', 'dr', 'tun'] }),
    vip: vipFlag('VIP alias expected on --dev'),
    dev: devFlag('interface of the VIP (DR: default the default route\'s)'),
    ...hostFlags,
  };

  async run(): Promise<CheckResult> {
    const { flags } = await this.parse(DirectorCheck);
    const result = await checkDirector({ vips: flags.vip, mode: flags.mode as 'nat' | 'dr' | 'tun' | undefined, dev: flags.dev, netns: flags.netns });
    if (!result.ok) {
      // The report is the useful part of a failed check: print it whole, then exit 9.
      if (this.jsonEnabled()) { this.logJson(result); this.exit(ExitCode.CheckFailed); }
      this.log(renderCheck(result));
      throw new CheckFailedError(result.verdict, { code: 'ECHECK', hint: 'lbctl director prep fixes these' });
    }
    this.human(renderCheck(result));
    return result;
  }
}
