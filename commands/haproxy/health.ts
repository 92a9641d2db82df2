import { Flags } from '@oclif/core';
import { CheckFailedError } from '../../src/cli/errors.js';
import { ExitCode } from '../../src/cli/exit-codes.js';
import { HaproxyRuntimeCommand } from '../../src/cli/haproxy-command.js';
import { haproxyHealth, type HealthResult } from '../../src/haproxy/runtime-ops.js';
import { renderHealth } from '../../src/haproxy/runtime-view.js';

export default class HaproxyHealth extends HaproxyRuntimeCommand {
  static summary = 'Each server\'s health check: status, last check, time in state. Exit 9 when any server is DOWN.';
  static description = 'Servers an operator put in maintenance or drain are listed but do not fail the check.';
  static flags = { backend: Flags.string({ char: 'b', summary: 'only this backend' }) };

  async run(): Promise<HealthResult> {
    const { flags } = await this.parse(HaproxyHealth);
    const result = await haproxyHealth({ ...this.connectOptions(flags), backend: flags.backend });
    this.human(renderHealth(result));
    if (!result.ok) {
      // Scripts get the full result under --json and the exit code either way.
      if (this.jsonEnabled()) { this.logJson(result); this.exit(ExitCode.CheckFailed); }
      const down = result.servers.filter((s) => s.state === 'down').map((s) => `${s.backend}/${s.server}`);
      throw new CheckFailedError(`${down.length} server(s) DOWN: ${down.slice(0, 5).join(', ')}${down.length > 5 ? ', ...' : ''}`, { code: 'EDOWN', hint: 'see the CHECK column' });
    }
    return result;
  }
}
