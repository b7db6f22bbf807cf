/**
 * Running the iptables tools without a shell: short queries (`iptables -C`, `iptables -S`) and
 * `iptables-restore --noflush` transactions, the whole batch on standard input. iptables-restore
 * applies a table's lines between `*filter` and `COMMIT` all or none (nft variant: one netlink
 * batch; legacy: one table replace), so one call is one transaction whatever the number of rules.
 *
 * iptables-restore aborts the whole batch on one failing line (a `-D` of an absent rule), and
 * with `--noflush` a `:chain` line for an existing user chain empties that chain: callers read
 * the current rules first and send only lines that apply (`-N` for a chain, never `:chain`).
 */
import type { IpFamily } from '../../shared/ip.js';
import { runToEnd, type ProcessSpawner, type RunResult } from '../../system/interactive.js';
import { FirewallError } from './firewall.js';
import { famSpec, words, type XtablesSpec } from './xtablesSpec.js';

/** Exit statuses of `iptables -C` meaning "no such rule" (1) or "no such chain, set or target" (2). */
const ABSENT_STATUS = new Set([1, 2]);
/** What `iptables -S CHAIN` says for a missing chain (legacy; nft variant, which also says "incompatible"). */
const NO_CHAIN = /No chain\/target\/match|does not exist|incompatible/;

export interface XtablesRunnerOptions {
  /** Leading arguments put before every command (tests: `['ip', 'netns', 'exec', NS]`). */
  readonly prefix?: readonly string[];
}

export class XtablesRunner {
  private readonly prefix: readonly string[];

  constructor(
    private readonly spawner: ProcessSpawner,
    options: XtablesRunnerOptions = {},
  ) {
    this.prefix = options.prefix ?? [];
  }

  /** Runs `cmd args…` to its end, `input` on its standard input. */
  run(cmd: string, args: readonly string[], input = ''): Promise<RunResult> {
    const [head, ...rest] = [...this.prefix, cmd];
    return runToEnd(this.spawner, head ?? cmd, [...rest, ...args], input);
  }

  /** Runs a command that must succeed; its standard output. */
  async must(cmd: string, args: readonly string[], input = ''): Promise<string> {
    const r = await this.run(cmd, args, input);
    if (r.code !== 0) throw toolError(cmd, [cmd, ...args].join(' ') + (input === '' ? '' : `\n${input}`), r);
    return r.stdout;
  }

  /** `iptables -w -C CHAIN RULE…` for the family: whether the rule is there. */
  async hasRule(spec: XtablesSpec, family: IpFamily, chain: string, rule: readonly string[]): Promise<boolean> {
    const tool = famSpec(spec, family).iptables;
    const r = await this.run(tool, [...words(spec.lockingopt), '-C', chain, ...rule]);
    if (r.code === 0) return true;
    if (r.code !== null && ABSENT_STATUS.has(r.code) && r.error === undefined) return false;
    throw toolError(tool, `-C ${chain} ${rule.join(' ')}`, r);
  }

  /** `iptables -w -S CHAIN`: the chain's rules as listed (`-A CHAIN …`), undefined when there is no such chain. */
  async listChain(spec: XtablesSpec, family: IpFamily, chain: string): Promise<string[] | undefined> {
    const tool = famSpec(spec, family).iptables;
    const r = await this.run(tool, [...words(spec.lockingopt), '-S', chain]);
    if (r.code === 0) return r.stdout.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
    if (r.code === 1 && NO_CHAIN.test(r.stderr)) return undefined;
    throw toolError(tool, `-S ${chain}`, r);
  }

  /** One `iptables-restore -w --noflush` transaction of `lines` in the filter table (none: nothing runs). */
  async restore(spec: XtablesSpec, family: IpFamily, lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const tool = `${famSpec(spec, family).iptables}-restore`;
    await this.must(tool, [...words(spec.lockingopt), '--noflush'], `*filter\n${lines.join('\n')}\nCOMMIT\n`);
  }
}

/** A FirewallError from a finished (or unstartable) command. */
export function toolError(tool: string, input: string, r: RunResult): FirewallError {
  const said = (r.stderr.trim() || r.stdout.trim()).slice(0, 2000);
  const why = r.error ?? (r.signal !== null ? `killed by ${r.signal}` : `exit status ${String(r.code)}`);
  return new FirewallError(tool, input.length > 2000 ? `${input.slice(0, 2000)}…` : input, said === '' ? why : `${said} (${why})`);
}
