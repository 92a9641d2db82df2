import { Flags } from '@oclif/core';
import { HaproxyRuntimeCommand } from '../../src/haproxy/runtime-command.js';
import { haproxyStat, type StatResult } from '../../src/haproxy/runtime-ops.js';

export default class HaproxyStat extends HaproxyRuntimeCommand {
  static summary = 'Frontends, backends and servers with status, sessions and traffic (runtime "show stat").';
  static flags = {
    backend: Flags.string({ char: 'b', summary: 'only this proxy (backend or frontend name)' }),
    type: Flags.string({ char: 't', summary: 'only rows of this type', options: ['frontend', 'backend', 'server'] }),
  };

  async run(): Promise<StatResult> {
    const { flags } = await this.parse(HaproxyStat);
    const result = await haproxyStat({ socket: flags.socket, timeoutMs: flags['socket-timeout'], backend: flags.backend, type: flags.type as 'frontend' | 'backend' | 'server' | undefined });
    // The table code (cli-table3) is only loaded when a human will read it.
    if (!this.jsonEnabled()) this.human((await import('../../src/haproxy/runtime-view.js')).renderStat(result));
    return result;
  }
}
