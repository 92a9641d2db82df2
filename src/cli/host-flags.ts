import { Flags } from '@oclif/core';
import { parseDuration } from '../util/duration.js';

/** Flags shared by the six host-preparation commands. */
export const hostFlags = {
  netns: Flags.string({ description: 'work inside this network namespace (ip netns name)', helpValue: 'NAME' }),
};

export const changeFlags = {
  ...hostFlags,
  'dry-run': Flags.boolean({ description: 'print the exact sysctl/ip commands and files; change nothing' }),
  persist: Flags.boolean({ description: 'also write a sysctl.d file and a systemd unit that re-applies the VIPs at boot (unprep: remove them)' }),
  root: Flags.string({ description: 'write the --persist files under this directory instead of /', helpValue: 'DIR' }),
  'lock-timeout': Flags.string({ description: 'wait this long for another lbctl changing this host or namespace (500ms, 30s, 2m), then exit 12', helpValue: 'DURATION', default: '30s' }),
};

export const vipFlag = (description: string) => Flags.string({ description, multiple: true, delimiter: ',', helpValue: 'VIP' });
export const devFlag = (description: string) => Flags.string({ description, helpValue: 'IF' });

/** The options of prep/unprep from their parsed flags (one mapping for the four commands). */
export function changeOptions<M extends string>(flags: {
  vip?: string[]; mode?: string; dev?: string; netns?: string; persist: boolean; root?: string; 'dry-run': boolean; 'lock-timeout': string;
}) {
  return {
    vips: flags.vip, mode: flags.mode as M | undefined, dev: flags.dev, netns: flags.netns,
    persist: flags.persist, root: flags.root, dryRun: flags['dry-run'],
    lockTimeoutMs: parseDuration(flags['lock-timeout'], '--lock-timeout', { min: 0 }),
  };
}
