/**
 * One persistent `nft -i` per daemon. nft 1.0.6 in interactive mode runs each input line as one
 * atomic transaction (commands separated by `;` all apply or none) and prints nothing reliable on
 * success; errors go to stderr as `Error: …`, the offending line and a caret line. A batch's end is
 * therefore marked by a sentinel written after it: `list table inet pc-sync-<id>-<seq>`, which
 * fails deterministically and names the batch; when its echo reaches stderr, everything on stderr
 * since the previous sentinel is the batch's errors.
 *
 * Batches are pipelined: each is written as soon as `run` is called, and matched to its sentinel
 * by sequence number. nft reads its input and writes stderr strictly in order, so attribution is
 * exact, and a burst of batches from several jails costs no round trip each. If the process dies,
 * every batch written and not yet confirmed fails with a FirewallError (it may or may not have
 * been applied: callers retry, and every operation the backends send is idempotent); the next
 * batch starts a new process.
 *
 * A batch longer than `maxLineBytes` (1 MiB by default; nft 1.0.6 took a 1.3 MB line here) is
 * split at command boundaries into several lines, each its own transaction: such a batch is not
 * atomic as a whole, and an error in one line leaves the other lines applied.
 */
import { parseIp, type IpAddress } from '../../shared/ip.js';
import { runToEnd, type ProcessSpawner, type RunResult } from '../../system/interactive.js';
import { FirewallError } from './firewall.js';
import { SentinelSession } from './sentinelSession.js';

export interface NftSessionOptions {
  /** The command and its leading arguments (default `['nft']`; tests prefix `ip netns exec NS`). */
  readonly command?: readonly string[];
  /** Longest input line before a batch is split (bytes, default 1 MiB). */
  readonly maxLineBytes?: number;
}

export class NftSession {
  private readonly command: readonly string[];
  private readonly maxLineBytes: number;
  private readonly session: SentinelSession;

  constructor(
    private readonly spawner: ProcessSpawner,
    options: NftSessionOptions = {},
  ) {
    this.command = options.command ?? ['nft'];
    this.maxLineBytes = options.maxLineBytes ?? 1 << 20;
    this.session = new SentinelSession(spawner, {
      tool: 'nft',
      argv: [...this.command, '-i'],
      label: 'nft -i',
      sentinel: (token) => `list table inet ${token}`,
      // nft prints the sentinel's `Error: …` line, then the sentinel itself, then a caret line
      isReport: (line, text) => line === text,
      ownErrorFirst: true,
      afterReport: /^\s*\^+\s*$/,
    });
  }

  /** Runs the commands as one transaction (several when longer than `maxLineBytes`). */
  async run(commands: readonly string[]): Promise<void> {
    const lines = packLines(commands, this.maxLineBytes);
    await Promise.all(lines.map((line) => this.runLine(line)));
  }

  /** Runs a one-shot `nft ARGS` (queries: their output is read whole, not through `nft -i`). */
  query(args: readonly string[]): Promise<RunResult> {
    const [cmd = 'nft', ...prefix] = this.command;
    return runToEnd(this.spawner, cmd, [...prefix, ...args]);
  }

  /** Starts `nft -i` ahead of the first batch (see SentinelSession.warm). */
  warm(): Promise<void> {
    return this.session.warm();
  }

  /** The process id of the running nft (tests), undefined when none runs. */
  get pid(): number | undefined {
    return this.session.pid;
  }

  /** Closes nft's input and waits until it has run the batches written so far and exited. */
  close(): Promise<void> {
    return this.session.close();
  }

  private runLine(line: string): Promise<void> {
    if (line.includes('\n')) throw new FirewallError('nft', line, 'a command contains a line break');
    return this.session.send(line);
  }
}

/** Joins commands with `; ` into lines of at most `max` bytes (a longer single command stays whole). */
export function packLines(commands: readonly string[], max: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const c of commands) {
    if (cur !== '' && Buffer.byteLength(cur) + 2 + Buffer.byteLength(c) > max) {
      lines.push(cur);
      cur = '';
    }
    cur = cur === '' ? c : `${cur}; ${c}`;
  }
  if (cur !== '') lines.push(cur);
  return lines;
}

/** The elements of `nft -j list set` output: addresses and networks (ranges are skipped). */
export function elementsOfJson(json: string): IpAddress[] {
  const out: IpAddress[] = [];
  const doc = JSON.parse(json) as { nftables?: { set?: { elem?: unknown[] } }[] };
  const add = (v: unknown): void => {
    if (typeof v === 'string') out.push(parseIp(v));
    else if (typeof v === 'object' && v !== null) {
      const o = v as { elem?: { val?: unknown }; prefix?: { addr?: unknown; len?: unknown } };
      if (o.elem !== undefined) add(o.elem.val);
      else if (typeof o.prefix?.addr === 'string' && typeof o.prefix.len === 'number') out.push(parseIp(`${o.prefix.addr}/${o.prefix.len}`));
    }
  };
  for (const item of doc.nftables ?? []) for (const e of item.set?.elem ?? []) add(e);
  return out;
}

/**
 * The handles of the rules of `chain` that reference `@set`, from `nft -a list table` output:
 * the stock actionstop's `grep -oP '@<addr_set>\s+.*\s+\Khandle\s+(\d+)$'`, limited to the chain.
 */
export function handlesInChain(listing: string, chain: string, set: string): number[] {
  const out: number[] = [];
  const ref = new RegExp(`@${set.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+.*\\s+handle\\s+(\\d+)$`);
  let inChain = false;
  for (const line of listing.split('\n')) {
    const open = /^\t(chain|set|map|flowtable|ct|quota|counter|limit|synproxy|secmark)\s+(\S+)\s+\{/.exec(line);
    if (open) inChain = open[1] === 'chain' && open[2] === chain;
    else if (line === '\t}') inChain = false;
    else if (inChain) {
      const m = ref.exec(line);
      if (m) out.push(Number(m[1]));
    }
  }
  return out;
}

/** The names of the sets in `nft list table` output (the stock `grep -qP '^\s+set\s+'`). */
export function setsInTable(listing: string): string[] {
  return [...listing.matchAll(/^\s+set\s+(\S+)/gm)].map((m) => m[1] ?? '');
}
