import path from 'node:path';
import { UsageError } from '../cli/errors.js';
import { arpInterfaces, checkResult, egressDevice, finish, hostRun, requireRoot, validateCommon, type CommonOptions } from './common.js';
import { netnsIdentity, readLinks, requireIfName, requireLink } from './links.js';
import { persistPaths, persistScope, persistWant, persistedMode, renderPersist, unitAddresses, type PersistSpec } from './persist.js';
import { planHost, readHost, readScope, type DesiredSysctl, type HostActual, type HostDesired } from './provider.js';
import type { HostState } from './state.js';
import { Sysctls, confKey, effective } from './sysctl.js';
import type { CheckItem, CheckResult, DirectorMode, HostChangeResult } from './types.js';
import { parseVips, type Vip } from './vip.js';

export interface DirectorOptions extends CommonOptions {
  mode?: DirectorMode;
  /** VIPs ("10.0.0.100", "10.0.0.100/24"); /32 when no prefix is given. Need dev. */
  vips?: string[];
  /** The interface the VIP goes on (and, for DR, whose send_redirects is turned off). */
  dev?: string;
}

const MODES: DirectorMode[] = ['nat', 'dr', 'tun'];

function parseMode(mode: string | undefined, required: boolean): DirectorMode | undefined {
  if (mode === undefined) {
    if (required) throw new UsageError('director needs --mode nat, dr or tun', { code: 'EBADMODE', hint: 'e.g. --mode dr' });
    return undefined;
  }
  if (!MODES.includes(mode as DirectorMode)) throw new UsageError(`--mode ${mode}: a director is prepared for nat, dr or tun`, { code: 'EBADMODE' });
  return mode as DirectorMode;
}

/** The settings a director needs (pure). TUN needs only the VIP: IPVS loads ipip itself. */
export function directorDesired(mode: DirectorMode, vips: Vip[], dev: string | undefined): HostDesired {
  const sysctls: DesiredSysctl[] = [];
  if (mode === 'nat') {
    sysctls.push({ key: 'net.ipv4.ip_forward', value: '1', accept: ['1'], why: 'NAT: replies from the real servers are routed back through the director' });
  }
  if (mode === 'dr') {
    // send_redirects is on when all OR the interface says so: both must be 0; default covers new interfaces.
    for (const d of ['all', 'default', ...(dev ? [dev] : [])]) {
      sysctls.push({ key: confKey(d, 'send_redirects'), value: '0', accept: ['0'], why: d === 'all' ? 'DR: no ICMP redirects telling clients/real servers to bypass the director (kernel uses all OR <if>)' : undefined });
    }
  }
  return { sysctls, linksUp: [], addresses: dev ? vips.map((vip) => ({ dev, vip, label: true })) : [] };
}

export function directorPersistSpec(mode: DirectorMode, vips: Vip[], dev: string | undefined, desired: HostDesired): PersistSpec {
  const list = vips.map((v) => v.address).join(' ');
  return {
    target: 'director',
    invocation: `director prep --mode ${mode}`,
    description: `LVS ${mode.toUpperCase()} director${vips.length && dev ? `, VIP${vips.length > 1 ? 's' : ''} ${list} on ${dev}` : ''}`,
    sysctls: desired.sysctls.map((s) => ({ key: s.key, value: s.value, why: s.why })),
    start: dev ? vips.map((v, i) => ['addr', 'replace', `${v.address}/${v.prefix}`, 'dev', dev, ...(`${dev}:${i}`.length <= 15 ? ['label', `${dev}:${i}`] : [])]) : [],
    stop: dev ? vips.map((v) => ['addr', 'del', `${v.address}/${v.prefix}`, 'dev', dev]) : [],
    modules: [],
    afterDevice: dev,
  };
}

function validateVipDev(vips: Vip[], dev: string | undefined): void {
  if (vips.length && dev === undefined) throw new UsageError('--vip needs --dev (the interface the VIP alias goes on)', { code: 'ECONFLICT', hint: 'e.g. --vip 192.168.118.100 --dev eth0' });
  if (dev !== undefined) requireIfName(dev);
}

/** Director addresses lbctl owns on `dev`: its records plus what its boot unit adds. */
function ownedAddresses(actual: HostActual, root: string | undefined): HostState['addresses'] {
  const unit = root === undefined ? undefined : actual.files.get(path.join(root, persistPaths('director').unit));
  const out = [...actual.records.addresses];
  for (const a of unitAddresses(unit?.type === 'file' ? unit.content : undefined)) if (!out.some((o) => o.dev === a.dev && o.address === a.address)) out.push(a);
  return out;
}

function persistedVips(actual: HostActual, owned: HostState['addresses'], dev: string | undefined, extra: Vip[], drop: Set<string>): Vip[] {
  if (!dev) return [];
  const on = new Map((actual.links.get(dev)?.addresses ?? []).map((a) => [a.address, a.prefix]));
  const out = new Map<string, Vip>();
  for (const a of owned) if (a.dev === dev && on.has(a.address) && !drop.has(a.address)) out.set(a.address, { address: a.address, prefix: on.get(a.address)! });
  for (const v of extra) out.set(v.address, v);
  return [...out.values()];
}

function filesRoot(opts: CommonOptions): string | undefined {
  return opts.root ?? (opts.netns ? undefined : '/');
}

/** `lbctl director prep`: NAT ip_forward=1, DR send_redirects=0, the VIP as an alias on --dev. */
export async function prepDirector(opts: DirectorOptions): Promise<HostChangeResult> {
  const mode = parseMode(opts.mode, true)!;
  validateCommon(opts);
  const vips = parseVips(opts.vips, { hostOnly: false });
  validateVipDev(vips, opts.dev);
  return hostRun('director', 'director prep', opts, async (sys, records, recordsFile) => {
    const links = await sys.readLinks();
    if (opts.dev !== undefined) requireLink(links, opts.dev, opts.netns);
    const dev = opts.dev ?? (mode === 'dr' ? await egressDevice(links, opts.netns, undefined, ['lo']) : undefined);
    const notes: string[] = [];
    if (mode === 'dr' && !dev) notes.push('no --dev and no default route: send_redirects set on all and default only');
    if (dev && links.get(dev) && !links.get(dev)!.up && vips.length) notes.push(`${dev} is down: the VIP will not answer until it is up`);
    const desired = directorDesired(mode, vips, dev);
    const root = filesRoot(opts);
    const scope = readScope(desired, records);
    if (root !== undefined) scope.files.push(...persistScope(root, 'director'));
    const actual = await readHost(sys, records, scope);
    if (opts.persist) {
      const all = persistedVips(actual, ownedAddresses(actual, root), opts.dev, vips, new Set());
      desired.files = { want: persistWant(root!, renderPersist(directorPersistSpec(mode, all, opts.dev, desired))), scope: persistScope(root!, 'director') };
    }
    const plan = planHost(actual, desired);
    return finish({ target: 'director', operation: 'prep', what: 'director prep', mode, opts, vips: vips.map((v) => `${v.address}/${v.prefix}`), dev, plan, before: records, recordsFile, sys, notes });
  });
}

/** `lbctl director unprep`: remove the VIP aliases lbctl added, restore the sysctls it changed, keep the --persist files in step. */
export async function unprepDirector(opts: DirectorOptions): Promise<HostChangeResult> {
  const mode = parseMode(opts.mode, false);
  validateCommon(opts);
  const given = parseVips(opts.vips, { hostOnly: false });
  if (opts.dev !== undefined) requireIfName(opts.dev);
  return hostRun('director', 'director unprep', opts, async (sys, records, recordsFile) => {
    const links = await sys.readLinks();
    if (opts.dev !== undefined) requireLink(links, opts.dev, opts.netns);
    const root = filesRoot(opts);
    const files = root === undefined ? [] : persistScope(root, 'director');
    const first = await readHost(sys, records, { keys: [], files });
    const owned = ownedAddresses(first, root);
    const targets = given.length
      ? given.map((vip) => ({ address: vip.address, prefix: vip.prefix, devs: opts.dev ? [opts.dev] : undefined }))
      : owned.filter((r) => !opts.dev || r.dev === opts.dev).map((r) => ({ address: r.address, prefix: r.prefix, devs: [r.dev] }));
    const removing = new Set(targets.map((t) => t.address));
    // The forwarding sysctls serve every VIP: keep them while another VIP lbctl added stays.
    const remaining = owned.filter((o) => !removing.has(o.address) && links.get(o.dev)?.addresses.some((a) => a.address === o.address));
    const keepSysctls = remaining.length > 0;
    const notes: string[] = [];
    if (keepSysctls) notes.push(`VIP${remaining.length > 1 ? 's' : ''} ${remaining.map((a) => a.address).join(', ')} stay${remaining.length > 1 ? '' : 's'}: director sysctls kept`);
    else if (Object.keys(records.sysctls).length === 0) notes.push('no record of sysctls changed by lbctl here (none, or set before a reboot): current values left as they are');
    const desired: HostDesired = {
      sysctls: [], linksUp: [], addresses: [],
      remove: { addresses: targets.map((t) => ({ address: t.address, devs: t.devs ?? [...links.keys()].filter((d) => d !== 'lo') })), restoreSysctls: !keepSysctls, deleteCreatedLinks: false },
    };
    const ownedRecords = { ...records, addresses: owned };
    const actual = await readHost(sys, ownedRecords, { ...readScope(desired, ownedRecords), files });
    if (opts.persist) {
      const unit = actual.files.get(path.join(root!, persistPaths('director').unit)) ?? actual.files.get(path.join(root!, persistPaths('director').sysctl));
      const pmode = parseMode(persistedMode(unit?.type === 'file' ? unit.content : undefined) ?? mode ?? 'nat', true)!;
      const dev = remaining[0]?.dev;
      const left = keepSysctls ? persistedVips(actual, owned, dev, [], removing) : [];
      const want = left.length ? persistWant(root!, renderPersist(directorPersistSpec(pmode, left, dev, directorDesired(pmode, left, dev)))) : [];
      desired.files = { want, scope: files };
      if (left.length) notes.push(`boot files kept for ${left.map((v) => v.address).join(', ')}`);
    }
    const plan = planHost(actual, desired);
    return finish({ target: 'director', operation: 'unprep', what: 'director unprep', mode: mode ?? null, opts, vips: targets.map((t) => `${t.address}/${t.prefix}`), dev: opts.dev, plan, before: records, recordsFile, sys, notes });
  });
}

/** `lbctl director check`: the director's settings, their state and a verdict. Never changes anything. */
export async function checkDirector(opts: DirectorOptions): Promise<CheckResult> {
  const mode = parseMode(opts.mode, true)!;
  if (opts.persist || opts.root !== undefined || opts.dryRun) throw new UsageError('director check takes no --persist, --root or --dry-run', { code: 'ECONFLICT', hint: 'check only reads' });
  const vips = parseVips(opts.vips, { hostOnly: false });
  validateVipDev(vips, opts.dev);
  await netnsIdentity(opts.netns);
  if (opts.netns) requireRoot('director check --netns', { ...opts, dryRun: true });
  const links = await readLinks(opts.netns);
  if (opts.dev !== undefined) requireLink(links, opts.dev, opts.netns);
  const dev = opts.dev ?? (mode === 'dr' ? await egressDevice(links, opts.netns, undefined, ['lo']) : undefined);
  const desired = directorDesired(mode, vips, dev);
  const redirectDevs = mode === 'dr' ? (dev ? [dev] : arpInterfaces(links).map((l) => l.name)) : [];
  const keys = [...desired.sysctls.map((s) => s.key), ...redirectDevs.map((d) => confKey(d, 'send_redirects'))];
  const values = await new Sysctls(opts.netns).read(keys);
  const val = (k: string) => { const v = values.get(k); return v === undefined ? null : Number(v); };
  const items: CheckItem[] = [];
  for (const s of desired.sysctls) {
    const ok = s.accept.includes(values.get(s.key) ?? '');
    // ip_forward is the whole story for NAT; the per-interface redirect flags are judged by their effective value below.
    const severity = ok ? 'ok' : s.key === 'net.ipv4.ip_forward' ? 'fail' : 'warn';
    items.push({ kind: 'sysctl', item: s.key, expected: s.accept.join('|'), actual: val(s.key), severity, reason: ok ? undefined : s.key === 'net.ipv4.ip_forward' ? 'NAT replies from the real servers are not forwarded back to clients' : s.key.includes('.default.') ? 'interfaces created later will send redirects' : 'differs from what prep sets; the effective value decides' });
  }
  for (const d of redirectDevs) {
    const eff = effective('send_redirects', values.get(confKey('all', 'send_redirects')), values.get(confKey(d, 'send_redirects')));
    items.push({ kind: 'effective', item: `send_redirects on ${d}`, expected: '0', actual: eff ?? null, severity: eff === 0 ? 'ok' : 'fail', reason: `all OR ${d}; the director sends ICMP redirects that route traffic around it` });
  }
  if (dev && vips.length) {
    const link = links.get(dev)!;
    items.push({ kind: 'link', item: `link ${dev}`, expected: 'up', actual: link.up ? 'up' : 'down', severity: link.up ? 'ok' : 'fail' });
    for (const vip of vips) {
      const have = link.addresses.find((a) => a.address === vip.address);
      items.push({ kind: 'address', item: `${vip.address} on ${dev}`, expected: `${vip.address}/${vip.prefix}`, actual: have ? `${have.address}/${have.prefix}` : null, severity: have ? 'ok' : 'fail', reason: have ? undefined : 'clients cannot reach the VIP' });
    }
  }
  return checkResult('director', mode, opts.netns, vips.map((v) => `${v.address}/${v.prefix}`), dev, items, `LVS ${mode.toUpperCase()} director`);
}
