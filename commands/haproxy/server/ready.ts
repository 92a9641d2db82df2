import { ServerStateCommand } from '../../../src/cli/haproxy-server-state-command.js';

export default class HaproxyServerReady extends ServerStateCommand {
  static action = 'ready' as const;
  static summary = 'Set servers fully ready: clears maintenance and drain ("set server B/S state ready").';
  static examples = ['<%= config.bin %> haproxy server ready app/web1', '<%= config.bin %> haproxy server ready --all-in app --except web1 --json'];
}
