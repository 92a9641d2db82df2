/**
 * Failover time inside the lab guest without polling: `ip -ts monitor` (run with TZ=UTC) stamps
 * every route and link event with the guest's wall clock as the kernel reports it, the same
 * clock as Date.now() in the test process. A poll of the router's route is an `ip` exec that
 * takes seconds in the TCG guest; the monitor's stamps are microseconds apart.
 *
 * Output shape (iproute2 6.x), one event per stamped line plus its indented continuation lines:
 *   [2026-11-30T19:28:20.275294] 10.97.100.10 proto bgp metric 20
 *   \tnexthop via 10.97.1.11 dev eth0 weight 1
 *   [2026-11-30T19:28:20.286882] 10.97.100.10 via 10.97.1.12 dev eth0 proto bgp metric 20
 *   [2026-11-30T19:28:20.356296] Deleted 10.97.100.10 nhid 7
 *   [2026-11-30T19:28:20.390800] 2: eth0@if9: <BROADCAST,MULTICAST> mtu 1500 ... state DOWN
 * A route through a nexthop object (nhid) is printed with its next hops expanded, as above.
 */

export interface MonitorEvent {
  /** ms since the epoch (fractional: microseconds kept). */
  t: number;
  /** The stamped line without its stamp. */
  head: string;
  /** The continuation lines, trimmed. */
  more: string[];
}

const STAMP = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\]\s?(.*)$/;

/** Split monitor output into events; lines before the first stamp are dropped. */
export function parseMonitor(text: string): MonitorEvent[] {
  const out: MonitorEvent[] = [];
  for (const line of text.split('\n')) {
    const m = STAMP.exec(line);
    if (m) {
      out.push({ t: Date.parse(`${m[1]}Z`) + Number(m[2]) / 1000, head: m[3].trimEnd(), more: [] });
    } else if (out.length && /^\s/.test(line) && line.trim()) {
      out[out.length - 1].more.push(line.trim());
    }
  }
  return out;
}

const esc = (s: string) => s.replace(/\./g, '\\.');

/**
 * The next hops a route event leaves for `dst` (a /32 address): undefined when the event is not
 * about that route, [] when it deletes it.
 */
export function routeHops(e: MonitorEvent, dst: string): string[] | undefined {
  const m = new RegExp(`^(Deleted )?${esc(dst)}(?:/32)?\\s`).exec(`${e.head} `);
  if (!m) return undefined;
  if (m[1]) return [];
  return [e.head, ...e.more].flatMap((l) => [...l.matchAll(/(?:^|\s)via (?:inet )?(\S+)/g)].map((x) => x[1])).sort();
}

/** The first route event at or after `since` whose next hops for `dst` satisfy `ok`. */
export function firstRoute(events: MonitorEvent[], dst: string, since: number, ok: (hops: string[]) => boolean): MonitorEvent | undefined {
  return events.find((e) => {
    if (e.t < since) return false;
    const hops = routeHops(e, dst);
    return hops !== undefined && ok(hops);
  });
}

/** Whether a link event says the interface `dev` is administratively up (undefined: not about it). */
export function linkUp(e: MonitorEvent, dev: string): boolean | undefined {
  const m = new RegExp(`^\\d+: ${esc(dev)}(?:@\\S+)?: <([^>]*)>`).exec(e.head);
  if (!m) return undefined;
  return m[1].split(',').includes('UP');
}

/** The first event at or after `since` where `dev` went down (up = false) or came up (up = true). */
export function firstLink(events: MonitorEvent[], dev: string, since: number, up: boolean): MonitorEvent | undefined {
  return events.find((e) => e.t >= since && linkUp(e, dev) === up);
}
