import { Flags } from '@oclif/core';
import { ServerStateCommand } from '../../../src/cli/haproxy-server-state-command.js';

export default class HaproxyServerDrain extends ServerStateCommand {
  static action = 'drain' as const;
  static summary = 'Drain servers: keep established sessions, send no new ones ("set server B/S state drain").';
  static description = 'With --wait, return once the servers have no sessions left (exit 8 on --timeout, the servers stay draining).';
  static flags = {
    ...ServerStateCommand.flags,
    wait: Flags.boolean({ summary: 'wait until the drained servers have 0 current sessions' }),
    timeout: Flags.string({ summary: 'with --wait: give up after this long (30s, 5m, 500ms; default 300s)', dependsOn: ['wait'] }),
  };
  static examples = ['<%= config.bin %> haproxy server drain app/web1 --wait --timeout 2m', '<%= config.bin %> haproxy server drain --all-in app --except web1'];
}
