#!/usr/bin/env node
'use strict';
// Plain `lbctl` on a terminal opens the interactive shell; with arguments, or fed by a pipe, it is the CLI.
//
// CommonJS on purpose (bin/package.json): an ES module entry makes node set up its ES module
// loader (ten more of its own modules, and a resolve/link pass) before the first line runs; in the
// kernel lab, under qemu TCG, that was about 3% of a whole `lbctl list` (docs/DEV.md, start-up).
const path = require('node:path');
const argv = process.argv.slice(2);

if (argv.length === 1 && argv[0] === '--version') {
  // Scripts ask for the version to decide what they may call; loading oclif (its entry chunk,
  // package.json, manifest and hooks) only to print this line measured about 2x a bare `node -e 0`,
  // this path about 1.1x. The line is oclif's userAgent, byte for byte (test/unit/help.test.ts).
  const { readFileSync } = require('node:fs');
  const os = require('node:os');
  const { version } = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
  process.stdout.write(`lbctl/${version} ${os.platform()}-${os.arch() === 'ia32' ? 'x86' : os.arch()} node-${process.version}\n`);
} else if (argv[0] === 'restore' && process.env.LBCTL_FAST !== '0') {
  // restore is what scripts and Ansible run with thousands of rules: plain argv runs it without
  // oclif, from its own small bundle (src/cli/fast.ts says why and which argv qualify).
  // Anything else, and LBCTL_FAST=0, goes through oclif.
  const { exports: { fastRestore } } = require('./bundle.cjs').loadBundle({ name: 'lbctl-fast' });
  fastRestore(argv.slice(1)).then((done) => { if (!done) runOclif(); }, bug);
} else {
  runOclif();
}

function runOclif() {
  // The product is one CommonJS bundle (dist/lbctl.cjs, built by `npm run build`), loaded with
  // V8's code cache by bin/bundle.cjs. oclif finds package.json from the directory given: the
  // package root itself (bin/ has its own package.json, which only says "commonjs").
  const { exports: { run } } = require('./bundle.cjs').loadBundle();
  run(argv.length === 0 && process.stdin.isTTY && process.stdout.isTTY ? ['shell'] : argv, path.join(__dirname, '..')).catch(bug);
}

/**
 * run() settles every command error itself (oclif's handle, or the fast path's own printing);
 * what reaches here is a bug, reported as an ES module entry's top-level await reported it:
 * the stack, exit 1.
 */
function bug(e) {
  process.exitCode = 1;
  console.error(e);
}
