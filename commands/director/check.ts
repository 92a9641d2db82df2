import { Flags } from '@oclif/core';
import { LbctlCommand } from '../../src/cli/base.js';
import { CheckFailedError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { checkDirector } from '../../src/host/director.js';
import { devFlag, hostFlags, vipFlag } from '../../src/cli/host-flags.js';
import { renderCheck } from '../../src/host/render.js';
import type { CheckResult } from '../../src/host/types.js';
import { checkTierReadiness, renderTier, type TierReadiness } from '../../src/tier/readiness.js';

export default class DirectorCheck extends LbctlCommand {
  static summary = 'Check that this host is a working LVS director.';
  static description = `Reports every expected setting (for DR the effective send_redirects, all OR <if>), its state and a verdict. Exits ${ExitCode.CheckFailed} when something would break NAT/DR/TUN, e.g. ip_forward=0 for NAT or the VIP missing from --dev.`;
  static examples = [
    '<%= config.bin %> director check --mode nat',
    '<%= config.bin %> director check --mode dr --vip 192.168.118.100 --dev ens33 --json',
    '<%= config.bin %> director check --mode dr --vip 10.97.100.10 --dev lo --tier',
  ];
  static flags = {
    mode: Flags.string({ description: 'forwarding method', options: ['nat', 'dr', 'tun'] }),
    vip: vipFlag('VIP alias expected on --dev'),
    dev: devFlag('interface of the VIP (DR: default the default route\'s)'),
    tier: Flags.boolean({ description: 'also check active-active tier readiness (consistent-hash scheduler, sloppy_tcp) and print the IPVS table digest to compare with peers' }),
    'expect-digest': Flags.string({ description: 'with --tier: fail unless the table digest is this (a peer\'s)', helpValue: 'HEX' }),
    ...hostFlags,
  };

  async run(): Promise<CheckResult & { tier?: TierReadiness }> {
    const { flags } = await this.parse(DirectorCheck);
    const host = await checkDirector({ vips: flags.vip, mode: flags.mode as 'nat' | 'dr' | 'tun' | undefined, dev: flags.dev, netns: flags.netns });
    const tier = flags.tier ? await checkTierReadiness({ expectDigest: flags['expect-digest'], netns: flags.netns }) : undefined;
    const result = { ...host, ok: host.ok && (tier?.ok ?? true), ...(tier ? { tier } : {}) };
    const text = `${renderCheck(host)}${tier ? `\n${renderTier(tier)}` : ''}`;
    if (!result.ok) {
      // The report is the useful part of a failed check: print it whole, then exit 9.
      if (this.jsonEnabled()) { this.logJson(result); this.exit(ExitCode.CheckFailed); }
      this.log(text);
      throw new CheckFailedError(host.ok ? 'not ready for an active-active tier' : result.verdict, { code: 'ECHECK', hint: host.ok ? 'use -s mh -b mh-port on every service and sysctl net.ipv4.vs.sloppy_tcp=1' : 'lbctl director prep fixes these' });
    }
    this.human(text);
    return result;
  }
}
