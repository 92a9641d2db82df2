import { Flags } from '@oclif/core';
import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/cli/ipvs-flags.js';
import { checkDaemonWanted, checkSyncId, convergeDaemon, formatDaemon, type DaemonResult } from '../../src/ipvs/netlink/settings.js';
import { actionWord } from '../../src/cli/output.js';
import { mutatingFlags } from '../../src/cli/base.js';
import { dryRunDriver } from '../../src/cli/dry-run-driver.js';

export default class DaemonStart extends IpvsCommand {
  static summary = 'Start the IPVS connection-sync daemon (ipvsadm --start-daemon); restarts it when its settings differ';
  static examples = [
    '<%= config.bin %> daemon start --state master --mcast-interface eth0 --syncid 5',
    '<%= config.bin %> daemon start --state backup --mcast-interface eth0 --syncid 5',
  ];
  static flags = {
    state: Flags.string({ description: 'master (sends connection state) or backup (receives it)', options: ['master', 'backup'], required: true }),
    'mcast-interface': Flags.string({ description: 'interface the sync multicast goes out / comes in on', required: true }),
    syncid: Flags.string({ description: 'sync id 0-255 (master and backup must agree)', default: '0' }),
    ...mutatingFlags,
    driver: driverFlag,
  };

  async run(): Promise<DaemonResult & { dryRun: boolean }> {
    const { flags } = await this.parse(DaemonStart);
    const want = checkDaemonWanted({ state: flags.state as 'master' | 'backup', mcastIfn: flags['mcast-interface'], syncId: checkSyncId(flags.syncid) });
    const dryRun = flags['dry-run'] === true;
    const driver = await this.ipvs(flags);
    const r = await convergeDaemon(dryRun ? dryRunDriver(driver) : driver, want);
    const word = dryRun && r.changed ? `would be ${r.action}` : r.action;
    this.human(`${formatDaemon(r.daemon!)}: ${actionWord(word)}${r.previous && r.changed ? ` (was ${formatDaemon(r.previous)})` : ''}`);
    return { ...r, dryRun };
  }
}
