import { Flags } from '@oclif/core';
import { IpvsCommand } from '../src/cli/ipvs-command.js';
import { driverFlag } from '../src/ipvs/select.js';
import { selectorFlags, selectorFromFlags } from '../src/cli/ipvs-flags.js';
import { serviceKey } from '../src/ipvs/model.js';
import { renderTable } from '../src/ipvs/render.js';
import { NotFoundError } from '../src/cli/errors.js';

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

  async run() {
    const { flags } = await this.parse(List);
    const driver = await this.ipvs(flags);
    let t = await driver.getTable({ stats: true });
    const filtered = ['tcp-service', 'udp-service', 'sctp-service', 'fwmark-service'].some((k) => (flags as any)[k] !== undefined);
    if (filtered) {
      const sel = selectorFromFlags(flags);
      t = { services: t.services.filter((s) => serviceKey(s) === serviceKey(sel)) };
      if (!t.services.length) throw new NotFoundError(`virtual service ${serviceKey(sel).replace('|', ' ')} does not exist`, { code: 'ESRCH' });
    }
    this.human(renderTable(t, flags));
    return { driver: driver.name, services: t.services };
  }
}
