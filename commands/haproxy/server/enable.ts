import { ServerStateCommand } from '../../../src/cli/haproxy-server-state-command.js';

export default class HaproxyServerEnable extends ServerStateCommand {
  static action = 'enable' as const;
  static summary = 'Take servers out of maintenance (haproxy "enable server"); a drained server stays drained.';
  static examples = ['<%= config.bin %> haproxy server enable app/web1', '<%= config.bin %> haproxy server enable --all-in app --except web1 --json'];
}
