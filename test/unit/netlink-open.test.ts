/**
 * Opening the netlink driver on this machine: a native module that cannot load is an
 * UnavailableError (ENONETLINK) that `--driver auto` turns into the ipvsadm driver with a note;
 * a kernel without IPVS is ENOIPVS (no fallback can help), whatever the driver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openNetlinkDriver } from '../../src/ipvs/netlink/index.js';
import { openDriver } from '../../src/ipvs/select.js';
import { UnavailableError } from '../../src/cli/errors.js';

test('native module missing: ENONETLINK, and auto falls back to ipvsadm saying so', async () => {
  process.env.LBCTL_NETLINK_MODULE = '/nonexistent/netlink-native';
  try {
    const err = await openNetlinkDriver().catch((e) => e);
    assert.ok(err instanceof UnavailableError, String(err));
    assert.equal(err.code, 'ENONETLINK');
    assert.match(err.oneLine(), /native netlink module cannot load.*--driver ipvsadm/);
    const notes: string[] = [];
    const d = await openDriver({ driver: 'auto' }, (m) => notes.push(m));
    assert.equal(d.name, 'ipvsadm');
    assert.match(notes.join('\n'), /netlink driver unavailable/);
    await d.close();
    await assert.rejects(openDriver({ driver: 'netlink' }), (e: any) => e.code === 'ENONETLINK');
  } finally {
    delete process.env.LBCTL_NETLINK_MODULE;
  }
});

test('the real socket opens; without IPVS in the kernel the answer is ENOIPVS', async () => {
  const r = await openNetlinkDriver({ modprobe: false }).then((d) => d, (e) => e);
  if (r instanceof Error) {
    assert.ok(r instanceof UnavailableError, String(r));
    assert.equal((r as UnavailableError).code, 'ENOIPVS');
    assert.match((r as UnavailableError).oneLine(), /kernel has no IPVS.*modprobe ip_vs/);
  } else {
    // This machine has IPVS: the driver works.
    assert.match((await r.getInfo()).version, /^\d+\.\d+\.\d+$/);
    await r.close();
  }
});
