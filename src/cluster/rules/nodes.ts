import { ipOf } from '../expand.js';
import { dupes, type SpecRule } from './rule.js';

export const distinctNodeNames: SpecRule = {
  name: 'distinct-node-names',
  doc: 'every node has its own name (files are generated per node name)',
  check(spec, report) {
    for (const [a, b] of dupes(spec.nodes, (n) => n.name)) report(['nodes', b, 'name'], `node name "${spec.nodes[b].name}" is already used by nodes[${a}]`, 'give every node a distinct name');
  },
};

export const distinctRouterIds: SpecRule = {
  name: 'distinct-router-ids',
  doc: 'every node has its own keepalived router_id (default: its name)',
  check(spec, report) {
    for (const [a, b] of dupes(spec.nodes, (n) => n.router_id ?? n.name)) {
      const n = spec.nodes[b];
      report(['nodes', b, n.router_id ? 'router_id' : 'name'], `router_id "${n.router_id ?? n.name}" is the same as nodes[${a}]'s`, 'every node needs a distinct router_id');
    }
  },
};

export const distinctNodeAddresses: SpecRule = {
  name: 'distinct-node-addresses',
  doc: 'every node has its own address (unicast peers and router ids depend on it)',
  check(spec, report) {
    for (const [a, b] of dupes(spec.nodes, (n) => ipOf(n.address))) report(['nodes', b, 'address'], `address ${ipOf(spec.nodes[b].address)} is the same as nodes[${a}]'s`, 'every node needs its own address');
  },
};

export const oneMasterNode: SpecRule = {
  name: 'one-master-node',
  doc: 'at most one node is declared MASTER',
  check(spec, report) {
    const masters = spec.nodes.flatMap((n, i) => (n.state === 'MASTER' ? [i] : []));
    if (masters.length > 1) report(['nodes', masters[1], 'state'], `second MASTER: nodes[${masters[0]}] is already MASTER`, 'exactly one node may start as MASTER; make the others BACKUP or drop state to derive it');
  },
};
