import { Args, Flags } from '@oclif/core';
import { IpvsCommand } from '../src/cli/ipvs-command.js';
import { driverFlag } from '../src/ipvs/select.js';
import { loadDesired, MAX_INPUT_BYTES, restore } from '../src/ipvs/restore.js';
import { renderPlan, type planJson } from '../src/ipvs/plan.js';
import type { RulesFormat } from '../src/ipvs/formats.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { progressAllowed } from '../src/cli/output.js';
import { parseDuration } from '../src/util/duration.js';

export type RestoreCommandResult = { changed: boolean; dryRun: boolean } & ReturnType<typeof planJson>;

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
    const drainTimeoutMs = parseDuration(flags.timeout, '--timeout');
    const desired = await loadDesired(args.file, flags.format as RulesFormat | undefined, { allowEmpty: flags['allow-empty'] });
    const r = await restore(await this.ipvs(flags), desired, {
      dryRun: flags['dry-run'], merge: flags.merge, drain: flags.drain, drainTimeoutMs, allowEmpty: flags['allow-empty'], signal: this.signal, progress: progressAllowed(this.jsonEnabled()),
    });
    if (flags['dry-run']) this.human(renderPlan(r.changes));
    else this.human(r.changes.length ? `${renderPlan(r.changes).replace(/^Plan:/m, 'Applied:')}` : 'No changes.');
    // A dry run's `changed` is the real run's: whether the plan has changes (LbctlCommand exits 10 on it with --exit-code).
    return { ...r.plan, changed: r.changed || r.changes.length > 0, dryRun: r.dryRun };
  }
}
