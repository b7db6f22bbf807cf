/**
 * Host name → addresses, blocking, as fail2ban's `DNSUtils.dnsToIp` (getaddrinfo for IPv4, then
 * IPv6, results cached for 5 minutes). Through glibc's `getent` so that /etc/hosts, nsswitch and
 * the resolver behave exactly as for Python; the name is passed as an argument, never through a
 * shell. IPv4-mapped results of `ahostsv6` are dropped (Python asks AF_INET6 without V4MAPPED).
 * A name that gives no address at all is logged as fail2ban does (`fail2ban.ipdns`, WARNING
 * `Unable to find a corresponding IP address for <name>: <error>`), once per cache period, since
 * the empty answer is cached too.
 */
import { spawnSync } from 'node:child_process';
import { FAM_IPV4, FAM_IPV6, ipAddr, type IpAddress } from '../shared/ip.js';
import { LEVEL, NULL_LOG, type ServerLog } from './log.js';

export interface Resolver {
  resolve(name: string): readonly IpAddress[];
}

/**
 * Python's `socket.gaierror` text for a failed lookup. getent folds every getaddrinfo error into
 * exit status 2, so "not found" is all it can tell apart from a lookup that did not finish (killed
 * by the timeout or not started), which Python would see as a temporary failure.
 */
const NOT_FOUND = '[Errno -2] Name or service not known';
const TEMPORARY = '[Errno -3] Temporary failure in name resolution';

interface Answer {
  readonly addrs: string[];
  /** Python's error text when the lookup failed. */
  readonly error?: string;
}

export class GetentResolver implements Resolver {
  private readonly cache = new Map<string, { ips: IpAddress[]; until: number }>();

  constructor(
    private readonly now: () => number = () => Date.now() / 1000,
    private readonly timeoutMs = 10000,
    private readonly log: ServerLog = NULL_LOG,
  ) {}

  private query(db: string, name: string): Answer {
    const r = spawnSync('getent', [db, '--', name], { encoding: 'utf8', timeout: this.timeoutMs });
    if (r.status !== 0 || typeof r.stdout !== 'string') return { addrs: [], error: r.status === null ? TEMPORARY : NOT_FOUND };
    const addrs: string[] = [];
    for (const line of r.stdout.split('\n')) {
      const addr = line.split(/\s+/)[0];
      if (addr && !addrs.includes(addr)) addrs.push(addr);
    }
    return { addrs };
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
    const v4 = this.query('ahostsv4', name);
    for (const a of v4.addrs) add(a, FAM_IPV4);
    const v6 = this.query('ahostsv6', name);
    for (const a of v6.addrs) if (!a.toLowerCase().startsWith('::ffff:')) add(a, FAM_IPV6);
    // getent's per-family lookups ask with AI_ADDRCONFIG, which finds nothing on a host with only
    // loopback addresses (a network namespace, a box with no link up); Python's getaddrinfo does
    // not. Then the unspecified-family lookup, which does not filter that way, answers instead.
    if (ips.length === 0) for (const a of this.query('ahosts', name).addrs) if (!a.toLowerCase().startsWith('::ffff:')) add(a, a.includes(':') ? FAM_IPV6 : FAM_IPV4);
    // Python keeps the last family's error (IPv6 before IPv4) and warns only when nothing was found.
    const error = v6.error ?? v4.error;
    if (ips.length === 0 && error !== undefined) {
      this.log.log('fail2ban.ipdns', LEVEL.WARNING, `Unable to find a corresponding IP address for ${name}: ${error}`);
    }
    if (this.cache.size >= 1000) this.cache.clear();
    this.cache.set(name, { ips, until: t + 300 });
    return ips;
  }
}
