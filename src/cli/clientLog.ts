/**
 * The client's own logging as fail2ban's client does it: before the command line is read,
 * Python's last-resort handler prints bare messages (WARNING and up); afterwards lines carry
 * fail2ban's format and the level follows -v/-q.
 */
import { formatLogLine } from '../shared/logline.js';
import type { ConfigLog, ConfigLogLevel } from '../config/log.js';
import type { CliIo } from './io.js';

const LEVEL_NUM: Readonly<Record<ConfigLogLevel, number>> = { debug: 10, info: 20, notice: 25, warning: 30, error: 40 };
const LEVEL_NAME: Readonly<Record<ConfigLogLevel, string>> = { debug: 'DEBUG', info: 'INFO', notice: 'NOTICE', warning: 'WARNING', error: 'ERROR' };

export class ClientLog implements ConfigLog {
  private formatted = false;
  private threshold = 30;

  constructor(private readonly io: CliIo) {}

  /** Switches to formatted lines with the threshold fail2ban derives from the verbosity. */
  setUp(verbose: number): void {
    this.formatted = true;
    this.threshold = verbose <= 0 ? 40 : verbose === 1 ? 30 : verbose === 2 ? 20 : verbose === 3 ? 10 : 5;
  }

  log(level: ConfigLogLevel, logger: string, message: string): void {
    if (LEVEL_NUM[level] < this.threshold) return;
    const line = this.formatted ? formatLogLine(this.io.clock.nowMs(), logger, this.io.pid, LEVEL_NAME[level], message) : message;
    this.io.stderr(line + '\n');
  }

  error(message: string): void {
    this.log('error', 'fail2ban', message);
  }
}
