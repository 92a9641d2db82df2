import { Args, Flags } from '@oclif/core';
import { IpvsCommand } from '../src/cli/ipvs-command.js';
import { driverFlag } from '../src/ipvs/select.js';
import { formatTable, type RulesFormat } from '../src/ipvs/formats.js';
import { sortTable } from '../src/ipvs/model.js';
import { writeFileAtomic } from '../src/util/fs.js';

export type SaveResult = { format: string; services: number; content?: string; file?: string; changed?: boolean };

export default class Save extends IpvsCommand {
  static summary = 'Save the IPVS table (ipvsadm-save -n syntax by default) to FILE or stdout';
  static examples = ['<%= config.bin %> save > /etc/sysconfig/ipvsadm', '<%= config.bin %> save rules.yaml --format yaml'];
  // ignoreStdin: oclif would otherwise take piped stdin text as the FILE to write.
  static args = { file: Args.string({ description: 'file to write (atomically, previous content kept as FILE.lbctl-bak); stdout if omitted', ignoreStdin: true }) };
  static flags = { format: Flags.string({ description: 'rules | yaml | json', options: ['rules', 'yaml', 'json'], default: 'rules' }), driver: driverFlag };

  async run(): Promise<SaveResult> {
    const { args, flags } = await this.parse(Save);
    const t = sortTable(await (await this.ipvs(flags)).getTable());
    const text = formatTable(t, flags.format as RulesFormat);
    if (!args.file) {
      if (!this.jsonEnabled()) process.stdout.write(text);
      return { format: flags.format, services: t.services.length, content: text };
    }
    const w = await writeFileAtomic(args.file, text);
    this.human(`${args.file}: ${w.changed ? 'written' : 'unchanged'} (${t.services.length} services)`);
    return { format: flags.format, file: args.file, changed: w.changed, services: t.services.length };
  }
}
