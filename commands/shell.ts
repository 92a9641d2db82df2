import { Flags } from '@oclif/core';
import { LbctlCommand } from '../src/cli/base.js';
import { runShell, type ShellResult } from '../src/shell/repl.js';

export default class Shell extends LbctlCommand {
  static summary = 'Interactive ops shell: every lbctl command at one prompt, with prefix matching, Tab completion and watch views';
  static description = [
    'On a TTY: a prompt showing the host, the IPVS driver and the HAProxy socket; unique prefixes (ser ad = server add),',
    'Tab completion of commands, flags and live names, persistent history ($XDG_STATE_HOME/lbctl/history).',
    'Not on a TTY: runs the commands on stdin, one per line, no prompt or colour, stopping at the first failure',
    'with its exit code (unless --keep-going). Plain `lbctl` with no arguments on a TTY starts the shell.',
  ].join('\n');
  static examples = ['<%= config.bin %> shell --socket /run/haproxy/admin.sock', 'printf "haproxy backends --json\\nhaproxy server drain app/web1\\n" | <%= config.bin %> shell'];
  static enableJsonFlag = false;
  static flags = {
    socket: Flags.string({ char: 's', summary: 'HAProxy runtime socket for every command in the shell (default: $LBCTL_HAPROXY_SOCKET, then haproxy.cfg)' }),
    driver: Flags.string({ summary: 'IPVS driver for every command in the shell', options: ['auto', 'netlink', 'ipvsadm'] }),
    'keep-going': Flags.boolean({ char: 'k', summary: 'script mode: run every line even after a failure (exit code: the first failure\'s)' }),
  };

  async run(): Promise<ShellResult> {
    const { flags } = await this.parse(Shell);
    const result = await runShell({
      config: this.config, socket: flags.socket, driver: flags.driver, keepGoing: flags['keep-going'], interactive: Boolean(process.stdin.isTTY),
    });
    if (result.exitCode) this.exit(result.exitCode);
    return result;
  }
}
