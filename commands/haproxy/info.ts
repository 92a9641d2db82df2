import { HaproxyRuntimeCommand } from '../../src/cli/haproxy-command.js';
import { haproxyInfo, type InfoResult } from '../../src/haproxy/runtime-ops.js';
import { renderInfo } from '../../src/haproxy/runtime-view.js';

export default class HaproxyInfo extends HaproxyRuntimeCommand {
  static summary = 'Show the running haproxy: version, uptime, connections (runtime "show info").';

  async run(): Promise<InfoResult> {
    const { flags } = await this.parse(HaproxyInfo);
    const result = await haproxyInfo(this.connectOptions(flags));
    this.human(renderInfo(result));
    return result;
  }
}
