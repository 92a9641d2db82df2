import { Help, type Interfaces } from '@oclif/core';

/**
 * oclif's help counts a topic as one when any id merely contains "NAME:", so the `clear` command
 * was listed among the topics because of `haproxy clear counters`. A topic is a prefix of an id.
 */
export class LbctlHelp extends Help {
  protected get sortedTopics(): Interfaces.Topic[] {
    const all = this.config.topics;
    return super.sortedTopics.filter((t) => all.some((sub) => sub.name.startsWith(`${t.name}:`)));
  }
}
