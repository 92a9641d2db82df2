// The state-changing modules scripts/mutation.sh mutates, each with the focused test command that
// judges its mutants. Test files are the tsc output under build/ (the sandbox's own build, made by
// Stryker's buildCommand from the mutated sources). `bundle: true` also rebuilds dist/, for host
// tests that run the real CLI (bin/run.js) in a child process: the active mutant reaches it through
// the __STRYKER_ACTIVE_MUTANT__ environment variable the child inherits. `confine: true` runs the
// tests with / read-only and a private /tmp (stryker/confine.sh): for code with a real default
// path (install.ts: root '/'), where a mutant would otherwise write into this machine's /etc.
const unit = (...names) => names.map((n) => `build/test/unit/${n}.test.js`);
const host = (...names) => names.map((n) => `build/test/host/${n}.test.js`);

export const modules = {
  fs: {
    mutate: ['src/util/fs.ts'],
    tests: [...unit('fs-atomic', 'mut-fs')],
  },
  // Confined: the real CLI installs under a temp --root, but a mutant of a path could reach /.
  'fs-host': {
    mutate: ['src/util/fs.ts'],
    tests: [...unit('fs-atomic', 'mut-fs'), ...host('files-safety')],
    bundle: true,
    confine: true,
  },
  files: {
    mutate: ['src/converge/files.ts'],
    tests: [...unit('files-plan', 'mut-files')],
  },
  host: {
    mutate: ['src/host/provider.ts'],
    // apply-plan.test reaches only planRoutes here: add it when mutating that range.
    tests: [...unit('host-converge', 'mut-host')],
  },
  runtime: {
    mutate: ['src/haproxy/runtime-ops.ts'],
    tests: [...unit('haproxy-runtime', 'runtime-socket', 'mut-runtime')],
  },
  // installNode with stand-in daemons under a temp --root (test/support/fake-daemons.ts).
  install: {
    mutate: ['src/cluster/install.ts'],
    tests: [...unit('install-node', 'mut-install', 'mut-install-pcmk')],
    confine: true,
  },
  // The same module judged by the real CLI as root (real daemon checks, chown): minutes a mutant.
  'install-host': {
    mutate: ['src/cluster/install.ts'],
    tests: [...host('files-safety')],
    bundle: true,
    confine: true,
  },
  'ipvs-apply': {
    mutate: ['src/ipvs/driver.ts'],
    tests: [...unit('netlink-driver', 'netlink-rollback', 'mut-ipvs-apply')],
  },
  // The pure plan (what gets added, changed, deleted; apply order) and restore's guards around it
  // (refuseWipe: a plan deleting every service; loadDesired: no input). Two files: pass one
  // --mutate range per run (src/ipvs/plan.ts:95-218, src/ipvs/restore.ts:132-168).
  'ipvs-plan': {
    mutate: ['src/ipvs/plan.ts', 'src/ipvs/restore.ts'],
    tests: [...unit('ipvs-plan', 'ipvs-plan-shared', 'ipvs-validate-restore', 'ipvs-restore', 'mut-ipvs-plan')],
  },
  // netlink-rollback's in-process CLI run (runLbctl) loads oclif's hooks and commands by path, which
  // tsc does not reach from the test's imports: `build` adds them to the sandbox's compile; its lock
  // test runs bin/run.js (dist/).
  netlink: {
    mutate: ['src/ipvs/netlink/driver.ts'],
    tests: [...unit('netlink-driver', 'netlink-rollback', 'mut-netlink')],
    build: ['src/**/*.ts', 'commands/**/*.ts'],
    bundle: true,
  },
};
