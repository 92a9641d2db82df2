/**
 * FRR config of one tier director (bgp routing): BGP sessions to the routers with BFD, and an
 * outbound filter that lets only the tier's VIPs out. The file never announces a VIP itself:
 * the health gate (gate.ts) adds and removes `network VIP/32` at run time, so a director whose
 * bgpd restarts stays silent until the gate finds it healthy.
 *
 * The file has no `exit` lines: bgpd/zebra/bfdd started with `-f FILE` stop reading at a
 * top-level `exit` without a word (seen in the lab), and every block here ends by the next
 * top-level command. checkFrrText runs `vtysh --dryrun -f`, FRR's own offline parser, which
 * exits 2 and names the line for an unknown command (the daemons' own `-C` exits 0 whatever
 * the file holds: checked with FRR 8.4).
 */
import { execa } from 'execa';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TierBgp } from './expand.js';

export interface FrrConfig {
  hostname: string;
  header: string[];
  bgp: TierBgp;
  vips: string[];
}

export const FRR_NAMES = { prefixList: 'LBCTL-TIER-VIPS', routeMap: 'LBCTL-TIER-OUT', bfdProfile: 'lbctl-tier' } as const;

export function renderFrr(c: FrrConfig): string {
  const b = c.bgp;
  const out: string[] = [
    ...c.header.map((h) => `! ${h}`),
    'frr defaults traditional',
    `hostname ${c.hostname}`,
    'service integrated-vtysh-config',
    '!',
    ...c.vips.map((v, i) => `ip prefix-list ${FRR_NAMES.prefixList} seq ${(i + 1) * 5} permit ${v}/32`),
    '!',
    `route-map ${FRR_NAMES.routeMap} permit 10`,
    ` match ip address prefix-list ${FRR_NAMES.prefixList}`,
    '!',
    `router bgp ${b.asn}`,
    ` bgp router-id ${b.routerId}`,
    // eBGP sessions in FRR 8 send nothing without an explicit policy; ours is the route-map below.
    ' no bgp ebgp-requires-policy',
    ` timers bgp ${b.keepalive} ${b.hold}`,
    ...b.neighbors.flatMap((n) => [
      ` neighbor ${n.address} remote-as ${n.asn}`,
      ...(b.bfd ? [` neighbor ${n.address} bfd profile ${FRR_NAMES.bfdProfile}`] : []),
    ]),
    ' !',
    ' address-family ipv4 unicast',
    ...b.neighbors.map((n) => `  neighbor ${n.address} route-map ${FRR_NAMES.routeMap} out`),
    ' exit-address-family',
    '!',
  ];
  if (b.bfd) {
    out.push('bfd', ` profile ${FRR_NAMES.bfdProfile}`, `  transmit-interval ${b.bfd.intervalMs}`, `  receive-interval ${b.bfd.intervalMs}`, `  detect-multiplier ${b.bfd.multiplier}`, '!');
  }
  out.push('line vty', '!');
  return `${out.join('\n')}\n`;
}

export interface FrrCheck { ok: boolean; errors: string[]; warnings: string[] }

/** Lines at the top level that end a daemon's `-f` parse early: FRR's dry run does not see it. */
export function topLevelExits(text: string): number[] {
  const lines: number[] = [];
  text.split('\n').forEach((l, i) => { if (/^exit\s*$/.test(l)) lines.push(i + 1); });
  return lines;
}

/** FRR's own check of a config text (vtysh --dryrun), plus the top-level `exit` FRR misses. */
export async function checkFrrText(text: string, label = 'frr.conf'): Promise<FrrCheck> {
  const errors = topLevelExits(text).map((n) => `${label}:${n}: a top-level "exit" ends the daemons' parse of the file here (FRR's dry run does not notice): remove it`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'lbctl-frr-'));
  try {
    const file = path.join(dir, 'frr.conf');
    await writeFile(file, text, { mode: 0o600 });
    const r = await execa('vtysh', ['--dryrun', '-f', file], { reject: false, timeout: 30_000 });
    if (r.failed && (r as { code?: string }).code === 'ENOENT') {
      return { ok: false, errors: [...errors, `${label}: vtysh is not installed (Debian: apt install frr), so the generated FRR config cannot be checked`], warnings: [] };
    }
    const said = `${r.stdout}\n${r.stderr}`.split('\n').map((l) => l.trim()).filter(Boolean);
    if (r.exitCode !== 0) {
      errors.push(...(said.length ? said.map((l) => `${label}: ${l.replace(/^line (\d+):/, 'line $1:')}`) : [`${label}: vtysh --dryrun exited ${r.exitCode}`]));
    }
    return { ok: errors.length === 0, errors, warnings: r.exitCode === 0 ? said : [] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
