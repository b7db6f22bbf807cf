/**
 * The progress line of `portcullis regex` on big logs: a bar, the share of bytes read, the lines
 * so far and their rate, rewritten in place with "\r" at most every {@link PROGRESS_INTERVAL_MS}.
 */
import { group } from './text.js';

export const PROGRESS_THRESHOLD_BYTES = 50 * 1024 * 1024;
export const PROGRESS_INTERVAL_MS = 250;
const BAR_WIDTH = 30;

export interface ProgressState {
  readonly bytes: number;
  readonly totalBytes: number;
  readonly lines: number;
  readonly elapsedMs: number;
}

/** One progress line, e.g. `[#########.....................]  30.0%  1,234 lines  617 lines/s`. */
export function formatProgress(s: ProgressState): string {
  const share = s.totalBytes > 0 ? Math.min(1, Math.max(0, s.bytes / s.totalBytes)) : 1;
  const filled = Math.floor(share * BAR_WIDTH);
  const bar = '#'.repeat(filled) + '.'.repeat(BAR_WIDTH - filled);
  const percent = `${(Math.floor(share * 1000) / 10).toFixed(1)}%`.padStart(6);
  const rate = s.elapsedMs > 0 ? `  ${group(Math.round((s.lines * 1000) / s.elapsedMs))} lines/s` : '';
  return `[${bar}] ${percent}  ${group(s.lines)} lines${rate}`;
}

/** Draws {@link formatProgress} lines through `write`, throttled by the injected clock. */
export class ProgressMeter {
  private last = Number.NEGATIVE_INFINITY;
  private shown = 0;

  constructor(
    private readonly totalBytes: number,
    private readonly nowMs: () => number,
    private readonly write: (text: string) => void,
    private readonly startMs = nowMs(),
    private readonly intervalMs = PROGRESS_INTERVAL_MS,
  ) {}

  /** Redraws if the interval has passed since the last drawing. */
  update(bytes: number, lines: number): void {
    const now = this.nowMs();
    if (now - this.last < this.intervalMs) return;
    this.last = now;
    const text = formatProgress({ bytes, totalBytes: this.totalBytes, lines, elapsedMs: now - this.startMs });
    this.write('\r' + text.padEnd(this.shown));
    this.shown = text.length;
  }

  /** Removes the progress line (if one was drawn). */
  clear(): void {
    if (this.shown === 0) return;
    this.write('\r' + ' '.repeat(this.shown) + '\r');
    this.shown = 0;
  }
}
