import { Args, Flags } from '@oclif/core';
import { LbctlCommand } from '../src/cli/base.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { renderPlan } from '../src/converge/change.js';
import { planNode, type NodeRunResult } from '../src/apply/index.js';
import { driverFlag } from '../src/cli/ipvs-flags.js';

export default class Plan extends LbctlCommand {
  static summary = 'Show everything `lbctl apply` would change on one node of a cluster spec';
  static description = `Validates the whole spec and runs the daemons' checks on the node's generated files, then reads the node (sysctls, addresses, routes, the IPVS table, managed files, daemons) and prints one plan: + add, ~ change, - remove, each with its reason, then a summary or "No changes.". Changes nothing. --exit-code exits ${ExitCode.ChangesPending} when anything would change.`;
  static examples = ['<%= config.bin %> plan cluster.yaml --node director', '<%= config.bin %> plan cluster.yaml --node rs1 --netns rs1 --exit-code'];
  static args = { spec: Args.string({ description: 'cluster spec (YAML)', required: true }) };
  static flags = {
    node: Flags.string({ description: 'the machine (a name in nodes: or real_servers:) this is', required: true }),
    netns: Flags.string({ description: 'read the host settings inside this network namespace' }),
    root: Flags.string({ description: 'files under this directory instead of /', default: '/' }),
    'exit-code': Flags.boolean({ description: `exit ${ExitCode.ChangesPending} when anything would change` }),
    commands: Flags.boolean({ description: 'print the equivalent command under each change' }),
    'haproxy-pidfile': Flags.string({ description: 'read this haproxy master\'s pid file instead of asking systemd' }),
    'keepalived-pidfile': Flags.string({ description: 'read this keepalived\'s pid file instead of asking systemd' }),
    driver: driverFlag,
  };

  async run(): Promise<NodeRunResult> {
    const { args, flags } = await this.parse(Plan);
    const { result, changes } = await planNode(args.spec, { node: flags.node, netns: flags.netns, root: flags.root, driver: flags.driver, haproxyPidfile: flags['haproxy-pidfile'], keepalivedPidfile: flags['keepalived-pidfile'], note: (m) => this.note(m) });
    for (const w of result.warnings) this.note(w);
    this.human(renderPlan(changes, { commands: flags.commands }));
    if (flags['exit-code'] && result.changed) {
      if (this.jsonEnabled()) this.logJson(result);
      this.exit(ExitCode.ChangesPending);
    }
    return result;
  }
}
