/**
 * Build time only (scripts/build.mjs, through bin/bundle.cjs): run the paths every call and the
 * hot commands take, so that V8 has compiled them when the build writes the bundle's code cache.
 * Nothing here changes the system: help, a `list` (read only; on a build host without IPVS it
 * fails at once) and the pure parse, plan and encode of a generated rules file.
 * Every import is dynamic: the bundle's entry imports this module, and a static import here
 * would make each call evaluate the rules parser and the netlink encoder at start.
 */
export async function warmUp(root: string): Promise<void> {
  const { run } = await import('@oclif/core');
  for (const argv of [['--help'], ['list', '--help'], ['restore', '--help'], ['list'], ['list', '--json']]) {
    try { await run(argv, root); } catch { /* expected where there is no IPVS */ }
  }
  const { warmRules } = await import('./warm-rules.js');
  await warmRules();
}
