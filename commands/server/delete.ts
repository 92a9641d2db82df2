import { Flags } from '@oclif/core';
import { IpvsCommand } from '../../src/cli/ipvs-command.js';
import { driverFlag } from '../../src/cli/ipvs-flags.js';
import { selectorFlags, selectorFromFlags } from '../../src/cli/ipvs-flags.js';
import { deleteServer, describe, type ServerDeleteResult } from '../../src/ipvs/ops.js';
import { actionWord, Progress, progressAllowed } from '../../src/cli/output.js';
import { exitCodeFlag, predicted } from '../../src/cli/base.js';
import { parseDuration } from '../../src/util/duration.js';

export default class ServerDelete extends IpvsCommand {
  static summary = 'Remove a real server (ipvsadm -d); with --drain, first weight 0 and wait for its connections to end';
  static examples = ['<%= config.bin %> server delete -t 192.168.0.100:80 -r 10.0.0.11', '<%= config.bin %> server delete -t 192.168.0.100:80 -r 10.0.0.11 --drain --timeout 5m'];
  static flags = {
    ...selectorFlags,
    'real-server': Flags.string({ char: 'r', description: 'real server ADDR[:PORT]', required: true }),
    drain: Flags.boolean({ description: 'set weight 0, wait until active connections reach 0, then delete (Ctrl-C: stops, weight left at 0)' }),
    timeout: Flags.string({ description: 'how long --drain waits: 90s, 5m, or seconds (exit 8 on timeout, weight left at 0)', default: '300' }),
    'missing-ok': Flags.boolean({ description: 'a virtual service that does not exist is not an error: the real server is reported absent (unchanged)' }),
    'dry-run': Flags.boolean({ description: 'print the ipvsadm-equivalent command without changing anything' }),
    ...exitCodeFlag,
    driver: driverFlag,
  };

  async run(): Promise<ServerDeleteResult> {
    const { flags } = await this.parse(ServerDelete);
    const sel = selectorFromFlags(flags);
    const timeoutMs = parseDuration(flags.timeout, '--timeout');
    const progress = new Progress(progressAllowed(this.jsonEnabled()));
    const r = await deleteServer(await this.ipvs(flags), sel, flags['real-server'], {
      dryRun: flags['dry-run'], drain: flags.drain, missingOk: flags['missing-ok'], timeoutMs, signal: this.signal,
      onProgress: (p) => progress.update(`draining ${p.destination} in ${p.service}: ${p.activeConns} active connection(s), ${Math.ceil(p.remainingMs / 1000)}s left`),
    }).finally(() => progress.done());
    this.human(describe(r, 'real server').replace(r.action, actionWord(r.action)));
    return predicted(r, r.commands.length > 0);
  }
}
