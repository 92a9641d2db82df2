'use strict';
/**
 * Loads the product bundle (dist/lbctl.cjs, one CommonJS file built by scripts/build.mjs) with
 * V8's code cache (dist/lbctl-<build>-<node>-<arch>.v8cache, made by the build).
 *
 * Why: every lbctl call pays node + lbctl start-up, and scripts and Ansible call lbctl hundreds
 * of times. Loaded as ES modules, node resolved, read, compiled and linked ~25 files per call;
 * in the kernel lab (qemu TCG, where compiling is slow) that loading was about 40% of a `list`
 * (docs/DEV.md, start-up). From the code cache V8 takes the already compiled bytecode of
 * everything the build's warm-up ran, and parses nothing else until it is called.
 *
 * Without a usable cache (another node version, another build, a V8 that rejects it) the
 * bundle is compiled as any CommonJS file: slower, same behaviour.
 */
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const Module = require('node:module');

const dist = path.join(__dirname, '..', 'dist');
const file = path.join(dist, 'lbctl.cjs');

/** The code cache file for this build of a bundle on this node. */
function cacheFile(source, name) {
  // First line: "// lbctl-build <id>" (scripts/build.mjs). V8 checks only the source's length.
  const m = /^\/\/ lbctl-build ([0-9a-f]+)\n/.exec(source.slice(0, 64));
  return m ? path.join(dist, `${name}-${m[1]}-${process.version}-${process.arch}.v8cache`) : undefined;
}

/**
 * Evaluate a bundle once per process and register it as the module `dist/<name>.cjs`, so that
 * oclif's own require() of that file (package.json oclif targets) returns the same exports.
 * name: `lbctl` (the product) or `lbctl-fast` (restore's fast path, src/cli/fast.ts).
 * `produce`: compile without the cache and return a function that writes one (the build).
 */
function loadBundle({ produce = false, name = 'lbctl' } = {}) {
  const file = path.join(dist, `${name}.cjs`);
  const known = require.cache[file];
  if (known && !produce) return { exports: known.exports, cache: 'loaded' };
  // The build makes the bundle pure ASCII, where latin1 reads the same text as utf8, without
  // utf8's decoding pass over 1.3 MB (tens of milliseconds on every call).
  const source = fs.readFileSync(file, 'latin1');
  const cachePath = cacheFile(source, name);
  let cachedData;
  if (!produce && cachePath) {
    try { cachedData = fs.readFileSync(cachePath); } catch { /* no cache for this node: compile */ }
  }
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file,
    cachedData,
    importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  const mod = new Module(file, module);
  mod.filename = file;
  require.cache[file] = mod;
  try {
    script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
  } catch (e) {
    delete require.cache[file];
    throw e;
  }
  mod.loaded = true;
  const cache = cachedData ? (script.cachedDataRejected ? 'rejected' : 'used') : 'none';
  return {
    exports: mod.exports,
    cache,
    writeCache: produce && cachePath ? () => fs.writeFileSync(cachePath, script.createCachedData()) : undefined,
  };
}

module.exports = { loadBundle, bundleFile: file };
