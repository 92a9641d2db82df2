import { Flags } from '@oclif/core';
import { LbctlCommand } from './base.js';
import type { IpvsDriver } from '../ipvs/driver.js';
import { ipvsadmArgv } from './ipvs-flags.js';
import { IpvsSession, type IpvsSessionFlags } from './ipvs-session.js';

/** The shared --lock-timeout flag of every IPVS command that changes the table. */
export const lockTimeoutFlag = Flags.string({
  description: 'commands that change the table: how long to wait for another lbctl changing it (500ms, 30s, 2m); then exit 12 naming it',
  default: '30s',
  helpGroup: 'IPVS',
});

export { ipvsLockResource, runWithAbortSignal, withIpvsLock } from './ipvs-session.js';

/**
 * Base of the IPVS commands: ipvsadm argv spellings, and one IpvsSession per command run (its
 * driver, the table's lock for commands that change it, and a cancel signal, this.signal, for waits).
 */
export abstract class IpvsCommand extends LbctlCommand {
  /** Every IPVS command takes --lock-timeout (used by those that change the table, restore included). */
  static baseFlags = { 'lock-timeout': lockTimeoutFlag };

  private session?: IpvsSession;
  private get ipvsSession(): IpvsSession { return (this.session ??= new IpvsSession(this.id, (m) => this.note(m))); }

  /** Aborted by SIGINT/SIGTERM (a standalone run) or by the host process's signal (the shell). */
  protected get signal(): AbortSignal { return this.ipvsSession.signal; }

  async init(): Promise<void> {
    this.argv = ipvsadmArgv(this.argv);
    this.ipvsSession.start();
    await super.init();
  }

  /** The driver, opened once per run; a command that changes the table takes its lock first (IpvsSession.ipvs). */
  protected ipvs(flags: IpvsSessionFlags): Promise<IpvsDriver> {
    return this.ipvsSession.ipvs(flags);
  }

  protected async finally(err: Error | undefined): Promise<any> {
    await this.session?.finish();
    return super.finally(err);
  }
}

/** Whether a service selector (-t/-u/--sctp-service/-f) was given (list, zero: optional). */
export function selectorGiven(flags: object): boolean {
  return ['tcp-service', 'udp-service', 'sctp-service', 'fwmark-service'].some((k) => (flags as Record<string, unknown>)[k] !== undefined);
}
