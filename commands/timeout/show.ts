import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/cli/ipvs-flags.js';
import { formatTimeouts } from '../../src/ipvs/netlink/settings.js';
import type { Timeouts } from '../../src/ipvs/driver.js';

export default class TimeoutShow extends IpvsCommand {
  static summary = 'Show the IPVS connection timeouts in seconds: tcp, tcpfin, udp (ipvsadm -L --timeout)';
  static examples = ['<%= config.bin %> timeout show', '<%= config.bin %> timeout show --json'];
  static flags = { driver: driverFlag };

  async run(): Promise<Timeouts> {
    const { flags } = await this.parse(TimeoutShow);
    const t = await (await this.ipvs(flags)).getTimeouts();
    this.human(formatTimeouts(t));
    return t;
  }
}
