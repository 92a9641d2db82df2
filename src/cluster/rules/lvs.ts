import type { SpecPath } from '../load.js';
import { dupes, type SpecRule } from './rule.js';

export const realServerCheckUrls: SpecRule = {
  name: 'real-server-check-urls',
  doc: 'HTTP_GET/SSL_GET checks have at least one url, each with digest or status_code; TCP_CHECK has none',
  check(spec, report) {
    (spec.lvs?.virtual_servers ?? []).forEach((vs, i) => vs.real_servers.forEach((rs, j) => {
      const c = rs.check;
      if (!c) return;
      const cp: SpecPath = ['lvs', 'virtual_servers', i, 'real_servers', j, 'check'];
      if ((c.type === 'HTTP_GET' || c.type === 'SSL_GET') && !(c.urls ?? []).length) report(cp, `${c.type} needs at least one url`, 'add urls: [{path: /, status_code: 200}]');
      if (c.type === 'TCP_CHECK' && c.urls?.length) report([...cp, 'urls'], 'TCP_CHECK takes no urls', 'use HTTP_GET or SSL_GET, or drop urls');
      (c.urls ?? []).forEach((u, k) => {
        if (u.digest === undefined && u.status_code === undefined) report([...cp, 'urls', k], 'a url needs digest or status_code', 'add status_code: 200');
      });
    }));
  },
};

export const distinctRealServers: SpecRule = {
  name: 'distinct-real-servers',
  doc: 'a real server address:port appears once per virtual server',
  check(spec, report) {
    (spec.lvs?.virtual_servers ?? []).forEach((vs, i) => {
      const rs = vs.real_servers;
      for (const [a, b] of dupes(rs, (r) => `${r.address}:${r.port}`)) report(['lvs', 'virtual_servers', i, 'real_servers', b], `real server ${rs[b].address}:${rs[b].port} is listed twice (first at real_servers[${a}])`, 'remove the duplicate');
    });
  },
};

export const distinctVirtualServers: SpecRule = {
  name: 'distinct-virtual-servers',
  doc: 'a virtual server address:port/protocol appears once',
  check(spec, report) {
    for (const [a, b] of dupes(spec.lvs?.virtual_servers ?? [], (v) => `${v.address}:${v.port}/${v.protocol ?? 'TCP'}`)) report(['lvs', 'virtual_servers', b], `virtual server is listed twice (first at virtual_servers[${a}])`, 'remove the duplicate');
  },
};
