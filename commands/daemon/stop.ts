import { Flags } from '@oclif/core';
import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/ipvs/select.js';
import { stopDaemon, type DaemonResult } from '../../src/ipvs/netlink/settings.js';
import { actionWord } from '../../src/cli/output.js';

export default class DaemonStop extends IpvsCommand {
  static summary = 'Stop the IPVS connection-sync daemon (ipvsadm --stop-daemon); "absent" when it is not running';
  static examples = ['<%= config.bin %> daemon stop --state master'];
  static flags = {
    state: Flags.string({ description: 'which daemon: master or backup', options: ['master', 'backup'], required: true }),
    driver: driverFlag,
  };

  async run(): Promise<DaemonResult> {
    const { flags } = await this.parse(DaemonStop);
    const r = await stopDaemon(await this.ipvs(flags), flags.state as 'master' | 'backup');
    this.human(`${r.state} sync daemon: ${actionWord(r.action)}`);
    return r;
  }
}
