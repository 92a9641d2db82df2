#!/usr/bin/env node
/**
 * Product build: dist/lbctl.js, one ESM bundle of oclif, every command and the product sources,
 * plus oclif.manifest.json. Run by `npm run build` after `tsc --noEmit` has type-checked.
 *
 * Why: every lbctl call pays node + oclif start-up, and scripts call lbctl hundreds of times.
 * Unbundled, oclif resolves and imports ~200 files (slow on the kernel lab's 9p root). Here
 * node reads the entry (oclif, the hooks and one lazy stand-in per command, see
 * src/cli/hooks/lazy-commands.ts), oclif takes the command list from its COMMANDS export
 * ("explicit" strategy) and every command's flags and help from the manifest, and only the
 * command that runs is read, from its chunk (dist/chunks/, with what it imports). One file for
 * everything was measured first: V8 then compiles 2.2 MB (yaml, ajv, inquirer, execa, every
 * command) on each call, which alone cost more than node's own start-up.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');

// The cluster engineer's build-time schema validator (ajv standalone) must exist before bundling.
const validatorScript = path.join(root, 'scripts', 'build-validator.mjs');
if (existsSync(validatorScript)) execFileSync(process.execPath, [validatorScript], { cwd: root, stdio: 'inherit' });

/** commands/<topic>/<verb>.ts -> oclif id "topic:verb" (index.ts names its folder), as oclif's pattern strategy does. */
function commandFiles(dir = path.join(root, 'commands'), prefix = []) {
  const out = [];
  for (const ent of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (ent.isDirectory()) out.push(...commandFiles(path.join(dir, ent.name), [...prefix, ent.name]));
    else if (ent.name.endsWith('.ts') && !ent.name.endsWith('.d.ts')) {
      const name = ent.name.slice(0, -3);
      out.push({ id: (name === 'index' ? prefix : [...prefix, name]).join(':'), file: path.join(dir, ent.name) });
    }
  }
  return out;
}

const commands = commandFiles();
const entry = [
  `export { run } from './src/cli/hooks/main.ts';`,
  `export { commandNotFound, init } from './src/cli/hooks/command-not-found.ts';`,
  `export { LbctlHelp } from './src/cli/hooks/help.ts';`,
  `import { lazyCommands } from './src/cli/hooks/lazy-commands.ts';`,
  `export { loadAllCommands, prepareShell } from './src/cli/hooks/lazy-commands.ts';`,
  `export const COMMANDS = lazyCommands({`,
  ...commands.map((c) => `  ${JSON.stringify(c.id)}: () => import(${JSON.stringify('./' + path.relative(root, c.file))}),`),
  `});`,
].join('\n');

/**
 * Parts of oclif's dependencies that lbctl never reaches, replaced by small stand-ins so that
 * start-up does not parse them (about 170 KB of oclif's 610 KB chunk):
 * - semver: only oclif's engines check, which needs oclif's own package.json (not in the bundle),
 *   so it already ends in its catch; npm checks "engines" at install.
 * - minimatch: only filters plugin names by wildcard; lbctl has no plugins.
 * - cli-spinners: only oclif's ux.action spinner, which lbctl does not use (src/cli/output.ts
 *   Progress instead); two frame sets stay in case a future command does.
 * - tinyglobby: only oclif's "pattern" command strategy globs for command files; lbctl's is
 *   "explicit". Left external, node resolved and read it and its picomatch and fdir (8 files)
 *   on every call, because oclif's plugin module requires it at load.
 */
const STUBS = {
  semver: `throw Object.assign(new Error('semver is not bundled'), { code: 'MODULE_NOT_FOUND' });`,
  minimatch: `exports.minimatch = () => false;`,
  tinyglobby: `exports.glob = async () => { throw new Error('lbctl: command discovery by pattern is not bundled'); };`,
  'cli-spinners': `module.exports = { dots2: { interval: 80, frames: ['-', '\\\\', '|', '/'] }, line: { interval: 130, frames: ['-', '\\\\', '|', '/'] } };`,
};
const stubPlugin = {
  name: 'lbctl-stubs',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${Object.keys(STUBS).join('|')})$`) }, (a) => ({ path: a.path, namespace: 'lbctl-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'lbctl-stub' }, (a) => ({ contents: STUBS[a.path], loader: 'js' }));
  },
};

rmSync(dist, { recursive: true, force: true });
const result = await build({
  stdin: { contents: entry, resolveDir: root, sourcefile: 'lbctl-entry.ts', loader: 'ts' },
  outdir: dist,
  entryNames: 'lbctl',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // The native netlink addon is found at run time by its own loader (node-gyp-build). oclif asks
  // for typescript (10 MB) only to find TypeScript sources, which a bundle never does: left
  // outside, it is never read.
  external: ['netlink', 'typescript'],
  define: { 'globalThis.LBCTL_BUNDLE': 'true' },
  // oclif and some of its dependencies are CommonJS: give them require/__dirname inside the ES module.
  banner: {
    js: [
      `import { createRequire as __lbctlRequire } from 'node:module';`,
      `import { fileURLToPath as __lbctlPath } from 'node:url';`,
      `const require = __lbctlRequire(import.meta.url);`,
      `const __filename = __lbctlPath(import.meta.url);`,
      `const __dirname = __lbctlPath(new URL('.', import.meta.url));`,
    ].join(' '),
  },
  plugins: [stubPlugin],
  // Less text for V8 to read on every call; names stay, so DEBUG=1 stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  metafile: Boolean(process.env.LBCTL_BUILD_META),
  legalComments: 'none',
});

// oclif reads every command's flags from the manifest instead of loading each command to learn them.
// The manifest needs the command classes themselves, not their lazy stand-ins.
await (await import(pathToFileURL(path.join(dist, 'lbctl.js')).href)).loadAllCommands();
// oclif's root plugin reads an existing manifest whatever ignoreManifest says: remove the old one.
rmSync(path.join(root, 'oclif.manifest.json'), { force: true });
const { Config } = await import('@oclif/core');
const config = await Config.load({ root });
const manifest = config.getPluginsList().find((p) => p.isRoot)?.manifest;
// Built from the bundle's classes: no command may carry a file path (oclif would import it).
if (!manifest || Object.keys(manifest.commands).length !== commands.length || Object.values(manifest.commands).some((c) => c.relativePath)) {
  throw new Error(`oclif manifest: expected ${commands.length} commands, got ${Object.keys(manifest?.commands ?? {}).length}`);
}
writeFileSync(path.join(root, 'oclif.manifest.json'), JSON.stringify(manifest));
if (process.env.LBCTL_BUILD_META) writeFileSync(process.env.LBCTL_BUILD_META, JSON.stringify(result.metafile));
