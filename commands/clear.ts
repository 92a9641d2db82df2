import { Flags } from '@oclif/core';
import { confirm } from '@inquirer/prompts';
import { IpvsCommand } from '../src/cli/ipvs-command.js';
import { driverFlag } from '../src/ipvs/select.js';
import { UsageError } from '../src/cli/errors.js';
import { clearTable, type ClearResult } from '../src/ipvs/ops.js';

export default class Clear extends IpvsCommand {
  static summary = 'Delete every virtual service (ipvsadm -C); asks first unless --yes';
  static flags = { yes: Flags.boolean({ char: 'y', description: 'do not ask' }), driver: driverFlag };

  async run(): Promise<ClearResult> {
    const { flags } = await this.parse(Clear);
    const canAsk = Boolean(process.stdin.isTTY) && !this.jsonEnabled();
    const ask = async (services: number, conns: number): Promise<boolean> => {
      if (!canAsk) throw new UsageError('clear needs confirmation', { code: 'ENOCONFIRM', hint: 'add --yes' });
      return confirm({ message: `Delete all ${services} virtual services (${conns} active connections will be cut)?`, default: false })
        .catch((e: Error) => { if (e.name === 'ExitPromptError') return false; throw e; }); // Ctrl-C = no
    };
    const r = await clearTable(await this.ipvs(flags), flags.yes ? undefined : ask);
    this.human(r.changed ? `IPVS table: cleared ${r.services} services` : 'IPVS table: already empty (unchanged)');
    return r;
  }
}
