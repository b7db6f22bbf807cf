/**
 * What Debian's stock `iptables.conf` family (`iptables`, `iptables-multiport`,
 * `iptables-allports`, and through `iptables-ipset.conf` the ipset actions) is built from: the
 * resolved [Init] values as plain data, and the rules its `_ipt_add_rules` puts into `<chain>`,
 * one per protocol (`for proto in $(echo '<protocol>' | sed 's/,/ /g')`), as argument lists the
 * way the shell splits the unquoted template text.
 */
import type { IpFamily } from '../../shared/ip.js';
import { FirewallError } from './firewall.js';

/** `[Definition] type`: which `ipt_<type>/_chain_rule` the rules use. */
export type IptRuleType = 'oneport' | 'multiport' | 'allports';

/** What differs between the families (the stock `[Init?family=inet6]` values). */
export interface XtFamilySpec {
  /** `iptables`' command without `<lockingopt>`: `iptables` / `ip6tables`. */
  readonly iptables: string;
  /** `blocktype`: `REJECT --reject-with icmp-port-unreachable` / `… icmp6-port-unreachable`. */
  readonly blocktype: string;
  /** ipset actions only: `ipmset`, `f2b-<name>` / `f2b-<name>6`. */
  readonly ipmset: string;
  /** ipset actions only: `familyopt`, empty / `family inet6`. */
  readonly familyopt: string;
}

/** The stock [Init] values (fail2ban's names in camel case). */
export interface XtablesSpec {
  readonly name: string;
  readonly chain: string;
  readonly type: IptRuleType;
  readonly port: string;
  readonly protocol: string;
  /** `pre-rule`, put before every rule in `<chain>`. */
  readonly preRule: string;
  readonly returntype: string;
  readonly lockingopt: string;
  /** ipset actions: `default-ipsettime`, the set's default timeout (0: none). */
  readonly defaultIpsettime: number;
  /** ipset actions: `ipsettime`, the timeout of every added entry when `timeouts` is off. */
  readonly ipsettime: number;
  /** Extra (off by default): entries get their own `timeoutSec` as ipset timeout. */
  readonly timeouts: boolean;
  readonly families: { readonly 4: XtFamilySpec; readonly 6: XtFamilySpec };
}

/** The stock iptables.conf / iptables-ipset.conf defaults for jail `name`, with `overrides` applied. */
export function stockXtablesSpec(name: string, overrides: Partial<XtablesSpec> = {}): XtablesSpec {
  return {
    name,
    chain: 'INPUT',
    type: 'oneport',
    port: 'ssh',
    protocol: 'tcp',
    preRule: '',
    returntype: 'RETURN',
    lockingopt: '-w',
    defaultIpsettime: 0,
    ipsettime: 0,
    timeouts: false,
    families: {
      4: { iptables: 'iptables', blocktype: 'REJECT --reject-with icmp-port-unreachable', ipmset: `f2b-${name}`, familyopt: '' },
      6: { iptables: 'ip6tables', blocktype: 'REJECT --reject-with icmp6-port-unreachable', ipmset: `f2b-${name}6`, familyopt: 'family inet6' },
    },
    ...overrides,
  };
}

const NAME = /^[A-Za-z0-9_.-]{1,28}$/;
/** No line breaks (a new restore line), quotes, escapes or shell syntax (the template's words would differ). */
const TEXT = /^[^\n\r"'\\$`;|&<>(){}]*$/;

/** Why the spec cannot be turned into commands safely (undefined: it can). */
export function xtablesSpecError(spec: XtablesSpec): string | undefined {
  const fams = [spec.families[4], spec.families[6]];
  for (const n of [`f2b-${spec.name}`, spec.chain, spec.returntype, ...fams.flatMap((f) => [f.ipmset, f.iptables])]) {
    if (!NAME.test(n)) return `${JSON.stringify(n)} is not a chain, set or command name`;
  }
  const texts = [spec.type, spec.port, spec.protocol, spec.preRule, spec.lockingopt, ...fams.flatMap((f) => [f.blocktype, f.familyopt])];
  for (const t of texts) if (!TEXT.test(t)) return `${JSON.stringify(t)} contains a line break, a quote or shell syntax`;
  for (const n of [spec.defaultIpsettime, spec.ipsettime]) if (!Number.isInteger(n) || n < 0) return `${n} is not a timeout`;
  return undefined;
}

/** Throws a FirewallError for a spec {@link xtablesSpecError} refuses. */
export function assertXtablesSpec(tool: string, spec: XtablesSpec): void {
  const bad = xtablesSpecError(spec);
  if (bad !== undefined) throw new FirewallError(tool, '', `invalid ${tool} spec: ${bad}`);
}

/** Splits template text into words as the shell does for unquoted text without special characters. */
export function words(text: string): string[] {
  return text.split(/\s+/).filter((w) => w !== '');
}

/** The family's spec. */
export function famSpec(spec: XtablesSpec, family: IpFamily): XtFamilySpec {
  return family === 4 ? spec.families[4] : spec.families[6];
}

/**
 * The rules `_ipt_add_rules` inserts into `<chain>` (without `-I <chain>`), one per protocol, each
 * ending in `jump` (`<rule-jump>`: `-j f2b-<name>`, or the ipset match and `-j <blocktype>`).
 */
export function chainRules(spec: XtablesSpec, jump: string): string[][] {
  return words(spec.protocol.replace(/,/g, ' ')).map((proto) => {
    const rule = ((): string => {
      switch (spec.type) {
        case 'oneport':
          return `-p ${proto} --dport ${spec.port} ${jump}`;
        case 'multiport':
          return `-p ${proto} -m multiport --dports ${spec.port} ${jump}`;
        case 'allports':
          return `-p ${proto} ${jump}`;
      }
    })();
    return words(`${spec.preRule}${rule}`);
  });
}
