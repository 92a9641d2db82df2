import { Args, Flags } from '@oclif/core';
import { IpvsCommand, withIpvsLock } from '../src/cli/ipvs-command.js';
import { UsageError } from '../src/cli/errors.js';
import { driverFlag } from '../src/cli/ipvs-flags.js';
import { formatTable, type RulesFormat } from '../src/ipvs/formats.js';
import { sortTable } from '../src/ipvs/model.js';
import { currentNetns, persistTable, type PersistResult } from '../src/ipvs/persist.js';
import { parseDuration } from '../src/util/duration.js';
import { writeFileAtomic } from '../src/util/fs.js';

export type SaveResult = { format: string; services: number; content?: string; file?: string; changed?: boolean };

export default class Save extends IpvsCommand {
  static summary = 'Save the IPVS table (ipvsadm-save -n syntax by default) to FILE or stdout, or for boot (--persist)';
  static description = '--persist writes /etc/lbctl/ipvs.rules and a oneshot unit lbctl-ipvs.service, enabled through its multi-user.target.wants link, that restores the table at boot with `lbctl restore --merge` (adds and updates, never deletes or flushes). Files are replaced atomically, mode kept, old content in FILE.lbctl-bak; a second run says "No changes.". From inside a named network namespace the unit restores into that namespace.';
  static examples = ['<%= config.bin %> save > /etc/sysconfig/ipvsadm', '<%= config.bin %> save rules.yaml --format yaml', '<%= config.bin %> save --persist --dry-run', '<%= config.bin %> save --persist --root /srv/image'];
  // ignoreStdin: oclif would otherwise take piped stdin text as the FILE to write.
  static args = { file: Args.string({ description: 'file to write (atomically, previous content kept as FILE.lbctl-bak); stdout if omitted', ignoreStdin: true }) };
  static flags = {
    format: Flags.string({ description: 'rules | yaml | json', options: ['rules', 'yaml', 'json'], default: 'rules' }),
    persist: Flags.boolean({ description: 'write the rules file and the systemd unit that restores it at boot' }),
    root: Flags.string({ description: 'with --persist: write under this directory (an image) instead of /', dependsOn: ['persist'] }),
    'dry-run': Flags.boolean({ description: 'with --persist: print the plan, write nothing', dependsOn: ['persist'] }),
    driver: driverFlag,
  };

  async run(): Promise<SaveResult | (PersistResult & { format: 'rules' })> {
    const { args, flags } = await this.parse(Save);
    if (flags.persist) {
      if (args.file || flags.format !== 'rules') throw new UsageError('--persist writes its own rules file: give neither FILE nor --format', { code: 'EUSAGE', hint: 'lbctl save --persist [--root DIR]' });
      const driver = await this.ipvs(flags);
      const read = async () => sortTable(await driver.getTable());
      const { text, ...r } = await persistTable({
        root: flags.root, netns: currentNetns(), dryRun: flags['dry-run'],
        lockTimeoutMs: parseDuration(flags['lock-timeout'], '--lock-timeout', { min: 0 }),
        // Under the table's lock: a restore running now is either all in the file or not at all.
        readTable: flags['dry-run'] ? read : () => withIpvsLock(flags['lock-timeout'], read),
      });
      this.human(r.dryRun ? text : text.replace(/^Plan:/m, 'Applied:'));
      if (r.changed) this.human(`at boot, ${r.unit} restores ${r.services} virtual service(s) from ${r.rules}`);
      // format: the same field a plain save reports (the boot rules file is always rules text).
      return { format: 'rules', ...r };
    }
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
