import { Flags } from '@oclif/core';
import { HaproxyRuntimeCommand } from '../../../src/cli/haproxy-command.js';
import { mutatingFlags } from '../../../src/cli/base.js';
import { clearCounters, type ClearResult } from '../../../src/haproxy/runtime-ops.js';
import { renderClear } from '../../../src/haproxy/runtime-view.js';

export default class HaproxyClearCounters extends HaproxyRuntimeCommand {
  static summary = 'Reset the max counters (qmax, smax, rate maxima); --all resets every statistics counter.';
  static flags = { all: Flags.boolean({ summary: 'reset all counters, as a restart would (needs level admin)' }), ...mutatingFlags };

  async run(): Promise<ClearResult> {
    const { flags } = await this.parse(HaproxyClearCounters);
    const result = await clearCounters({ ...this.connectOptions(flags), all: flags.all, dryRun: flags['dry-run'] });
    this.human(renderClear(result));
    return result;
  }
}
