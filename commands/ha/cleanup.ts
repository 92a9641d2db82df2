import { Args } from '@oclif/core';
import { LbctlCommand } from '../../src/cli/base.js';
import { actionWord } from '../../src/cli/output.js';
import { cleanup, type OpResult } from '../../src/pacemaker/ops.js';

export default class HaCleanup extends LbctlCommand {
  static summary = 'Clear failed actions (all, or one resource\'s) so pacemaker retries: crm_resource --cleanup. Unchanged when nothing failed.';
  static examples = ['<%= config.bin %> ha cleanup', '<%= config.bin %> ha cleanup haproxy'];
  static args = { resource: Args.string({ description: 'resource or group id (default: all)' }) };

  async run(): Promise<OpResult> {
    const { args } = await this.parse(HaCleanup);
    const r = await cleanup(args.resource);
    this.human(`${actionWord(r.action)} ${r.target}`);
    return r;
  }
}
