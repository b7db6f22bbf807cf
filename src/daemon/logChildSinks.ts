/**
 * The log targets fed through long-lived children, since Node cannot send unix datagrams:
 * SYSLOG via util-linux `logger` (one child per logger name, `--prio-prefix`), SYSTEMD-JOURNAL
 * via `systemd-cat --level-prefix=true`; syslog facility names as fail2ban accepts them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { levelName } from './logFormat.js';
import type { Failures, Sink } from './logSinks.js';

export const FACILITIES = new Map<string, number>([
  ['KERN', 0], ['USER', 1], ['MAIL', 2], ['DAEMON', 3], ['AUTH', 4], ['SYSLOG', 5], ['LPR', 6], ['NEWS', 7], ['UUCP', 8],
  ['CRON', 9], ['AUTHPRIV', 10], ['FTP', 11], ['NTP', 12], ['SECURITY', 13], ['CONSOLE', 14], ['SOLARIS_CRON', 15],
  ...Array.from({ length: 8 }, (_v, i) => [`LOCAL${i}`, 16 + i] as [string, number]),
  // SysLogHandler's priority constants are LOG_* attributes too, so fail2ban accepts them as facilities.
  ['EMERG', 0], ['ALERT', 1], ['CRIT', 2], ['ERR', 3], ['WARNING', 4], ['NOTICE', 5], ['INFO', 6], ['DEBUG', 7],
]);
const SYSLOG_PRIORITY: Readonly<Record<string, number>> = { DEBUG: 7, INFO: 6, NOTICE: 5, WARNING: 4, ERROR: 3, CRITICAL: 2 };

/** Children fed one line at a time; a child that dies or cannot be started costs its lines, nothing more. */
class ChildLines {
  private child: ChildProcess | undefined;
  constructor(
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly failures: Failures,
  ) {}

  write(text: string): void {
    try {
      if (this.child?.stdin?.writable !== true) this.child = this.start();
      this.child.stdin?.write(text);
    } catch (e) {
      this.failures.record(e, 1);
    }
  }

  private start(): ChildProcess {
    const child = spawn(this.command, this.args, { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', (e) => this.failures.record(e, 1));
    child.stdin?.on('error', (e) => this.failures.record(e, 1));
    child.unref();
    (child.stdin as { unref?: () => void } | null)?.unref?.();
    return child;
  }

  close(): void {
    this.child?.stdin?.end();
    this.child = undefined;
  }
}

export class SyslogSink implements Sink {
  private readonly children = new Map<string, ChildLines>();
  constructor(
    private readonly socket: string,
    private readonly facility: number,
    private readonly command: string,
    private readonly failures: Failures,
  ) {}

  write(line: string, level: number): void {
    const prio = (this.facility << 3) | (SYSLOG_PRIORITY[levelName(level)] ?? 4);
    // `logger` writes `<PRI>TIME TAG[ID]: MSG`; fail2ban's `name[pid]: ` header becomes TAG[ID].
    const head = /^([^\s[\]]+)\[(\d+)\]: /.exec(line);
    const tag = head?.[1] ?? 'fail2ban';
    const key = head === null ? tag : `${tag}[${head[2]}]`;
    let child = this.children.get(key);
    if (child === undefined) {
      const args = ['--socket', this.socket, '--socket-errors=off', '--prio-prefix', '--tag', tag, ...(head === null ? [] : [`--id=${head[2]}`])];
      child = new ChildLines(this.command, args, this.failures);
      this.children.set(key, child);
    }
    child.write(`<${prio}>${head === null ? line : line.slice(head[0].length)}`.replace(/\n/g, ' ') + '\n');
  }
  flush(): void {}
  reopen(): boolean {
    return false;
  }
  close(): void {
    for (const c of this.children.values()) c.close();
    this.children.clear();
  }
}

export class JournalSink implements Sink {
  private readonly child: ChildLines;
  constructor(command: string, failures: Failures) {
    this.child = new ChildLines(command, ['-t', 'fail2ban', '--level-prefix=true'], failures);
  }
  write(line: string, level: number): void {
    this.child.write(`<${SYSLOG_PRIORITY[levelName(level)] ?? 4}>${line.replace(/\n/g, ' ')}\n`);
  }
  flush(): void {}
  reopen(): boolean {
    return false;
  }
  close(): void {
    this.child.close();
  }
}
