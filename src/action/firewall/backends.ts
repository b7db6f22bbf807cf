/**
 * The daemon's native backends for accelerated actions (action/nativeBans.ts): one persistent
 * firewall session per tool path, shared by every jail and action that uses it, and one backend
 * object per action and family (each adopts the structure its action made).
 */
import type { IpFamily } from '../../shared/ip.js';
import type { ProcessSpawner } from '../../system/interactive.js';
import type { NativeBackends } from '../nativeBans.js';
import type { Firewall } from './firewall.js';
import { NftFirewall, stockNftSpec } from './nftables.js';
import { NftSession } from './nftSession.js';
import type { NativeTarget } from './recognise.js';

export class NativeBackendPool implements NativeBackends {
  private readonly nft = new Map<string, NftSession>();

  constructor(private readonly spawner: ProcessSpawner) {}

  firewallFor(target: NativeTarget, family: IpFamily): Firewall | undefined {
    switch (target.kind) {
      case 'nftables': {
        const fam = { addrSet: target.set, addrType: family === 4 ? 'ipv4_addr' : 'ipv6_addr', addrFamily: family === 4 ? 'ip' : 'ip6' };
        const spec = stockNftSpec('adopted', { table: target.table, tableFamily: target.tableFamily, families: { 4: fam, 6: fam } });
        return new NftFirewall(spec, this.nftSession(target.command));
      }
      case 'ipset':
      case 'iptables':
        return undefined;
    }
  }

  /** Ends the sessions (server shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.nft.values()].map((s) => s.close()));
    this.nft.clear();
  }

  private nftSession(command: string): NftSession {
    let s = this.nft.get(command);
    if (s === undefined) this.nft.set(command, (s = new NftSession(this.spawner, { command: [command] })));
    return s;
  }
}
