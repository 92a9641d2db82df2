import { Flags } from '@oclif/core';
import { confirm } from '@inquirer/prompts';
import { IpvsCommand } from '../src/cli/ipvs-command.js';
import { driverFlag } from '../src/ipvs/select.js';
import { AbortedError, UsageError } from '../src/cli/errors.js';

export default class Clear extends IpvsCommand {
  static summary = 'Delete every virtual service (ipvsadm -C); asks first unless --yes';
  static flags = { yes: Flags.boolean({ char: 'y', description: 'do not ask' }), driver: driverFlag };

  async run() {
    const { flags } = await this.parse(Clear);
    const driver = await this.ipvs(flags);
    const t = await driver.getTable({ stats: true });
    if (!t.services.length) {
      this.human('IPVS table: already empty (unchanged)');
      return { changed: false, services: 0, connections: 0 };
    }
    const conns = t.services.reduce((n, s) => n + s.destinations.reduce((m, d) => m + (d.activeConns ?? 0), 0), 0);
    if (!flags.yes) {
      if (!process.stdin.isTTY || this.jsonEnabled()) throw new UsageError('clear needs confirmation', { code: 'ENOCONFIRM', hint: 'add --yes' });
      const ok = await confirm({ message: `Delete all ${t.services.length} virtual services (${conns} active connections will be cut)?`, default: false })
        .catch((e: Error) => { if (e.name === 'ExitPromptError') return false; throw e; }); // Ctrl-C = no
      if (!ok) throw new AbortedError('clear cancelled; nothing changed', { code: 'EABORTED' });
    }
    await driver.apply([{ kind: 'flush' }]);
    this.human(`IPVS table: cleared ${t.services.length} services`);
    return { changed: true, services: t.services.length, connections: conns };
  }
}
