import { Args, Flags } from '@oclif/core';
import { Progress, progressAllowed } from './output.js';
import { HaproxyRuntimeCommand } from './haproxy-command.js';
import { mutatingFlags } from './base.js';
import { setServerState, type ServerAction, type ServerStateResult } from '../haproxy/runtime-ops.js';
import { renderServerState } from '../haproxy/runtime-view.js';
import { commandSignal } from '../util/signal.js';
import { parseDuration } from '../util/duration.js';

/** Shared body of `lbctl haproxy server enable|disable|drain|ready|maint`. */
export abstract class ServerStateCommand extends HaproxyRuntimeCommand {
  static action: ServerAction;
  static strict = false;
  static args = { server: Args.string({ description: 'BACKEND/SERVER (several may be given)', required: false }) };
  static flags = {
    'all-in': Flags.string({ summary: 'every server of this backend' }),
    except: Flags.string({ summary: 'with --all-in: skip these servers (comma list, * and ? globs)', multiple: true, multipleNonGreedy: true, dependsOn: ['all-in'] }),
    // The shell asks before taking down a backend's last UP server; --yes skips that question.
    yes: Flags.boolean({ char: 'y', summary: 'do not ask for confirmation (interactive shell)' }),
    ...mutatingFlags,
  };

  async run(): Promise<ServerStateResult> {
    const ctor = this.constructor as typeof ServerStateCommand;
    // parse() spreads its options, which drops static fields inherited from this class: name them.
    const { argv, flags } = await this.parse({ flags: ctor.flags, baseFlags: ctor.baseFlags, enableJsonFlag: true, args: ctor.args, strict: false } as unknown as typeof ServerStateCommand);
    const f = flags as Record<string, any>;
    const connect = this.connectOptions(f);
    const waitTimeoutMs = f.timeout ? parseDuration(f.timeout, '--timeout') : undefined;
    const progress = new Progress(progressAllowed(this.jsonEnabled()));
    const result = await setServerState({
      ...connect, action: ctor.action,
      refs: argv as string[], allIn: f['all-in'], except: f.except,
      wait: f.wait, waitTimeoutMs, signal: commandSignal(), dryRun: f['dry-run'],
      onProgress: (sessions, ms, names) => progress.update(`draining ${names.length > 2 ? `${names.length} servers` : names.join(', ')}: ${sessions} session(s) left, ${(ms / 1000).toFixed(1)}s`),
    }).finally(() => progress.done());
    this.human(renderServerState(result));
    return result;
  }
}
