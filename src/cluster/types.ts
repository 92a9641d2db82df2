/**
 * The cluster spec as it reads after schema validation, derived from the schema itself
 * (src/cluster/schema.ts), so the two cannot drift. The names are the ones the renderers and
 * checks import. Defaults are filled later by src/cluster/expand.ts, never here.
 */
import type { Static } from '@sinclair/typebox';
import type {
  acl, clusterSchema, cookie, globalDefs, haproxy, httpchk, httpRequest, instance, lvs, proxyCheckTuning, realServerCheck,
  script, server, stats, vipObject, vrrp,
} from './schema.js';

export type ClusterSpec = Static<typeof clusterSchema>;
export type NodeSpec = ClusterSpec['nodes'][number];

export type VrrpSpec = Static<typeof vrrp>;
export type GlobalDefsSpec = Static<typeof globalDefs>;
export type ScriptSpec = Static<typeof script>;
export type ProxyCheckSpec = Static<typeof proxyCheckTuning>;
export type VipSpec = Static<typeof vipObject>;
export type InstanceSpec = Static<typeof instance>;

export type HaproxySpec = Static<typeof haproxy>;
export type HaproxyGlobalSpec = NonNullable<HaproxySpec['global']>;
export type LogTarget = NonNullable<HaproxyGlobalSpec['log']>[number];
export type FrontendSpec = NonNullable<HaproxySpec['frontends']>[number];
export type BackendSpec = NonNullable<HaproxySpec['backends']>[number];
export type ListenSpec = NonNullable<HaproxySpec['listens']>[number];
/** Options shared by defaults, frontend, backend and listen sections. */
export type ProxyOptions = NonNullable<HaproxySpec['defaults']>;
export type AclSpec = Static<typeof acl>;
export type HttpRequestRule = Static<typeof httpRequest>;
export type CondSpec = Pick<HttpRequestRule, 'if' | 'unless'>;
export type UseBackendRule = NonNullable<FrontendSpec['use_backend']>[number];
export type StatsSpec = Static<typeof stats>;
export type CookieSpec = Static<typeof cookie>;
export type HttpChkSpec = Static<typeof httpchk>;
export type ServerSpec = Static<typeof server>;

export type LvsSpec = Static<typeof lvs>;
export type VirtualServerSpec = LvsSpec['virtual_servers'][number];
export type RealServerSpec = VirtualServerSpec['real_servers'][number];
export type RealServerCheckSpec = Static<typeof realServerCheck>;

export type {
  NginxSpec, StickySpec, NginxUpstreamSpec, NginxServerSpec, NginxLocationSpec, NginxHttpServerSpec, NginxStreamSpec, NginxStreamUpstreamSpec,
} from './schema-nginx.js';
export type { PacemakerSpec, PacemakerVipSpec, FenceDeviceSpec } from './schema-pacemaker.js';
export type DirectorSpec = NonNullable<ClusterSpec['director']>;
export type RealServerNodeSpec = NonNullable<ClusterSpec['real_servers']>[number];
