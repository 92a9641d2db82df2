/**
 * Entry of dist/lbctl-fast.cjs (scripts/build.mjs): the fast path of `lbctl restore`
 * (src/cli/fast.ts) and its build-time warm-up. Nothing here may import oclif:
 * test/unit/package.test.ts checks that the bundle holds none.
 */
export { fastRestore, parseRestoreArgv } from './fast.js';

/** Build time only: run what a restore runs (without a kernel) before the code cache is written. */
export async function warmUp(): Promise<void> {
  const { warmRules } = await import('./warm-rules.js');
  await warmRules();
  const [{ parseRestoreArgv }, { loadTableText }, { plan, planJson, renderPlan }, { contractMessage, withContract, toLbctlError }, { InputError }] = await Promise.all([
    import('./fast.js'), import('../ipvs/detect-format.js'), import('../ipvs/plan.js'), import('./contract.js'), import('./errors.js'),
  ]);
  parseRestoreArgv(['rules.txt', '--dry-run', '--timeout', '2m', '--json'], {});
  const lines: string[] = [];
  for (let s = 0; s < 20; s++) {
    lines.push(`-A -t 10.201.0.${s + 1}:80 -s wrr`);
    for (let d = 1; d <= 4; d++) lines.push(`-a -t 10.201.0.${s + 1}:80 -r 10.98.${s}.${d}:8080 -g -w ${d}`);
  }
  const desired = await loadTableText(lines.join('\n') + '\n', 'warm.rules');
  const changes = plan({ services: [] }, desired);
  renderPlan(changes);
  const result = { ...planJson(changes), changed: true, dryRun: true };
  JSON.stringify(withContract(result, (r) => contractMessage('restore', r, ['Plan: 100 to add, 0 to change, 0 to delete.'])));
  toLbctlError(new InputError('warm', { code: 'EWARM' })).oneLine();
}
