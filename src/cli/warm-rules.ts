/**
 * Build time only: the pure per-rule work of a restore (parse a generated rules file, plan it
 * against an empty table, encode every write as netlink bytes), run before a code cache is
 * written so that V8 has compiled it. Shared by the main bundle's warm-up (src/cli/warm.ts) and
 * the fast path's bundle (src/cli/fast-entry.ts); it imports nothing of oclif. Nothing here
 * touches the system.
 */
export async function warmRules(): Promise<void> {
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
