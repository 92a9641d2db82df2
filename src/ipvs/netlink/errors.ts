/**
 * Kernel errno -> lbctl error, with the op that caused it. The errno stays on the error as a
 * number (err.errno), whichever class (and so exit code) it maps to.
 */
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { LbctlError, NotFoundError, PermissionError, RejectedError, UnavailableError, type ErrorOptions } from '../../cli/errors.js';
import { destinationKey, serviceLabel } from '../model.js';
import { opToRule } from '../ipvsadm.js';
import type { Op, SyncDaemon } from '../driver.js';

const E = constants.errno;
/** The errnos lbctl handles by name (values from the platform, never typed in by hand). */
export const Errno = {
  EPERM: E.EPERM, ENOENT: E.ENOENT, ESRCH: E.ESRCH, ENOMEM: E.ENOMEM, EACCES: E.EACCES, EBUSY: E.EBUSY, EEXIST: E.EEXIST,
  ENODEV: E.ENODEV, EINVAL: E.EINVAL, ERANGE: E.ERANGE, EOPNOTSUPP: E.EOPNOTSUPP, EAFNOSUPPORT: E.EAFNOSUPPORT,
} as const;

/** 17 -> "EEXIST"; a number the platform does not name -> "errno 1234". */
export function errnoName(errno: number): string {
  try {
    const name = getSystemErrorName(-Math.abs(errno));
    return /^E[A-Z0-9]+$/.test(name) ? name : `errno ${errno}`;
  } catch {
    return `errno ${errno}`;
  }
}

type WithErrno = ErrorOptions & { errno: number };

export class KernelNotFoundError extends NotFoundError {
  readonly errno: number;
  constructor(message: string, opts: WithErrno) { super(message, opts); this.errno = opts.errno; }
}
export class KernelPermissionError extends PermissionError {
  readonly errno: number;
  constructor(message: string, opts: WithErrno) { super(message, opts); this.errno = opts.errno; }
}
export class KernelUnavailableError extends UnavailableError {
  readonly errno: number;
  constructor(message: string, opts: WithErrno) { super(message, opts); this.errno = opts.errno; }
}

/** What the user would call the op: its origin ("rules.txt:12") or the ipvsadm command. */
export function opWhere(op: Op): string {
  return op.origin ?? `ipvsadm ${opToRule(op)}`;
}

export function permissionError(errno: number, where?: string): LbctlError {
  return new KernelPermissionError('not permitted to talk to the kernel\'s IPVS', { code: 'EPERM', errno, where, hint: 'run as root (needs CAP_NET_ADMIN)' });
}

/** The error for a write op the kernel refused (a failed batch is rolled back by driver.ts, which says so). */
export function opError(op: Op, errno: number): LbctlError {
  const where = opWhere(op);
  const svc = op.service ? serviceLabel(op.service) : 'IPVS';
  const dest = op.dest ? `real server ${destinationKey(op.dest)} in ${svc}` : undefined;
  const code = errnoName(errno);
  const o = { code, errno, where };
  if (errno === Errno.EPERM || errno === Errno.EACCES) return permissionError(errno, where);
  if (errno === Errno.EAFNOSUPPORT) {
    return new KernelUnavailableError('the kernel\'s IPVS has no IPv6 support', { ...o, hint: 'enable IPv6 (CONFIG_IP_VS_IPV6, ipv6.disable=0) or use IPv4' });
  }
  if (errno === Errno.EOPNOTSUPP) return new RejectedError(`the kernel does not support this IPVS operation (${op.kind})`, { ...o, hint: 'the kernel is too old for it; try --driver ipvsadm' });
  switch (op.kind) {
    case 'addService':
      if (errno === Errno.EEXIST) return new RejectedError(`virtual service ${svc} already exists`, { ...o, hint: 'edit it, or use `lbctl restore`, which converges' });
      if (errno === Errno.ENOENT) return new RejectedError(`scheduler "${op.service!.scheduler}"${op.service!.pe ? ` or persistence engine "${op.service!.pe}"` : ''} is not available in this kernel`, { ...o, hint: `check that the module ip_vs_${op.service!.scheduler}${op.service!.pe ? ` / ip_vs_pe_${op.service!.pe}` : ''} exists` });
      break;
    case 'editService':
      if (errno === Errno.ESRCH) return new KernelNotFoundError(`virtual service ${svc} does not exist`, { ...o, hint: 'add it first' });
      if (errno === Errno.ENOENT) return new RejectedError(`scheduler "${op.service!.scheduler}"${op.service!.pe ? ` or persistence engine "${op.service!.pe}"` : ''} is not available in this kernel`, { ...o, hint: `check that the module ip_vs_${op.service!.scheduler} exists` });
      break;
    case 'delService':
    case 'zero':
      if (errno === Errno.ESRCH) return new KernelNotFoundError(`virtual service ${svc} does not exist`, o);
      break;
    case 'addDest':
    case 'editDest':
    case 'delDest':
      if (errno === Errno.ESRCH) return new KernelNotFoundError(`virtual service ${svc} does not exist`, { ...o, hint: 'add the service before its real servers' });
      if (errno === Errno.EEXIST) return new RejectedError(`${dest} already exists`, { ...o, hint: 'edit it instead, or use `lbctl restore`, which converges' });
      if (errno === Errno.ENOENT) return new KernelNotFoundError(`${dest} does not exist`, o);
      if (errno === Errno.EINVAL) {
        return new RejectedError(`the kernel refused ${dest} (invalid argument)`, {
          ...o, hint: 'check that the address is a unicast address with a route to it from this host, that the lower threshold is not above the upper, that a GUE tunnel has a port, and that mixed IPv4/IPv6 uses tunnel forwarding',
        });
      }
      break;
    default:
      break;
  }
  if (errno === Errno.EINVAL) return new RejectedError(`the kernel refused ${op.kind} for ${svc} (invalid argument)`, { ...o, hint: 'check the values against ipvsadm(8)' });
  return new RejectedError(`the kernel refused ${op.kind} for ${svc} (${code})`, o);
}

/** Errors of the sync-daemon commands. */
export function daemonError(action: 'start' | 'stop', d: Pick<SyncDaemon, 'state'> & Partial<SyncDaemon>, errno: number): LbctlError {
  const code = errnoName(errno);
  const where = action === 'start' ? `ipvsadm --start-daemon ${d.state} --mcast-interface ${d.mcastIfn} --syncid ${d.syncId}` : `ipvsadm --stop-daemon ${d.state}`;
  const o = { code, errno, where };
  if (errno === Errno.EPERM || errno === Errno.EACCES) return permissionError(errno, where);
  if (action === 'start' && errno === Errno.EEXIST) return new RejectedError(`a ${d.state} sync daemon is already running`, { ...o, hint: 'stop it first to change its settings' });
  if (action === 'stop' && errno === Errno.ESRCH) return new KernelNotFoundError(`no ${d.state} sync daemon is running`, o);
  if (errno === Errno.ENODEV) return new KernelNotFoundError(`network interface "${d.mcastIfn}" does not exist`, { ...o, hint: 'give an existing interface with --mcast-interface' });
  if (errno === Errno.EINVAL) return new RejectedError(`the kernel refused to ${action} the ${d.state} sync daemon (invalid argument)`, { ...o, hint: 'check the interface (up, multicast-capable) and the sync id (0-255)' });
  return new RejectedError(`the kernel refused to ${action} the ${d.state} sync daemon (${code})`, o);
}
