import { Args, Flags } from '@oclif/core';
import { LbctlCommand, mutatingFlags } from '../../src/cli/base.js';
import { actionWord, table } from '../../src/cli/output.js';
import { generateFiles, type GenerateResult } from '../../src/cluster/generate.js';

export default class ConfigGenerate extends LbctlCommand {
  static summary = 'Generate the files of every node (or of one) from a cluster spec: haproxy.cfg or nginx.conf, keepalived.conf or corosync.conf + resources.crm + cib.xml, frr.conf for tier directors.';
  static description = 'Writes DIR/<node>/<file> for each file the node needs. Output is deterministic; files whose content is unchanged are not touched. Nothing is written when the spec has any problem (exit 3, file:line).';
  static examples = ['<%= config.bin %> config generate cluster.yaml --out generated', '<%= config.bin %> config generate cluster.yaml --node lb2 --out /tmp/lb2'];
  static args = { spec: Args.string({ description: 'cluster spec (YAML)', required: true }) };
  static flags = {
    node: Flags.string({ description: 'only this node' }),
    out: Flags.string({ description: 'output directory', default: 'generated' }),
    ...mutatingFlags,
  };

  async run(): Promise<GenerateResult> {
    const { args, flags } = await this.parse(ConfigGenerate);
    const r = await generateFiles(args.spec, { node: flags.node, out: flags.out, dryRun: flags['dry-run'] });
    this.human(table(r.files.map((f) => [actionWord(r.dryRun && f.changed ? `would be ${f.action}` : f.action), f.path]), { align: ['left', 'left'] }));
    this.human(r.changed ? `${r.files.filter((f) => f.changed).length} of ${r.files.length} file(s) ${r.dryRun ? 'would be written' : 'written'}.` : 'All files unchanged.');
    return r;
  }
}
