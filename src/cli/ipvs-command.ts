import { LbctlCommand } from './base.js';
import type { IpvsDriver } from '../ipvs/driver.js';
import { ipvsadmArgv } from './ipvs-flags.js';
import { isSharedDriver, openDriver } from '../ipvs/select.js';

/** Base of the IPVS commands: ipvsadm argv spellings, and one driver per command run. */
export abstract class IpvsCommand extends LbctlCommand {
  private driver?: IpvsDriver;

  async init(): Promise<void> {
    this.argv = ipvsadmArgv(this.argv);
    await super.init();
  }

  protected async ipvs(flags: { driver?: string }): Promise<IpvsDriver> {
    this.driver ??= await openDriver(flags, (m) => this.note(m));
    return this.driver;
  }

  protected async finally(err: Error | undefined): Promise<any> {
    if (this.driver && !isSharedDriver(this.driver)) await this.driver.close().catch(() => {});
    return super.finally(err);
  }
}
