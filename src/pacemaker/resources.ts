/**
 * The resource configuration, in two forms that say the same thing:
 *   resources.crm  crmsh syntax, for `crm configure load update resources.crm`;
 *   cib.xml        a whole CIB, for `cibadmin --replace --xml-file` where crmsh is absent,
 *                  and for the offline checks (crm_verify -x, crm_simulate -x).
 * Two layouts (proxy.layout):
 *   clone  the proxy runs on every node (a clone) and the VIPs (a group) run only where it
 *          runs: a planned move moves an address, nothing is stopped or started on the way;
 *   group  the article's cluster: the VIPs and the proxy in one group (colocated, and started
 *          in order: VIP first, the proxy after it), so the proxy stops and starts with a move.
 * Both: an optional preferred node, stickiness, one fence device per node that never runs on
 * the node it fences.
 */
import type { PacemakerModel, PcmkFence } from './model.js';

/** The pacemaker scopes lbctl owns in a running cluster's CIB (install compares these). */
export const OWNED_SCOPES = ['crm_config', 'resources', 'constraints', 'rsc_defaults'] as const;
export type OwnedScope = (typeof OWNED_SCOPES)[number];

const CIB_VALIDATE_WITH = 'pacemaker-3.9';
const PROPERTY_SET = 'cib-bootstrap-options';
/** Below the default stickiness (100): after a failover the resources stay where they are. */
const PREFER_SCORE = 50;
const RSC_DEFAULTS_SET = 'rsc-options';

export function clusterProperties(m: PacemakerModel): Array<[string, string]> {
  return [['stonith-enabled', m.noFencing ? 'false' : 'true'], ['dc-deadtime', m.dcDeadtime]];
}

function fenceParams(f: PcmkFence): Array<[string, string]> {
  const p: Array<[string, string]> = [['pcmk_host_list', f.node], ...f.params.filter(([k]) => k !== 'pcmk_host_list')];
  if (f.delay !== undefined) p.push(['pcmk_delay_base', f.delay]);
  return p;
}

const locationId = (m: PacemakerModel) => `${m.group}-prefers-${m.preferredNode}`;
export const cloneId = (m: PacemakerModel) => `${m.proxy.id}-clone`;
const colocationId = (m: PacemakerModel) => `${m.group}-with-${cloneId(m)}`;
const orderId = (m: PacemakerModel) => `${cloneId(m)}-before-${m.group}`;
/** The group's members: the VIPs, and in the group layout the proxy after them. */
const groupMembers = (m: PacemakerModel) => [...m.vips.map((v) => v.id), ...(m.proxy.layout === 'group' ? [m.proxy.id] : [])];
const fenceAvoidId = (f: PcmkFence) => `${f.id}-avoids-${f.node}`;

/** crmsh configuration syntax. */
export function renderCrm(m: PacemakerModel, header: string[]): string {
  const out = header.map((h) => `# ${h}`);
  out.push(`# Load with: crm configure load update resources.crm`);
  out.push(`property ${PROPERTY_SET}: \\`, ...clusterProperties(m).map(([k, v], i, a) => `\t${k}=${v}${i < a.length - 1 ? ' \\' : ''}`));
  out.push(`rsc_defaults ${RSC_DEFAULTS_SET}: \\`, `\tresource-stickiness=${m.stickiness}`);
  for (const v of m.vips) {
    out.push(`primitive ${v.id} ocf:heartbeat:IPaddr2 \\`, `\tparams ip=${v.ip} cidr_netmask=${v.cidrNetmask} nic=${v.nic} \\`, `\top monitor interval=${m.proxy.monitorInterval} timeout=${m.proxy.monitorTimeout}`);
  }
  out.push(`primitive ${m.proxy.id} ${m.proxy.agent} \\`, `\top monitor interval=${m.proxy.monitorInterval} timeout=${m.proxy.monitorTimeout}`);
  for (const f of m.fencing) {
    out.push(`primitive ${f.id} stonith:${f.agent} \\`, `\tparams ${fenceParams(f).map(([k, v]) => `${k}=${crmValue(v)}`).join(' ')} \\`, `\top monitor interval=${f.monitorInterval}`);
  }
  if (m.proxy.layout === 'clone') out.push(`clone ${cloneId(m)} ${m.proxy.id}`);
  out.push(`group ${m.group} ${groupMembers(m).join(' ')}`);
  if (m.preferredNode) out.push(`location ${locationId(m)} ${m.group} ${PREFER_SCORE}: ${m.preferredNode}`);
  if (m.proxy.layout === 'clone') {
    // The VIPs only where a proxy runs; at start-up the proxy first (Optional: a proxy restart
    // on the other node does not restart the VIPs).
    out.push(`colocation ${colocationId(m)} inf: ${m.group} ${cloneId(m)}`, `order ${orderId(m)} Optional: ${cloneId(m)} ${m.group}`);
  }
  for (const f of m.fencing) out.push(`location ${fenceAvoidId(f)} ${f.id} -inf: ${f.node}`);
  out.push('');
  return out.join('\n');
}

/** crmsh splits params on spaces: quote a value that has any. */
function crmValue(v: string): string {
  return /^[^\s]+$/.test(v) ? v : `"${v}"`;
}

export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const nv = (id: string, name: string, value: string, indent: string) => `${indent}<nvpair id="${xmlEscape(`${id}-${name}`)}" name="${xmlEscape(name)}" value="${xmlEscape(value)}"/>`;

/** The configuration scopes lbctl owns, each as an XML element (indented for cib.xml). */
export function renderScopes(m: PacemakerModel): Record<OwnedScope, string> {
  const i2 = '    ';
  const crmConfig = [`${i2}<crm_config>`, `${i2}  <cluster_property_set id="${PROPERTY_SET}">`,
    ...clusterProperties(m).map(([k, v]) => nv(PROPERTY_SET, k, v, `${i2}    `)), `${i2}  </cluster_property_set>`, `${i2}</crm_config>`];
  const op = (id: string, indent: string, interval: string, timeout?: string) => [`${indent}<operations>`,
    `${indent}  <op id="${id}-monitor-interval-${interval}" name="monitor" interval="${interval}"${timeout ? ` timeout="${timeout}"` : ''}/>`, `${indent}</operations>`];
  const attrs = (id: string, indent: string, pairs: Array<[string, string]>) => [`${indent}<instance_attributes id="${id}-instance_attributes">`,
    ...pairs.map(([k, v]) => nv(`${id}-instance_attributes`, k, v, `${indent}  `)), `${indent}</instance_attributes>`];
  const [pclass, ...rest] = m.proxy.agent.split(':');
  const resources = [`${i2}<resources>`, `${i2}  <group id="${m.group}">`];
  const inner = `${i2}      `;
  for (const v of m.vips) {
    resources.push(`${i2}    <primitive id="${v.id}" class="ocf" provider="heartbeat" type="IPaddr2">`,
      ...attrs(v.id, inner, [['ip', v.ip], ['cidr_netmask', String(v.cidrNetmask)], ['nic', v.nic]]), ...op(v.id, inner, m.proxy.monitorInterval, m.proxy.monitorTimeout), `${i2}    </primitive>`);
  }
  const proxy = (indent: string) => [`${indent}<primitive id="${m.proxy.id}" class="${pclass}" type="${xmlEscape(rest.join(':'))}">`,
    ...op(m.proxy.id, `${indent}  `, m.proxy.monitorInterval, m.proxy.monitorTimeout), `${indent}</primitive>`];
  if (m.proxy.layout === 'group') resources.push(...proxy(`${i2}    `));
  resources.push(`${i2}  </group>`);
  if (m.proxy.layout === 'clone') resources.push(`${i2}  <clone id="${cloneId(m)}">`, ...proxy(`${i2}    `), `${i2}  </clone>`);
  for (const f of m.fencing) {
    resources.push(`${i2}  <primitive id="${f.id}" class="stonith" type="${f.agent}">`, ...attrs(f.id, `${i2}    `, fenceParams(f)), ...op(f.id, `${i2}    `, f.monitorInterval), `${i2}  </primitive>`);
  }
  resources.push(`${i2}</resources>`);
  const constraints = [`${i2}<constraints>`];
  if (m.preferredNode) constraints.push(`${i2}  <rsc_location id="${locationId(m)}" rsc="${m.group}" node="${m.preferredNode}" score="${PREFER_SCORE}"/>`);
  if (m.proxy.layout === 'clone') {
    constraints.push(`${i2}  <rsc_colocation id="${colocationId(m)}" rsc="${m.group}" with-rsc="${cloneId(m)}" score="INFINITY"/>`,
      `${i2}  <rsc_order id="${orderId(m)}" first="${cloneId(m)}" then="${m.group}" kind="Optional"/>`);
  }
  for (const f of m.fencing) constraints.push(`${i2}  <rsc_location id="${fenceAvoidId(f)}" rsc="${f.id}" node="${f.node}" score="-INFINITY"/>`);
  constraints.push(`${i2}</constraints>`);
  const rscDefaults = [`${i2}<rsc_defaults>`, `${i2}  <meta_attributes id="${RSC_DEFAULTS_SET}">`, nv(RSC_DEFAULTS_SET, 'resource-stickiness', String(m.stickiness), `${i2}    `), `${i2}  </meta_attributes>`, `${i2}</rsc_defaults>`];
  return { crm_config: crmConfig.join('\n'), resources: resources.join('\n'), constraints: constraints.join('\n'), rsc_defaults: rscDefaults.join('\n') };
}

/** A whole CIB: the owned scopes, the nodes (corosync node ids), an empty status. */
export function renderCib(m: PacemakerModel, header: string[]): string {
  const s = renderScopes(m);
  return [
    '<?xml version="1.0"?>',
    ...header.map((h) => `<!-- ${h.replace(/--/g, '- -')} -->`),
    `<cib validate-with="${CIB_VALIDATE_WITH}" admin_epoch="0" epoch="1" num_updates="0">`,
    '  <configuration>',
    s.crm_config,
    '    <nodes>',
    ...m.nodes.map((n) => `      <node id="${n.nodeid}" uname="${n.name}"/>`),
    '    </nodes>',
    s.resources,
    s.constraints,
    s.rsc_defaults,
    '  </configuration>',
    '  <status/>',
    '</cib>',
    '',
  ].join('\n');
}
