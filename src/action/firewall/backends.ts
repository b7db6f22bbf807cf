/**
 * The daemon's native backends for accelerated actions (action/nativeBans.ts): one persistent
 * firewall session per tool path, shared by every jail and action that uses it, and one backend
 * object per action and family (each adopts the structure its action made).
 */
import type { IpFamily } from '../../shared/ip.js';
import type { ProcessSpawner } from '../../system/interactive.js';
import type { NativeBackends } from '../nativeBans.js';
import type { Firewall } from './firewall.js';
import { IpsetFirewall } from './ipset.js';
import { IpsetSession } from './ipsetSession.js';
import { IptablesFirewall } from './iptables.js';
import { NftFirewall, stockNftSpec } from './nftables.js';
import { NftSession } from './nftSession.js';
import type { NativeTarget } from './recognise.js';
import { XtablesRunner } from './restoreSession.js';
import { stockXtablesSpec, xtablesSpecError } from './xtablesSpec.js';

export class NativeBackendPool implements NativeBackends {
  private readonly nft = new Map<string, NftSession>();
  private ipset: IpsetSession | undefined;
  private xtables: XtablesRunner | undefined;

  constructor(private readonly spawner: ProcessSpawner) {}

  firewallFor(target: NativeTarget, family: IpFamily): Firewall | undefined {
    switch (target.kind) {
      case 'nftables': {
        const fam = { addrSet: target.set, addrType: family === 4 ? 'ipv4_addr' : 'ipv6_addr', addrFamily: family === 4 ? 'ip' : 'ip6' };
        const spec = stockNftSpec('adopted', { table: target.table, tableFamily: target.tableFamily, families: { 4: fam, 6: fam } });
        return new NftFirewall(spec, this.nftSession(target.command));
      }
      case 'ipset':
        return this.ipsetFor(target, family);
      case 'iptables':
        return this.iptablesFor(target, family);
    }
  }

  /** The stock ipset shape: `ipset -exist add SET IP timeout N` on a set the action made. */
  private ipsetFor(target: Extract<NativeTarget, { kind: 'ipset' }>, family: IpFamily): Firewall | undefined {
    if (target.command !== 'ipset' || target.timeout === undefined) return undefined;
    const fam = { ...stockXtablesSpec('x').families[family], ipmset: target.set };
    const spec = stockXtablesSpec('adopted', { ipsettime: target.timeout, families: { 4: fam, 6: fam } });
    if (xtablesSpecError(spec) !== undefined) return undefined;
    this.ipset ??= new IpsetSession(this.spawner);
    return new IpsetFirewall(spec, this.ipset, (this.xtables ??= new XtablesRunner(this.spawner)));
  }

  /** The stock iptables shape: `iptables -w -I f2b-NAME 1 -s IP -j BLOCKTYPE` on the action's chain. */
  /** The command may be the family's tool or its legacy / nft variant, whose `-restore` is then used. */
  private iptablesFor(target: Extract<NativeTarget, { kind: 'iptables' }>, family: IpFamily): Firewall | undefined {
    const tool = family === 4 ? /^iptables(?:-legacy|-nft)?$/ : /^ip6tables(?:-legacy|-nft)?$/;
    if (!tool.test(target.command) || !target.chain.startsWith('f2b-')) return undefined;
    const fam = { ...stockXtablesSpec('x').families[family], iptables: target.command, blocktype: target.ruleTail.join(' ') };
    const spec = stockXtablesSpec(target.chain.slice(4), { lockingopt: target.lockArgs.join(' '), families: { 4: fam, 6: fam } });
    if (xtablesSpecError(spec) !== undefined) return undefined;
    return new IptablesFirewall(spec, (this.xtables ??= new XtablesRunner(this.spawner)));
  }

  /** Ends the sessions (server shutdown). */
  async close(): Promise<void> {
    await Promise.all([...this.nft.values()].map((s) => s.close()));
    await this.ipset?.close();
    this.nft.clear();
    this.ipset = undefined;
  }

  private nftSession(command: string): NftSession {
    let s = this.nft.get(command);
    if (s === undefined) this.nft.set(command, (s = new NftSession(this.spawner, { command: [command] })));
    return s;
  }
}
