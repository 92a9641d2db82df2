import { Flags } from '@oclif/core';
import { HaproxyRuntimeCommand } from '../../src/cli/haproxy-command.js';
import { haproxyStat, type StatResult } from '../../src/haproxy/runtime-ops.js';
import { renderStat } from '../../src/haproxy/runtime-view.js';

export default class HaproxyStat extends HaproxyRuntimeCommand {
  static summary = 'Frontends, backends and servers with status, sessions and traffic (runtime "show stat").';
  static flags = {
    backend: Flags.string({ char: 'b', summary: 'only this proxy (backend or frontend name)' }),
    type: Flags.string({ char: 't', summary: 'only rows of this type', options: ['frontend', 'backend', 'server'] }),
  };

  async run(): Promise<StatResult> {
    const { flags } = await this.parse(HaproxyStat);
    const result = await haproxyStat({ ...this.connectOptions(flags), backend: flags.backend, type: flags.type as 'frontend' | 'backend' | 'server' | undefined });
    if (!this.jsonEnabled()) this.human(renderStat(result));
    return result;
  }
}
