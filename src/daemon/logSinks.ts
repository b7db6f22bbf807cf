/**
 * The plain log targets: a stream (STDOUT, STDERR, SYSOUT) or a file (append, mode 0600,
 * reopened on `flushlogs`). Lines of one event-loop turn are batched into one write; a failed
 * write is counted in `Failures`, never thrown.
 */
import { closeSync, openSync, writeSync } from 'node:fs';

/** Where plain text goes (process.stdout / process.stderr in the daemon, buffers in tests). */
export interface TextSink {
  write(text: string): unknown;
}

/** One open target. `write` gets a formatted line without newline. */
export interface Sink {
  write(line: string, level: number, name: string): void;
  flush(): void;
  /** Close and reopen (files); false if the target has nothing to reopen. */
  reopen(): boolean;
  close(): void;
}

/** Counts what could not be written, never throws. */
export class Failures {
  dropped = 0;
  lastError: Error | undefined;

  record(err: unknown, lines: number): void {
    this.dropped += lines;
    this.lastError = err instanceof Error ? err : new Error(String(err));
  }
}

/** Lines collected during one event-loop turn, written together right after it. */
class Batcher {
  private pending: string[] = [];
  private scheduled = false;

  constructor(private readonly emit: (text: string, lines: number) => void) {}

  push(line: string): void {
    this.pending.push(line + '\n');
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.emit(lines.join(''), lines.length);
  }
}

export class StreamSink implements Sink {
  private readonly batch: Batcher;
  constructor(stream: TextSink, failures: Failures) {
    this.batch = new Batcher((text, n) => {
      try {
        stream.write(text);
      } catch (e) {
        failures.record(e, n);
      }
    });
  }
  write(line: string): void {
    this.batch.push(line);
  }
  flush(): void {
    this.batch.flush();
  }
  reopen(): boolean {
    this.flush();
    return false;
  }
  close(): void {
    this.flush();
  }
}

export class FileSink implements Sink {
  private fd: number | undefined;
  private readonly batch: Batcher;

  constructor(
    private readonly path: string,
    private readonly failures: Failures,
  ) {
    this.fd = openSync(path, 'a', 0o600);
    this.batch = new Batcher((text, n) => this.emit(text, n));
  }

  private emit(text: string, lines: number): void {
    try {
      this.fd ??= openSync(this.path, 'a', 0o600);
      const buf = Buffer.from(text, 'utf8');
      for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off);
    } catch (e) {
      this.failures.record(e, lines);
    }
  }

  write(line: string): void {
    this.batch.push(line);
  }
  flush(): void {
    this.batch.flush();
  }
  reopen(): boolean {
    this.flush();
    this.closeFd();
    try {
      this.fd = openSync(this.path, 'a', 0o600);
    } catch (e) {
      // Retried on the next write; until then lines are counted as dropped.
      this.failures.record(e, 0);
    }
    return true;
  }
  close(): void {
    this.flush();
    this.closeFd();
  }
  private closeFd(): void {
    if (this.fd === undefined) return;
    try {
      closeSync(this.fd);
    } catch (e) {
      this.failures.record(e, 0);
    }
    this.fd = undefined;
  }
}
