/**
 * `npm run demo`, run inside the kernel lab: the seed article's LVS-DR cluster built with lbctl.
 * A director (the lab guest), two DR real servers and a client (network namespaces on a bridge).
 * Every lbctl step is a real CLI process, printed as the user would type it.
 */
import { execa } from 'execa';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildScenario, clearIpvs } from '../kernel/lib/topology.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const say = (s: string) => console.log(`\n${bold(`# ${s}`)}`);

async function lbctl(...args: string[]): Promise<void> {
  console.log(bold(`$ lbctl ${args.join(' ')}`));
  const r = await execa(process.execPath, [path.join(root, 'bin', 'run.js'), ...args], { reject: false, env: { FORCE_COLOR: process.stdout.isTTY ? '1' : '0' } });
  if (r.stdout) console.log(r.stdout);
  if (r.stderr) console.log(r.stderr);
  if (r.exitCode !== 0) throw new Error(`lbctl ${args.join(' ')} exited ${r.exitCode}`);
}

say('LVS-DR: director 10.77.0.1 with VIP 10.77.0.10; real servers rs1 10.77.0.11, rs2 10.77.0.12; client 10.77.0.100');
const s = await buildScenario('dr', { realServerPrep: false });
try {
  await clearIpvs();
  say('The director: no ICMP redirects (DR)');
  await lbctl('director', 'prep', '--mode', 'dr');
  say('Each real server: arp_ignore/arp_announce and the VIP on lo:0 (here each runs in its namespace: --netns)');
  for (const rs of s.realServers) await lbctl('realserver', 'prep', '--vip', s.vip, '--mode', 'dr', '--netns', rs.ns);
  await lbctl('realserver', 'check', '--vip', s.vip, '--mode', 'dr', '--netns', s.rs1.ns);
  say('The virtual service and its real servers (ipvsadm -A / -a)');
  await lbctl('service', 'add', '-t', `${s.vip}:80`, '-s', 'rr');
  for (const rs of s.realServers) await lbctl('server', 'add', '-t', `${s.vip}:80`, '-r', `${rs.addr}:80`, '-g', '-w', '1');
  say('Idempotent: the same command again changes nothing');
  await lbctl('service', 'add', '-t', `${s.vip}:80`, '-s', 'rr');
  say(`The client fetches http://${s.vip}/ six times`);
  const names = await s.fetch(6);
  names.forEach((n, i) => console.log(`request ${i + 1}: answered by ${n}`));
  say('Counters (the kernel refreshes them every 2 s)');
  await new Promise((r) => setTimeout(r, 2500));
  await lbctl('list', '--stats');
  say('The rules, as ipvsadm-save writes them');
  await lbctl('save');
  const ok = new Set(names).size === 2 && names.every((n, i) => i === 0 || n !== names[i - 1]);
  say(ok ? 'Requests alternated between rs1 and rs2: the DR cluster works.' : `Unexpected answers: ${names.join(', ')}`);
  process.exitCode = ok ? 0 : 1;
} finally {
  await clearIpvs();
  await s.cleanup();
}
