/**
 * What the iptables and ipset backends share about families: a family is started once even when
 * several batches ask at the same time, and a batch is split by family before anything runs.
 */
import type { IpAddress, IpFamily } from '../../shared/ip.js';
import { FirewallError } from './firewall.js';

/** Starts each family once; concurrent callers share the running start. */
export class Starter {
  /** Families started and not stopped since (the backends delete on stop or when repairing). */
  readonly started = new Set<IpFamily>();
  /** Families whose structure the stock action made (see `Firewall.adopt`): used, never started or stopped. */
  readonly adopted = new Set<IpFamily>();
  private readonly starting = new Map<IpFamily, Promise<void>>();

  constructor(private readonly doStart: (family: IpFamily) => Promise<void>) {}

  /** Whether ban and unban may use the family's structure (started or adopted). */
  active(family: IpFamily): boolean {
    return this.started.has(family) || this.adopted.has(family);
  }

  start(family: IpFamily): Promise<void> {
    if (this.active(family)) return Promise.resolve();
    let p = this.starting.get(family);
    if (p === undefined) {
      p = this.doStart(family)
        .then(() => {
          this.started.add(family);
        })
        .finally(() => this.starting.delete(family));
      this.starting.set(family, p);
    }
    return p;
  }
}

/** The items by family, in their order; a value that is not an IP address is refused. */
export function groupByFamily<T>(tool: string, items: readonly T[], ipOf: (item: T) => IpAddress): Map<IpFamily, T[]> {
  const out = new Map<IpFamily, T[]>();
  for (const item of items) {
    const ip = ipOf(item);
    if (ip.family === undefined) throw new FirewallError(tool, '', `not an IP address: ${JSON.stringify(ip.text)}`);
    const list = out.get(ip.family);
    if (list === undefined) out.set(ip.family, [item]);
    else list.push(item);
  }
  return out;
}
