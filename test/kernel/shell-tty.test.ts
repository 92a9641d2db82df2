/**
 * The interactive shell under tmux inside the kernel lab, against real IPVS: the prompt names
 * the netlink driver, Tab completes live virtual services, `service delete` of a service with
 * an active connection asks (declined: the service stays, as `ipvsadm -Sn` shows), --yes and a
 * service without connections do not ask, `clear` asks too, and `watch list --rate` redraws and exits on q.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { execa } from 'execa';
import { lbctlRoot } from '../../src/cli/inprocess.js';
import { lastLine, TmuxSession, tmpStateDir } from '../support/tmux.js';
import { labSkipReason } from './lib/topology.js';

const skip = labSkipReason();
const bin = path.join(lbctlRoot(), 'bin', 'run.js');
const oracle = async () => (await execa('ipvsadm', ['-Sn'])).stdout;
const SLOW = 60_000; // node under TCG

describe('lbctl shell on a terminal against the kernel (IPVS)', { skip }, () => {
  let server: net.Server;
  let client: net.Socket;
  before(async () => {
    await execa('ipvsadm', ['-C']);
    await execa('ip', ['link', 'del', 'lbsh1']).catch(() => {});
    await execa('ip', ['link', 'add', 'lbsh1', 'type', 'dummy']);
    await execa('ip', ['link', 'set', 'lbsh1', 'up']);
    await execa('ip', ['addr', 'add', '10.0.8.1/24', 'dev', 'lbsh1']);
    server = net.createServer((s) => s.on('error', () => {}));
    await new Promise<void>((r) => server.listen(8080, '10.0.8.1', r));
    await execa('ipvsadm', ['-A', '-t', '10.0.8.100:80', '-s', 'rr']);
    await execa('ipvsadm', ['-a', '-t', '10.0.8.100:80', '-r', '10.0.8.1:8080', '-m']);
    await execa('ipvsadm', ['-A', '-t', '10.0.8.100:81', '-s', 'wlc']);
    // A connection from this host through the VIP: the kernel counts it as active.
    client = net.connect(80, '10.0.8.100');
    client.on('error', () => {});
    const deadline = Date.now() + 10_000;
    while (!/10\.0\.8\.1:8080\s+Masq\s+1\s+[1-9]/.test((await execa('ipvsadm', ['-Ln'])).stdout)) {
      if (Date.now() > deadline) throw new Error(`no active connection:\n${(await execa('ipvsadm', ['-Ln'])).stdout}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  after(async () => {
    client?.destroy();
    await new Promise((r) => server?.close(r));
    await execa('ipvsadm', ['-C']).catch(() => {});
    await execa('ip', ['link', 'del', 'lbsh1']).catch(() => {});
  });

  it('asks before deleting a service with active connections; completion, --yes and watch', async () => {
    const t = await TmuxSession.start([process.execPath, bin, 'shell'], { XDG_STATE_HOME: tmpStateDir('kernel'), LBCTL_HAPROXY_CFG: '/nonexistent/haproxy.cfg', NO_COLOR: '1' });
    const prompt = (s: string) => /^lbctl \S+ \[netlink\]( \[exit \d+\])?>$/.test(lastLine(s).trimEnd());
    try {
      await t.waitFor(prompt, SLOW);
      await t.send('servi del -t 10.0.8', 'Tab');
      await t.waitFor((s) => lastLine(s).endsWith('-t 10.0.8.100:8'), SLOW);
      await t.send('0', 'Enter');
      await t.waitFor(/Delete virtual service TCP 10\.0\.8\.100:80 and its 1 real server\(s\)\? 1 active connection\(s\) will be cut/, SLOW);
      await t.send('n', 'Enter');
      await t.waitFor(/service delete cancelled; nothing changed/, SLOW);
      await t.waitFor((s) => /\[exit 11\]>$/.test(lastLine(s)), SLOW);
      assert.match(await oracle(), /-A -t 10\.0\.8\.100:80 -s rr/);

      // No connections on :81: no question.
      await t.send('servi del -t 10.0.8.100:81', 'Enter');
      await t.waitFor(/deleted/, SLOW);
      assert.doesNotMatch(await oracle(), /10\.0\.8\.100:81/);

      await t.send('watch li --rate -n 1', 'Enter');
      await t.waitFor(/Every 1s: lbctl list --rate/, SLOW);
      await t.waitFor(/10\.0\.8\.100:80/, SLOW);
      await t.send('q');
      await t.waitFor(prompt, SLOW);

      // clear asks by itself (commands/clear.ts); declined, the table stays.
      await t.send('cl', 'Enter');
      await t.waitFor(/Delete all 1 virtual services \(1 active connections will be cut\)\?/, SLOW);
      await t.send('n', 'Enter');
      await t.waitFor(/clear cancelled; nothing changed/, SLOW);
      assert.match(await oracle(), /-A -t 10\.0\.8\.100:80 -s rr/);

      await t.send('servi del -t 10.0.8.100:80 --yes', 'Enter');
      await t.waitFor(/TCP 10\.0\.8\.100:80.*deleted|deleted.*10\.0\.8\.100:80/, SLOW);
      assert.doesNotMatch(await oracle(), /10\.0\.8\.100:80/);
    } finally {
      await t.kill();
    }
  });
});
