#!/usr/bin/env node
/**
 * Product build: dist/lbctl.cjs, one CommonJS bundle of oclif, every command and the product
 * sources; its V8 code cache (dist/lbctl-<build>-<node>-<arch>.v8cache); oclif.manifest.json.
 * Run by `npm run build` after `tsc --noEmit` has type-checked.
 *
 * Why: every lbctl call pays node + lbctl start-up, and scripts call lbctl hundreds of times.
 * - oclif takes the command list from the bundle's COMMANDS export ("explicit" strategy) and
 *   every command's flags and help from the manifest; a command's modules are evaluated only
 *   when it runs (src/cli/hooks/lazy-commands.ts: each import() is a lazy initialiser).
 * - One CommonJS file, not ES modules: loading ~25 ES module chunks (resolve, read, compile,
 *   link each) was about 40% of a `list` in the kernel lab (docs/DEV.md, start-up).
 * - The code cache (bin/bundle.cjs loads it): without it V8 would pre-parse all 2.8 MB on each
 *   call; with it, what the warm-up ran (src/cli/warm.ts) is already bytecode and the rest is
 *   parsed only if called.
 */
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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
  `export { warmUp } from './src/cli/warm.ts';`,
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
  // iconv-lite (500 KB) and chardet: only @inquirer/external-editor, the `editor` prompt that
  // @inquirer/prompts' index imports; lbctl asks only yes/no questions (confirm). They were 20% of
  // the bundle's text, read on every call.
  'iconv-lite': `const no = () => { throw new Error('lbctl: iconv-lite is not bundled (no editor prompt)'); }; module.exports = { decode: no, encode: no, encodingExists: () => false };`,
  chardet: `exports.detect = () => null;`,
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

/**
 * chalk is loaded on first use: its start-up (supports-color's environment checks, ansi-styles'
 * tables, node's tty module) was 12% of a whole `restore` of 2,000 in the kernel lab, and most
 * calls print nothing coloured. Inside the bundles `import chalk from 'chalk'` (src/cli/output.ts)
 * gets a stand-in whose first property read, call or assignment requires the real chalk; esbuild
 * evaluates a module reached by require() only when that require runs. The test build (tsc)
 * imports chalk itself.
 */
const lazyChalkPlugin = {
  name: 'lbctl-lazy-chalk',
  setup(b) {
    b.onResolve({ filter: /^chalk$/ }, (a) => (a.namespace === 'lbctl-lazy' ? undefined : { path: 'chalk', namespace: 'lbctl-lazy' }));
    b.onLoad({ filter: /.*/, namespace: 'lbctl-lazy' }, () => ({
      resolveDir: root,
      loader: 'js',
      contents: `let real;
const load = () => (real ??= require('chalk').default);
// CommonJS as node reads it (the package is "type": "module"): module.exports is the default export.
module.exports = new Proxy(function chalk() {}, {
  get: (_t, p) => Reflect.get(load(), p),
  set: (_t, p, v) => Reflect.set(load(), p, v),
  apply: (_t, self, args) => Reflect.apply(load(), self, args),
});`,
    }));
  },
};

/**
 * Text edits of dependencies, each found exactly once or the build fails (an upgrade that moves
 * the text must be looked at again, not silently lose the edit):
 * - oclif sorts the root plugin's commands with localeCompare on every call: the first
 *   localeCompare in a process builds an ICU collator, 200-350 ms of a 1.5-2.4 s `lbctl list` in
 *   the kernel lab (V8 profile, docs/DEV.md, start-up). Command ids are ASCII (a-z, 0-9, ':'),
 *   where code-unit order is what users see in help anyway.
 */
const PATCHES = [
  {
    file: /node_modules[\\/]@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/,
    from: '.sort((a, b) => a.id.localeCompare(b.id));',
    to: '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));',
  },
  // oclif requires perf_hooks (12 of node's modules) for its DEBUG=perf timings and readline (6)
  // to read a flag from stdin; lbctl's calls use neither: load them on first use.
  {
    file: /node_modules[\\/]@oclif[\\/]core[\\/]lib[\\/]performance\.js$/,
    from: 'const node_perf_hooks_1 = require("node:perf_hooks");',
    to: 'const node_perf_hooks_1 = { get performance() { return require("node:perf_hooks").performance; }, get PerformanceObserver() { return require("node:perf_hooks").PerformanceObserver; } };',
  },
  {
    file: /node_modules[\\/]@oclif[\\/]core[\\/]lib[\\/]parser[\\/]parse\.js$/,
    from: 'const node_readline_1 = require("node:readline");',
    to: 'const node_readline_1 = { get createInterface() { return require("node:readline").createInterface; } };',
  },
  // chalk's supports-color takes `process` as a default import: esbuild's ES module interop then
  // copies every property of the process object onto a new one at start-up (about 50 ms of a
  // 2.3 s restore in the kernel lab, before a single colour is decided). The global is the same object.
  {
    file: /node_modules[\\/]chalk[\\/]source[\\/]vendor[\\/]supports-color[\\/]index\.js$/,
    from: "import process from 'node:process';",
    to: 'const process = globalThis.process;',
  },
];
const patchPlugin = {
  name: 'lbctl-patches',
  setup(b) {
    for (const p of PATCHES) {
      b.onLoad({ filter: p.file }, (a) => {
        const text = readFileSync(a.path, 'utf8');
        const parts = text.split(p.from);
        if (parts.length !== 2) throw new Error(`build: expected one "${p.from}" in ${a.path}, found ${parts.length - 1}`);
        p.done = true;
        return { contents: parts.join(p.to), loader: 'js' };
      });
    }
  },
};

/**
 * The cluster spec's validator (src/cluster/validator.generated.ts, ajv standalone code, about
 * 1 MB) goes to its own file, dist/lbctl-validator.cjs, required only by the commands that load
 * a spec. In the bundle it was 38% of the text every call reads (the IPVS commands never run it).
 */
const validatorSource = path.join(root, 'src', 'cluster', 'validator.generated.ts');
const validatorFile = path.join(dist, 'lbctl-validator.cjs');
const validatorPlugin = {
  name: 'lbctl-validator',
  setup(b) {
    b.onResolve({ filter: /validator\.generated(\.js)?$/ }, () => ({ path: './lbctl-validator.cjs', external: true }));
  },
};

rmSync(dist, { recursive: true, force: true });
const bundleFile = path.join(dist, 'lbctl.cjs');
/** What both bundles share (the product's and restore's fast path's). */
const bundleOptions = {
  bundle: true,
  // One CommonJS file, loaded by bin/bundle.cjs with V8's code cache (see the header). Each
  // command's import() becomes a lazy initialiser: its modules run only when it runs.
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // The native netlink addon is found at run time by its own loader (node-gyp-build). oclif asks
  // for typescript (10 MB) only to find TypeScript sources, which a bundle never does: left
  // outside, it is never read.
  external: ['netlink', 'typescript'],
  // The sources are ES modules: their import.meta.url is the bundle's own file URL.
  define: { 'globalThis.LBCTL_BUNDLE': 'true', 'import.meta.url': '__lbctlImportMetaUrl' },
  banner: { js: `var __lbctlImportMetaUrl = require('node:url').pathToFileURL(__filename).href;` },
  // Less text for V8 to read on every call; names stay, so DEBUG=1 stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  legalComments: 'none',
};
const result = await build({
  ...bundleOptions,
  stdin: { contents: entry, resolveDir: root, sourcefile: 'lbctl-entry.ts', loader: 'ts' },
  outfile: bundleFile,
  plugins: [stubPlugin, patchPlugin, lazyChalkPlugin, validatorPlugin],
  metafile: Boolean(process.env.LBCTL_BUILD_META),
});
// The first line names this build (a hash of the rest): bin/bundle.cjs uses a code cache only if
// it was made from this exact text (V8 itself compares only the source's length).
// Pure ASCII: node then reads the 2.8 MB as a one-byte string (one raw U+009B in a bundled regexp
// made it decode the whole file the slow way, 100-400 ms on the host). \uXXXX means the same
// character in strings, regexps, templates and identifiers; after a backslash it would not.
function asciiOnly(text) {
  return text.replace(/(\\*)([^\x00-\x7f])/g, (all, slashes, ch) => {
    if (slashes.length % 2) throw new Error(`bundle: escaped non-ASCII character U+${ch.charCodeAt(0).toString(16)}; cannot make it ASCII safely`);
    return slashes + [...ch].map((c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0')).join('');
  });
}
for (const p of PATCHES) if (!p.done) throw new Error(`build: the edit of ${p.file} was never applied (the file is no longer bundled?)`);
await build({
  entryPoints: [validatorSource],
  outfile: validatorFile,
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  legalComments: 'none',
});
writeFileSync(validatorFile, asciiOnly(readFileSync(validatorFile, 'utf8')));
/** Make a bundle ASCII and name its build on its first line. */
function stampBundle(file) {
  const body = asciiOnly(readFileSync(file, 'utf8'));
  const buildId = createHash('sha256').update(body).digest('hex').slice(0, 16);
  writeFileSync(file, `// lbctl-build ${buildId}\n${body}`);
}
stampBundle(bundleFile);

/**
 * restore's fast path (src/cli/fast.ts, run by bin/run.js for plain `restore` argv) in a bundle
 * of its own: what a restore runs and nothing of oclif, whose load was about a fifth of a
 * whole restore of 2,000 real servers in the kernel lab.
 */
const fastFile = path.join(dist, 'lbctl-fast.cjs');
const fast = await build({
  ...bundleOptions,
  entryPoints: [path.join(root, 'src', 'cli', 'fast-entry.ts')],
  outfile: fastFile,
  plugins: [stubPlugin, patchPlugin, lazyChalkPlugin, validatorPlugin],
  metafile: true,
});
const oclifInFast = Object.keys(fast.metafile.inputs).filter((f) => /node_modules[\\/]@oclif[\\/]/.test(f));
if (oclifInFast.length) throw new Error(`build: the fast path's bundle must not hold oclif, but holds ${oclifInFast[0]} (an import of @oclif/core reached src/cli/fast.ts)`);
stampBundle(fastFile);

// oclif reads every command's flags from the manifest instead of loading each command to learn them.
// The manifest needs the command classes themselves, not their lazy stand-ins.
const requireHere = createRequire(import.meta.url);
await requireHere(bundleFile).loadAllCommands();
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
// V8's code cache of the bundle, made in a fresh node after a warm-up (src/cli/warm.ts): what a
// call runs first is then already compiled. Stdout/stderr of the warm-up's commands are dropped.
execFileSync(process.execPath, ['-e', `
  const b = require(${JSON.stringify(path.join(root, 'bin', 'bundle.cjs'))}).loadBundle({ produce: true });
  b.exports.warmUp(${JSON.stringify(root)}).then(() => { b.writeCache(); process.exit(0); }, (e) => { console.error(e); process.exit(3); });
`], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
execFileSync(process.execPath, ['-e', `
  const b = require(${JSON.stringify(path.join(root, 'bin', 'bundle.cjs'))}).loadBundle({ produce: true, name: 'lbctl-fast' });
  b.exports.warmUp().then(() => { b.writeCache(); process.exit(0); }, (e) => { console.error(e); process.exit(3); });
`], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
if (process.env.LBCTL_BUILD_META) writeFileSync(process.env.LBCTL_BUILD_META, JSON.stringify(result.metafile));
