import { Args } from '@oclif/core';
import { LbctlCommand } from '../../src/cli/base.js';
import { actionWord } from '../../src/cli/output.js';
import { waitFlags } from '../../src/pacemaker/flags.js';
import { moveResource, type OpResult } from '../../src/pacemaker/ops.js';
import { parseDuration } from '../../src/util/duration.js';
import { commandSignal } from '../../src/util/signal.js';

export default class HaMove extends LbctlCommand {
  static summary = 'Move a resource (or group) to a node, as crm_resource --move: it stays there until cleared. Unknown names are refused (exit 4).';
  static examples = ['<%= config.bin %> ha move article002-lb server4 --wait'];
  static args = {
    resource: Args.string({ description: 'resource or group id', required: true }),
    node: Args.string({ description: 'target node', required: true }),
  };
  static flags = { ...waitFlags };

  async run(): Promise<OpResult> {
    const { args, flags } = await this.parse(HaMove);
    const r = await moveResource(args.resource, args.node, { wait: flags.wait, timeoutMs: parseDuration(flags.timeout, '--timeout', { min: 0 }), signal: commandSignal() });
    this.human(`${actionWord(r.action)} ${r.target}${r.waitedMs !== undefined ? ` (moved in ${(r.waitedMs / 1000).toFixed(2)} s)` : ''}`);
    return r;
  }
}
