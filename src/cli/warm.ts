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
  const [{ parseRules }, { plan, toOps }, { opRequest }, { encodeAttrs }, { encodeGenl }] = await Promise.all([
    import('../ipvs/rules.js'), import('../ipvs/plan.js'), import('../ipvs/netlink/ipvs.js'),
    import('../ipvs/netlink/attrs.js'), import('../ipvs/netlink/message.js'),
  ]);
  const lines: string[] = [];
  for (let s = 0; s < 50; s++) {
    const vip = `10.200.0.${s + 1}:80`;
    lines.push(`-A -t ${vip} -s wrr`);
    for (let d = 1; d <= 4; d++) lines.push(`-a -t ${vip} -r 10.99.${s}.${d}:8080 -m -w ${d}`);
  }
  const desired = parseRules(lines.join('\n') + '\n');
  let seq = 0;
  for (const op of toOps(plan({ services: [] }, desired))) {
    const r = opRequest(op);
    encodeGenl({ family: 0x20, cmd: r.cmd, version: 1, flags: 5, seq: ++seq, pid: 0, attrs: encodeAttrs('cmd', r.attrs) });
  }
}
