import { LbctlCommand } from '../../src/cli/base.js';
import { renderStatus } from '../../src/pacemaker/render-status.js';
import { readStatus, type HaStatus } from '../../src/pacemaker/status.js';

export default class HaStatusCommand extends LbctlCommand {
  static summary = 'Show the pacemaker cluster: node states, where each resource runs, failed actions (from crm_mon).';
  static examples = ['<%= config.bin %> ha status', '<%= config.bin %> ha status --json'];

  async run(): Promise<HaStatus> {
    await this.parse(HaStatusCommand);
    const s = await readStatus();
    this.human(renderStatus(s));
    return s;
  }
}
