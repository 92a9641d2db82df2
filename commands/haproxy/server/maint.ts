import { ServerStateCommand } from '../../../src/cli/haproxy-server-state-command.js';

export default class HaproxyServerMaint extends ServerStateCommand {
  static action = 'maint' as const;
  static summary = 'Set servers to maintenance ("set server B/S state maint").';
  static examples = ['<%= config.bin %> haproxy server maint app/web1', '<%= config.bin %> haproxy server maint --all-in app --except web1 --json'];
}
