import { Args, Flags } from '@oclif/core';
import { IpvsCommand } from '../src/cli/ipvs-command.js';
import { driverFlag } from '../src/ipvs/select.js';
import { loadDesired, restore } from '../src/ipvs/restore.js';
import { renderPlan } from '../src/ipvs/plan.js';
import type { RulesFormat } from '../src/ipvs/formats.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { progressAllowed } from '../src/cli/output.js';

export default class Restore extends IpvsCommand {
  static summary = 'Make the IPVS table equal to a rules file, applying only the difference (no flush)';
  static description = 'Reads ipvsadm-save syntax, YAML or JSON. The whole file is validated before anything changes. Untouched services keep their connections.';
  static examples = ['<%= config.bin %> restore /etc/sysconfig/ipvsadm --dry-run', '<%= config.bin %> restore rules.txt --drain --timeout 120', 'ipvsadm-save -n | <%= config.bin %> restore -'];
  static args = { file: Args.string({ description: 'rules file, or - for stdin', default: '-' }) };
  static flags = {
    'dry-run': Flags.boolean({ description: 'print the plan (+ add, ~ change, - delete) and change nothing' }),
    merge: Flags.boolean({ description: 'only add and update; never delete' }),
    drain: Flags.boolean({ description: 'before deleting real servers, set their weight to 0 and wait for their connections to end' }),
    timeout: Flags.integer({ description: 'seconds to wait with --drain (exit 8 on timeout)', default: 300, min: 1 }),
    format: Flags.string({ description: 'input format (default: by extension/content)', options: ['rules', 'yaml', 'json'] }),
    'exit-code': Flags.boolean({ description: `with --dry-run: exit ${ExitCode.ChangesPending} when there are changes` }),
    driver: driverFlag,
  };

  async run() {
    const { args, flags } = await this.parse(Restore);
    const desired = await loadDesired(args.file, flags.format as RulesFormat | undefined);
    const r = await restore(await this.ipvs(flags), desired, {
      dryRun: flags['dry-run'], merge: flags.merge, drain: flags.drain, drainTimeoutMs: flags.timeout * 1000, progress: progressAllowed(this.jsonEnabled()),
    });
    if (flags['dry-run']) this.human(renderPlan(r.changes));
    else this.human(r.changes.length ? `${renderPlan(r.changes).replace(/^Plan:/m, 'Applied:')}` : 'No changes.');
    const out = { changed: r.changed, dryRun: r.dryRun, ...r.plan };
    if (flags['dry-run'] && flags['exit-code'] && r.changes.length) {
      if (this.jsonEnabled()) this.logJson(out);
      this.exit(ExitCode.ChangesPending);
    }
    return out;
  }
}
