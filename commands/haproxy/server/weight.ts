import { Args } from '@oclif/core';
import { HaproxyRuntimeCommand } from '../../../src/cli/haproxy-command.js';
import { mutatingFlags } from '../../../src/cli/base.js';
import { setServerWeight, type WeightResult } from '../../../src/haproxy/runtime-ops.js';
import { renderServerState } from '../../../src/haproxy/runtime-view.js';

export default class HaproxyServerWeight extends HaproxyRuntimeCommand {
  static summary = 'Set a server\'s weight: 0-256, or N% of its configured weight.';
  static args = {
    server: Args.string({ description: 'BACKEND/SERVER', required: true }),
    weight: Args.string({ description: 'N (0-256) or N%', required: true }),
  };
  static flags = { ...mutatingFlags };
  static examples = ['<%= config.bin %> haproxy server weight app/web1 10', '<%= config.bin %> haproxy server weight app/web1 50%'];

  async run(): Promise<WeightResult> {
    const { args, flags } = await this.parse(HaproxyServerWeight);
    const result = await setServerWeight({ ...this.connectOptions(flags), ref: args.server, weight: args.weight, dryRun: flags['dry-run'] });
    this.human(renderServerState(result));
    return result;
  }
}
