/**
 * The cluster spec as it reads after schema validation (src/spec/schema.ts is the contract;
 * these types mirror it). Defaults are filled later by src/spec/expand.ts, never here.
 */

export interface ClusterSpec {
  cluster: string;
  nodes: NodeSpec[];
  vrrp?: VrrpSpec;
  haproxy?: HaproxySpec;
  lvs?: LvsSpec;
}

export interface NodeSpec {
  name: string;
  /** "10.0.0.2/24" (the prefix makes the subnet known) or "10.0.0.2". */
  address: string;
  interface: string;
  priority?: number;
  state?: 'MASTER' | 'BACKUP';
  router_id?: string;
}

export interface GlobalDefsSpec {
  notification_email?: string[];
  notification_email_from?: string;
  smtp_server?: string;
  smtp_connect_timeout?: number;
  vrrp_strict?: boolean;
  vrrp_skip_check_adv_addr?: boolean;
  vrrp_garp_interval?: number;
  vrrp_gna_interval?: number;
  vrrp_iptables?: boolean;
  nftables?: boolean;
  script_user?: string;
  enable_script_security?: boolean;
  extra?: string[];
}

export interface ScriptSpec {
  name: string;
  /** A command line, run by keepalived without a shell. */
  script?: string;
  /** Shorthand: succeed when this URL answers 2xx/3xx (rendered as a curl command). */
  http_get?: string;
  interval?: number;
  timeout?: number;
  weight?: number;
  fall?: number;
  rise?: number;
  extra?: string[];
}

export interface ProxyCheckSpec {
  interval?: number;
  timeout?: number;
  weight?: number;
  fall?: number;
  rise?: number;
}

export interface VipSpec {
  address: string;
  device?: string;
  label?: string;
  broadcast?: string;
}

export interface InstanceSpec {
  name: string;
  virtual_router_id: number;
  interface?: string;
  master?: string;
  advert_int?: number;
  authentication?: { type?: 'PASS' | 'AH'; pass: string };
  vips: Array<string | VipSpec>;
  unicast?: boolean;
  preempt?: boolean;
  preempt_delay?: number;
  track_script?: string[];
  track_interface?: string[];
  notify?: { master?: string; backup?: string; fault?: string; stop?: string };
  extra?: string[];
}

export interface VrrpSpec {
  global_defs?: GlobalDefsSpec;
  proxy_check?: ProxyCheckSpec | false;
  scripts?: ScriptSpec[];
  instances: InstanceSpec[];
}

export interface LogTarget { address: string; facility: string; level?: string }

export interface HaproxyGlobalSpec {
  maxconn?: number;
  log?: LogTarget[];
  stats_socket?: { path: string; mode?: string; level?: 'user' | 'operator' | 'admin' };
  user?: string;
  group?: string;
  nbthread?: number;
  daemon?: boolean;
  master_worker?: boolean;
  pidfile?: string;
  chroot?: string;
  extra?: string[];
}

/** Options shared by defaults, frontend, backend and listen sections. */
export interface ProxyOptions {
  mode?: 'http' | 'tcp';
  log_global?: boolean;
  httplog?: boolean;
  tcplog?: boolean;
  dontlognull?: boolean;
  httpclose?: boolean;
  http_server_close?: boolean;
  forwardfor?: boolean | { except?: string };
  redispatch?: boolean;
  retries?: number;
  maxconn?: number;
  timeouts?: Record<string, string>;
  extra?: string[];
}

export interface AclSpec { name: string; criterion: string; flags?: string[]; values: string[] }
export interface CondSpec { if?: string; unless?: string }
export interface HttpRequestRule extends CondSpec {
  action: 'deny' | 'allow' | 'redirect' | 'set-header' | 'add-header' | 'del-header';
  deny_status?: number;
  location?: string;
  prefix?: string;
  scheme?: string;
  code?: number;
  header?: string;
  value?: string;
}
export interface UseBackendRule extends CondSpec { backend: string }
export interface StatsSpec {
  uri: string;
  realm?: string;
  auth?: string[];
  refresh?: string;
  hide_version?: boolean;
  admin_if?: string;
}
export interface CookieSpec {
  name: string;
  mode: 'insert' | 'prefix' | 'rewrite';
  indirect?: boolean;
  nocache?: boolean;
  preserve?: boolean;
  httponly?: boolean;
  secure?: boolean;
}
export interface HttpChkSpec { method?: string; path?: string; version?: string }
export interface ServerSpec {
  name: string;
  address: string;
  weight?: number;
  check?: boolean;
  inter?: string;
  fall?: number;
  rise?: number;
  port?: number;
  cookie?: string;
  backup?: boolean;
  maxconn?: number;
}

export interface FrontendSpec extends ProxyOptions {
  name: string;
  bind: string[];
  acls?: AclSpec[];
  http_request?: HttpRequestRule[];
  use_backend?: UseBackendRule[];
  default_backend?: string;
  stats?: StatsSpec;
}
export interface BackendSpec extends ProxyOptions {
  name: string;
  balance?: string;
  cookie?: CookieSpec;
  httpchk?: HttpChkSpec;
  acls?: AclSpec[];
  http_request?: HttpRequestRule[];
  stats?: StatsSpec;
  servers?: ServerSpec[];
}
export interface ListenSpec extends FrontendSpec, Omit<BackendSpec, keyof FrontendSpec> {}

export interface HaproxySpec {
  /** A loopback-only monitor frontend the default VRRP proxy check asks; false turns it off. */
  health?: { bind?: string; uri?: string } | false;
  global?: HaproxyGlobalSpec;
  defaults?: ProxyOptions;
  frontends?: FrontendSpec[];
  backends?: BackendSpec[];
  listens?: ListenSpec[];
}

export interface RealServerCheckSpec {
  type: 'TCP_CHECK' | 'HTTP_GET' | 'SSL_GET';
  connect_port?: number;
  connect_timeout?: number;
  retries?: number;
  delay_before_retry?: number;
  urls?: Array<{ path: string; digest?: string; status_code?: number }>;
}
export interface RealServerSpec { address: string; port: number; weight?: number; check?: RealServerCheckSpec }
export interface VirtualServerSpec {
  address: string;
  port: number;
  delay_loop?: number;
  lb_algo?: string;
  lb_kind?: 'NAT' | 'DR' | 'TUN';
  persistence_timeout?: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
  sorry_server?: { address: string; port: number };
  real_servers: RealServerSpec[];
  extra?: string[];
}
export interface LvsSpec { virtual_servers: VirtualServerSpec[] }
