import { Flags } from '@oclif/core';
import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/cli/ipvs-flags.js';
import { destFlags, destinationFromFlags, selectorFlags, selectorFromFlags } from '../../src/cli/ipvs-flags.js';
import { convergeDestination, describe, findDestination, requireService, type OpResult } from '../../src/ipvs/ops.js';
import { makeDestination } from '../../src/ipvs/rules.js';
import { NotFoundError } from '../../src/cli/errors.js';
import { actionWord } from '../../src/cli/output.js';
import { exitCodeFlag, predicted } from '../../src/cli/base.js';

export default class ServerEdit extends IpvsCommand {
  static summary = 'Change an existing real server (ipvsadm -e); options not given keep their current values';
  static examples = ['<%= config.bin %> server edit -t 192.168.0.100:80 -r 10.0.0.11 -w 0'];
  static flags = { ...selectorFlags, ...destFlags, 'dry-run': Flags.boolean({ description: 'print the ipvsadm-equivalent command without changing anything' }), ...exitCodeFlag, driver: driverFlag };

  async run(): Promise<OpResult> {
    const { flags } = await this.parse(ServerEdit);
    const sel = selectorFromFlags(flags);
    const driver = await this.ipvs(flags);
    const svc = await requireService(driver, sel);
    const key = makeDestination(sel, flags['real-server'], {}, '--real-server');
    const current = findDestination(svc, key);
    if (!current) throw new NotFoundError(`real server ${flags['real-server']} is not in ${sel.protocol.toUpperCase()} service`, { code: 'ENOENT', hint: 'add it with `lbctl server add`' });
    const r = await convergeDestination(driver, svc, destinationFromFlags(sel, flags, current), flags['dry-run']);
    this.human(describe(r, 'real server').replace(r.action, actionWord(r.action)));
    return predicted(r, r.commands.length > 0);
  }
}
