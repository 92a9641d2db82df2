import { Args } from '@oclif/core';
import { LbctlCommand } from '../../src/cli/base.js';
import { runWatch, type WatchResult } from '../../src/shell/watch.js';

export default class Watch extends LbctlCommand {
  static summary = 'Redraw a read command every N seconds, highlighting cells that changed; q, Esc or Ctrl-C ends it';
  static description = 'Read commands only (list, haproxy stat/info/backends/health, timeout show, daemon status, checks, config diff/check): a write is refused with exit 2. Options (anywhere on the line): -n, --interval SECS (default 2); --count N (stop after N frames, e.g. when not on a TTY).';
  static examples = ['<%= config.bin %> watch list --rate -n 1', '<%= config.bin %> watch haproxy stat -b app', '<%= config.bin %> watch haproxy health --count 3'];
  static strict = false;
  static enableJsonFlag = false;
  static args = { command: Args.string({ description: 'the lbctl command to redraw, with its flags', required: true }) };

  async run(): Promise<WatchResult> {
    // The watched command's own flags follow it, so watch parses its argv itself (splitWatchArgv).
    const result = await runWatch(this.argv);
    if (result.exitCode) this.exit(result.exitCode);
    return result;
  }
}
