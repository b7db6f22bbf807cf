/**
 * Messages the configuration reader emits on its way (warnings fail2ban prints but goes on after).
 * The reader only records them; the CLI decides where they go.
 */
export type ConfigLogLevel = 'debug' | 'info' | 'notice' | 'warning' | 'error';

export interface ConfigLogEntry {
  readonly level: ConfigLogLevel;
  /** fail2ban's logger name, e.g. `fail2ban.jailreader`. */
  readonly logger: string;
  readonly message: string;
}

export interface ConfigLog {
  log(level: ConfigLogLevel, logger: string, message: string): void;
}

/** Keeps every entry in order. */
export class CollectingLog implements ConfigLog {
  readonly entries: ConfigLogEntry[] = [];

  log(level: ConfigLogLevel, logger: string, message: string): void {
    this.entries.push({ level, logger, message });
  }
}
