/**
 * The iptables backend, for hosts without ipset: the chain and rules Debian's stock `iptables`
 * (`iptables.conf`: type oneport), `iptables-multiport` and `iptables-allports` create — chain
 * `f2b-<name>` ending in `-j <returntype>`, a jump to it from `<chain>` per protocol, and per ban
 * `-I f2b-<name> 1 -s IP -j <blocktype>` — with a batch applied as ONE `iptables-restore
 * --noflush` transaction per family.
 *
 * iptables-restore aborts a whole batch on one failing `-D`, and iptables' rules are a list (the
 * stock ban inserts a duplicate for an address banned twice). So ban and unban first read the
 * chain (`iptables -S f2b-<name>`), then ban inserts only absent addresses and unban deletes
 * exactly the rules listed for the given sources (by their listed text; a bulk unban by rule
 * number). Between the read and the write nothing else changes the chain: the daemon runs a
 * jail's action work one at a time (its per-jail serial queue), and no other jail uses
 * `f2b-<name>`. Should someone change it by hand in that window of a few milliseconds, a delete
 * by text fails the transaction as a whole, nothing of it applied, and the retried batch reads
 * again; a bulk delete by number could hit the wrong rule of that chain — the price of 40 times
 * faster mass unbans, for a chain only the daemon is meant to write.
 */
import { parseIp, type IpAddress, type IpFamily } from '../../shared/ip.js';
import { FirewallError, type Firewall, type FirewallEntry } from './firewall.js';
import type { XtablesRunner } from './restoreSession.js';
import { assertXtablesSpec, chainRules, famSpec, type XtablesSpec } from './xtablesSpec.js';
import { groupByFamily, Starter } from './xtablesFamilies.js';

/** A rule of the chain as `iptables -S` listed it: its number (from 1) and its text after `-A CHAIN`. */
interface ListedRule {
  readonly num: number;
  readonly spec: string;
}

/** Deletes beyond which rules are deleted by number (see `deleteLines`). */
const BULK_DELETE = 64;

export class IptablesFirewall implements Firewall {
  readonly kind = 'iptables';
  private readonly chainName: string;
  private readonly starter = new Starter((family) => this.doStart(family));

  constructor(
    readonly spec: XtablesSpec,
    private readonly runner: XtablesRunner,
  ) {
    assertXtablesSpec('iptables', spec);
    this.chainName = `f2b-${spec.name}`;
  }

  get families(): ReadonlySet<IpFamily> {
    return this.starter.started;
  }

  adopt(family: IpFamily): void {
    this.starter.adopted.add(family);
  }

  start(family: IpFamily): Promise<void> {
    return this.starter.start(family);
  }

  /** The stock actionstart: the chain with its return rule, then the jump rules that are missing. */
  private async doStart(family: IpFamily): Promise<void> {
    const lines: string[] = [];
    if (!(await this.runner.hasRule(this.spec, family, this.chainName, ['-j', this.spec.returntype]))) {
      if ((await this.runner.listChain(this.spec, family, this.chainName)) === undefined) lines.push(`-N ${this.chainName}`);
      lines.push(`-A ${this.chainName} -j ${this.spec.returntype}`);
    }
    for (const rule of this.rules()) {
      if (!(await this.runner.hasRule(this.spec, family, this.spec.chain, rule))) lines.push(`-I ${this.spec.chain} ${rule.join(' ')}`);
    }
    await this.runner.restore(this.spec, family, lines);
  }

  /** The stock actionstop: jump rules, flush, chain — those present, in one transaction per family. */
  async stop(): Promise<void> {
    for (const family of [...this.starter.started].sort()) {
      const lines: string[] = [];
      for (const rule of this.rules()) {
        if (await this.runner.hasRule(this.spec, family, this.spec.chain, rule)) lines.push(`-D ${this.spec.chain} ${rule.join(' ')}`);
      }
      if ((await this.runner.listChain(this.spec, family, this.chainName)) !== undefined) lines.push(`-F ${this.chainName}`, `-X ${this.chainName}`);
      await this.runner.restore(this.spec, family, lines);
      this.starter.started.delete(family);
    }
  }

  async ban(entries: readonly FirewallEntry[]): Promise<void> {
    const byFamily = groupByFamily('iptables', entries, (e) => e.ip);
    for (const family of [...byFamily.keys()].sort()) await this.start(family);
    for (const [family, list] of byFamily) {
      let present = await this.banRules(family);
      if (present === undefined) {
        // The chain is gone (removed by hand): start the family again (an adopted one is the action's to repair).
        if (this.starter.adopted.has(family)) throw new FirewallError('iptables', `-S ${this.chainName}`, `chain ${this.chainName} does not exist`);
        this.starter.started.delete(family);
        await this.start(family);
        present = (await this.banRules(family)) ?? new Map<string, ListedRule[]>();
      }
      const blocktype = famSpec(this.spec, family).blocktype;
      const lines: string[] = [];
      for (const { ip } of list) {
        if (present.has(ip.text)) continue;
        present.set(ip.text, []);
        lines.push(`-I ${this.chainName} 1 -s ${ip.text} -j ${blocktype}`);
      }
      await this.runner.restore(this.spec, family, lines);
    }
  }

  async unban(addresses: readonly IpAddress[]): Promise<void> {
    const byFamily = groupByFamily('iptables', addresses, (a) => a);
    for (const [family, list] of byFamily) {
      if (!this.starter.active(family)) continue;
      const present = (await this.banRules(family)) ?? new Map<string, ListedRule[]>();
      const gone = [...new Set(list.map((a) => a.text))].flatMap((text) => present.get(text) ?? []);
      await this.runner.restore(this.spec, family, this.deleteLines(gone));
    }
  }

  /** The stock actionflush, `iptables -F f2b-<name>` (the return rule goes too, as there). */
  async flush(): Promise<void> {
    for (const family of [...this.starter.started].sort()) await this.runner.restore(this.spec, family, [`-F ${this.chainName}`]);
  }

  /** The stock actioncheck: every jump rule in `<chain>`. */
  async check(family: IpFamily): Promise<boolean> {
    for (const rule of this.rules()) if (!(await this.runner.hasRule(this.spec, family, this.spec.chain, rule))) return false;
    return true;
  }

  async list(): Promise<IpAddress[]> {
    const out: IpAddress[] = [];
    for (const family of [4, 6] as const) for (const text of ((await this.banRules(family)) ?? new Map<string, ListedRule[]>()).keys()) out.push(parseIp(text));
    return out;
  }

  /**
   * `-D` lines for the rules. Up to {@link BULK_DELETE} by their text, which fails the transaction
   * should the chain have changed since it was read; beyond, by number, from the last rule up (the
   * nf_tables variant finds a rule by its text in time linear in the chain's length: 2,000 deletes
   * by text took 1.7 s here, by number 46 ms). Numbers are right because nothing changes the
   * chain between the read and this transaction (see the file comment).
   */
  private deleteLines(rules: readonly ListedRule[]): string[] {
    if (rules.length <= BULK_DELETE) return rules.map((r) => `-D ${this.chainName} ${r.spec}`);
    return rules.map((r) => r.num).sort((a, b) => b - a).map((n) => `-D ${this.chainName} ${n}`);
  }

  private rules(): string[][] {
    return chainRules(this.spec, `-j ${this.chainName}`);
  }

  /**
   * The chain's rules with a source, by the source's text (fail2ban's, no `/32` or `/128`).
   * Undefined when the chain is missing.
   */
  private async banRules(family: IpFamily): Promise<Map<string, ListedRule[]> | undefined> {
    const listed = await this.runner.listChain(this.spec, family, this.chainName);
    if (listed === undefined) return undefined;
    const out = new Map<string, ListedRule[]>();
    const prefix = `-A ${this.chainName} `;
    listed.forEach((line, i) => {
      const rule = { num: i + 1, spec: line.slice(prefix.length) };
      const src = /(?:^| )-s (\S+)/.exec(rule.spec)?.[1];
      if (src === undefined) return;
      const text = parseIp(src.replace(family === 4 ? /\/32$/ : /\/128$/, '')).text;
      const rules = out.get(text);
      if (rules === undefined) out.set(text, [rule]);
      else rules.push(rule);
    });
    return out;
  }
}
