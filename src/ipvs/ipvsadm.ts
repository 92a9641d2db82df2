/**
 * The ipvsadm driver: reads the whole table with one `ipvsadm -Sn`, writes a batch through
 * one `ipvsadm -R` process fed on stdin. Used where the netlink driver cannot load, or on
 * request (--driver ipvsadm).
 */
import { LbctlError, NotFoundError, PermissionError, RejectedError, UnavailableError } from '../cli/errors.js';
import { ExitCode } from '../cli/exit-codes.js';
import { applyAllOrNothing, injectedFaultError, type BatchFailure, type IpvsDriver, type IpvsInfo, type Op, type ReadOptions, type SyncDaemon, type Timeouts } from './driver.js';
import { destinationDiff, destinationKey, serviceDiff, serviceKey, serviceLabel, serviceSelector, type IpvsTable, type ServiceStats, type VirtualService } from './model.js';
import { parseRules, printDestination, printService } from './rules.js';
import { parseHostPort } from '../net/address.js';

const BIN = process.env.LBCTL_IPVSADM ?? 'ipvsadm';

/** Turn ipvsadm's stderr into an lbctl error with the right exit code and a hint. */
export function ipvsadmError(stderr: string, rule?: string): LbctlError {
  const msg = stderr.replace(/^ipvsadm:\s*/gm, '').trim().split('\n').filter(Boolean).pop() ?? 'ipvsadm failed';
  const where = rule ? `rule "${rule}"` : undefined;
  if (/Permission denied|Operation not permitted|must be root/i.test(stderr)) {
    return new PermissionError('not permitted to read or change IPVS', { code: 'EPERM', where, hint: 'run as root (needs CAP_NET_ADMIN)' });
  }
  if (/Protocol not available|Can't initialize ipvs|Module ip_vs not found/i.test(stderr)) {
    return new UnavailableError('the kernel has no IPVS (ip_vs module missing or not loadable)', { code: 'ENOIPVS', hint: 'load it with `modprobe ip_vs` or use a kernel with CONFIG_IP_VS' });
  }
  if (/Service not defined|No such service/i.test(msg)) return new NotFoundError('virtual service does not exist', { code: 'ESRCH', where });
  if (/No such destination|Could not find destination/i.test(msg)) return new NotFoundError('real server does not exist', { code: 'ENOENT', where });
  if (/already exists/i.test(msg)) return new RejectedError(msg, { code: 'EEXIST', where, errno: 17 });
  if (/address not unicast|Invalid operation/i.test(msg)) {
    return new RejectedError('the kernel refused the real server', { code: 'EINVAL', where, errno: 22, hint: 'check that the real server address is unicast and routable from this host (an interface or route must reach it)' });
  }
  if (/Scheduler not found/i.test(msg)) return new RejectedError(msg, { code: 'ENOSCHED', where, hint: 'the scheduler module is missing from this kernel' });
  return new RejectedError(msg, { code: 'EIPVSADM', where });
}

async function run(args: string[], input?: string): Promise<string> {
  try {
    const r = await (await import('execa')).execa(BIN, args, { input, reject: false, env: { LC_ALL: 'C' } });
    if (r.exitCode !== 0) throw ipvsadmError(`${r.stderr}\n${r.stdout}`);
    return r.stdout;
  } catch (e: any) {
    if (e instanceof LbctlError) throw e;
    if (e?.code === 'ENOENT') throw new UnavailableError('ipvsadm is not installed', { code: 'ENOIPVSADM', hint: 'apt-get install ipvsadm, or use --driver netlink' });
    throw e;
  }
}

/** The ipvsadm command line (without "ipvsadm") of one op. */
export function opToRule(op: Op): string {
  const s = op.service!;
  switch (op.kind) {
    case 'addService': return printService(s);
    case 'editService': return printService(s).replace(/^-A /, '-E ');
    case 'delService': return `-D ${serviceSelector(s)}`;
    case 'addDest': return printDestination(s, op.dest!);
    case 'editDest': return printDestination(s, op.dest!).replace(/^-a /, '-e ');
    case 'delDest': return `-d ${serviceSelector(s)} -r ${destinationKey(op.dest!)}`;
    case 'flush': return '-C';
    case 'zero': return op.service ? `-Z ${serviceSelector(s)}` : '-Z';
  }
}

/** ipvsadm forces a DR/TUN real server's port to the virtual port: refuse rather than write something else. */
function checkExpressible(op: Op): void {
  const s = op.service;
  const d = op.dest;
  if (!s || !d || s.protocol === 'fwmark') return;
  if ((op.kind === 'addDest' || op.kind === 'editDest') && d.forward !== 'masq' && d.port !== s.port) {
    throw new RejectedError(`ipvsadm cannot set a ${d.forward === 'droute' ? 'DR' : 'TUN'} real server port (${d.port}) that differs from the virtual port (${s.port})`,
      { code: 'EIPVSADMCANT', where: op.origin, hint: 'use --driver netlink, or use the virtual port' });
  }
}

/** The injected fault (LBCTL_FAULT_IPVS, test only) deletes a service nobody has: ipvsadm -R fails there. */
const FAULT_RULE = '-D -f 4294967294';

/** Whether the table shows the effect of op (how a failed `ipvsadm -R` is told apart from what it applied). */
function visible(t: IpvsTable, op: Op): boolean {
  if (!op.service) return true;
  const svc = t.services.find((s) => serviceKey(s) === serviceKey(op.service!));
  switch (op.kind) {
    case 'addService': case 'editService': return Boolean(svc) && serviceDiff(svc!, op.service).length === 0;
    case 'delService': return !svc;
    case 'zero': case 'flush': return true;
    default: {
      const d = svc?.destinations.find((x) => destinationKey(x) === destinationKey(op.dest!));
      if (op.kind === 'delDest') return !d;
      return Boolean(d) && destinationDiff(d!, op.dest!).length === 0;
    }
  }
}

export class IpvsadmDriver implements IpvsDriver {
  readonly name = 'ipvsadm' as const;

  async getTable(opts: ReadOptions = {}): Promise<IpvsTable> {
    const [rules, thresholds] = await Promise.all([run(['-Sn']), run(['-Ln', '--thresholds', '--exact'])]);
    const table = parseRules(rules, 'ipvsadm -Sn', { trusted: true });
    // ipvsadm -Sn omits -x/-y: read them from the thresholds listing.
    walkListing(table, thresholds, (svc, dk, n) => {
      const d = dk ? svc.destinations.find((x) => destinationKey(x) === dk) : undefined;
      if (d && n.length >= 2) { d.upperThreshold = n[0]; d.lowerThreshold = n[1]; }
    });
    if (opts.stats) await this.fillStats(table);
    return table;
  }

  private async fillStats(table: IpvsTable): Promise<void> {
    const [conns, stats, rates] = await Promise.all([run(['-Ln', '--exact']), run(['-Ln', '--stats', '--exact']), run(['-Ln', '--rate', '--exact'])]);
    const walk = (text: string, fn: ListingVisitor) => walkListing(table, text, fn);
    const zero = (): ServiceStats => ({ conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0, cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 });
    const target = (svc: VirtualService, dk?: string) => {
      if (!dk) return (svc.stats ??= zero());
      const d = svc.destinations.find((x) => destinationKey(x) === dk);
      return d ? (d.stats ??= zero()) : undefined;
    };
    walk(stats, (svc, dk, n) => { const t = target(svc, dk); if (t) [t.conns, t.inpkts, t.outpkts, t.inbytes, t.outbytes] = n.slice(-5); });
    walk(rates, (svc, dk, n) => { const t = target(svc, dk); if (t) [t.cps, t.inpps, t.outpps, t.inbps, t.outbps] = n.slice(-5); });
    walk(conns, (svc, dk, n) => {
      if (!dk) return;
      const d = svc.destinations.find((x) => destinationKey(x) === dk);
      if (d) { d.activeConns = n[n.length - 2] ?? 0; d.inactiveConns = n[n.length - 1] ?? 0; }
    });
  }

  /** All or nothing (driver.ts): a failure midway is rolled back with compensating changes. */
  async apply(ops: Op[]): Promise<void> {
    ops.forEach(checkExpressible);
    await applyAllOrNothing({ write: (o, fault) => this.write(o, fault), readTable: () => this.getTable() }, ops);
  }

  /** One `ipvsadm -R`; on failure, which op failed first and which took effect (read back from the table). */
  private async write(ops: Op[], fault?: number): Promise<BatchFailure | undefined> {
    if (!ops.length) return undefined;
    ops.forEach(checkExpressible);
    const rules = ops.map((op, i) => (i === fault ? FAULT_RULE : opToRule(op)));
    const r = await (await import('execa')).execa(BIN, ['-R'], { input: rules.join('\n') + '\n', reject: false, env: { LC_ALL: 'C' } }).catch((e: any) => {
      if (e?.code === 'ENOENT') throw new UnavailableError('ipvsadm is not installed', { code: 'ENOIPVSADM', hint: 'apt-get install ipvsadm, or use --driver netlink' });
      throw e;
    });
    // `ipvsadm -R` goes on after a failing line, and its exit status is only the last line's: an
    // error message on stderr is the sign. It names no line: read the table back to tell which
    // ops took effect.
    if (r.exitCode === 0 && !r.stderr.trim()) return undefined;
    const after = await this.getTable();
    const applied = ops.flatMap((op, i) => (i !== fault && visible(after, op) ? [i] : []));
    const index = ops.findIndex((_, i) => !applied.includes(i));
    if (index < 0 && r.exitCode === 0) return undefined; // stderr held only a warning
    const op = ops[index < 0 ? 0 : index];
    const error = index === fault ? injectedFaultError(fault, op.origin ?? `ipvsadm ${opToRule(op)}`) : ipvsadmError(`${r.stderr}\n${r.stdout}`, op.origin ?? `ipvsadm ${opToRule(op)}`);
    return { index: index < 0 ? 0 : index, error, applied };
  }

  async getInfo(): Promise<IpvsInfo> {
    const out = await run(['-Ln']);
    const m = /IP Virtual Server version (\S+) \(size=(\d+)\)/.exec(out);
    if (!m) throw new LbctlError('unexpected ipvsadm output', ExitCode.Internal);
    return { version: m[1], connTableSize: Number(m[2]) };
  }

  async getTimeouts(): Promise<Timeouts> {
    const out = await run(['-L', '--timeout']);
    // "Timeout (tcp tcpfin udp): 900 120 300"
    const m = /Timeout \(tcp tcpfin udp\):\s+(\d+)\s+(\d+)\s+(\d+)/.exec(out);
    if (!m) throw new LbctlError(`unexpected ipvsadm --timeout output: ${out}`, ExitCode.Internal);
    return { tcp: Number(m[1]), tcpfin: Number(m[2]), udp: Number(m[3]) };
  }

  async setTimeouts(t: Partial<Timeouts>): Promise<void> {
    // ipvsadm --set takes all three; 0 means "leave unchanged".
    await run(['--set', String(t.tcp ?? 0), String(t.tcpfin ?? 0), String(t.udp ?? 0)]);
  }

  async getDaemons(): Promise<SyncDaemon[]> {
    const out = await run(['-L', '--daemon']);
    const res: SyncDaemon[] = [];
    for (const m of out.matchAll(/(master|backup) sync daemon \(mcast=(\S+), syncid=(\d+)/g)) {
      res.push({ state: m[1] as 'master' | 'backup', mcastIfn: m[2], syncId: Number(m[3]) });
    }
    return res;
  }

  async startDaemon(d: SyncDaemon): Promise<void> {
    await run(['--start-daemon', d.state, '--mcast-interface', d.mcastIfn, '--syncid', String(d.syncId)]);
  }

  async stopDaemon(state: SyncDaemon['state']): Promise<void> {
    await run(['--stop-daemon', state]);
  }

  async close(): Promise<void> { /* stateless */ }
}

type ListingVisitor = (svc: VirtualService, destKey: string | undefined, nums: number[]) => void;

/** Walk an `ipvsadm -Ln ...` listing, calling fn with the numbers of each service and destination line. */
function walkListing(table: IpvsTable, text: string, fn: ListingVisitor): void {
  const byLabel = new Map(table.services.map((s) => [serviceLabel(s), s]));
  let cur: VirtualService | undefined;
  for (const line of text.split('\n')) {
    const svcM = /^(TCP|UDP|SCTP|FWM)\s+(\S+)(\s+IPv6)?\s*(.*)$/.exec(line);
    if (svcM) {
      cur = byLabel.get(`${svcM[1]} ${svcM[2]}${svcM[3] ? ' IPv6' : ''}`);
      if (cur) fn(cur, undefined, nums(svcM[4]));
      continue;
    }
    const dM = /^\s+->\s+(\S+)\s*(.*)$/.exec(line);
    if (dM && cur && dM[1] !== 'RemoteAddress:Port') {
      const hp = parseHostPort(dM[1]);
      fn(cur, destinationKey({ address: hp.address, port: hp.port ?? 0 }), nums(dM[2]));
    }
  }
}

function nums(s: string): number[] {
  return s.trim().split(/\s+/).filter((x) => /^\d+$/.test(x)).map(Number);
}
