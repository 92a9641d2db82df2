/**
 * The `pacemaker:` section of the cluster spec (issue 16): a corosync ring over the nodes,
 * floating VIPs, the proxy resource that follows them, and fencing. Hooked into schema.ts as
 * one property; like schema.ts it imports only TypeBox, because scripts/build-validator.mjs
 * transpiles the schema files on their own before tsc runs.
 *
 * Names and values land in corosync.conf, a crm shell script and CIB XML: patterns keep them to
 * one word with no quotes, '#', '<', '&' or newlines, so no value needs escaping to stay put.
 */
import { Type, type Static, type TObject, type TOptional, type TProperties, type TSchema } from '@sinclair/typebox';

type WithOptional<P extends TProperties, R extends keyof P> = { [K in keyof P]: K extends R ? P[K] : TOptional<P[K]> };
function obj<P extends TProperties, const R extends keyof P & string = never>(properties: P, required: readonly R[] = [], description?: string): TObject<WithOptional<P, R>> {
  const props = Object.fromEntries(Object.entries(properties).map(([k, v]) => [k, (required as readonly string[]).includes(k) ? v : Type.Optional(v)]));
  return Type.Object(props, { additionalProperties: false, ...(description ? { description } : {}) }) as unknown as TObject<WithOptional<P, R>>;
}
const Enum = <const T extends readonly (string | number)[]>(values: T, description: string) => Type.Unsafe<T[number]>({ enum: [...values], description });
const list = <T extends TSchema>(items: T, description: string, minItems = 0) => Type.Array(items, { description, ...(minItems ? { minItems } : {}) });

const IPV4 = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}';
const RING_ADDR = Type.String({ pattern: `^${IPV4}$`, description: 'an IPv4 address such as 10.0.0.1' });
/** A pacemaker id: XML ID syntax (starts with a letter or _), which crmsh and cibadmin both accept. */
const RSC_ID = Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,63}$', description: 'a resource id: a letter or _, then letters, digits, _ . - (at most 64)' });
const NODE_NAME = Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'a node name as in nodes[].name' });
/** Pacemaker durations: a number with an optional unit (ms, s, m, h), bare numbers are seconds. */
const PCMK_DURATION = Type.String({ pattern: '^[0-9]{1,9}(ms|s|m|min|h)?$', description: 'a pacemaker duration such as 10s, 500ms or 2m (bare numbers are seconds)' });
const PARAM_VALUE = Type.Unsafe<string | number | boolean>({
  type: ['string', 'number', 'boolean'], pattern: '^[^\\x00-\\x1f\\x7f"\'\\\\<>&#]*$',
  description: 'a value without newlines, quotes, backslashes, <, >, & or #',
});
const PARAMS = Type.Record(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,63}$' }), PARAM_VALUE, {
  description: 'agent parameters name: value (names: lowercase letters, digits, _ -)',
});

export const pacemakerVip = obj({
  id: RSC_ID,
  address: Type.String({ pattern: `^${IPV4}/([0-9]|[12][0-9]|3[0-2])$`, description: 'an IPv4 address with its prefix, such as 172.25.29.100/24' }),
  nic: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,15}$', description: 'the interface to add it to (default: the node\'s interface)' }),
}, ['address'], 'a floating IP {id, address, nic}');

export const pacemakerProxy = obj({
  id: RSC_ID,
  /** lsb:haproxy (Debian's init script), systemd:haproxy, or any systemd unit. */
  agent: Type.String({ pattern: '^(lsb|systemd|service):[A-Za-z0-9_.@-]{1,128}$', description: 'the resource agent: lsb:haproxy, systemd:haproxy or systemd:<unit>' }),
  monitor_interval: PCMK_DURATION,
  monitor_timeout: PCMK_DURATION,
  /** clone (default): the proxy runs on every node and only the VIPs move; group: the article's layout. */
  layout: Enum(['clone', 'group'], 'clone (default: the proxy runs on every node, only the VIPs move; bind to the VIP needs net.ipv4.ip_nonlocal_bind=1) or group (the VIPs and the proxy move together, the proxy started after the VIPs)'),
}, [], 'the proxy resource {id, agent, layout, monitor_interval, monitor_timeout}');

export const fenceDevice = obj({
  id: RSC_ID,
  /** ipmilan, redfish, virsh, vmware_rest, aws, gce, azure_arm, sbd, ... (any installed fence_* agent). */
  agent: Type.String({ pattern: '^fence_[a-z0-9_]{1,60}$', description: 'a fence agent such as fence_ipmilan, fence_redfish, fence_virsh, fence_vmware_rest, fence_aws, fence_gce, fence_azure_arm, fence_sbd' }),
  node: NODE_NAME,
  params: PARAMS,
  delay: PCMK_DURATION,
  monitor_interval: PCMK_DURATION,
}, ['agent', 'node'], 'a fence device {id, agent, node, params, delay}: it powers the named node off');

export const pacemaker = obj({
  transport: Enum(['knet', 'udpu', 'udp'], 'knet (default), udpu or udp'),
  crypto: obj({
    cipher: Enum(['none', 'aes256', 'aes192', 'aes128'], 'none, aes256, aes192 or aes128'),
    hash: Enum(['none', 'md5', 'sha1', 'sha256', 'sha384', 'sha512'], 'none, md5, sha1, sha256, sha384 or sha512'),
  }, [], 'knet crypto {cipher, hash} (default aes256 / sha256)'),
  token: Type.Integer({ minimum: 200, maximum: 60000, description: 'corosync token timeout in ms, 200-60000 (default 1000: a dead node is noticed after token + consensus; with two nodes consensus is 0.2 x token, 200-2000 ms: about 1.2 s)' }),
  two_node: Type.Boolean({ description: 'votequorum two_node: a lone survivor of two keeps quorum (default: true with two nodes)' }),
  ring: Type.Record(Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' }), list(RING_ADDR, 'ring addresses (ring0, ring1, ...)', 1), {
    description: 'ring addresses per node name (default: each node\'s address as ring0)',
  }),
  vips: list(pacemakerVip, 'floating IPs (at least one)', 1),
  proxy: pacemakerProxy,
  preferred_node: NODE_NAME,
  stickiness: Type.Integer({ minimum: 0, maximum: 1000000, description: 'resource-stickiness 0-1000000 (default 100: resources stay where they run after a failover)' }),
  dc_deadtime: PCMK_DURATION,
  fencing: Type.Unsafe<Array<Static<typeof fenceDevice>> | 'none'>({
    anyOf: [list(fenceDevice, 'fence devices, one per node at least', 1), { type: 'string', enum: ['none'] }],
    description: 'fence devices [{id, agent, node, params, delay}], or "none" with acknowledge_no_fencing: true',
  }),
  acknowledge_no_fencing: Type.Boolean({ description: 'true: run without fencing, knowing both nodes may hold the VIP at once after a split' }),
}, ['vips', 'fencing'], 'corosync + pacemaker settings');

export type PacemakerSpec = Static<typeof pacemaker>;
export type PacemakerVipSpec = Static<typeof pacemakerVip>;
export type FenceDeviceSpec = Static<typeof fenceDevice>;
/**
 * What schema.ts embeds: the same JSON schema, with its static type computed here once.
 * Nested inside the whole spec's Static<> the full TypeBox type is deep enough that tsc gives
 * up on it (every type derived from the spec turned `any`).
 */
export const pacemakerSection = Type.Unsafe<PacemakerSpec>(pacemaker);
