import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseVip, parseVips } from '../../src/host/vip.js';
import { confKey, effective, keyToPath, pathToKey, sysctlWriteCommand } from '../../src/host/sysctl.js';
import { realServerDesired, realServerPersistSpec } from '../../src/host/realserver.js';
import { directorDesired, directorPersistSpec } from '../../src/host/director.js';
import { renderPersist, OWNER_MARK } from '../../src/host/persist.js';
import { nextLabel, validIfName } from '../../src/host/links.js';
import { shellQuote } from '../../src/host/quote.js';
import { UsageError } from '../../src/cli/errors.js';

test('parseVip: IPv4, canonical, /32 only for real servers', () => {
  assert.deepEqual(parseVip('192.168.118.100', { hostOnly: true }), { address: '192.168.118.100', prefix: 32 });
  assert.deepEqual(parseVip('10.0.0.1/32', { hostOnly: true }), { address: '10.0.0.1', prefix: 32 });
  assert.deepEqual(parseVip('10.0.0.1/24', { hostOnly: false }), { address: '10.0.0.1', prefix: 24 });
  for (const bad of ['10.0.0.300', 'abc', '', '10.0.0.1/33', '10.0.0.1/0', '127.0.0.1', '224.0.0.1', '255.255.255.255', '0.0.0.0', '2001:db8::1']) {
    assert.throws(() => parseVip(bad, { hostOnly: false }), (e: unknown) => e instanceof UsageError && e.exitCode === 2, bad);
  }
  assert.throws(() => parseVip('10.0.0.1/24', { hostOnly: true }), /must be \/32/);
  assert.throws(() => parseVip('2001:db8::1', { hostOnly: true }), /IPv6 VIPs are not supported/);
});

test('parseVips: repeated and comma-separated, de-duplicated', () => {
  assert.deepEqual(parseVips(['10.0.0.1,10.0.0.2', '10.0.0.1'], { hostOnly: true }).map((v) => v.address), ['10.0.0.1', '10.0.0.2']);
  assert.throws(() => parseVips(['10.0.0.1/24', '10.0.0.1/32'], { hostOnly: false }), /different prefixes/);
});

test('sysctl keys: dotted interface names become "/" in the key and stay dots in /proc/sys', () => {
  assert.equal(confKey('eth0.100', 'arp_ignore'), 'net.ipv4.conf.eth0/100.arp_ignore');
  assert.equal(keyToPath('net.ipv4.conf.eth0/100.arp_ignore'), '/proc/sys/net/ipv4/conf/eth0.100/arp_ignore');
  assert.equal(pathToKey('/proc/sys/net/ipv4/conf/eth0.100/arp_ignore'), 'net.ipv4.conf.eth0/100.arp_ignore');
  assert.deepEqual(sysctlWriteCommand('net.ipv4.ip_forward', '1', 'ns1'), ['ip', 'netns', 'exec', 'ns1', 'sysctl', '-w', 'net.ipv4.ip_forward=1']);
  assert.deepEqual(sysctlWriteCommand('net.ipv4.ip_forward', '1'), ['sysctl', '-w', 'net.ipv4.ip_forward=1']);
});

test('effective values follow the kernel: max for ARP/rp_filter, OR for send_redirects', () => {
  assert.equal(effective('arp_ignore', '1', '0'), 1);
  assert.equal(effective('arp_ignore', '0', '2'), 2);
  assert.equal(effective('rp_filter', '0', '1'), 1);
  assert.equal(effective('send_redirects', '0', '1'), 1);
  assert.equal(effective('send_redirects', '1', '0'), 1);
  assert.equal(effective('send_redirects', '0', '0'), 0);
});

test('real server desired state: DR on lo with labels, TUN on tunl0 with rp_filter', () => {
  const vips = [parseVip('10.0.0.100', { hostOnly: true })];
  const dr = realServerDesired('dr', vips, 'eth0');
  assert.deepEqual(dr.sysctls.map((s) => `${s.key}=${s.value}`), [
    'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2',
    'net.ipv4.conf.lo.arp_ignore=1', 'net.ipv4.conf.lo.arp_announce=2',
    'net.ipv4.conf.eth0.arp_ignore=1', 'net.ipv4.conf.eth0.arp_announce=2',
  ]);
  assert.deepEqual(dr.addresses, [{ dev: 'lo', vip: vips[0], label: true }]);
  const tun = realServerDesired('tun', vips, undefined);
  assert.ok(tun.sysctls.some((s) => s.key === 'net.ipv4.conf.all.rp_filter' && s.value === '0' && s.accept.includes('2')));
  assert.ok(tun.sysctls.some((s) => s.key === 'net.ipv4.conf.tunl0.arp_ignore'));
  assert.deepEqual(tun.linksUp, ['tunl0']);
  assert.equal(tun.addresses[0].dev, 'tunl0');
});

test('director desired state: NAT forwards, DR turns redirects off on all, default and the interface', () => {
  assert.deepEqual(directorDesired('nat', [], undefined).sysctls.map((s) => s.key), ['net.ipv4.ip_forward']);
  assert.deepEqual(directorDesired('dr', [], 'ens33').sysctls.map((s) => `${s.key}=${s.value}`), [
    'net.ipv4.conf.all.send_redirects=0', 'net.ipv4.conf.default.send_redirects=0', 'net.ipv4.conf.ens33.send_redirects=0',
  ]);
  assert.deepEqual(directorDesired('tun', [], undefined).sysctls, []);
});

test('persist files: headers, sysctl.d lines, a oneshot unit with idempotent ip addr replace', () => {
  const vips = parseVips(['10.0.0.100', '10.0.0.101'], { hostOnly: true });
  const files = renderPersist(realServerPersistSpec('dr', vips, realServerDesired('dr', vips, 'eth0')));
  assert.deepEqual(files.map((f) => f.rel), [
    'etc/sysctl.d/90-lbctl-realserver.conf', 'etc/systemd/system/lbctl-realserver.service', 'etc/systemd/system/multi-user.target.wants/lbctl-realserver.service',
  ]);
  const [sysctl, unit, wants] = files;
  assert.ok(sysctl.content!.startsWith(OWNER_MARK));
  assert.match(sysctl.content!, /^net\.ipv4\.conf\.all\.arp_ignore = 1$/m);
  assert.match(sysctl.content!, /^net\.ipv4\.conf\.eth0\.arp_announce = 2$/m);
  assert.ok(unit.content!.startsWith(OWNER_MARK));
  assert.match(unit.content!, /^Type=oneshot$/m);
  assert.match(unit.content!, /^RemainAfterExit=yes$/m);
  assert.match(unit.content!, /^ExecStart=\/usr\/sbin\/ip addr replace 10\.0\.0\.100\/32 dev lo label lo:0$/m);
  assert.match(unit.content!, /^ExecStart=\/usr\/sbin\/ip addr replace 10\.0\.0\.101\/32 dev lo label lo:1$/m);
  assert.match(unit.content!, /^ExecStop=-\/usr\/sbin\/ip addr del 10\.0\.0\.100\/32 dev lo$/m);
  assert.match(unit.content!, /^After=systemd-sysctl\.service/m);
  assert.match(unit.content!, /^WantedBy=multi-user\.target$/m);
  assert.equal(wants.symlinkTo, '/etc/systemd/system/lbctl-realserver.service');

  const tun = renderPersist(realServerPersistSpec('tun', vips.slice(0, 1), realServerDesired('tun', vips.slice(0, 1), undefined)));
  const mod = tun.find((f) => f.rel === 'etc/modules-load.d/lbctl-realserver.conf');
  assert.ok(mod && /^ipip$/m.test(mod.content!));
  assert.match(tun.find((f) => f.rel.endsWith('.service') && f.content)!.content!, /^ExecStartPre=-\/usr\/sbin\/modprobe ipip$/m);

  const dvips = parseVips(['10.0.0.100/24'], { hostOnly: false });
  const dir = renderPersist(directorPersistSpec('dr', dvips, 'ens33', directorDesired('dr', dvips, 'ens33')));
  const dunit = dir.find((f) => f.rel === 'etc/systemd/system/lbctl-director.service')!;
  assert.match(dunit.content!, /^ExecStart=\/usr\/sbin\/ip addr replace 10\.0\.0\.100\/24 dev ens33 label ens33:0$/m);
  assert.match(dunit.content!, /^BindsTo=sys-subsystem-net-devices-ens33\.device$/m);
  // NAT without a VIP: only the sysctl file, no unit.
  assert.deepEqual(renderPersist(directorPersistSpec('nat', [], undefined, directorDesired('nat', [], undefined))).map((f) => f.rel), ['etc/sysctl.d/90-lbctl-director.conf']);
});

test('labels: first free lo:N, none when it would pass 15 bytes', () => {
  const link = { name: 'lo', up: true, linkType: 'loopback', noArp: true, addresses: [
    { address: '127.0.0.1', prefix: 8, label: 'lo', scope: 'host' }, { address: '10.0.0.1', prefix: 32, label: 'lo:0', scope: 'global' },
  ] };
  assert.equal(nextLabel(link), 'lo:1');
  assert.equal(nextLabel(link, new Set(['lo:1'])), 'lo:2');
  assert.equal(nextLabel({ ...link, name: 'abcdefghijklmn' }), undefined);
  assert.ok(validIfName('eth0.100'));
  for (const bad of ['', 'a/b', 'a:b', 'a b', 'abcdefghijklmnop', '..']) assert.ok(!validIfName(bad), bad);
});

test('shellQuote quotes only what needs it', () => {
  assert.equal(shellQuote(['ip', '-n', 'ns1', 'addr', 'add', '10.0.0.1/32', 'dev', 'lo', 'label', 'lo:0']), 'ip -n ns1 addr add 10.0.0.1/32 dev lo label lo:0');
  assert.equal(shellQuote(['echo', "it's"]), `echo 'it'\\''s'`);
});
