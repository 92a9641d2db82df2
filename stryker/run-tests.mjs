// Runs the given compiled node:test files in this one process (Node 20's `node --test` starts a
// process per file, which costs more than most mutants' tests). node:test sets a non-zero exit
// code when any test fails, which is all Stryker's command runner reads.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

for (const f of process.argv.slice(2)) await import(pathToFileURL(path.resolve(f)).href);
