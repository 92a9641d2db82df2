/**
 * The real socket transport loads the netlink package's prebuilt addon by path (no raw.js, no
 * node-gyp-build search), and still goes through raw.js when LBCTL_NETLINK_MODULE names it.
 * Either way the socket talks to the kernel: the generic netlink controller resolves its own
 * family ("nlctrl", id 0x10), which every Linux kernel has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { openSocketTransport } from '../../src/ipvs/netlink/socket.js';
import { NlConnection } from '../../src/ipvs/netlink/conn.js';
import { CTRL_CMD_GETFAMILY, decodeAttrs, encodeAttrs, GENL_ID_CTRL } from '../../src/ipvs/netlink/attrs.js';
import { parseGenl } from '../../src/ipvs/netlink/message.js';

const loaded = () => Object.keys(createRequire(import.meta.url).cache);

async function nlctrlId(): Promise<{ id: unknown; port: number }> {
  const t = openSocketTransport();
  const conn = new NlConnection(t, { timeoutMs: 5000 });
  try {
    const msgs = await conn.request({ family: GENL_ID_CTRL, cmd: CTRL_CMD_GETFAMILY, version: 1, attrs: encodeAttrs('ctrl', { familyName: 'nlctrl' }) });
    return { id: decodeAttrs('ctrl', parseGenl(msgs[0].payload).attrs).familyId, port: t.port };
  } finally { conn.close(); }
}

test('the prebuilt addon, required by path: a working socket, raw.js not loaded', async () => {
  const { id, port } = await nlctrlId();
  assert.equal(id, GENL_ID_CTRL);
  assert.equal(port & 0x3fffff, process.pid & 0x3fffff, 'raw.js\'s port scheme: the pid in the low 22 bits');
  const mods = loaded();
  assert.ok(mods.some((m) => m.endsWith(`/netlink/prebuilds/linux-${process.arch}/node.napi.node`)), mods.join('\n'));
  assert.ok(!mods.some((m) => m.endsWith('/netlink/dist/raw.js')), 'raw.js stays unloaded');
  // Several sockets in one process (the parallel dumps): each its own port.
  const ports = new Set<number>();
  for (let i = 0; i < 5; i++) { const t = openSocketTransport(); ports.add(t.port); t.close(); }
  assert.equal(ports.size, 5);
});

test('LBCTL_NETLINK_MODULE: the named module (here raw.js itself) is used instead', async () => {
  process.env.LBCTL_NETLINK_MODULE = 'netlink/dist/raw.js';
  try {
    const { id } = await nlctrlId();
    assert.equal(id, GENL_ID_CTRL);
    assert.ok(loaded().some((m) => m.endsWith('/netlink/dist/raw.js')));
  } finally {
    delete process.env.LBCTL_NETLINK_MODULE;
  }
});
