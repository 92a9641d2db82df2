/**
 * The nginx part of a node's expansion (hooked into expand.ts and generate.ts): its
 * nginx.conf, where it is installed, and the default keepalived check that asks this node's
 * nginx on its loopback health listener, as chk_haproxy asks haproxy's monitor frontend.
 */
import { NGINX_DEFAULTS, renderNginx, type NginxHealth } from '../nginx/config.js';
import type { KeepalivedScript } from '../keepalived/config.js';
import type { ClusterSpec, ProxyCheckSpec } from './types.js';

export const NGINX_CHECK_NAME = 'chk_nginx';

/** The health listener, when the spec has nginx and either asks for it or has a default proxy check. */
export function nginxHealth(spec: ClusterSpec): NginxHealth | undefined {
  const h = spec.nginx?.health;
  if (!spec.nginx || h === false) return undefined;
  if (h === undefined && (!spec.vrrp || spec.vrrp.proxy_check === false)) return undefined;
  return { listen: h?.listen ?? NGINX_DEFAULTS.health.listen, uri: h?.uri ?? NGINX_DEFAULTS.health.uri };
}

/** chk_nginx, tuned like chk_haproxy (vrrp.proxy_check), or undefined. */
export function nginxCheckScript(spec: ClusterSpec, defaults: { proxyCheck: Required<ProxyCheckSpec>; curl: string }): KeepalivedScript | undefined {
  const health = nginxHealth(spec);
  if (!spec.vrrp || spec.vrrp.proxy_check === false || !health) return undefined;
  const tune = { ...defaults.proxyCheck, ...(spec.vrrp.proxy_check ?? {}) };
  return {
    name: NGINX_CHECK_NAME,
    command: `${defaults.curl} -fsS -o /dev/null --max-time ${tune.timeout} http://${health.listen}${health.uri}`,
    ...tune,
    extra: [],
  };
}

/** The node's nginx.conf and where `config install` puts it, or undefined without `nginx:`. */
export function nginxFile(spec: ClusterSpec, header: string[]): { name: 'nginx.conf'; content: string; installPath: string } | undefined {
  if (!spec.nginx) return undefined;
  return { name: 'nginx.conf', content: renderNginx(spec.nginx, header, nginxHealth(spec)), installPath: spec.nginx.file ?? NGINX_DEFAULTS.file };
}
