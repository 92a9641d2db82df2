// StrykerJS over one state-changing module at a time (see stryker/modules.mjs and
// scripts/mutation.sh). Command runner: the project's tests are node:test files compiled by tsc,
// which no Stryker runner plugin drives. Not run in CI: minutes per module on this machine.
import { existsSync } from 'node:fs';
import { modules } from './modules.mjs';

const name = process.env.LBCTL_MUTATION_MODULE ?? 'fs';
const m = modules[name];
if (!m) throw new Error(`stryker: unknown module ${name}; one of ${Object.keys(modules).join(', ')}`);
// A test file named in modules.mjs but not written yet (mut-*.test.ts) is left out, not fatal.
const toSource = (t) => t.replace(/^build\//, '').replace(/\.js$/, '.ts');
// LBCTL_MUTATION_BASELINE=1: without the mut-*.test files, the score the module had before them.
// LBCTL_MUTATION_ONLY_MUT=1: the mut-*.test files alone (fast; a lower bound of the full score).
const baseline = process.env.LBCTL_MUTATION_BASELINE === '1';
const onlyMut = process.env.LBCTL_MUTATION_ONLY_MUT === '1';
const isMut = (t) => /\/mut-[^/]*$/.test(t);
const tests = m.tests.filter((t) => existsSync(toSource(t)) && !(baseline && isMut(t)) && !(onlyMut && !isMut(t)));

export default {
  testRunner: 'command',
  commandRunner: { command: `${m.confine ? 'bash stryker/confine.sh ' : ''}node --test-reporter=dot stryker/run-tests.mjs ${tests.join(' ')}` },
  buildCommand: `bash stryker/build.sh${m.bundle ? ' --bundle' : ''} ${[...tests.map(toSource), ...(m.build ?? [])].join(' ')}`,
  symlinkNodeModules: false,
  mutate: m.mutate,
  coverageAnalysis: 'off',
  concurrency: 1,
  timeoutMS: 20000,
  timeoutFactor: 2,
  incremental: true,
  incrementalFile: `reports/mutation/${name}${baseline ? '.baseline' : onlyMut ? '.mut' : ''}.incremental.json`,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: `reports/mutation/${name}${baseline ? '.baseline' : onlyMut ? '.mut' : ''}.json` },
  htmlReporter: { fileName: `reports/mutation/${name}${baseline ? '.baseline' : onlyMut ? '.mut' : ''}.html` },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  ignorePatterns: ['node_modules', 'build', 'dist', 'test-results', 'reports', '.lab', '.ci', 'ansible', 'oclif.manifest.json'],
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
  disableTypeChecks: true,
};
