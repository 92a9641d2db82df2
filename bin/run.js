#!/usr/bin/env node
import { execute } from '@oclif/core';

// Plain `lbctl` on a terminal opens the interactive shell; with arguments, or fed by a pipe, it is the CLI.
const argv = process.argv.slice(2);
await execute({ dir: import.meta.url, args: argv.length === 0 && process.stdin.isTTY && process.stdout.isTTY ? ['shell'] : argv });
