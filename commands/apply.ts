import { Args, Flags } from '@oclif/core';
import { LbctlCommand } from '../src/cli/base.js';
import { ExitCode } from '../src/cli/exit-codes.js';
import { renderPlan } from '../src/converge/change.js';
import { applyNode, type NodeRunResult } from '../src/apply/index.js';
import { driverFlag } from '../src/cli/ipvs-flags.js';
import { parseDuration } from '../src/util/duration.js';

export default class Apply extends LbctlCommand {
  static summary = 'Bring one node (director, real server or proxy) to the cluster spec, with one plan';
  static description = `Validates the whole spec and the node's generated files (haproxy -c, keepalived -t) before anything changes, then applies in order: sysctls, addresses and routes, IPVS services and real servers, files, reloads of only the daemons whose files changed. Removes only what lbctl's records say it added. Stops at the first failure and says what was applied. A second run prints "No changes." and writes nothing. --exit-code with --dry-run exits ${ExitCode.ChangesPending} when anything would change.`;
  static examples = ['<%= config.bin %> apply cluster.yaml --node director --drain', '<%= config.bin %> apply cluster.yaml --node rs1 --netns rs1', '<%= config.bin %> apply cluster.yaml --node lb1 --dry-run'];
  static args = { spec: Args.string({ description: 'cluster spec (YAML)', required: true }) };
  static flags = {
    node: Flags.string({ description: 'the machine (a name in nodes: or real_servers:) this is', required: true }),
    netns: Flags.string({ description: 'apply the host settings inside this network namespace' }),
    root: Flags.string({ description: 'write files under this directory instead of /', default: '/' }),
    'dry-run': Flags.boolean({ description: 'print the plan and change nothing' }),
    'exit-code': Flags.boolean({ description: `with --dry-run: exit ${ExitCode.ChangesPending} when anything would change` }),
    drain: Flags.boolean({ description: 'real servers leaving the spec: weight 0, wait for their connections to end, then delete' }),
    timeout: Flags.string({ description: 'how long --drain waits (e.g. 90s, 2m; exit 8 on timeout, weight left at 0)', default: '300s' }),
    'no-reload': Flags.boolean({ description: 'write changed daemon files but reload nothing' }),
    'haproxy-pidfile': Flags.string({ description: 'signal this haproxy master instead of asking systemd' }),
    'keepalived-pidfile': Flags.string({ description: 'signal this keepalived instead of asking systemd' }),
    'lock-timeout': Flags.string({ description: 'wait this long for another lbctl holding the node\'s locks (500ms, 30s, 2m)', default: '30s' }),
    driver: driverFlag,
  };

  async run(): Promise<NodeRunResult> {
    const { args, flags } = await this.parse(Apply);
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const { result, changes } = await applyNode(args.spec, {
        node: flags.node, netns: flags.netns, root: flags.root, dryRun: flags['dry-run'], drain: flags.drain,
        drainTimeoutMs: parseDuration(flags.timeout, '--timeout'), reload: !flags['no-reload'], driver: flags.driver,
        haproxyPidfile: flags['haproxy-pidfile'], keepalivedPidfile: flags['keepalived-pidfile'],
        lockTimeoutMs: parseDuration(flags['lock-timeout'], '--lock-timeout', { min: 0 }), signal: controller.signal, note: (m) => this.note(m),
      });
      for (const w of result.warnings) this.note(w);
      const text = renderPlan(changes);
      this.human(result.dryRun || !changes.length ? text : text.replace(/^Plan:/m, 'Applied:'));
      if (result.dryRun && flags['exit-code'] && result.changed) {
        if (this.jsonEnabled()) this.logJson(result);
        this.exit(ExitCode.ChangesPending);
      }
      return result;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  }
}
