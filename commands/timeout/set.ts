import { Flags } from '@oclif/core';
import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/cli/ipvs-flags.js';
import { checkTimeoutsWanted, convergeTimeouts, formatTimeouts, parseTimeout, type TimeoutResult } from '../../src/ipvs/netlink/settings.js';
import { actionWord } from '../../src/cli/output.js';
import { mutatingFlags } from '../../src/cli/base.js';
import { dryRunDriver } from '../../src/cli/dry-run-driver.js';

export default class TimeoutSet extends IpvsCommand {
  static summary = 'Set IPVS connection timeouts (ipvsadm --set); flags left out keep their value, "unchanged" when equal';
  static examples = ['<%= config.bin %> timeout set --tcp 900 --tcpfin 120 --udp 300', '<%= config.bin %> timeout set --udp 60'];
  static flags = {
    tcp: Flags.string({ description: 'established TCP connections, seconds' }),
    tcpfin: Flags.string({ description: 'TCP connections after a FIN, seconds' }),
    udp: Flags.string({ description: 'UDP, seconds' }),
    ...mutatingFlags,
    driver: driverFlag,
  };

  async run(): Promise<TimeoutResult & { dryRun: boolean }> {
    const { flags } = await this.parse(TimeoutSet);
    const want = checkTimeoutsWanted({ tcp: parseTimeout(flags.tcp, 'tcp'), tcpfin: parseTimeout(flags.tcpfin, 'tcpfin'), udp: parseTimeout(flags.udp, 'udp') });
    const dryRun = flags['dry-run'] === true;
    const driver = await this.ipvs(flags);
    const r = await convergeTimeouts(dryRun ? dryRunDriver(driver) : driver, want);
    this.human(`timeouts: ${actionWord(dryRun && r.changed ? `would be ${r.action}` : r.action)}${r.reasons.length ? ` (${r.reasons.join('; ')})` : ''}\n${formatTimeouts(r.after)}`);
    return { ...r, dryRun };
  }
}
