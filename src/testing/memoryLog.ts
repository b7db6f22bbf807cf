/** A `ServerLog` that keeps every record in memory, for tests. */
import type { ServerLog } from '../system/log.js';

export interface LogRecord {
  readonly name: string;
  readonly level: number;
  readonly message: string;
}

export class MemoryLog implements ServerLog {
  readonly records: LogRecord[] = [];

  constructor(private readonly minLevel = 0) {}

  log(name: string, level: number, message: string): void {
    if (level >= this.minLevel) this.records.push({ name, level, message });
  }

  isEnabledFor(level: number): boolean {
    return level >= this.minLevel;
  }

  /** The messages (optionally only those at `level` or above). */
  messages(level = 0): string[] {
    return this.records.filter((r) => r.level >= level).map((r) => r.message);
  }
}
