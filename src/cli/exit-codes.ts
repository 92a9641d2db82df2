/**
 * The one table of lbctl exit codes. The README section "Exit codes" is generated
 * from this table (see test/unit/readme.test.ts), so the two cannot drift.
 */
export const ExitCode = {
  Ok: 0,
  Internal: 1,
  Usage: 2,
  InvalidInput: 3,
  NotFound: 4,
  Permission: 5,
  Unavailable: 6,
  Rejected: 7,
  Timeout: 8,
  CheckFailed: 9,
  ChangesPending: 10,
  Aborted: 11,
  Busy: 12,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

export const EXIT_CODE_DOCS: ReadonlyArray<{ code: number; name: ExitCodeName; meaning: string }> = [
  { code: 0, name: 'Ok', meaning: 'success (including "unchanged" and "absent")' },
  { code: 1, name: 'Internal', meaning: 'unexpected internal error (a bug: rerun with DEBUG=1 and report it)' },
  { code: 2, name: 'Usage', meaning: 'bad command line: unknown flag, conflicting flags, malformed address, port, scheduler or weight' },
  { code: 3, name: 'InvalidInput', meaning: 'bad input file (rules file, YAML/JSON, cluster spec); the message names file:line' },
  { code: 4, name: 'NotFound', meaning: 'a named object does not exist (virtual service, backend, server, file)' },
  { code: 5, name: 'Permission', meaning: 'not permitted: not root / no CAP_NET_ADMIN, socket permission denied, read-only HAProxy socket level' },
  { code: 6, name: 'Unavailable', meaning: 'a needed facility is missing: no IPVS in the kernel, ipvsadm/haproxy/keepalived binary missing, runtime socket missing or not HAProxy' },
  { code: 7, name: 'Rejected', meaning: 'the kernel, a daemon or the file system refused the change (read-only, full, quota; a directory, symlink or non-directory where lbctl writes), or the driver cannot express the requested state' },
  { code: 8, name: 'Timeout', meaning: 'a wait (drain --wait, --drain) timed out; the drained object is left at weight 0 / drain state' },
  { code: 9, name: 'CheckFailed', meaning: 'a check found problems (realserver/director check, config check, haproxy health with servers down)' },
  { code: 10, name: 'ChangesPending', meaning: 'with --exit-code: changes would be made (dry run, plan, config diff) or were made' },
  { code: 11, name: 'Aborted', meaning: 'the user declined a confirmation prompt, or the command was interrupted' },
  { code: 12, name: 'Busy', meaning: 'another lbctl holds the lock of the same resource (IPVS table, host-prep records, config root) past --lock-timeout; the message names the holder' },
];
