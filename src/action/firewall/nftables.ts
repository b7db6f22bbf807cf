/**
 * The nftables backend: the table, chain, sets and rules Debian's stock `nftables` actions
 * (`nftables-multiport`, `nftables-allports`, custom) create, built from the same [Init] values,
 * changed through one persistent `nft -i` ({@link NftSession}): a ban or unban is one transaction
 * per family whatever the number of addresses. `start` does what the stock actionstart does for
 * a family (in one transaction instead of several commands), `stop` the stock actionstop (rules
 * referencing the set deleted by handle, the set, the table when no set is left in it), `check`
 * the stock actioncheck. Extras, off by default: sets with timeouts (`flags timeout`, entries with
 * `timeout Ns`) and interval sets (`flags interval`, networks as entries; nft refuses an entry
 * overlapping one already in the set, so there an address inside a banned network can neither be
 * banned nor unbanned by itself).
 */
import type { IpAddress, IpFamily } from '../../shared/ip.js';
import { FirewallError, type Firewall, type FirewallEntry } from './firewall.js';
import { elementsOfJson, handlesInChain, setsInTable, type NftSession } from './nftSession.js';

export type NftRuleType = 'multiport' | 'allports' | 'custom';

/** What differs between the families (the stock `[Init?family=inet6]` values). */
export interface NftFamilySpec {
  /** `addr_set`: `addr-set-<name>` / `addr6-set-<name>`. */
  readonly addrSet: string;
  /** `addr_type`: `ipv4_addr` / `ipv6_addr`. */
  readonly addrType: string;
  /** `addr_family`: `ip` / `ip6`. */
  readonly addrFamily: string;
}

/**
 * The stock action's resolved [Init] values (plain data, fail2ban's names in camel case), plus
 * the two extras. `type` is the stock `[Definition] type`.
 */
export interface NftSpec {
  readonly table: string;
  readonly tableFamily: string;
  readonly chain: string;
  readonly chainType: string;
  readonly chainHook: string;
  readonly chainPriority: string;
  readonly type: NftRuleType;
  readonly port: string;
  readonly protocol: string;
  readonly blocktype: string;
  readonly families: { readonly 4: NftFamilySpec; readonly 6: NftFamilySpec };
  /** Set with `flags timeout`; entries get `timeout Ns` from their `timeoutSec`. */
  readonly timeouts: boolean;
  /** Set with `flags interval`: networks as entries. */
  readonly interval: boolean;
}

/** The stock nftables.conf defaults for jail `name`, with `overrides` applied. */
export function stockNftSpec(name: string, overrides: Partial<NftSpec> = {}): NftSpec {
  return {
    table: 'f2b-table',
    tableFamily: 'inet',
    chain: 'f2b-chain',
    chainType: 'filter',
    chainHook: 'input',
    chainPriority: '-1',
    type: 'multiport',
    port: 'ssh',
    protocol: 'tcp',
    blocktype: 'reject',
    families: {
      4: { addrSet: `addr-set-${name}`, addrType: 'ipv4_addr', addrFamily: 'ip' },
      6: { addrSet: `addr6-set-${name}`, addrType: 'ipv6_addr', addrFamily: 'ip6' },
    },
    timeouts: false,
    interval: false,
    ...overrides,
  };
}

const NAME = /^[A-Za-z0-9_.-]+$/;
const TEXT = /^[^;#{}\n\r]*$/;

/** Why the spec cannot be turned into nft commands safely (undefined: it can). */
export function nftSpecError(spec: NftSpec): string | undefined {
  const [f4, f6] = [spec.families[4], spec.families[6]];
  for (const name of [spec.table, spec.chain, f4.addrSet, f6.addrSet]) if (!NAME.test(name)) return `${JSON.stringify(name)} is not an nft name`;
  const texts = [spec.tableFamily, spec.chainType, spec.chainHook, spec.chainPriority, spec.type, spec.port, spec.protocol, spec.blocktype];
  for (const text of [...texts, f4.addrType, f4.addrFamily, f6.addrType, f6.addrFamily]) {
    if (!TEXT.test(text)) return `${JSON.stringify(text)} contains ; # { } or a line break`;
  }
  return undefined;
}

/** Elements per `add element` command (a batch is split into several commands of one line). */
const ELEMENTS_PER_COMMAND = 4096;
const ABSENT = /No such file or directory/;

export class NftFirewall implements Firewall {
  readonly kind = 'nftables';
  private readonly started = new Set<IpFamily>();
  private readonly starting = new Map<IpFamily, Promise<void>>();
  /** Families whose structure the stock action made (see {@link Firewall.adopt}). */
  private readonly adopted = new Set<IpFamily>();

  constructor(
    readonly spec: NftSpec,
    private readonly session: NftSession,
  ) {
    const bad = nftSpecError(spec);
    if (bad !== undefined) throw new FirewallError('nft', '', `invalid nftables spec: ${bad}`);
  }

  get families(): ReadonlySet<IpFamily> {
    return this.started;
  }

  prepare(): Promise<void> {
    return this.session.warm();
  }

  adopt(family: IpFamily): void {
    this.adopted.add(family);
  }

  start(family: IpFamily): Promise<void> {
    if (this.started.has(family) || this.adopted.has(family)) return Promise.resolve();
    let p = this.starting.get(family);
    if (p === undefined) {
      p = this.doStart(family).finally(() => this.starting.delete(family));
      this.starting.set(family, p);
    }
    return p;
  }

  private async doStart(family: IpFamily): Promise<void> {
    if (!(await this.check(family))) await this.session.run(this.startCommands(family));
    this.started.add(family);
  }

  /** The stock actionstart of a family, as nft commands. */
  startCommands(family: IpFamily): string[] {
    const s = this.spec;
    const f = this.fam(family);
    const t = `${s.tableFamily} ${s.table}`;
    const flags = [...(s.interval ? ['interval'] : []), ...(s.timeouts ? ['timeout'] : [])];
    const setBody = `type ${f.addrType};${flags.length > 0 ? ` flags ${flags.join(', ')};` : ''}`;
    return [
      `add table ${t}`,
      `add chain ${t} ${s.chain} { type ${s.chainType} hook ${s.chainHook} priority ${s.chainPriority}; }`,
      `add set ${t} ${f.addrSet} { ${setBody} }`,
      ...this.ruleStats(f).map((stat) => `add rule ${t} ${s.chain} ${stat}`),
    ];
  }

  /** The stock `rule_stat` for each rule the family gets (multiport: one per protocol). */
  private ruleStats(f: NftFamilySpec): string[] {
    const s = this.spec;
    const tail = `${f.addrFamily} saddr @${f.addrSet} ${s.blocktype}`;
    switch (s.type) {
      case 'multiport': {
        const ports = s.port.replace(/:/g, '-').trim();
        return s.protocol.split(/[\s,]+/).filter((p) => p !== '').map((proto) => `${proto} dport { ${ports} } ${tail}`);
      }
      case 'allports':
        return [`meta l4proto { ${s.protocol} } ${tail}`];
      case 'custom':
        return [tail];
    }
  }

  async stop(): Promise<void> {
    for (const family of [...this.started].sort()) {
      const f = this.fam(family);
      const t = `${this.spec.tableFamily} ${this.spec.table}`;
      // -t: without the sets' elements, which can be many.
      const listed = await this.session.query(['-t', '-a', 'list', 'table', this.spec.tableFamily, this.spec.table]);
      if (listed.code === 0) {
        const handles = handlesInChain(listed.stdout, this.spec.chain, f.addrSet);
        const cmds = handles.map((h) => `delete rule ${t} ${this.spec.chain} handle ${h}`);
        if (setsInTable(listed.stdout).includes(f.addrSet)) cmds.push(`delete set ${t} ${f.addrSet}`);
        if (setsInTable(listed.stdout).every((n) => n === f.addrSet)) cmds.push(`delete table ${t}`);
        await this.session.run(cmds);
      } else if (!ABSENT.test(listed.stderr)) throw new FirewallError('nft', 'list table', listed.stderr || (listed.error ?? ''));
      this.started.delete(family);
    }
  }

  async ban(entries: readonly FirewallEntry[]): Promise<void> {
    const byFamily = this.group(entries, (e) => e.ip);
    // One family after the other, so that the chain's rules come in the same order every time.
    for (const family of [...byFamily.keys()].sort()) await this.start(family);
    await Promise.all(
      [...byFamily].map(([family, list]) => {
        const texts = list.map((e) => (this.spec.timeouts && e.timeoutSec !== undefined ? `${e.ip.text} timeout ${Math.max(1, Math.ceil(e.timeoutSec))}s` : e.ip.text));
        return this.session.run(this.elementCommands('add', family, texts));
      }),
    );
  }

  async unban(addresses: readonly IpAddress[]): Promise<void> {
    const byFamily = this.group(addresses, (a) => a);
    await Promise.all(
      [...byFamily].filter(([family]) => this.started.has(family) || this.adopted.has(family)).map(([family, list]) => {
        // add-then-delete in one transaction: an absent address is no error.
        const texts = list.map((a) => a.text);
        return this.session.run([...this.elementCommands('add', family, texts), ...this.elementCommands('delete', family, texts)]);
      }),
    );
  }

  async flush(): Promise<void> {
    const t = `${this.spec.tableFamily} ${this.spec.table}`;
    const cmds = [...this.started].sort().map((family) => `flush set ${t} ${this.fam(family).addrSet}`);
    if (cmds.length > 0) await this.session.run(cmds);
  }

  async check(family: IpFamily): Promise<boolean> {
    const r = await this.session.query(['list', 'chain', this.spec.tableFamily, this.spec.table, this.spec.chain]);
    return r.code === 0 && new RegExp(`@${escapeRe(this.fam(family).addrSet)}[ \\t]`).test(r.stdout);
  }

  async list(): Promise<IpAddress[]> {
    const out: IpAddress[] = [];
    for (const family of [4, 6] as const) {
      const r = await this.session.query(['-j', 'list', 'set', this.spec.tableFamily, this.spec.table, this.fam(family).addrSet]);
      if (r.code === 0) out.push(...elementsOfJson(r.stdout));
      else if (!ABSENT.test(r.stderr)) throw new FirewallError('nft', 'list set', r.stderr || (r.error ?? ''));
    }
    return out;
  }

  private fam(family: IpFamily): NftFamilySpec {
    return family === 4 ? this.spec.families[4] : this.spec.families[6];
  }

  private elementCommands(verb: 'add' | 'delete', family: IpFamily, texts: readonly string[]): string[] {
    const set = `${this.spec.tableFamily} ${this.spec.table} ${this.fam(family).addrSet}`;
    const cmds: string[] = [];
    for (let i = 0; i < texts.length; i += ELEMENTS_PER_COMMAND) cmds.push(`${verb} element ${set} { ${texts.slice(i, i + ELEMENTS_PER_COMMAND).join(', ')} }`);
    return cmds;
  }

  private group<T>(items: readonly T[], ipOf: (item: T) => IpAddress): Map<IpFamily, T[]> {
    const out = new Map<IpFamily, T[]>();
    for (const item of items) {
      const ip = ipOf(item);
      if (ip.family === undefined) throw new FirewallError('nft', '', `not an IP address: ${JSON.stringify(ip.text)}`);
      const list = out.get(ip.family);
      if (list === undefined) out.set(ip.family, [item]);
      else list.push(item);
    }
    return out;
  }
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
