import { Flags } from '@oclif/core';
import { LbctlCommand } from './base.js';

/**
 * Base of the `lbctl haproxy` runtime commands: the --socket/--socket-timeout flags.
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
}
