import { Args, Flags } from '@oclif/core';
import { exitCodeFlag, LbctlCommand } from '../../src/cli/base.js';
import { diffNode, type DiffResult } from '../../src/cluster/install.js';

export default class ConfigDiff extends LbctlCommand {
  static summary = 'Show a unified diff of the installed files of one node (haproxy.cfg or nginx.conf, keepalived.conf, corosync.conf and the CIB, frr.conf) against what the spec generates.';
  static examples = ['<%= config.bin %> config diff cluster.yaml --node lb1', '<%= config.bin %> config diff cluster.yaml --node lb1 --exit-code'];
  static args = { spec: Args.string({ description: 'cluster spec (YAML)', required: true }) };
  static flags = {
    node: Flags.string({ description: 'the node this machine is', required: true }),
    root: Flags.string({ description: 'compare with files under this directory instead of /', default: '/' }),
    ...exitCodeFlag,
  };

  async run(): Promise<DiffResult> {
    const { args, flags } = await this.parse(ConfigDiff);
    const r = await diffNode(args.spec, { node: flags.node, root: flags.root });
    for (const f of r.files) if (f.diff) this.human(f.diff.trimEnd());
    this.human(r.changed ? `${r.files.filter((f) => f.state !== 'same').length} file(s) differ.` : 'No changes.');
    // --exit-code: LbctlCommand exits 10 after printing the result, so the JSON keeps the diff.
    return r;
  }
}
