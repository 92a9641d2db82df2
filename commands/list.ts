import { Flags } from '@oclif/core';
import { IpvsCommand, selectorGiven } from '../src/cli/ipvs-command.js';
import { driverFlag } from '../src/cli/ipvs-flags.js';
import { selectorFlags, selectorFromFlags } from '../src/cli/ipvs-flags.js';
import { listServices, type ListResult } from '../src/ipvs/ops.js';
import { renderTable } from '../src/ipvs/render.js';

export default class List extends IpvsCommand {
  static summary = 'List virtual services and real servers (ipvsadm -Ln), with --stats or --rate';
  static examples = ['<%= config.bin %> list', '<%= config.bin %> list --stats --exact', '<%= config.bin %> list -t 192.168.0.100:80 --rate --json'];
  static flags = {
    ...selectorFlags,
    stats: Flags.boolean({ description: 'show traffic counters', exclusive: ['rate'] }),
    rate: Flags.boolean({ description: 'show rates (per second)', exclusive: ['stats'] }),
    exact: Flags.boolean({ description: 'exact numbers, no K/M/G scaling' }),
    driver: driverFlag,
  };

  async run(): Promise<ListResult> {
    const { flags } = await this.parse(List);
    const sel = selectorGiven(flags) ? selectorFromFlags(flags) : undefined;
    const r = await listServices(await this.ipvs(flags), sel);
    this.human(renderTable({ services: r.services }, flags));
    return r;
  }
}
