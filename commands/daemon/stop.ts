import { Flags } from '@oclif/core';
import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/cli/ipvs-flags.js';
import { stopDaemon, type DaemonResult } from '../../src/ipvs/netlink/settings.js';
import { actionWord } from '../../src/cli/output.js';
import { mutatingFlags } from '../../src/cli/base.js';
import { dryRunDriver } from '../../src/cli/dry-run-driver.js';

export default class DaemonStop extends IpvsCommand {
  static summary = 'Stop the IPVS connection-sync daemon (ipvsadm --stop-daemon); "absent" when it is not running';
  static examples = ['<%= config.bin %> daemon stop --state master'];
  static flags = {
    state: Flags.string({ description: 'which daemon: master or backup', options: ['master', 'backup'], required: true }),
    ...mutatingFlags,
    driver: driverFlag,
  };

  async run(): Promise<DaemonResult & { dryRun: boolean }> {
    const { flags } = await this.parse(DaemonStop);
    const dryRun = flags['dry-run'] === true;
    const driver = await this.ipvs(flags);
    const r = await stopDaemon(dryRun ? dryRunDriver(driver) : driver, flags.state as 'master' | 'backup');
    const word = dryRun && r.changed ? `would be ${r.action}` : r.action;
    this.human(`${r.state} sync daemon: ${actionWord(word)}`);
    return { ...r, dryRun };
  }
}
