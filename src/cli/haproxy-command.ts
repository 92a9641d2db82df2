import { Flags } from '@oclif/core';
import { LbctlCommand } from './base.js';
import { parseDuration } from '../util/duration.js';
import type { ConnectOptions } from '../haproxy/runtime-ops.js';

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
    'socket-timeout': Flags.string({
      summary: 'deadline for each whole runtime-API answer (500ms, 5s, 1m; a bare number is seconds)',
      default: '5s',
      helpGroup: 'SOCKET',
    }),
  };

  /** --socket and --socket-timeout as the runtime operations take them (validated here, before any connection). */
  protected connectOptions(flags: { socket?: string; 'socket-timeout'?: string }): ConnectOptions {
    return { socket: flags.socket, timeoutMs: socketTimeoutMs(flags['socket-timeout']) };
  }
}

export function socketTimeoutMs(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseDuration(text, '--socket-timeout', { min: 100, max: 3_600_000 });
}
