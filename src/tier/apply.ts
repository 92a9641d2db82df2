/**
 * A tier director under `lbctl apply` (issue 17 item 3): what tierDirectorDesired() says, in the
 * terms of apply's providers. Host settings as `director prep` makes them (VIPs on lo, DR/TUN
 * sysctls) plus the tier's IPVS sysctls, recorded so a director leaving the tier gets them back;
 * the IPVS table; the health gate's script and unit as managed files (frr.conf comes with the
 * node's generated files); and the daemon actions those files need: FRR reloaded only when
 * frr.conf changed, the gate restarted only when its script or unit changed, each only where
 * systemd runs it (a director whose FRR runs otherwise, as in the kernel lab's namespaces, is
 * told so and left alone).
 */
import { execa } from 'execa';
import path from 'node:path';
import { directorDesired } from '../host/index.js';
import type { HostDesired } from '../host/provider.js';
import type { DirectorMode } from '../host/types.js';
import { parseVip } from '../host/vip.js';
import type { Change, Provider } from '../converge/change.js';
import type { FileChange, ManagedFile } from '../converge/files.js';
import type { ClusterSpec } from '../cluster/types.js';
import { systemdActive } from '../haproxy/config-reload.js';
import { TIER_DEFAULTS, tierDirectorDesired, type TierDirectorDesired } from './expand.js';
import { GATE_PATHS, renderGateScript, renderGateUnit } from './gate.js';
import { LinkProvider } from '../ipvs/persist.js';

export interface TierNodeDesired {
  tier: TierDirectorDesired;
  mode: DirectorMode;
  host: HostDesired;
  /** Devices whose VIPs apply may take away: lo only (the tier's VIPs live there). */
  devices: string[];
}

export function isTierDirector(spec: ClusterSpec, node: string): boolean {
  return Boolean(spec.tier?.directors.some((d) => d.name === node));
}

/** The node's tier-director state in apply's terms, or undefined for a node that is not one. */
export function tierNodeDesired(spec: ClusterSpec, node: string): TierNodeDesired | undefined {
  if (!isTierDirector(spec, node)) return undefined;
  const tier = tierDirectorDesired(spec, node);
  const modes = [...new Set(spec.tier!.services.map((s) => s.forward ?? TIER_DEFAULTS.forward))] as DirectorMode[];
  const vips = tier.vips.map((v) => parseVip(`${v}/32`, { hostOnly: false, flag: 'tier.services.vip' }));
  const host: HostDesired = { sysctls: [], linksUp: [], addresses: [] };
  for (const m of modes) {
    const part = directorDesired(m, vips, TIER_DEFAULTS.vipDevice);
    for (const s of part.sysctls) if (!host.sysctls.some((x) => x.key === s.key)) host.sysctls.push(s);
    for (const a of part.addresses) if (!host.addresses.some((x) => x.dev === a.dev && x.vip.address === a.vip.address)) host.addresses.push(a);
  }
  for (const s of tier.sysctls) host.sysctls.push({ key: s.key, value: s.value, accept: [s.value], why: s.why });
  return { tier, mode: modes[0], host, devices: [TIER_DEFAULTS.vipDevice] };
}

/** The health gate's files under `root`; the script is executable, the unit starts it. */
export function tierGateFiles(d: TierDirectorDesired, root: string): ManagedFile[] {
  return [
    { path: path.join(root, GATE_PATHS.script), content: renderGateScript(d.gate, d.director), mode: 0o755, label: `generated/${d.director}/tier-gate` },
    { path: path.join(root, GATE_PATHS.unit), content: renderGateUnit(d.director), label: `generated/${d.director}/lbctl-tier-gate.service` },
  ];
}

/** The multi-user.target.wants link that enables the gate at boot (what `systemctl enable` makes), as `save --persist` does for its unit. */
export function tierGateLink(root: string): { provider: LinkProvider; desired: { path: string; target: string } } {
  const desired = { path: path.join(root, '/etc/systemd/system/multi-user.target.wants', path.basename(GATE_PATHS.unit)), target: GATE_PATHS.unit };
  return { provider: new LinkProvider(desired.path, path.basename(GATE_PATHS.unit)), desired };
}

export const TIER_UNITS = { frr: 'frr.service', gate: 'lbctl-tier-gate.service' } as const;

export interface TierDaemonState { frr: boolean; gate: boolean }
export interface TierDaemonChange extends Change { kind: 'daemon'; command: string[] }

/**
 * FRR reload and gate restart as converge state. read() asks systemd which of the two it runs;
 * plan() turns the files plan into actions; notes() says what a change would need that lbctl
 * does not do (the unit is not running).
 */
export class TierDaemonProvider implements Provider<TierDaemonState, FileChange[], TierDaemonChange, void> {
  constructor(private readonly paths: { frrConf: string; gateScript: string; gateUnit: string }) {}

  async read(): Promise<TierDaemonState> {
    const [frr, gate] = await Promise.all([systemdActive(TIER_UNITS.frr), systemdActive(TIER_UNITS.gate)]);
    return { frr, gate };
  }

  plan(actual: TierDaemonState, files: FileChange[]): TierDaemonChange[] {
    return tierDaemonPlan(actual, files, this.paths).changes;
  }

  async apply(changes: TierDaemonChange[]): Promise<void> {
    for (const c of changes) await execa(c.command[0], c.command.slice(1), { timeout: 120_000 });
  }
}

/** Pure: the reload/restart each changed file needs, and notes for the units systemd does not run. */
export function tierDaemonPlan(actual: TierDaemonState, files: FileChange[], paths: { frrConf: string; gateScript: string; gateUnit: string }): { changes: TierDaemonChange[]; notes: string[] } {
  const changed = new Set(files.map((f) => f.id));
  const changes: TierDaemonChange[] = [];
  const notes: string[] = [];
  if (changed.has(paths.frrConf)) {
    if (actual.frr) {
      changes.push({ action: '~', kind: 'daemon', id: 'frr', reason: `reload: ${paths.frrConf} changed`, command: ['systemctl', 'reload', TIER_UNITS.frr] });
    } else {
      notes.push(`${paths.frrConf} changed and ${TIER_UNITS.frr} is not running under systemd: start FRR (or reload it yourself) so it reads the new file`);
    }
  }
  const unit = changed.has(paths.gateUnit);
  if (unit || changed.has(paths.gateScript)) {
    if (actual.gate) {
      if (unit) changes.push({ action: '~', kind: 'daemon', id: 'systemd', reason: `daemon-reload: ${paths.gateUnit} changed`, command: ['systemctl', 'daemon-reload'] });
      // The gate withdraws on stop and announces again once healthy: one short gap on this director only.
      changes.push({ action: '~', kind: 'daemon', id: 'lbctl-tier-gate', reason: `restart: ${unit ? paths.gateUnit : paths.gateScript} changed`, command: ['systemctl', 'restart', TIER_UNITS.gate] });
    } else {
      notes.push(`the tier health gate is not running under systemd: systemctl daemon-reload && systemctl enable --now ${TIER_UNITS.gate} (the director announces its VIPs only while the gate runs)`);
    }
  }
  return { changes, notes };
}
