/** Human views of the IPVS table, like `ipvsadm -Ln` with --stats / --rate. */
import { table } from '../cli/output.js';
import { formatHostPort } from '../net/address.js';
import { serviceLabel, type IpvsTable, type ServiceStats } from './model.js';

const FWD = { masq: 'Masq', droute: 'Route', tunnel: 'Tunnel' } as const;

/** ipvsadm's unit scaling (K/M/G/T) unless --exact. */
export function human(n: number, exact: boolean): string {
  if (exact || n < 100000) return String(n);
  const units = ['K', 'M', 'G', 'T', 'P'];
  let v = n;
  let u = -1;
  while (v >= 100000 && u < units.length - 1) { v /= 1000; u++; }
  return `${Math.round(v)}${units[u]}`;
}

export interface ListView { stats?: boolean; rate?: boolean; exact?: boolean }

export function renderTable(t: IpvsTable, v: ListView = {}): string {
  const exact = Boolean(v.exact);
  const cols = v.stats ? ['Conns', 'InPkts', 'OutPkts', 'InBytes', 'OutBytes'] : v.rate ? ['CPS', 'InPPS', 'OutPPS', 'InBPS', 'OutBPS'] : undefined;
  const nums = (s?: ServiceStats) => {
    const z = s ?? { conns: 0, inpkts: 0, outpkts: 0, inbytes: 0, outbytes: 0, cps: 0, inpps: 0, outpps: 0, inbps: 0, outbps: 0 };
    const vals = v.stats ? [z.conns, z.inpkts, z.outpkts, z.inbytes, z.outbytes] : [z.cps, z.inpps, z.outpps, z.inbps, z.outbps];
    return vals.map((n) => human(n, exact));
  };
  const rows: string[][] = [];
  const head = cols ? ['Prot LocalAddress:Port', ...cols] : ['Prot LocalAddress:Port', 'Scheduler', 'Flags', '', ''];
  rows.push(cols ? ['  -> RemoteAddress:Port', '', '', '', '', ''] : ['  -> RemoteAddress:Port', 'Forward', 'Weight', 'ActiveConn', 'InActConn']);
  for (const s of t.services) {
    const label = serviceLabel(s).replace(' ', '  ');
    if (cols) rows.push([label, ...nums(s.stats)]);
    else {
      const flags = [s.persistence ? `persistent ${s.persistence}` : '', s.persistence && s.netmask !== (s.family === 'inet6' ? '128' : '255.255.255.255') ? `mask ${s.netmask}` : '', s.schedFlags.length ? `(${s.schedFlags.join(',')})` : '', s.onePacket ? 'ops' : '', s.pe ? `pe ${s.pe}` : ''].filter(Boolean).join(' ');
      rows.push([label, s.scheduler, flags, '', '']);
    }
    for (const d of s.destinations) {
      const name = `  -> ${formatHostPort(d.address, d.port)}`;
      if (cols) rows.push([name, ...nums(d.stats)]);
      else rows.push([name, FWD[d.forward] + (d.forward === 'tunnel' && d.tunType && d.tunType !== 'ipip' ? `/${d.tunType}` : ''), String(d.weight), String(d.activeConns ?? 0), String(d.inactiveConns ?? 0)]);
    }
  }
  return table(rows, { head, align: cols ? ['left', 'right', 'right', 'right', 'right', 'right'] : ['left', 'left', 'left', 'right', 'right'] });
}
