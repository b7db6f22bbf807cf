/**
 * The ipset backend: what Debian's stock `iptables-ipset` actions (`iptables-ipset.conf`,
 * `iptables-ipset-proto6.conf` — multiport —, `iptables-ipset-proto6-allports.conf`, built on
 * `iptables.conf`) create — per family a `hash:ip` set `f2b-<name>` / `f2b-<name>6` with
 * `timeout <default-ipsettime>`, and per protocol a rule in `<chain>` matching the set — with the
 * addresses changed through one persistent `ipset -` ({@link IpsetSession}): a batch is one write
 * of `add … -exist` / `del … -exist` lines, whatever the number of addresses. The rules in
 * `<chain>` go through `iptables-restore --noflush` ({@link XtablesRunner}), only the missing
 * ones on start and the present ones on stop, as the stock `-C … || -I …` does.
 */
import { parseIp, type IpAddress, type IpFamily } from '../../shared/ip.js';
import { FirewallError, type Firewall, type FirewallEntry } from './firewall.js';
import type { IpsetSession } from './ipsetSession.js';
import type { XtablesRunner } from './restoreSession.js';
import { groupByFamily, Starter } from './xtablesFamilies.js';
import { assertXtablesSpec, chainRules, famSpec, words, type XtablesSpec } from './xtablesSpec.js';

/** The longest timeout ipset takes (the stock `timeout-bantime` uses 0, no timeout, beyond it). */
const MAX_TIMEOUT_SEC = 2147483;
const NO_SET = /does not exist/;

export class IpsetFirewall implements Firewall {
  readonly kind = 'ipset';
  private readonly starter = new Starter((family) => this.doStart(family));

  constructor(
    readonly spec: XtablesSpec,
    private readonly session: IpsetSession,
    private readonly runner: XtablesRunner,
  ) {
    assertXtablesSpec('ipset', spec);
  }

  get families(): ReadonlySet<IpFamily> {
    return this.starter.started;
  }

  prepare(): Promise<void> {
    return this.session.warm();
  }

  adopt(family: IpFamily): void {
    this.starter.adopted.add(family);
  }

  start(family: IpFamily): Promise<void> {
    return this.starter.start(family);
  }

  /** The stock actionstart: `ipset -exist create …`, then the rules of `<chain>` that are missing. */
  private async doStart(family: IpFamily): Promise<void> {
    const f = famSpec(this.spec, family);
    await this.session.run([`create ${f.ipmset} hash:ip timeout ${this.spec.defaultIpsettime} ${f.familyopt} -exist`.replace(/ +/g, ' ')]);
    const lines: string[] = [];
    for (const rule of this.rules(family)) {
      if (!(await this.runner.hasRule(this.spec, family, this.spec.chain, rule))) lines.push(`-I ${this.spec.chain} ${rule.join(' ')}`);
    }
    await this.runner.restore(this.spec, family, lines);
  }

  /** The stock actionstop: the rules of `<chain>` that are there, then flush and destroy the set. */
  async stop(): Promise<void> {
    for (const family of [...this.starter.started].sort()) {
      const lines: string[] = [];
      for (const rule of this.rules(family)) {
        if (await this.runner.hasRule(this.spec, family, this.spec.chain, rule)) lines.push(`-D ${this.spec.chain} ${rule.join(' ')}`);
      }
      await this.runner.restore(this.spec, family, lines);
      const set = famSpec(this.spec, family).ipmset;
      if ((await this.members(family)) !== undefined) await this.session.run([`flush ${set}`, `destroy ${set}`]);
      this.starter.started.delete(family);
    }
  }

  async ban(entries: readonly FirewallEntry[]): Promise<void> {
    const byFamily = groupByFamily('ipset', entries, (e) => e.ip);
    for (const family of [...byFamily.keys()].sort()) await this.start(family);
    await Promise.all([...byFamily].map(([family, list]) => this.banFamily(family, list)));
  }

  private async banFamily(family: IpFamily, list: readonly FirewallEntry[]): Promise<void> {
    const set = famSpec(this.spec, family).ipmset;
    const cmds = list.map((e) => `add ${set} ${e.ip.text} timeout ${this.timeoutOf(e)} -exist`);
    try {
      await this.session.run(cmds);
    } catch (e) {
      // The set or its rule is gone (removed by hand): start the family again and retry once (an
      // adopted family is the stock action's to repair).
      if (!(e instanceof FirewallError) || this.starter.adopted.has(family) || (await this.check(family))) throw e;
      this.starter.started.delete(family);
      await this.start(family);
      await this.session.run(cmds);
    }
  }

  private timeoutOf(e: FirewallEntry): number {
    if (!this.spec.timeouts || e.timeoutSec === undefined) return this.spec.ipsettime;
    const sec = Math.max(1, Math.ceil(e.timeoutSec));
    return sec <= MAX_TIMEOUT_SEC ? sec : 0;
  }

  async unban(addresses: readonly IpAddress[]): Promise<void> {
    const byFamily = groupByFamily('ipset', addresses, (a) => a);
    const cmds = [...byFamily]
      .filter(([family]) => this.starter.active(family))
      .flatMap(([family, list]) => list.map((a) => `del ${famSpec(this.spec, family).ipmset} ${a.text} -exist`));
    await this.session.run(cmds);
  }

  /** The stock actionflush, `ipset flush <ipmset>`, for every started family. */
  async flush(): Promise<void> {
    await this.session.run([...this.starter.started].sort().map((family) => `flush ${famSpec(this.spec, family).ipmset}`));
  }

  /** The stock actioncheck: every rule of `<chain>` (`iptables -C`, which also needs the set). */
  async check(family: IpFamily): Promise<boolean> {
    for (const rule of this.rules(family)) if (!(await this.runner.hasRule(this.spec, family, this.spec.chain, rule))) return false;
    return true;
  }

  async list(): Promise<IpAddress[]> {
    const out: IpAddress[] = [];
    for (const family of [4, 6] as const) out.push(...((await this.members(family)) ?? []));
    return out;
  }

  private rules(family: IpFamily): string[][] {
    const f = famSpec(this.spec, family);
    return chainRules(this.spec, `-m set --match-set ${f.ipmset} src -j ${f.blocktype}`);
  }

  /** The set's members (`ipset save`), undefined when there is no such set. */
  private async members(family: IpFamily): Promise<IpAddress[] | undefined> {
    const set = famSpec(this.spec, family).ipmset;
    const r = await this.session.query(['save', set]);
    if (r.code !== 0) {
      if (NO_SET.test(r.stderr)) return undefined;
      throw new FirewallError('ipset', `save ${set}`, r.stderr || (r.error ?? `exit status ${String(r.code)}`));
    }
    const out: IpAddress[] = [];
    for (const line of r.stdout.split('\n')) {
      const w = words(line);
      if (w[0] === 'add' && w[1] === set && w[2] !== undefined) out.push(parseIp(w[2]));
    }
    return out;
  }
}
