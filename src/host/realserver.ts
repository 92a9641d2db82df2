import { execa } from 'execa';
import { UnavailableError, UsageError } from '../cli/errors.js';
import { arpInterfaces, checkResult, egressDevice, requireRoot, validateCommon, type CommonOptions } from './common.js';
import { applyDesired, precheckAddresses, quoteAll, summarize, undoRecorded, type Desired, type DesiredSysctl } from './engine.js';
import { hasLocalRoute, ip, ipArgs, netnsIdentity, readLinks, type Link } from './links.js';
import { applyPersist, removePersist, renderPersist, type PersistSpec } from './persist.js';
import { loadState, saveState, stateFile } from './state.js';
import { Sysctls, confKey, effective } from './sysctl.js';
import type { CheckItem, CheckResult, HostChangeResult, ItemResult, RealServerMode } from './types.js';
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
export function realServerDesired(mode: RealServerMode, vips: Vip[], egress: string | undefined): Desired {
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
    linksUp: [vdev],
    // A /32 on lo makes the kernel add "local VIP dev lo" to table local, which is all the
    // articles' `route add -host VIP dev lo:0` achieved; no extra route is needed.
    addresses: vips.map((vip) => ({ dev: vdev, vip, label: mode === 'dr' })),
  };
}

export function realServerPersistSpec(mode: RealServerMode, vips: Vip[], desired: Desired): PersistSpec {
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

/** tunl0 appears when the ipip module loads; a netns may lack it (fb_tunnels_only_for_init_net), then create one. */
async function ensureTunl0(netns: string | undefined, links: Map<string, Link>, dryRun: boolean, created: string[]): Promise<{ items: ItemResult[]; commands: string[][]; links: Map<string, Link> }> {
  if (links.has('tunl0')) return { items: [], commands: [], links };
  const items: ItemResult[] = [];
  const commands: string[][] = [['modprobe', 'ipip']];
  items.push({ kind: 'module', item: 'module ipip', before: 'not loaded', after: 'loaded', action: 'loaded', changed: true, command: ['modprobe', 'ipip'] });
  if (dryRun) return { items, commands, links };
  await execa('modprobe', ['ipip'], { reject: false });
  let now = await readLinks(netns);
  if (!now.has('tunl0')) {
    const args = ['link', 'add', 'name', 'tunl0', 'type', 'ipip'];
    try { await ip(netns, args, 'creating tunl0'); } catch {
      throw new UnavailableError('tunl0 is missing and the ipip module cannot be loaded here', { code: 'ENOIPIP', hint: 'modprobe ipip on the host (containers cannot load modules)' });
    }
    commands.push(['ip', ...ipArgs(netns, args)]);
    items.push({ kind: 'link', item: 'link tunl0', before: null, after: 'present', action: 'created', changed: true, command: ['ip', ...ipArgs(netns, args)] });
    created.push('tunl0');
    now = await readLinks(netns);
  }
  return { items, commands, links: now };
}

function result(operation: 'prep' | 'unprep', mode: string | null, opts: RealServerOptions, vips: Vip[], dev: string | undefined, items: ItemResult[], commands: string[][], notes: string[]): HostChangeResult {
  const summary = summarize(items);
  return {
    target: 'realserver', operation, mode, netns: opts.netns ?? null, dryRun: Boolean(opts.dryRun), changed: summary.changed > 0,
    vips: vips.map((v) => v.address), dev: dev ?? null, items, commands: quoteAll(commands), summary, notes,
  };
}

/** `lbctl realserver prep`: ARP sysctls, VIP /32 on lo (DR) or tunl0 (TUN), optional boot persistence. */
export async function prepRealServer(opts: RealServerOptions): Promise<HostChangeResult> {
  const mode = parseMode(opts.mode);
  validateCommon(opts);
  const vips = parseVips(opts.vips, { hostOnly: true });
  if (vips.length === 0) throw new UsageError('realserver prep needs at least one --vip', { code: 'ENOVIP', hint: 'e.g. --vip 192.168.118.100' });
  const netnsId = await netnsIdentity(opts.netns);
  requireRoot('realserver prep', opts);
  let links = await readLinks(opts.netns);
  const egress = await egressDevice(links, opts.netns, opts.dev, ['lo', 'tunl0']);
  const notes: string[] = [];
  if (!egress) notes.push('no --dev and no default route: only conf.all covers the egress interface');
  const desired = realServerDesired(mode, vips, egress);
  precheckAddresses(desired, links);

  const file = stateFile('realserver', opts.netns);
  const state = await loadState(file, netnsId);
  const items: ItemResult[] = [];
  const commands: string[][] = [];
  try {
    if (mode === 'tun') {
      const t = await ensureTunl0(opts.netns, links, Boolean(opts.dryRun), state.createdLinks);
      items.push(...t.items); commands.push(...t.commands); links = t.links;
      const tunl0 = links.get('tunl0');
      if (tunl0 && tunl0.linkType !== 'ipip') notes.push(`tunl0 is a ${tunl0.linkType} device, not ipip: it will not decapsulate LVS TUN packets`);
      precheckAddresses(desired, links);
    }
    const applied = await applyDesired({ netns: opts.netns, dryRun: Boolean(opts.dryRun), links, state }, desired);
    items.push(...applied.items); commands.push(...applied.commands);
  } finally {
    if (!opts.dryRun) await saveState(file, state);
  }
  for (const vip of vips) {
    const elsewhere = [...links.values()].filter((l) => l.name !== vipDevice(mode) && l.addresses.some((a) => a.address === vip.address));
    if (elsewhere.length) notes.push(`${vip.address} is also on ${elsewhere.map((l) => l.name).join(', ')}: that interface will answer ARP for it`);
  }
  if (opts.persist) items.push(...await applyPersist(opts.root ?? '/', 'realserver', renderPersistFor(mode, vips, desired), Boolean(opts.dryRun)));
  return result('prep', mode, opts, vips, egress, items, commands, notes);
}

function renderPersistFor(mode: RealServerMode, vips: Vip[], desired: Desired) {
  return renderPersist(realServerPersistSpec(mode, vips, desired));
}

/** `lbctl realserver unprep`: remove the VIPs, restore the sysctls lbctl changed, remove --persist files. */
export async function unprepRealServer(opts: RealServerOptions): Promise<HostChangeResult> {
  if (opts.mode !== undefined) parseMode(opts.mode);
  validateCommon(opts);
  const given = parseVips(opts.vips, { hostOnly: true });
  const netnsId = await netnsIdentity(opts.netns);
  requireRoot('realserver unprep', opts);
  const links = await readLinks(opts.netns);
  if (opts.dev !== undefined) await egressDevice(links, opts.netns, opts.dev, ['lo', 'tunl0']);
  const file = stateFile('realserver', opts.netns);
  const state = await loadState(file, netnsId);
  const vips: Vip[] = given.length ? given : state.addresses.map((a) => ({ address: a.address, prefix: a.prefix }));
  const notes: string[] = [];
  const items: ItemResult[] = [];
  const commands: string[][] = [];

  // Restoring arp_ignore=0 while another VIP stays on lo would start ARP flux for that VIP.
  const removing = new Set(vips.map((v) => v.address));
  const remaining = ['lo', 'tunl0'].flatMap((d) => links.get(d)?.addresses ?? [])
    .filter((a) => !a.address.startsWith('127.') && !removing.has(a.address));
  const keepSysctls = remaining.length > 0;
  const saved = state.sysctls;
  if (keepSysctls) {
    notes.push(`VIP${remaining.length > 1 ? 's' : ''} ${remaining.map((a) => a.address).join(', ')} stay${remaining.length > 1 ? '' : 's'} on lo/tunl0: ARP sysctls kept`);
    state.sysctls = {};
  }
  try {
    const undone = await undoRecorded({ netns: opts.netns, dryRun: Boolean(opts.dryRun), links, state }, vips.map((vip) => ({ devs: ['lo', 'tunl0'], vip })), state.createdLinks);
    items.push(...undone.items); commands.push(...undone.commands);
  } finally {
    if (keepSysctls) state.sysctls = saved;
    if (!opts.dryRun) await saveState(file, state);
  }
  if (!keepSysctls && Object.keys(saved).length === 0) notes.push('no record of sysctls changed by lbctl here (none, or set before a reboot): current values left as they are');
  if (opts.persist) items.push(...await removePersist(opts.root ?? '/', 'realserver', Boolean(opts.dryRun)));
  return result('unprep', opts.mode ?? null, opts, vips, opts.dev, items, commands, notes);
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
  const state = await loadState(stateFile('realserver', opts.netns), netnsId);
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
