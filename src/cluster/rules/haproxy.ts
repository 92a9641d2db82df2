import type { SpecPath } from '../load.js';
import type { AclSpec, ClusterSpec, CondSpec, HttpRequestRule, ServerSpec, UseBackendRule } from '../types.js';
import { dupes, type Report, type SpecRule } from './rule.js';

/** The fields any haproxy section may have that the rules look at. */
interface Section {
  name: string;
  acls?: AclSpec[];
  http_request?: HttpRequestRule[];
  use_backend?: UseBackendRule[];
  default_backend?: string;
  stats?: { admin_if?: string };
  servers?: ServerSpec[];
  cookie?: unknown;
}
interface Located { section: Section; path: SpecPath }

const located = (items: Section[] | undefined, key: string): Located[] => (items ?? []).map((section, i) => ({ section, path: ['haproxy', key, i] }));
/** Sections that receive traffic (frontends, listens) and that serve it (backends, listens). */
const frontSections = (spec: ClusterSpec) => [...located(spec.haproxy?.frontends, 'frontends'), ...located(spec.haproxy?.listens, 'listens')];
const backSections = (spec: ClusterSpec) => [...located(spec.haproxy?.backends, 'backends'), ...located(spec.haproxy?.listens, 'listens')];
/** Every section once: frontends, listens, backends. */
const allSections = (spec: ClusterSpec) => [...frontSections(spec), ...located(spec.haproxy?.backends, 'backends')];
const backendNames = (spec: ClusterSpec) => new Set(backSections(spec).map((b) => b.section.name));

// ACL names haproxy predefines.
const PREDEFINED_ACLS = new Set(['FALSE', 'HTTP', 'HTTP_1.0', 'HTTP_1.1', 'HTTP_2.0', 'HTTP_CONTENT', 'HTTP_URL_ABS', 'HTTP_URL_SLASH', 'HTTP_URL_STAR', 'LOCALHOST', 'METH_CONNECT', 'METH_DELETE', 'METH_GET', 'METH_HEAD', 'METH_OPTIONS', 'METH_POST', 'METH_PUT', 'METH_TRACE', 'RDP_COOKIE', 'REQ_CONTENT', 'TRUE', 'WAIT_END']);

export const distinctProxyNames: SpecRule = {
  name: 'distinct-proxy-names',
  doc: 'frontend and listen names are unique, and so are backend and listen names',
  check(spec, report) {
    for (const group of [frontSections(spec), backSections(spec)]) {
      for (const [a, b] of dupes(group, (g) => g.section.name)) report([...group[b].path, 'name'], `proxy name "${group[b].section.name}" is already used by ${group[a].path[1]}[${group[a].path[2]}]`, 'use distinct names');
    }
  },
};

export const reservedHealthName: SpecRule = {
  name: 'reserved-health-name',
  doc: 'no section is named lbctl-health (the generated health frontend)',
  check(spec, report) {
    const taken = frontSections(spec).find((g) => g.section.name === 'lbctl-health');
    if (taken) report(taken.path, 'the name lbctl-health is reserved for the generated health frontend', 'rename the section');
  },
};

function checkCondition(c: CondSpec, path: SpecPath, acls: Set<string>, report: Report): void {
  if (c.if !== undefined && c.unless !== undefined) report(path, 'both if and unless given', 'use one of them');
  for (const field of ['if', 'unless'] as const) {
    const expr = c[field];
    if (!expr) continue;
    for (const tok of expr.split(/\s+/)) {
      const name = tok.replace(/^!/, '');
      if (tok === '||' || tok === 'or' || PREDEFINED_ACLS.has(name) || acls.has(name)) continue;
      report([...path, field], `ACL "${name}" is not defined in this section`, acls.size ? `define it under acls or use one of: ${[...acls].join(', ')}` : 'define it under acls');
    }
  }
}

export const conditionsUseDefinedAcls: SpecRule = {
  name: 'conditions-use-defined-acls',
  doc: 'every if/unless (http_request, use_backend, stats admin_if) names ACLs defined in its section or predefined, and has only one of if/unless',
  check(spec, report) {
    for (const { section, path } of allSections(spec)) {
      const acls = new Set((section.acls ?? []).map((a) => a.name));
      (section.http_request ?? []).forEach((r, i) => checkCondition(r, [...path, 'http_request', i], acls, report));
      (section.use_backend ?? []).forEach((u, i) => checkCondition(u, [...path, 'use_backend', i], acls, report));
      if (section.stats?.admin_if) checkCondition({ if: section.stats.admin_if }, [...path, 'stats', 'admin_if'], acls, report);
    }
  },
};

export const httpRequestArguments: SpecRule = {
  name: 'http-request-arguments',
  doc: 'every http-request action has the arguments it needs (redirect: one target; set/add-header: header and value; del-header: header)',
  check(spec, report) {
    for (const { section, path } of allSections(spec)) {
      (section.http_request ?? []).forEach((r, i) => {
        const rp: SpecPath = [...path, 'http_request', i];
        if (r.action === 'redirect' && [r.location, r.prefix, r.scheme].filter((v) => v !== undefined).length !== 1) report(rp, 'a redirect needs exactly one of location, prefix or scheme', 'add location: http://host/path');
        if ((r.action === 'set-header' || r.action === 'add-header') && (!r.header || r.value === undefined)) report(rp, `${r.action} needs header and value`, 'add header: X-Name and value: word');
        if (r.action === 'del-header' && !r.header) report(rp, 'del-header needs header', 'add header: X-Name');
      });
    }
  },
};

export const backendsDefined: SpecRule = {
  name: 'backends-defined',
  doc: 'use_backend and default_backend name a backend or listen section',
  check(spec, report) {
    const names = backendNames(spec);
    const hint = `define it under haproxy.backends${names.size ? ` or use one of: ${[...names].join(', ')}` : ''}`;
    for (const { section, path } of allSections(spec)) {
      (section.use_backend ?? []).forEach((u, i) => {
        if (!names.has(u.backend)) report([...path, 'use_backend', i, 'backend'], `backend "${u.backend}" is not defined`, hint);
      });
      if (section.default_backend && !names.has(section.default_backend)) report([...path, 'default_backend'], `backend "${section.default_backend}" is not defined`, hint);
    }
  },
};

export const distinctServers: SpecRule = {
  name: 'distinct-servers',
  doc: 'server names are unique in a section, and with cookie persistence so are their cookie values',
  check(spec, report) {
    for (const { section, path } of allSections(spec)) {
      const servers = section.servers ?? [];
      for (const [a, b] of dupes(servers, (s) => s.name)) report([...path, 'servers', b, 'name'], `server name "${servers[b].name}" is already used by servers[${a}]`, 'use distinct server names');
      if (!section.cookie) continue;
      for (const [a, b] of dupes(servers, (s) => s.cookie)) report([...path, 'servers', b, 'cookie'], `cookie value "${servers[b].cookie}" is already used by servers[${a}]`, 'each server needs its own cookie value');
    }
  },
};
