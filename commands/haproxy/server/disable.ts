import { ServerStateCommand } from '../../../src/cli/haproxy-server-state-command.js';

export default class HaproxyServerDisable extends ServerStateCommand {
  static action = 'disable' as const;
  static summary = 'Put servers into maintenance (haproxy "disable server"): no new or kept traffic.';
  static examples = ['<%= config.bin %> haproxy server disable app/web1', '<%= config.bin %> haproxy server disable --all-in app --except web1 --json'];
}
