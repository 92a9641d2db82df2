import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/cli/ipvs-flags.js';
import { formatDaemon } from '../../src/ipvs/netlink/settings.js';
import type { SyncDaemon } from '../../src/ipvs/driver.js';

export default class DaemonStatus extends IpvsCommand {
  static summary = 'Show the running IPVS connection-sync daemons (ipvsadm -L --daemon)';
  static examples = ['<%= config.bin %> daemon status', '<%= config.bin %> daemon status --json'];
  static flags = { driver: driverFlag };

  async run(): Promise<{ daemons: SyncDaemon[] }> {
    const { flags } = await this.parse(DaemonStatus);
    const daemons = await (await this.ipvs(flags)).getDaemons();
    this.human(daemons.length ? daemons.map(formatDaemon).join('\n') : 'no sync daemon running');
    return { daemons };
  }
}
