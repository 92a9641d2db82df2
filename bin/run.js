#!/usr/bin/env node
// The product is one bundle (dist/lbctl.js, built by `npm run build`): oclif and every command in
// one file, so start-up reads one file instead of resolving hundreds.
const { run } = await import('../dist/lbctl.js');

// Plain `lbctl` on a terminal opens the interactive shell; with arguments, or fed by a pipe, it is the CLI.
const argv = process.argv.slice(2);
await run(argv.length === 0 && process.stdin.isTTY && process.stdout.isTTY ? ['shell'] : argv, import.meta.url);
