/**
 * Host name → addresses, blocking, as fail2ban's `DNSUtils.dnsToIp` (getaddrinfo for IPv4, then
 * IPv6, results cached for 5 minutes). Through glibc's `getent` so that /etc/hosts, nsswitch and
 * the resolver behave exactly as for Python; the name is passed as an argument, never through a
 * shell. IPv4-mapped results of `ahostsv6` are dropped (Python asks AF_INET6 without V4MAPPED).
 */
import { spawnSync } from 'node:child_process';
import { FAM_IPV4, FAM_IPV6, ipAddr, type IpAddress } from '../shared/ip.js';

export interface Resolver {
  resolve(name: string): readonly IpAddress[];
}

export class GetentResolver implements Resolver {
  private readonly cache = new Map<string, { ips: IpAddress[]; until: number }>();

  constructor(
    private readonly now: () => number = () => Date.now() / 1000,
    private readonly timeoutMs = 10000,
  ) {}

  private query(db: string, name: string): string[] {
    const r = spawnSync('getent', [db, '--', name], { encoding: 'utf8', timeout: this.timeoutMs });
    if (r.status !== 0 || typeof r.stdout !== 'string') return [];
    const out: string[] = [];
    for (const line of r.stdout.split('\n')) {
      const addr = line.split(/\s+/)[0];
      if (addr && !out.includes(addr)) out.push(addr);
    }
    return out;
  }

  resolve(name: string): readonly IpAddress[] {
    const t = this.now();
    const hit = this.cache.get(name);
    if (hit && hit.until > t) return hit.ips;
    const ips: IpAddress[] = [];
    const seen = new Set<string>();
    const add = (text: string, fam: number): void => {
      const ip = ipAddr(text, fam);
      if (ip.family !== undefined && !seen.has(ip.text)) {
        seen.add(ip.text);
        ips.push(ip);
      }
    };
    for (const a of this.query('ahostsv4', name)) add(a, FAM_IPV4);
    for (const a of this.query('ahostsv6', name)) if (!a.toLowerCase().startsWith('::ffff:')) add(a, FAM_IPV6);
    if (this.cache.size >= 1000) this.cache.clear();
    this.cache.set(name, { ips, until: t + 300 });
    return ips;
  }
}
