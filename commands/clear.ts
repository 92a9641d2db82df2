import { Flags } from '@oclif/core';
import { confirm } from '@inquirer/prompts';
import { IpvsCommand } from '../src/cli/ipvs-command.js';
import { driverFlag } from '../src/cli/ipvs-flags.js';
import { UsageError } from '../src/cli/errors.js';
import { clearTable, type ClearResult } from '../src/ipvs/ops.js';
import { mutatingFlags } from '../src/cli/base.js';
import { dryRunDriver } from '../src/cli/dry-run-driver.js';

export default class Clear extends IpvsCommand {
  static summary = 'Delete every virtual service (ipvsadm -C); asks first unless --yes';
  static flags = { yes: Flags.boolean({ char: 'y', description: 'do not ask' }), ...mutatingFlags, driver: driverFlag };

  async run(): Promise<ClearResult & { dryRun: boolean }> {
    const { flags } = await this.parse(Clear);
    const canAsk = Boolean(process.stdin.isTTY) && !this.jsonEnabled();
    const ask = async (services: number, conns: number): Promise<boolean> => {
      if (!canAsk) throw new UsageError('clear needs confirmation', { code: 'ENOCONFIRM', hint: 'add --yes' });
      return confirm({ message: `Delete all ${services} virtual services (${conns} active connections will be cut)?`, default: false })
        .catch((e: Error) => { if (e.name === 'ExitPromptError') return false; throw e; }); // Ctrl-C = no
    };
    const dryRun = flags['dry-run'] === true;
    const driver = await this.ipvs(flags);
    // A dry run asks nothing: it cuts no connection.
    const r = await clearTable(dryRun ? dryRunDriver(driver) : driver, flags.yes || dryRun ? undefined : ask);
    this.human(r.changed ? `IPVS table: ${dryRun ? 'would clear' : 'cleared'} ${r.services} services` : 'IPVS table: already empty (unchanged)');
    return { ...r, dryRun };
  }
}
