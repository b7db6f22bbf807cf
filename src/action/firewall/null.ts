/**
 * The null backend: the firewall's behaviour in memory, for dry runs (`portcullis` reports what it
 * would ban without touching the kernel) and as the reference the contract test holds every real
 * backend to.
 */
import type { IpAddress, IpFamily } from '../../shared/ip.js';
import { FirewallError, type Firewall, type FirewallEntry } from './firewall.js';

export class NullFirewall implements Firewall {
  readonly kind = 'null';
  private readonly started = new Set<IpFamily>();
  /** Per family: the address text (canonical, `/plen` for networks) → the address. */
  private readonly sets = new Map<IpFamily, Map<string, IpAddress>>();

  get families(): ReadonlySet<IpFamily> {
    return this.started;
  }

  adopt(family: IpFamily): void {
    if (!this.sets.has(family)) this.sets.set(family, new Map());
  }

  start(family: IpFamily): Promise<void> {
    this.started.add(family);
    if (!this.sets.has(family)) this.sets.set(family, new Map());
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.started.clear();
    this.sets.clear();
    return Promise.resolve();
  }

  async ban(entries: readonly FirewallEntry[]): Promise<void> {
    const families = entries.map((e) => familyOf(e.ip));
    for (const f of families) await this.start(f);
    entries.forEach((e, i) => this.sets.get(families[i] ?? 4)?.set(e.ip.text, e.ip));
  }

  unban(addresses: readonly IpAddress[]): Promise<void> {
    const families = addresses.map(familyOf);
    addresses.forEach((a, i) => this.sets.get(families[i] ?? 4)?.delete(a.text));
    return Promise.resolve();
  }

  flush(): Promise<void> {
    for (const set of this.sets.values()) set.clear();
    return Promise.resolve();
  }

  check(family: IpFamily): Promise<boolean> {
    return Promise.resolve(this.started.has(family));
  }

  list(): Promise<IpAddress[]> {
    return Promise.resolve([...this.sets.values()].flatMap((s) => [...s.values()]));
  }
}

function familyOf(ip: IpAddress): IpFamily {
  if (ip.family === undefined) throw new FirewallError('null', '', `not an IP address: ${JSON.stringify(ip.text)}`);
  return ip.family;
}
