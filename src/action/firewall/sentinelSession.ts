/**
 * A firewall tool kept running in its interactive mode (`nft -i`, `ipset -`), fed batches of
 * commands on its input. Such tools print nothing reliable on success and their errors on stderr,
 * in input order, so the end of a batch is marked by a sentinel written after it: a command that
 * fails deterministically and names a unique token. When the sentinel's report reaches stderr,
 * everything on stderr since the previous sentinel is the batch's errors.
 *
 * Batches are pipelined: each is written at once and matched to its sentinel by order. If the
 * process dies, every batch written and not yet confirmed fails with a FirewallError (it may or
 * may not have been applied: the backends only send idempotent commands and retry); the next
 * batch starts a new process.
 */
import { randomBytes } from 'node:crypto';
import type { InteractiveProcess, ProcessSpawner } from '../../system/interactive.js';
import { FirewallError } from './firewall.js';

/** What differs between the tools. */
export interface SentinelProtocol {
  /** The tool's name in errors (`nft`, `ipset`). */
  readonly tool: string;
  /** The interactive command and its arguments. */
  readonly argv: readonly string[];
  /** How the process is named when it ends (`nft -i`). */
  readonly label: string;
  /** The command that fails naming `token`. */
  sentinel(token: string): string;
  /** Whether a stderr line is the report of the sentinel `text` (naming `token`). */
  isReport(line: string, text: string, token: string): boolean;
  /** Blank stderr lines are not errors (ipset). */
  readonly skipBlank?: boolean;
  /** The line after a sentinel's report that belongs to it (nft's caret line). */
  readonly afterReport?: RegExp;
  /** The sentinel's own `Error:` line precedes its report (nft): it is not the batch's. */
  readonly ownErrorFirst?: boolean;
  /** How much of a batch's input an error shows (default: all of it). */
  readonly inputShown?: number;
}

interface Pending {
  readonly sentinel: string;
  readonly token: string;
  readonly input: string;
  readonly errors: string[];
  resolve(): void;
  reject(e: FirewallError): void;
}

/** Longest stderr line kept in an error report (tools echo the whole offending line). */
const ECHO_LIMIT = 400;

export class SentinelSession {
  private proc: InteractiveProcess | undefined;
  private readonly pending: Pending[] = [];
  private stderrBuf = '';
  private seq = 0;
  /** The next stderr line may be the tail of a sentinel's report ({@link SentinelProtocol.afterReport}). */
  private afterReport = false;
  private closeWaiters: (() => void)[] = [];
  private readonly id = randomBytes(4).toString('hex');

  constructor(
    private readonly spawner: ProcessSpawner,
    private readonly protocol: SentinelProtocol,
  ) {}

  /** Writes the batch (its lines as given) and its sentinel; rejects with every error the tool reported. */
  send(input: string): Promise<void> {
    const token = `pc-sync-${this.id}-${++this.seq}`;
    const sentinel = this.protocol.sentinel(token);
    const proc = this.proc ?? this.startProcess();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ sentinel, token, input, errors: [], resolve, reject });
      proc.write(`${input}\n${sentinel}\n`);
    });
  }

  /**
   * Starts the tool now and has it answer one sentinel, so that the first real batch does not
   * wait for the process to start and the tool to load (nft reads its cache): a jail's action
   * calls this when it starts. Resolves when the tool answered (or failed: the first batch will
   * report that).
   */
  warm(): Promise<void> {
    if (this.proc !== undefined) return Promise.resolve();
    const token = `pc-sync-${this.id}-${++this.seq}`;
    const sentinel = this.protocol.sentinel(token);
    const proc = this.startProcess();
    return new Promise<void>((resolve) => {
      this.pending.push({ sentinel, token, input: '', errors: [], resolve, reject: () => resolve() });
      proc.write(`${sentinel}\n`);
    });
  }

  /** The process id of the running tool (tests), undefined when none runs. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Closes the tool's input and waits until it has run the batches written so far and exited. */
  close(): Promise<void> {
    const proc = this.proc;
    if (proc === undefined) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.closeWaiters.push(resolve);
      proc.end();
    });
  }

  private startProcess(): InteractiveProcess {
    const [cmd = this.protocol.tool, ...args] = this.protocol.argv;
    this.stderrBuf = '';
    const proc = this.spawner.spawn(cmd, args, {
      onStdout: () => undefined,
      onStderr: (t) => this.onStderr(t),
      onExit: (code, signal, error) => this.onExit(proc, code, signal, error),
    });
    this.proc = proc;
    return proc;
  }

  private onStderr(text: string): void {
    this.stderrBuf += text;
    let nl: number;
    while ((nl = this.stderrBuf.indexOf('\n')) !== -1) {
      const line = this.stderrBuf.slice(0, nl);
      this.stderrBuf = this.stderrBuf.slice(nl + 1);
      this.onStderrLine(line);
    }
  }

  private onStderrLine(line: string): void {
    const p = this.protocol;
    if (this.afterReport) {
      this.afterReport = false;
      if (p.afterReport?.test(line) === true) return;
    }
    const head = this.pending[0];
    if (head === undefined || (p.skipBlank === true && line.trim() === '')) return;
    if (!p.isReport(line, head.sentinel, head.token)) {
      head.errors.push(line.length > ECHO_LIMIT ? `${line.slice(0, ECHO_LIMIT)}…` : line);
      return;
    }
    if (p.ownErrorFirst === true) {
      const own = head.errors.findLastIndex((l) => l.startsWith('Error:'));
      if (own !== -1) head.errors.splice(own);
    }
    this.afterReport = p.afterReport !== undefined;
    this.pending.shift();
    if (head.errors.length === 0) head.resolve();
    else head.reject(new FirewallError(p.tool, this.shown(head.input), head.errors.join('\n')));
  }

  private onExit(proc: InteractiveProcess, code: number | null, signal: string | null, error?: string): void {
    if (this.proc !== proc) return;
    this.proc = undefined;
    this.afterReport = false;
    const label = this.protocol.label;
    const why = error ?? (signal !== null ? `${label} was killed by ${signal}` : `${label} exited with status ${String(code)}`);
    for (const p of this.pending.splice(0)) {
      const said = [...p.errors, this.stderrBuf].filter((l) => l !== '').join('\n');
      p.reject(new FirewallError(this.protocol.tool, this.shown(p.input), said === '' ? why : `${why}: ${said}`));
    }
    this.stderrBuf = '';
    for (const w of this.closeWaiters.splice(0)) w();
  }

  private shown(input: string): string {
    const n = this.protocol.inputShown;
    return n === undefined ? input : input.slice(0, n);
  }
}
