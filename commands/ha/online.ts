import { Args } from '@oclif/core';
import { LbctlCommand } from '../../src/cli/base.js';
import { actionWord } from '../../src/cli/output.js';
import { waitFlags } from '../../src/pacemaker/flags.js';
import { setStandby, type OpResult } from '../../src/pacemaker/ops.js';
import { renderStatus } from '../../src/pacemaker/render-status.js';
import { parseDuration } from '../../src/util/duration.js';
import { commandSignal } from '../../src/util/signal.js';

export default class HaOnline extends LbctlCommand {
  static summary = 'Bring a standby node back online. Idempotent; an unknown node name is refused (exit 4).';
  static examples = ['<%= config.bin %> ha online server1 --wait'];
  static args = { node: Args.string({ description: 'node name (as crm_mon shows it)', required: true }) };
  static flags = { ...waitFlags };

  async run(): Promise<OpResult> {
    const { args, flags } = await this.parse(HaOnline);
    const r = await setStandby(args.node, false, { wait: flags.wait, timeoutMs: parseDuration(flags.timeout, '--timeout', { min: 0 }), signal: commandSignal() });
    this.human(`${actionWord(r.action)} ${r.target}${r.waitedMs !== undefined ? ` (settled in ${(r.waitedMs / 1000).toFixed(2)} s)` : ''}`);
    if (flags.wait) this.human(renderStatus(r.status));
    return r;
  }
}
