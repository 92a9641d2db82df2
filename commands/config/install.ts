import { Args, Flags } from '@oclif/core';
import { exitCodeFlag, LbctlCommand } from '../../src/cli/base.js';
import { actionWord, table } from '../../src/cli/output.js';
import { installNode, type InstallResult } from '../../src/cluster/install.js';
import { parseDuration } from '../../src/util/duration.js';
import { shellWord } from '../../src/converge/change.js';

export default class ConfigInstall extends LbctlCommand {
  static summary = 'Install one node\'s generated files (proxy, HA engine, FRR), and optionally reload haproxy, nginx or keepalived when its file changed (pacemaker: the CIB is loaded; FRR: frr-reload is left to you).';
  static description = 'Validates the spec and runs the daemons\' checks first; then writes the node\'s files to their install paths (under --root) atomically, all or none, keeping each replaced file\'s mode and owner and its content as FILE.lbctl-bak, only where the content differs. Holds the lock of the root (exit 12 after --lock-timeout). --reload reloads only daemons whose file changed: haproxy via systemctl reload or SIGUSR2 to its master (master-worker mode), keepalived via systemctl reload or SIGHUP.';
  static examples = ['<%= config.bin %> config install cluster.yaml --node lb1 --reload', '<%= config.bin %> config install cluster.yaml --node lb2 --dry-run'];
  static args = { spec: Args.string({ description: 'cluster spec (YAML)', required: true }) };
  static flags = {
    node: Flags.string({ description: 'the node this machine is', required: true }),
    root: Flags.string({ description: 'install under this directory instead of /', default: '/' }),
    reload: Flags.boolean({ description: 'reload the daemons whose file changed' }),
    'dry-run': Flags.boolean({ description: 'say what would change, write nothing' }),
    netns: Flags.string({ description: 'keepalived test in a scratch netns: auto, always, never', options: ['auto', 'always', 'never'], default: 'auto' }),
    'haproxy-pidfile': Flags.string({ description: 'signal this haproxy master instead of asking systemd (default /run/haproxy.pid)' }),
    'keepalived-pidfile': Flags.string({ description: 'signal this keepalived instead of asking systemd (default /run/keepalived.pid)' }),
    'nginx-pidfile': Flags.string({ description: 'signal this nginx master instead of asking systemd (default /run/nginx.pid)' }),
    'lock-timeout': Flags.string({ description: 'wait this long for another lbctl installing into the same root (e.g. 500ms, 90s, 2m)', default: '30s' }),
    ...exitCodeFlag,
  };

  async run(): Promise<InstallResult> {
    const { args, flags } = await this.parse(ConfigInstall);
    const r = await installNode(args.spec, {
      node: flags.node, root: flags.root, reload: flags.reload, dryRun: flags['dry-run'], netns: flags.netns as 'auto',
      haproxyPidfile: flags['haproxy-pidfile'], keepalivedPidfile: flags['keepalived-pidfile'], nginxPidfile: flags['nginx-pidfile'],
      lockTimeoutMs: parseDuration(flags['lock-timeout'], '--lock-timeout', { min: 0 }),
    });
    for (const w of r.warnings) this.note(w);
    const verb = (a: string) => (r.dryRun && a !== 'unchanged' ? `would be ${a}` : a);
    this.human(table(r.files.map((f) => [actionWord(verb(f.action)), f.path, f.reload ? `reloaded (${f.reload.detail})` : f.backup ? `backup ${f.backup}` : '']), { align: ['left', 'left', 'left'] }));
    for (const c of r.dryRun ? r.plan.changes.filter((x) => x.kind === 'daemon') : []) this.human(`would reload ${c.id}: ${(c.command ?? []).map(shellWord).join(' ')}`);
    if (r.dryRun) this.human(r.plan.summary);
    else if (!r.changed) this.human('unchanged');
    return r;
  }
}
