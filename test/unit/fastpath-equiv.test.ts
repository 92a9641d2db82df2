/**
 * The per-rule fast paths (IPv4 by char loop, the rules tokenizer and line parser, byte-store
 * netlink encoding, in-place ACK reading) against the code they replaced, kept verbatim under
 * test/unit/legacy/: over many random and mutated inputs both accept the same inputs with the
 * same result, and refuse the same inputs with the same error (message, code, place, hint, exit).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import { LbctlError } from '../../src/cli/errors.js';
import { canonicalIp, familyOf, formatHostPort, ipToBytes, isIPv4, parseHostPort } from '../../src/net/address.js';
import * as old from './legacy/address.js';
import { parseRules } from '../../src/ipvs/rules.js';
import { parseRules as oldParseRules } from './legacy/rules.js';
import { validateTable } from '../../src/ipvs/validate.js';
import { validateTable as oldValidateTable } from './legacy/validate.js';
import { decodeAttrs, encodeAttrs, type AttrValues } from '../../src/ipvs/netlink/attrs.js';
import { decodeAttrs as oldDecodeAttrs, encodeAttrs as oldEncodeAttrs } from './legacy/attrs.js';
import { encodeGenl, parseMessages } from '../../src/ipvs/netlink/message.js';
import { encodeGenl as oldEncodeGenl, parseMessages as oldParseMessages } from './legacy/message.js';
import { destAttrs, destIdAttrs, opRequest, serviceAttrs, serviceIdAttrs } from '../../src/ipvs/netlink/ipvs.js';

const RUNS = Number(process.env.LBCTL_FUZZ_RUNS ?? 2000);

/** The outcome of fn as comparable data: its value, or the error's visible parts. */
function outcome(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (e) {
    if (e instanceof LbctlError) return { err: e.constructor.name, message: e.message, code: e.code, where: e.where, hint: e.hint, exit: e.exitCode };
    return { crash: (e as Error).constructor.name, message: (e as Error).message };
  }
}

const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '007', '255', '256', '', '1e1', '0x1', ' 1', '１'));
const quadish = fc.array(octet, { minLength: 1, maxLength: 6 }).map((o) => o.join('.'));
const addrish = fc.oneof(
  quadish,
  fc.string({ maxLength: 20 }),
  fc.string({ maxLength: 20, unit: fc.constantFrom(...'0123456789.:abcdefABCDEF[]%'.split('')) }),
  fc.constantFrom('::1', '::', '2001:db8::1', '::ffff:1.2.3.4', 'fe80::1%eth0', '2001:DB8:0:0:0:0:0:1', '1.2.3.4\n', '1.2.3.4 ', 'localhost'),
);

test('isIPv4 accepts exactly what net.isIPv4 accepts', () => {
  fc.assert(fc.property(fc.oneof(quadish, fc.string({ maxLength: 20 }), fc.string({ maxLength: 16, unit: fc.constantFrom(...'0123456789.'.split('')) })), (s) => {
    assert.equal(isIPv4(s), net.isIPv4(s), JSON.stringify(s));
  }), { numRuns: RUNS * 5 });
  for (const s of ['0.0.0.0', '255.255.255.255', '1.2.3.4', '01.2.3.4', '1.2.3.04', '256.1.1.1', '1.2.3', '1.2.3.4.', '.1.2.3', '1..2.3', '1.2.3.4.5', '1.2.3.1000']) {
    assert.equal(isIPv4(s), net.isIPv4(s), s);
  }
});

test('address functions give the old results for any text', () => {
  fc.assert(fc.property(addrish, (s) => {
    assert.deepEqual(outcome(() => canonicalIp(s)), outcome(() => old.canonicalIp(s)), `canonicalIp ${JSON.stringify(s)}`);
    assert.equal(familyOf(s), old.familyOf(s), `familyOf ${JSON.stringify(s)}`);
    assert.equal(formatHostPort(s, 80), old.formatHostPort(s, 80));
    const c = old.canonicalIp(s);
    if (c) assert.deepEqual(ipToBytes(c), old.ipToBytes(c), `ipToBytes ${c}`);
    assert.deepEqual(outcome(() => ipToBytes(s)), outcome(() => old.ipToBytes(s)), `ipToBytes ${JSON.stringify(s)}`);
  }), { numRuns: RUNS });
});

test('parseHostPort gives the old result or the old error', () => {
  const port = fc.oneof(fc.integer({ min: 0, max: 70000 }).map(String), fc.constantFrom('', 'http', 'nosuch', '08', '-1'));
  const text = fc.oneof(
    fc.tuple(addrish, port).map(([a, p]) => `${a}:${p}`),
    fc.tuple(addrish, port).map(([a, p]) => `[${a}]:${p}`),
    addrish,
  );
  fc.assert(fc.property(text, fc.boolean(), (s, portRequired) => {
    assert.deepEqual(outcome(() => parseHostPort(s, { what: 'real server', portRequired })), outcome(() => old.parseHostPort(s, { what: 'real server', portRequired })), JSON.stringify(s));
  }), { numRuns: RUNS });
});

const TOKENS = [
  '-A', '-a', '-C', '-E', '-t', '-u', '-f', '-6', '--sctp-service', '--tcp-service', '--udp-service', '--fwmark-service', '-s', '-p', '-M', '-b', '--pe', '-o', '-r',
  '-g', '-i', '-m', '-w', '-x', '-y', '--add-service', '--add-server', '--clear', '--scheduler', '--persistent', '--netmask', '--sched-flags', '--ops', '--ipv6',
  '--real-server', '--gatewaying', '--ipip', '--masquerading', '--weight', '--u-threshold', '--l-threshold', '--edit-service', '-',
  '--tun-type', '--tun-port', '--tun-csum', '--tun-nocsum', '--tun-remcsum', 'rr', 'wrr', 'sh', 'mh', 'bogus', 'sh-port', 'sh-fallback', 'flag-9', 'ipip', 'gue', 'gre', 'sip',
  '0', '1', '-1', '-5', '300', '65535', '65536', '4294967295', '4294967296', '2678400', '2678401', '99999999999999999999999', '1e3', '0x10', 'NaN',
  '10.0.0.1:80', '10.0.0.1', '10.0.0.1:', ':80', '10.0.0.256:80', '010.0.0.1:80', '[::1]:80', '[::1]', '::1', '[2001:db8::1]:443', '[2001:DB8::1]:443', 'localhost:http', '[]:1',
  '10.0.1.5:80', '10.0.1.5', '10.0.1.6:8080', '255.255.255.0', '255.0.255.0', '999.0.0.0', '64', '128', '129', '#', '#x', 'a#b', '\t', '\r', '\v', '\f', 'é', ' ',
];
const tokenLine = fc.array(fc.constantFrom(...TOKENS), { maxLength: 14 }).map((t) => t.join(fc.sample(fc.constantFrom(' ', '  ', '\t'), 1)[0]));

const VALID = [
  '-A -t 10.0.0.1:80 -s rr -p 300',
  '-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m -w 3',
  '-a -t 10.0.0.1:80 -r 10.0.1.6:8080 -m -w 0 -x 100 -y 10',
  '-A -u 10.0.0.1:53 -s sh -o -b sh-fallback,sh-port',
  '-a -u 10.0.0.1:53 -r 10.0.2.1:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum',
  '-A -t [2001:db8::1]:443 -s mh -p 600 -M 64',
  '-a -t [2001:db8::1]:443 -r [2001:db8:1::5]:443 -g -w 5   # a comment',
  '-A -f 7 -6 -s wlc',
  '-a -f 7 -6 -r 2001:db8::9 -g',
  '--add-service --sctp-service 10.0.0.3:9 --scheduler lc --persistent 60 --netmask 255.255.255.0 --pe sip',
  '-A -f 4294967295 -s rr',
].join('\n');

function mutated(base: string) {
  const edit = fc.tuple(fc.nat(), fc.constantFrom('del', 'ins', 'rep', 'tok', 'dup'), fc.string({ maxLength: 6 }), fc.constantFrom(...TOKENS));
  return fc.array(edit, { minLength: 1, maxLength: 6 }).map((edits) => {
    let s = base;
    for (const [pos, kind, text, tok] of edits) {
      const i = s.length ? pos % s.length : 0;
      if (kind === 'del') s = s.slice(0, i) + s.slice(i + 1 + (pos % 4));
      else if (kind === 'ins') s = s.slice(0, i) + text + s.slice(i);
      else if (kind === 'rep') s = s.slice(0, i) + text + s.slice(i + text.length);
      else if (kind === 'tok') { const w = s.split(' '); w[pos % w.length] = tok; s = w.join(' '); }
      else { const l = s.split('\n'); l.splice(pos % (l.length + 1), 0, l[pos % l.length]); s = l.join('\n'); }
    }
    return s;
  });
}

function sameParse(s: string, trusted: boolean): void {
  const mine = outcome(() => parseRules(s, 'f.rules', { trusted }));
  const theirs = outcome(() => oldParseRules(s, 'f.rules', { trusted }));
  assert.deepEqual(mine, theirs, JSON.stringify(s));
  const t = (mine as { ok?: Parameters<typeof validateTable>[0] }).ok;
  if (t) assert.deepEqual(outcome(() => validateTable(t)), outcome(() => oldValidateTable(t)));
}

test('parseRules: same table or same error as before, for random and mutated rules text', () => {
  assert.ok((outcome(() => parseRules(VALID, 'f')) as { ok?: { services: unknown[] } }).ok?.services.length === 6, 'the base text parses');
  fc.assert(fc.property(fc.array(tokenLine, { maxLength: 8 }).map((l) => l.join('\n')), fc.boolean(), sameParse), { numRuns: RUNS });
  fc.assert(fc.property(mutated(VALID), fc.boolean(), sameParse), { numRuns: RUNS });
  fc.assert(fc.property(fc.string({ maxLength: 300 }), fc.boolean(), sameParse), { numRuns: RUNS });
});

test('parseRules: a token named like an Object.prototype member is an input error now (it crashed before)', () => {
  for (const s of ['-A -t constructor', '-A -t 10.0.0.1:80 -s __proto__', '-a -t 10.0.0.1:80 -r toString']) {
    const e = outcome(() => parseRules(s, 'f')) as { exit?: number };
    assert.ok(e.exit === 3, `${s}: ${JSON.stringify(e)}`);
  }
});

test('netlink: service and dest attribute sets encode to the old bytes and decode to the old values', () => {
  const rules = (mutatedOk: string) => { try { return parseRules(mutatedOk, 'f'); } catch { return undefined; } };
  fc.assert(fc.property(mutated(VALID), fc.integer({ min: 0, max: 0xffffffff }), (s, seq) => {
    const t = rules(s);
    if (!t) return;
    for (const svc of t.services) {
      const sets: AttrValues[] = [{ service: serviceAttrs(svc) }, { service: serviceIdAttrs(svc) }];
      for (const d of svc.destinations) {
        sets.push({ service: serviceIdAttrs(svc), dest: destAttrs(d) });
        // opRequest hands the service identity over encoded: the same bytes on the wire.
        for (const kind of ['addDest', 'editDest', 'delDest'] as const) {
          const want = oldEncodeAttrs('cmd', { service: serviceIdAttrs(svc), dest: kind === 'delDest' ? destIdAttrs(d) : destAttrs(d) });
          assert.deepEqual(encodeAttrs('cmd', opRequest({ kind, service: svc, dest: d }).attrs), want, kind);
        }
      }
      for (const v of sets) {
        const mine = encodeAttrs('cmd', v);
        assert.deepEqual(mine, oldEncodeAttrs('cmd', v));
        assert.deepEqual(decodeAttrs('cmd', mine), oldDecodeAttrs('cmd', mine));
        const m = { family: 0x2a, cmd: 5, version: 1, flags: 5, seq, pid: seq ^ 0x5a5a, attrs: mine };
        assert.deepEqual(encodeGenl(m), oldEncodeGenl(m));
        assert.deepEqual(parseMessages(Buffer.concat([encodeGenl(m), encodeGenl(m)])), oldParseMessages(Buffer.concat([oldEncodeGenl(m), oldEncodeGenl(m)])));
      }
    }
  }), { numRuns: RUNS / 4 });
  // Values out of a field's range throw as before (never written silently).
  for (const v of [{ service: { port: 70000 } }, { service: { af: -1 } }, { dest: { tunPort: 1e6 } }]) {
    assert.deepEqual(outcome(() => encodeAttrs('cmd', v)), outcome(() => oldEncodeAttrs('cmd', v)));
  }
  assert.deepEqual(outcome(() => encodeGenl({ family: 0x10000, cmd: 1, version: 1, flags: 0, seq: 1, pid: 1, attrs: Buffer.alloc(0) })),
    outcome(() => oldEncodeGenl({ family: 0x10000, cmd: 1, version: 1, flags: 0, seq: 1, pid: 1, attrs: Buffer.alloc(0) })));
});

test('netlink: a service changed in place is encoded afresh, not from the cache', () => {
  const svc = parseRules('-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 10.0.1.5:80 -m', 'f').services[0];
  const d = svc.destinations[0];
  const bytes = () => encodeAttrs('cmd', opRequest({ kind: 'addDest', service: svc, dest: d }).attrs);
  const before = bytes();
  for (const change of [() => { svc.port = 81; }, () => { svc.address = '10.0.0.2'; }, () => { svc.protocol = 'udp'; }]) {
    change();
    assert.deepEqual(bytes(), oldEncodeAttrs('cmd', { service: serviceIdAttrs(svc), dest: destAttrs(d) }));
  }
  assert.notDeepEqual(bytes(), before);
});

test('netlink: decoding random attribute bytes gives the old values or the old error', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => {
    const buf = Buffer.from(b);
    assert.deepEqual(outcome(() => decodeAttrs('dest', buf)), outcome(() => oldDecodeAttrs('dest', buf)));
    assert.deepEqual(outcome(() => decodeAttrs('svc', buf)), outcome(() => oldDecodeAttrs('svc', buf)));
    assert.deepEqual(outcome(() => parseMessages(buf)), outcome(() => oldParseMessages(buf)));
  }), { numRuns: RUNS });
});
