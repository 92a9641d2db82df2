import { HaproxyRuntimeCommand } from '../../src/cli/haproxy-command.js';
import { haproxyBackends, type BackendSummary } from '../../src/haproxy/runtime-ops.js';
import { renderBackends } from '../../src/haproxy/runtime-view.js';

export default class HaproxyBackends extends HaproxyRuntimeCommand {
  static summary = 'List backends with status, algorithm and how many servers are up, down or in maintenance.';

  async run(): Promise<{ socket: string; backends: BackendSummary[] }> {
    const { flags } = await this.parse(HaproxyBackends);
    const result = await haproxyBackends(this.connectOptions(flags));
    this.human(renderBackends(result.backends));
    return result;
  }
}
