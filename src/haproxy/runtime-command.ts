import { Flags } from '@oclif/core';
import { LbctlCommand } from '../cli/base.js';

/**
 * Base of the `lbctl haproxy` runtime commands: the --socket/--timeout-ms flags and a plain
 * JSON printer. oclif's logJson colour-tokenises the whole document, which costs more than
 * the rest of `haproxy stat --json` on a 1,000-server haproxy; stdout stays pure JSON either way.
 */
export abstract class HaproxyRuntimeCommand extends LbctlCommand {
  static baseFlags = {
    ...LbctlCommand.baseFlags,
    socket: Flags.string({
      char: 's',
      summary: 'HAProxy runtime socket: a unix socket path or host:port',
      description: 'Default: $LBCTL_HAPROXY_SOCKET, then the "stats socket" line of /etc/haproxy/haproxy.cfg.',
      helpGroup: 'SOCKET',
    }),
    'socket-timeout': Flags.integer({
      summary: 'milliseconds to wait for each runtime-API answer',
      default: 5000,
      min: 100,
      helpGroup: 'SOCKET',
    }),
  };

  logJson(json: unknown): void {
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  }
}
