/**
 * Encoding against golden data: the requests ipvsadm itself sent to the kernel (captured with
 * strace in the kernel lab, test/fixtures/netlink/encode.json). lbctl's message for the same
 * change must be byte-identical where lbctl sends the same attributes (add/edit of services
 * and real servers), and otherwise carry a subset of ipvsadm's attributes with equal values
 * (ipvsadm sends a full service even where the kernel reads only its identity).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAttrs, encodeAttrs, IpvsCmd, type AttrValues } from '../../src/ipvs/netlink/attrs.js';
import { encodeGenl, parseGenl, parseMessages } from '../../src/ipvs/netlink/message.js';
import { daemonAttrs, opRequest, timeoutAttrs } from '../../src/ipvs/netlink/ipvs.js';
import { parseRules, parseSelector } from '../../src/ipvs/rules.js';
import type { Op } from '../../src/ipvs/driver.js';
import { makeDestination } from '../../src/ipvs/rules.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const golden = JSON.parse(readFileSync(path.join(root, 'test/fixtures/netlink/encode.json'), 'utf8')) as {
  family: number; cases: Array<{ argv: string[]; requests: string[] }>;
};

/** The selector part of an ipvsadm argv ("-t 10.0.0.1:80", "-f 8 -6"). */
function selectorOf(argv: string[]) {
  const i = argv.findIndex((a) => ['-t', '-u', '--sctp-service', '-f'].includes(a));
  const proto = ({ '-t': 'tcp', '-u': 'udp', '--sctp-service': 'sctp', '-f': 'fwmark' } as const)[argv[i] as '-t'];
  return parseSelector(proto, argv[i + 1], argv.includes('-6'));
}

/** The lbctl request for an ipvsadm command line: { cmd, attrs }. */
function lbctlRequest(argv: string[]): { cmd: number; attrs: AttrValues } {
  const [verb, ...rest] = argv;
  const line = rest.join(' ');
  const sel = () => selectorOf(argv);
  const svcLine = () => {
    const s = sel();
    return s.protocol === 'fwmark' ? `-A -f ${s.fwmark}${s.family === 'inet6' ? ' -6' : ''}` : `-A ${argv[1]} ${argv[2]}`;
  };
  const op = (o: Op) => opRequest(o);
  switch (verb) {
    case '-A': case '-E': {
      const s = parseRules(`-A ${line}`).services[0];
      return op({ kind: verb === '-A' ? 'addService' : 'editService', service: s });
    }
    case '-a': case '-e': {
      const s = parseRules(`${svcLine()}\n-a ${line}`).services[0];
      return op({ kind: verb === '-a' ? 'addDest' : 'editDest', service: s, dest: s.destinations[0] });
    }
    case '-d': {
      const s = parseRules(svcLine()).services[0];
      const r = argv[argv.indexOf('-r') + 1];
      return op({ kind: 'delDest', service: s, dest: makeDestination(sel(), r, {}) });
    }
    case '-D': return op({ kind: 'delService', service: parseRules(svcLine()).services[0] });
    case '-Z': return argv.length > 1 ? op({ kind: 'zero', service: parseRules(svcLine()).services[0] }) : op({ kind: 'zero' });
    case '-C': return op({ kind: 'flush' });
    case '--set': {
      const [tcp, tcpfin, udp] = rest.map(Number);
      // ipvsadm sends 0 for "leave unchanged"; lbctl leaves such an attribute out.
      return { cmd: IpvsCmd.SET_CONFIG, attrs: timeoutAttrs({ tcp: tcp || undefined, tcpfin: tcpfin || undefined, udp: udp || undefined }) };
    }
    case '--start-daemon': {
      const v = (f: string) => argv[argv.indexOf(f) + 1];
      return { cmd: IpvsCmd.NEW_DAEMON, attrs: { daemon: daemonAttrs({ state: argv[1] as 'master', mcastIfn: v('--mcast-interface'), syncId: Number(v('--syncid')) }) } };
    }
    case '--stop-daemon': return { cmd: IpvsCmd.DEL_DAEMON, attrs: { daemon: { state: argv[1] === 'master' ? 1 : 2 } } };
    default: throw new Error(`no mapping for ${verb}`);
  }
}

function assertSubset(mine: AttrValues, theirs: AttrValues, where: string): void {
  for (const [k, v] of Object.entries(mine)) {
    if (v === undefined) continue;
    assert.ok(k in theirs, `${where}: ipvsadm does not send ${k}`);
    if (v && typeof v === 'object' && !Buffer.isBuffer(v) && !('flags' in (v as object))) assertSubset(v as AttrValues, theirs[k] as AttrValues, `${where}.${k}`);
    else assert.deepEqual(v, theirs[k], `${where}.${k}`);
  }
}

/** The raw payload of top-level attribute `id`. */
function rawAttr(buf: Buffer, id: number): Buffer {
  for (let off = 0; off + 4 <= buf.length;) {
    const len = buf.readUInt16LE(off);
    if ((buf.readUInt16LE(off + 2) & 0x3fff) === id) return buf.subarray(off + 4, off + len);
    off += (len + 3) & ~3;
  }
  throw new Error(`no attribute ${id}`);
}

const EXACT = new Set(['-A', '-E', '-a', '-e']);

test('golden encode data covers every write command of the family', () => {
  const cmds = new Set(golden.cases.map((c) => parseGenl(parseMessages(Buffer.from(c.requests[0], 'hex'))[0].payload).cmd));
  for (const c of ['NEW_SERVICE', 'SET_SERVICE', 'DEL_SERVICE', 'NEW_DEST', 'SET_DEST', 'DEL_DEST', 'NEW_DAEMON', 'DEL_DAEMON', 'SET_CONFIG', 'ZERO', 'FLUSH'] as const) {
    assert.ok(cmds.has(IpvsCmd[c]), `no golden request for IPVS_CMD_${c}`);
  }
});

for (const c of golden.cases) {
  test(`encodes like ipvsadm ${c.argv.join(' ')}`, () => {
    assert.equal(c.requests.length, 1, 'one request per ipvsadm command');
    const theirs = Buffer.from(c.requests[0], 'hex');
    const [m] = parseMessages(theirs);
    const g = parseGenl(m.payload);
    const mine = lbctlRequest(c.argv);
    assert.equal(mine.cmd, g.cmd, 'command');
    const bytes = encodeGenl({ family: golden.family, cmd: mine.cmd, version: 1, flags: m.flags, seq: m.seq, pid: m.pid, attrs: encodeAttrs('cmd', mine.attrs) });
    if (EXACT.has(c.argv[0]) && c.argv[0].toUpperCase() === c.argv[0]) {
      assert.equal(bytes.toString('hex'), theirs.toString('hex'), 'byte-identical to ipvsadm');
    } else if (EXACT.has(c.argv[0])) {
      // Real-server writes: the dest nest is byte-identical, the service nest is its identity.
      const mineTop = decodeAttrs('cmd', parseGenl(parseMessages(bytes)[0].payload).attrs);
      const theirTop = decodeAttrs('cmd', g.attrs);
      assert.equal(encodeAttrs('dest', mine.attrs.dest as AttrValues).toString('hex'), rawAttr(g.attrs, 2).toString('hex'), 'dest nest byte-identical');
      assertSubset(mineTop, theirTop, 'attrs');
    } else {
      assertSubset(decodeAttrs('cmd', parseGenl(parseMessages(bytes)[0].payload).attrs), decodeAttrs('cmd', g.attrs), 'attrs');
    }
  });
}
