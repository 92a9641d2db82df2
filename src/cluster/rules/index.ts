/**
 * The spec rules: checks the schema cannot express, run after it and before anything is
 * generated or written, so a spec that fails one changes nothing. Every finding names the
 * spec path and its file:line:col.
 */
import type { SpecFinding, SpecLocator } from '../load.js';
import type { ClusterSpec } from '../types.js';
import { realServerCheckUrls, distinctRealServers, distinctVirtualServers } from './lvs.js';
import { backendsDefined, conditionsUseDefinedAcls, distinctProxyNames, distinctServers, httpRequestArguments, reservedHealthName } from './haproxy.js';
import { distinctNodeAddresses, distinctNodeNames, distinctRouterIds, oneMasterNode } from './nodes.js';
import { balancedQuotesInRawLines } from './raw-lines.js';
import { NGINX_RULES } from './nginx.js';
import { directorNodesExist, distinctMachineNames, ipvsServicesValid, oneOwnerPerVirtualService, realServerRoles } from './roles.js';
import type { SpecRule } from './rule.js';
import { pacemakerDistinctIds, pacemakerFencing, pacemakerKnownNodes, pacemakerSectionMatchesHa } from './pacemaker.js';
import { TIER_RULES } from './tier.js';
import {
  distinctInstanceNames, distinctPriorities, distinctScriptNames, distinctVrids, failingCheckMovesVip, instanceMasterIsNode,
  masterHasTopPriority, scriptSource, strictWithoutAuth, trackedScriptsDefined, unicastPeers, vipInNodeSubnet, vipLabelMatchesDevice, vipsUnique,
} from './vrrp.js';

export type { SpecRule } from './rule.js';

/** In this order; findings at the same place in the file keep it. */
export const SPEC_RULES: readonly SpecRule[] = [
  distinctNodeNames, distinctRouterIds, distinctNodeAddresses, oneMasterNode,
  scriptSource, distinctScriptNames, distinctInstanceNames, distinctVrids, instanceMasterIsNode, distinctPriorities,
  masterHasTopPriority, unicastPeers, strictWithoutAuth, trackedScriptsDefined, vipsUnique, vipLabelMatchesDevice,
  vipInNodeSubnet, failingCheckMovesVip,
  distinctProxyNames, reservedHealthName, conditionsUseDefinedAcls, httpRequestArguments, backendsDefined, distinctServers,
  realServerCheckUrls, distinctRealServers, distinctVirtualServers,
  balancedQuotesInRawLines,
  ...NGINX_RULES,
  pacemakerSectionMatchesHa, pacemakerKnownNodes, pacemakerFencing, pacemakerDistinctIds,
  ...TIER_RULES,
  directorNodesExist, ipvsServicesValid, oneOwnerPerVirtualService, distinctMachineNames, realServerRoles,
];

/** Runs every rule; findings in file order. */
export function checkSpec(spec: ClusterSpec, loc: SpecLocator, rules: readonly SpecRule[] = SPEC_RULES): SpecFinding[] {
  const findings: SpecFinding[] = [];
  for (const rule of rules) rule.check(spec, (path, message, hint) => findings.push({ ...loc.finding(path, message, hint), rule: rule.name }));
  return findings.sort((a, b) => a.line - b.line || a.col - b.col);
}
