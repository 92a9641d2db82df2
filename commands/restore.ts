import { Args, Flags } from '@oclif/core';
import { IpvsCommand } from '../src/cli/ipvs-command.js';
import { driverFlag } from '../src/cli/ipvs-flags.js';
import { MAX_INPUT_BYTES } from '../src/ipvs/restore.js';
import { runRestore, type RestoreCommandResult } from '../src/cli/restore-run.js';
import { ExitCode } from '../src/cli/exit-codes.js';

export type { RestoreCommandResult } from '../src/cli/restore-run.js';

export default class Restore extends IpvsCommand {
  static summary = 'Make the IPVS table equal to a rules file, applying only the difference (no flush)';
  static description = `Reads ipvsadm-save syntax, YAML or JSON (at most ${MAX_INPUT_BYTES / 1024 / 1024} MiB). The whole file is validated before anything changes. Untouched services keep their connections. An empty input, or one that keeps none of the kernel's services, is refused (exit ${ExitCode.InvalidInput}) unless --allow-empty.`;
  static examples = ['<%= config.bin %> restore /etc/sysconfig/ipvsadm --dry-run', '<%= config.bin %> restore rules.txt --drain --timeout 2m', 'ipvsadm-save -n | <%= config.bin %> restore -'];
  // ignoreStdin: oclif would otherwise read stdin for 10 ms to look for the argument there, eating rules piped in.
  static args = { file: Args.string({ description: 'rules file, or - for stdin', default: '-', ignoreStdin: true }) };
  static flags = {
    'dry-run': Flags.boolean({ description: 'print the plan (+ add, ~ change, - delete) and change nothing' }),
    merge: Flags.boolean({ description: 'only add and update; never delete' }),
    drain: Flags.boolean({ description: 'before deleting real servers, set their weight to 0 and wait for their connections to end' }),
    timeout: Flags.string({ description: 'how long to wait with --drain, e.g. 90s, 2m (a bare number is seconds; exit 8 on timeout)', default: '300' }),
    format: Flags.string({ description: 'input format (default: by extension/content)', options: ['rules', 'yaml', 'json'] }),
    'allow-empty': Flags.boolean({ description: 'accept an empty input, or one that deletes every current service (lbctl clear is the usual way to flush)' }),
    'exit-code': Flags.boolean({ description: `exit ${ExitCode.ChangesPending} when there are changes (to make, with --dry-run, or made)` }),
    driver: driverFlag,
  };

  async run(): Promise<RestoreCommandResult> {
    const { args, flags } = await this.parse(Restore);
    return runRestore({ ...flags, file: args.file }, { ipvs: (f) => this.ipvs(f), human: (t) => this.human(t), json: this.jsonEnabled(), signal: this.signal });
  }
}
