/**
 * One persistent `ipset -` (interactive mode) per daemon: a batch costs a write instead of a
 * process start (measured in a namespace on Debian 12, ipset 7.17: 0.09 ms per one-address batch
 * against 4–5 ms for `ipset restore`). ipset has no transactions either way: `ipset restore`
 * applies lines until the first failing one and stops, interactive mode runs every line and
 * reports each failure. Every command the backends send is idempotent (`-exist`), so a failed
 * batch is retried whole. Beware: in interactive mode `-exist` is sticky (ipset 7.17): once a line
 * carried it, later lines behave as if they did too — the backends put it on every line anyway.
 *
 * Interactive mode prints a prompt per line on stdout and errors on stderr, one line each, in
 * input order. A batch's end is marked by a sentinel written after it, `create pc-sync
 * pc-sync-<id>-<seq>`, which fails with `typename 'pc-sync-<id>-<seq>' is unknown`: everything on
 * stderr since the previous sentinel is the batch's errors (sentinelSession.ts).
 */
import type { ProcessSpawner, RunResult } from '../../system/interactive.js';
import { FirewallError } from './firewall.js';
import { XtablesRunner } from './restoreSession.js';
import { SentinelSession } from './sentinelSession.js';

export interface IpsetSessionOptions {
  /** Leading arguments put before `ipset` (tests: `['ip', 'netns', 'exec', NS]`). */
  readonly prefix?: readonly string[];
}

export class IpsetSession {
  private readonly runner: XtablesRunner;
  private readonly session: SentinelSession;

  constructor(spawner: ProcessSpawner, options: IpsetSessionOptions = {}) {
    const prefix = options.prefix ?? [];
    this.runner = new XtablesRunner(spawner, { prefix });
    this.session = new SentinelSession(spawner, {
      tool: 'ipset',
      argv: [...prefix, 'ipset', '-'],
      label: 'ipset -',
      sentinel: (token) => `create pc-sync ${token}`,
      isReport: (line, _text, token) => line.includes(`'${token}'`),
      skipBlank: true,
      inputShown: 2000,
    });
  }

  /** Runs the commands (one a line, ipset's own syntax); rejects with every error ipset reported. */
  run(commands: readonly string[]): Promise<void> {
    if (commands.length === 0) return Promise.resolve();
    const input = commands.join('\n');
    if (commands.some((c) => c.includes('\n') || c.includes('\r'))) return Promise.reject(new FirewallError('ipset', input, 'a command contains a line break'));
    return this.session.send(input);
  }

  /** Runs a one-shot `ipset ARGS` (queries such as `save`, read whole). */
  query(args: readonly string[]): Promise<RunResult> {
    return this.runner.run('ipset', args);
  }

  /** Starts `ipset -` ahead of the first batch (see SentinelSession.warm). */
  warm(): Promise<void> {
    return this.session.warm();
  }

  /** The process id of the running `ipset -` (tests), undefined when none runs. */
  get pid(): number | undefined {
    return this.session.pid;
  }

  /** Closes ipset's input and waits until it has run the batches written so far and exited. */
  close(): Promise<void> {
    return this.session.close();
  }
}
