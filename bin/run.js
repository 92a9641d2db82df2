#!/usr/bin/env node
// Plain `lbctl` on a terminal opens the interactive shell; with arguments, or fed by a pipe, it is the CLI.
const argv = process.argv.slice(2);

if (argv.length === 1 && argv[0] === '--version') {
  // Scripts ask for the version to decide what they may call; loading oclif (its entry chunk,
  // package.json, manifest and hooks) only to print this line measured about 2x a bare `node -e 0`,
  // this path about 1.1x. The line is oclif's userAgent, byte for byte (test/unit/help.test.ts).
  const { readFileSync } = await import('node:fs');
  const os = await import('node:os');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`lbctl/${version} ${os.platform()}-${os.arch() === 'ia32' ? 'x86' : os.arch()} node-${process.version}\n`);
} else {
  // The product is one CommonJS bundle (dist/lbctl.cjs, built by `npm run build`), loaded with
  // V8's code cache by bin/bundle.cjs.
  const { createRequire } = await import('node:module');
  const { exports: { run } } = createRequire(import.meta.url)('./bundle.cjs').loadBundle();
  await run(argv.length === 0 && process.stdin.isTTY && process.stdout.isTTY ? ['shell'] : argv, import.meta.url);
}
