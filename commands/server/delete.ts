import { Flags } from '@oclif/core';
import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/ipvs/select.js';
import { selectorFlags, selectorFromFlags } from '../../src/cli/ipvs-flags.js';
import { deleteDestination, describe, findDestination, requireService, type OpResult } from '../../src/ipvs/ops.js';
import { makeDestination } from '../../src/ipvs/rules.js';
import { drainAndDelete } from '../../src/ipvs/drain.js';
import { actionWord, Progress, progressAllowed } from '../../src/cli/output.js';

export default class ServerDelete extends IpvsCommand {
  static summary = 'Remove a real server (ipvsadm -d); with --drain, first weight 0 and wait for its connections to end';
  static examples = ['<%= config.bin %> server delete -t 192.168.0.100:80 -r 10.0.0.11', '<%= config.bin %> server delete -t 192.168.0.100:80 -r 10.0.0.11 --drain --timeout 300'];
  static flags = {
    ...selectorFlags,
    'real-server': Flags.string({ char: 'r', description: 'real server ADDR[:PORT]', required: true }),
    drain: Flags.boolean({ description: 'set weight 0, wait until active connections reach 0, then delete' }),
    timeout: Flags.integer({ description: 'seconds to wait with --drain (exit 8 on timeout, weight left at 0)', default: 300, min: 1 }),
    'dry-run': Flags.boolean({ description: 'print the ipvsadm-equivalent command without changing anything' }),
    driver: driverFlag,
  };

  async run() {
    const { flags } = await this.parse(ServerDelete);
    const sel = selectorFromFlags(flags);
    const driver = await this.ipvs(flags);
    const svc = await requireService(driver, sel);
    const key = makeDestination(sel, flags['real-server'], { forward: 'masq' }, '--real-server');
    const cur = findDestination(svc, key);
    if (flags.drain && !flags['dry-run'] && cur) {
      const progress = new Progress(progressAllowed(this.jsonEnabled()));
      const d = await drainAndDelete(driver, svc, cur, {
        timeoutMs: flags.timeout * 1000,
        onProgress: (p) => progress.update(`draining ${p.destination} in ${p.service}: ${p.activeConns} active connection(s), ${Math.ceil(p.remainingMs / 1000)}s left`),
      }).finally(() => progress.done());
      const r: OpResult = { changed: true, action: d.deleted ? 'deleted' : 'absent', service: d.service, destination: d.destination, reasons: [`drained in ${(d.waitedMs / 1000).toFixed(1)}s`], commands: [], dryRun: false };
      this.human(describe(r, 'real server').replace(r.action, actionWord(r.action)));
      return { ...r, drained: true, waitedMs: d.waitedMs };
    }
    const r = await deleteDestination(driver, svc, key, flags['dry-run']);
    this.human(describe(r, 'real server').replace(r.action, actionWord(r.action)));
    return { ...r, drained: false };
  }
}
