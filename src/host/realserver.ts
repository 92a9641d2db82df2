import path from 'node:path';
import { PermissionError, UsageError } from '../cli/errors.js';
import { arpInterfaces, checkResult, egressDevice, finish, hostRun, requireRoot, validateCommon, type CommonOptions } from './common.js';
import { hasLocalRoute, netnsIdentity, readLinks, requireIfName } from './links.js';
import { persistPaths, persistScope, persistWant, persistedMode, renderPersist, unitAddresses, type PersistSpec } from './persist.js';
import { planHost, readHost, readScope, type DesiredSysctl, type HostActual, type HostDesired } from './provider.js';
import { emptyState, loadState, stateFile, type HostState } from './state.js';
import { Sysctls, confKey, effective } from './sysctl.js';
import type { FileState } from './system.js';
import type { CheckItem, CheckResult, HostChangeResult, RealServerMode } from './types.js';
import { parseVips, type Vip } from './vip.js';

export interface RealServerOptions extends CommonOptions {
  /** VIPs ("10.0.0.100" or "10.0.0.100/32"); required for prep, optional for unprep/check (default: the recorded/found ones). */
  vips?: string[];
  mode?: RealServerMode;
  /** Egress interface (default: the default route's). */
  dev?: string;
}

const ARP_IGNORE_OK = ['1', '2', '8'];
const WHY_IGNORE = 'answer ARP only for addresses on the receiving interface, so never for the VIP (kernel uses max(all, <if>))';
const WHY_ANNOUNCE = 'never use the VIP as the source address of ARP requests (kernel uses max(all, <if>))';
const WHY_RPF = 'accept decapsulated packets whose client is not routed via tunl0 (kernel uses max(all, <if>))';

export function vipDevice(mode: RealServerMode): string {
  return mode === 'tun' ? 'tunl0' : 'lo';
}

function parseMode(mode: string | undefined): RealServerMode {
  const m = mode ?? 'dr';
  if (m !== 'dr' && m !== 'tun') throw new UsageError(`--mode ${m}: a real server is prepared for dr or tun`, { code: 'EBADMODE', hint: 'NAT real servers need no preparation, only their gateway set to the director' });
  return m;
}

/** The settings a DR/TUN real server needs (pure). */
export function realServerDesired(mode: RealServerMode, vips: Vip[], egress: string | undefined): HostDesired {
  const vdev = vipDevice(mode);
  const devs = ['all', vdev, ...(egress ? [egress] : [])];
  const sysctls: DesiredSysctl[] = [];
  for (const d of devs) {
    sysctls.push({ key: confKey(d, 'arp_ignore'), value: '1', accept: ARP_IGNORE_OK, why: d === 'all' ? WHY_IGNORE : undefined });
    sysctls.push({ key: confKey(d, 'arp_announce'), value: '2', accept: ['2'], why: d === 'all' ? WHY_ANNOUNCE : undefined });
  }
  if (mode === 'tun') {
    sysctls.push({ key: confKey('all', 'rp_filter'), value: '0', accept: ['0', '2'], why: WHY_RPF });
    sysctls.push({ key: confKey('tunl0', 'rp_filter'), value: '0', accept: ['0', '2'] });
  }
  return {
    sysctls,
    ...(mode === 'tun' ? { device: { dev: 'tunl0', module: 'ipip', type: 'ipip' } } : {}),
    linksUp: [vdev],
    // A /32 on lo makes the kernel add "local VIP dev lo" to table local, which is all the
    // articles' `route add -host VIP dev lo:0` achieved; no extra route is needed.
    addresses: vips.map((vip) => ({ dev: vdev, vip, label: mode === 'dr' })),
  };
}

export function realServerPersistSpec(mode: RealServerMode, vips: Vip[], desired: HostDesired): PersistSpec {
  const vdev = vipDevice(mode);
  const list = vips.map((v) => v.address).join(' ');
  return {
    target: 'realserver',
    invocation: `realserver prep --mode ${mode}`,
    description: `LVS ${mode.toUpperCase()} real server, VIP${vips.length > 1 ? 's' : ''} ${list} on ${vdev}`,
    sysctls: desired.sysctls.map((s) => ({ key: s.key, value: s.value, why: s.why })),
    start: [['link', 'set', 'dev', vdev, 'up'], ...vips.map((v, i) => ['addr', 'replace', `${v.address}/32`, 'dev', vdev, ...(mode === 'dr' ? ['label', `lo:${i}`] : [])])],
    stop: vips.map((v) => ['addr', 'del', `${v.address}/32`, 'dev', vdev]),
    modules: mode === 'tun' ? ['ipip'] : [],
  };
}

function stateMode(files: Map<string, FileState | null>, root: string): string | undefined {
  const f = files.get(path.join(root, persistPaths('realserver').sysctl)) ?? files.get(path.join(root, persistPaths('realserver').unit));
  return persistedMode(f?.type === 'file' ? f.content : undefined);
}

/** Addresses lbctl owns: its runtime records, plus what its boot unit adds (records under /run do not survive a reboot). */
function ownedAddresses(actual: HostActual, root: string | undefined): HostState['addresses'] {
  const unit = root === undefined ? undefined : actual.files.get(path.join(root, persistPaths('realserver').unit));
  const fromUnit = unitAddresses(unit?.type === 'file' ? unit.content : undefined);
  const out = [...actual.records.addresses];
  for (const a of fromUnit) if (!out.some((o) => o.dev === a.dev && o.address === a.address)) out.push(a);
  return out;
}

/**
 * The VIPs the boot files list: every VIP lbctl owns that is on the device now, plus the new
 * ones, so the files describe exactly what is in effect (prep adds; only unprep takes away).
 */
function persistedVips(actual: HostActual, owned: HostState['addresses'], vdev: string, extra: Vip[], drop: Set<string>): Vip[] {
  const on = new Set((actual.links.get(vdev)?.addresses ?? []).map((a) => a.address));
  const out = new Map<string, Vip>();
  for (const a of owned) if (a.dev === vdev && on.has(a.address) && !drop.has(a.address)) out.set(a.address, { address: a.address, prefix: 32 });
  for (const v of extra) out.set(v.address, v);
  return [...out.values()];
}

/** The root whose /etc lbctl's boot files are in, when they concern this namespace. */
function filesRoot(opts: CommonOptions): string | undefined {
  return opts.root ?? (opts.netns ? undefined : '/');
}

/** `lbctl realserver prep`: ARP sysctls, VIP /32 on lo (DR) or tunl0 (TUN), optional boot persistence. */
export async function prepRealServer(opts: RealServerOptions): Promise<HostChangeResult> {
  const mode = parseMode(opts.mode);
  validateCommon(opts);
  const vips = parseVips(opts.vips, { hostOnly: true });
  if (vips.length === 0) throw new UsageError('realserver prep needs at least one --vip', { code: 'ENOVIP', hint: 'e.g. --vip 192.168.118.100' });
  if (opts.dev !== undefined) requireIfName(opts.dev);
  return hostRun('realserver', 'realserver prep', opts, async (sys, records, recordsFile) => {
    const links = await sys.readLinks();
    const egress = await egressDevice(links, opts.netns, opts.dev, ['lo', 'tunl0']);
    const notes: string[] = [];
    if (!egress) notes.push('no --dev and no default route: only conf.all covers the egress interface');
    const desired = realServerDesired(mode, vips, egress);
    const root = filesRoot(opts);
    const scope = readScope(desired, records);
    if (root !== undefined) scope.files.push(...persistScope(root, 'realserver'));
    const actual = await readHost(sys, records, scope);
    const vdev = vipDevice(mode);
    if (opts.persist) {
      const all = persistedVips(actual, ownedAddresses(actual, root), vdev, vips, new Set());
      desired.files = { want: persistWant(root!, renderPersist(realServerPersistSpec(mode, all, desired))), scope: persistScope(root!, 'realserver') };
    }
    const plan = planHost(actual, desired);
    const tunl0 = actual.links.get('tunl0');
    if (mode === 'tun' && tunl0 && tunl0.linkType !== 'ipip') notes.push(`tunl0 is a ${tunl0.linkType} device, not ipip: it will not decapsulate LVS TUN packets`);
    for (const vip of vips) {
      const elsewhere = [...actual.links.values()].filter((l) => l.name !== vdev && l.addresses.some((a) => a.address === vip.address));
      if (elsewhere.length) notes.push(`${vip.address} is also on ${elsewhere.map((l) => l.name).join(', ')}: that interface will answer ARP for it`);
    }
    return finish({ target: 'realserver', operation: 'prep', what: 'realserver prep', mode, opts, vips: vips.map((v) => v.address), dev: egress, plan, before: records, recordsFile, sys, notes });
  });
}

/** `lbctl realserver unprep`: remove the VIPs lbctl added, restore the sysctls it changed, keep the --persist files in step. */
export async function unprepRealServer(opts: RealServerOptions): Promise<HostChangeResult> {
  if (opts.mode !== undefined) parseMode(opts.mode);
  validateCommon(opts);
  const given = parseVips(opts.vips, { hostOnly: true });
  if (opts.dev !== undefined) requireIfName(opts.dev);
  return hostRun('realserver', 'realserver unprep', opts, async (sys, records, recordsFile) => {
    const links = await sys.readLinks();
    if (opts.dev !== undefined) await egressDevice(links, opts.netns, opts.dev, ['lo', 'tunl0']);
    const root = filesRoot(opts);
    const files = root === undefined ? [] : persistScope(root, 'realserver');
    const first = await readHost(sys, records, { keys: [], files });
    const owned = ownedAddresses(first, root);
    const vips: Vip[] = given.length ? given : owned.filter((a) => a.dev === 'lo' || a.dev === 'tunl0').map((a) => ({ address: a.address, prefix: a.prefix }));
    const notes: string[] = [];

    // Restoring arp_ignore=0 while another VIP stays on lo would start ARP flux for that VIP.
    const removing = new Set(vips.map((v) => v.address));
    const remaining = ['lo', 'tunl0'].flatMap((d) => links.get(d)?.addresses ?? [])
      .filter((a) => !a.address.startsWith('127.') && !removing.has(a.address));
    const keepSysctls = remaining.length > 0;
    if (keepSysctls) notes.push(`VIP${remaining.length > 1 ? 's' : ''} ${remaining.map((a) => a.address).join(', ')} stay${remaining.length > 1 ? '' : 's'} on lo/tunl0: ARP sysctls kept`);
    else if (Object.keys(records.sysctls).length === 0) notes.push('no record of sysctls changed by lbctl here (none, or set before a reboot): current values left as they are');
    const desired: HostDesired = {
      sysctls: [], linksUp: [], addresses: [],
      remove: { addresses: vips.map((v) => ({ address: v.address, devs: ['lo', 'tunl0'] })), restoreSysctls: !keepSysctls, deleteCreatedLinks: !keepSysctls },
    };
    const ownedRecords = { ...records, addresses: owned };
    const actual = await readHost(sys, ownedRecords, { ...readScope(desired, ownedRecords), files });
    if (opts.persist) {
      const mode = parseMode(stateMode(actual.files, root!) ?? opts.mode ?? (owned.some((a) => a.dev === 'tunl0') ? 'tun' : 'dr'));
      const vdev = vipDevice(mode);
      const left = persistedVips(actual, owned, vdev, [], removing);
      const egress = left.length ? await egressDevice(links, opts.netns, opts.dev, ['lo', 'tunl0']) : undefined;
      const want = left.length ? persistWant(root!, renderPersist(realServerPersistSpec(mode, left, realServerDesired(mode, left, egress)))) : [];
      desired.files = { want, scope: files };
      if (left.length) notes.push(`boot files kept for ${left.map((v) => v.address).join(', ')}`);
    } else if (root !== undefined && vips.some((v) => unitAddresses(fileText(actual.files.get(path.join(root, persistPaths('realserver').unit)))).some((a) => a.address === v.address))) {
      notes.push('the boot files still add these VIPs at the next boot: rerun with --persist to update them');
    }
    const plan = planHost(actual, desired);
    return finish({ target: 'realserver', operation: 'unprep', what: 'realserver unprep', mode: opts.mode ?? null, opts, vips: vips.map((v) => v.address), dev: opts.dev, plan, before: records, recordsFile, sys, notes });
  });
}

function fileText(f: FileState | null | undefined): string | undefined {
  return f?.type === 'file' ? f.content : undefined;
}

/** `lbctl realserver check`: every expected setting, its state, and a verdict. Never changes anything. */
export async function checkRealServer(opts: RealServerOptions): Promise<CheckResult> {
  const mode = parseMode(opts.mode);
  if (opts.persist || opts.root !== undefined || opts.dryRun) throw new UsageError('realserver check takes no --persist, --root or --dry-run', { code: 'ECONFLICT', hint: 'check only reads' });
  const given = parseVips(opts.vips, { hostOnly: true });
  const netnsId = await netnsIdentity(opts.netns);
  if (opts.netns) requireRoot('realserver check --netns', { ...opts, dryRun: true });
  const links = await readLinks(opts.netns);
  const egress = await egressDevice(links, opts.netns, opts.dev, ['lo', 'tunl0']);
  const vdev = vipDevice(mode);
  const vipLink = links.get(vdev);
  // check only reads: records it may not read (not root) just mean it looks at lo/tunl0 instead.
  const state = await loadState(stateFile('realserver', opts.netns), netnsId).catch((e) => {
    if (e instanceof PermissionError) return emptyState(netnsId);
    throw e;
  });
  let vips: Vip[] = given;
  if (!vips.length) vips = state.addresses.filter((a) => a.dev === vdev).map((a) => ({ address: a.address, prefix: a.prefix }));
  if (!vips.length) vips = (vipLink?.addresses ?? []).filter((a) => !a.address.startsWith('127.')).map((a) => ({ address: a.address, prefix: 32 }));

  const desired = realServerDesired(mode, vips, egress);
  const arpLinks = arpInterfaces(links).filter((l) => l.name !== vdev);
  const names = ['arp_ignore', 'arp_announce', ...(mode === 'tun' ? ['rp_filter'] : [])];
  const keys = [...desired.sysctls.map((s) => s.key), ...arpLinks.flatMap((l) => names.map((n) => confKey(l.name, n)))];
  const values = await new Sysctls(opts.netns).read(keys);
  const items: CheckItem[] = [];
  const val = (k: string) => { const v = values.get(k); return v === undefined ? null : Number(v); };

  for (const s of desired.sysctls) {
    const v = values.get(s.key);
    const ok = v !== undefined && s.accept.includes(v);
    items.push({ kind: 'sysctl', item: s.key, expected: s.accept.join('|'), actual: val(s.key), severity: ok ? 'ok' : 'warn', reason: ok ? undefined : 'differs from what prep sets; the effective values below decide' });
  }
  for (const l of arpLinks) {
    const ig = effective('arp_ignore', values.get(confKey('all', 'arp_ignore')), values.get(confKey(l.name, 'arp_ignore')));
    const an = effective('arp_announce', values.get(confKey('all', 'arp_announce')), values.get(confKey(l.name, 'arp_announce')));
    items.push({ kind: 'effective', item: `arp_ignore on ${l.name}`, expected: ARP_IGNORE_OK.join('|'), actual: ig ?? null, severity: ig !== undefined && ARP_IGNORE_OK.includes(String(ig)) ? 'ok' : 'fail', reason: `max(all, ${l.name}); at 0 ${l.name} answers ARP for the VIP and steals its traffic from the director` });
    items.push({ kind: 'effective', item: `arp_announce on ${l.name}`, expected: '2', actual: an ?? null, severity: an === 2 ? 'ok' : 'fail', reason: `max(all, ${l.name}); below 2 ARP requests may carry the VIP as source and poison neighbours' caches` });
  }
  if (mode === 'tun') {
    const rp = effective('rp_filter', values.get(confKey('all', 'rp_filter')), values.get(confKey('tunl0', 'rp_filter')));
    items.push({ kind: 'effective', item: 'rp_filter on tunl0', expected: '0|2', actual: rp ?? null, severity: rp === 0 || rp === 2 ? 'ok' : 'fail', reason: 'max(all, tunl0); strict (1) drops decapsulated client packets' });
    items.push({ kind: 'link', item: 'link tunl0', expected: 'ipip', actual: vipLink?.linkType ?? null, severity: vipLink?.linkType === 'ipip' ? 'ok' : 'fail', reason: vipLink ? 'tunl0 must be the ipip fallback device' : 'the ipip module is not loaded (modprobe ipip)' });
  }
  items.push({ kind: 'link', item: `link ${vdev}`, expected: 'up', actual: vipLink ? (vipLink.up ? 'up' : 'down') : null, severity: vipLink?.up ? 'ok' : 'fail' });
  if (!vips.length) items.push({ kind: 'address', item: `VIP on ${vdev}`, expected: 'VIP/32', actual: null, severity: 'fail', reason: `no VIP on ${vdev} (give --vip)` });
  for (const vip of vips) {
    const have = vipLink?.addresses.find((a) => a.address === vip.address);
    items.push({ kind: 'address', item: `${vip.address} on ${vdev}`, expected: `${vip.address}/32`, actual: have ? `${have.address}/${have.prefix}` : null, severity: have?.prefix === 32 ? 'ok' : 'fail', reason: have ? (have.prefix === 32 ? undefined : 'a wider prefix makes the whole subnet local') : `the VIP is not on ${vdev}: packets for it are dropped` });
    const route = have ? await hasLocalRoute(opts.netns, vip.address) : false;
    items.push({ kind: 'route', item: `local route ${vip.address}`, expected: 'table local', actual: route ? 'present' : null, severity: route ? 'ok' : 'fail', reason: route ? undefined : 'the host does not accept packets for the VIP' });
    for (const l of arpLinks.filter((x) => x.addresses.some((a) => a.address === vip.address))) {
      items.push({ kind: 'address', item: `${vip.address} on ${l.name}`, expected: 'absent', actual: 'present', severity: 'fail', reason: `${l.name} answers ARP for the VIP whatever arp_ignore says` });
    }
  }
  return checkResult('realserver', mode, opts.netns, vips.map((v) => v.address), egress, items, `LVS ${mode.toUpperCase()}`);
}
