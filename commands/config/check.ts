import { Args, Flags } from '@oclif/core';
import { LbctlCommand } from '../../src/cli/base.js';
import { color } from '../../src/cli/output.js';
import { checkCluster, checkError, type CheckReport } from '../../src/cluster/check.js';

export default class ConfigCheck extends LbctlCommand {
  static summary = 'Check a cluster spec: schema, named rules, and each daemon\'s own check of every generated file (haproxy -c, nginx -t, keepalived --config-test, corosync -t / crm_verify / crm configure verify, vtysh --dryrun).';
  static description = 'Each finding is one line naming file:line (spec problems, exit 3) or the generated file the daemon rejected (exit 9). keepalived refuses interfaces that do not exist; with --netns auto (default) its test runs in a throwaway network namespace holding veths named like the spec\'s interfaces when any is missing here (needs root).';
  static examples = ['<%= config.bin %> config check cluster.yaml', '<%= config.bin %> config check cluster.yaml --netns never'];
  static args = { spec: Args.string({ description: 'cluster spec (YAML)', required: true }) };
  static flags = {
    node: Flags.string({ description: 'only check this node\'s files' }),
    netns: Flags.string({ description: 'run keepalived\'s test in a scratch netns: auto (when an interface is missing), always, never', options: ['auto', 'always', 'never'], default: 'auto' }),
    'no-daemons': Flags.boolean({ description: 'skip the daemons\' own checks (schema and pair rules only)' }),
  };

  async run(): Promise<CheckReport> {
    const { args, flags } = await this.parse(ConfigCheck);
    const report = await checkCluster(args.spec, { netns: flags.netns as 'auto', daemons: !flags['no-daemons'], node: flags.node });
    for (const w of report.warnings ?? []) this.human(color.yellow(`warning: ${w}`));
    for (const f of report.files) {
      for (const w of f.warnings) this.human(color.yellow(`warning: ${f.node}/${w}`));
    }
    const err = checkError(report);
    if (err) {
      // Several findings: all of them, one per line, then the error line (which repeats the
      // first). One finding: only the error line.
      if (report.findings.length > 1) for (const f of report.findings) process.stderr.write(`${f.line}\n`);
      throw err;
    }
    this.human(`${report.spec}: OK (${report.nodes.length} node(s), ${report.files.length} file(s) accepted by the daemons)`);
    return report;
  }
}
