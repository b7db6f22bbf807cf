/**
 * What `portcullis regex` counts while the log runs, in bounded memory: line outcomes, hits per
 * regex with the first few lines each matched, failures per id (up to a cap of distinct ids),
 * and the first skipped lines.
 */
import { findToken } from './text.js';

/** A sample line kept for a regex: where it is in the log and where its failure id is. */
export interface Sample {
  readonly lineNumber: number;
  /** The line, cut to {@link MAX_SAMPLE_CHARS}. */
  readonly line: string;
  readonly id: string | null;
  /** The id's place in `line`, when found there. */
  readonly span: readonly [number, number] | null;
}

export interface RegexResult {
  /** fail2ban's 1-based number of the regex. */
  readonly index: number;
  readonly regex: string;
  readonly hits: number;
  readonly samples: readonly Sample[];
}

/** Line outcomes (comment and empty lines are not counted); `read` = matched + ignored + missed + skipped. */
export interface LineCounts {
  readonly read: number;
  readonly matched: number;
  readonly ignored: number;
  readonly missed: number;
  readonly skipped: number;
}

export interface SkippedSample {
  readonly lineNumber: number;
  readonly line: string;
  readonly reason: string;
}

export interface StatsLimits {
  /** Sample lines kept per regex. */
  readonly samples: number;
  /** Distinct failure ids counted one by one; failures of further ids go to `otherIds`. */
  readonly maxIds: number;
  /** Skipped lines kept for the report. */
  readonly maxSkipped: number;
}

export const DEFAULT_MAX_IDS = 100_000;
export const MAX_SAMPLE_CHARS = 1000;

interface Tally {
  readonly regex: string;
  hits: number;
  readonly samples: Sample[];
  /** The line number of the last sample taken (a regex can hit one line more than once). */
  lastLine: number;
}

function makeSample(lineNumber: number, text: string, id: string | null, idTexts: readonly string[]): Sample {
  const line = text.length > MAX_SAMPLE_CHARS ? text.slice(0, MAX_SAMPLE_CHARS) : text;
  let span: readonly [number, number] | null = null;
  for (const t of idTexts) {
    const found = findToken(line, t);
    if (found) {
      span = found;
      break;
    }
  }
  return { lineNumber, line, id, span };
}

export class RegexStats {
  private readonly fail: Tally[];
  private readonly ignore: Tally[];
  private readonly ids = new Map<string, number>();
  private other = 0;
  private matched = 0;
  private ignored = 0;
  private missed = 0;
  private skippedCount = 0;
  private readonly skippedLines: SkippedSample[] = [];
  private lineNumber = 0;
  private line = '';

  constructor(failregex: readonly string[], ignoreregex: readonly string[], private readonly limits: StatsLimits) {
    const tally = (regex: string): Tally => ({ regex, hits: 0, samples: [], lastLine: 0 });
    this.fail = failregex.map(tally);
    this.ignore = ignoreregex.map(tally);
  }

  /** The line now being tested (hits are credited to it). */
  beginLine(lineNumber: number, line: string): void {
    this.lineNumber = lineNumber;
    this.line = line;
  }

  private hit(t: Tally | undefined, id: string | null, idTexts: readonly string[]): void {
    if (!t) return;
    t.hits++;
    if (t.samples.length >= this.limits.samples || t.lastLine === this.lineNumber) return;
    t.lastLine = this.lineNumber;
    t.samples.push(makeSample(this.lineNumber, this.line, id, idTexts));
  }

  /**
   * A failregex hit (0-based index) on the current line; `idTexts` are the texts to look for
   * when marking the id in the sample, best first.
   */
  failHit(index: number, id: string | null, idTexts: readonly string[]): void {
    this.hit(this.fail[index], id, idTexts);
  }

  /** An ignoreregex hit (0-based index) on the current line. */
  ignoreHit(index: number): void {
    this.hit(this.ignore[index], null, []);
  }

  /** The outcome of the current line; a matched line counts one failure for each distinct id on it. */
  endLine(outcome: 'matched' | 'ignored' | 'missed', ids: readonly string[]): void {
    if (outcome === 'ignored') this.ignored++;
    else if (outcome === 'missed') this.missed++;
    else {
      this.matched++;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i] as string;
        if (ids.indexOf(id) !== i) continue;
        const n = this.ids.get(id);
        if (n !== undefined) this.ids.set(id, n + 1);
        else if (this.ids.size < this.limits.maxIds) this.ids.set(id, 1);
        else this.other++;
      }
    }
  }

  /** Multi-line filters: buffered lines used up by a match count as matched instead of missed. */
  released(n: number): void {
    this.matched += n;
    this.missed -= n;
  }

  /** A line not processed (over its time budget, or an error). */
  skipped(lineNumber: number, line: string, reason: string): void {
    this.skippedCount++;
    if (this.skippedLines.length < this.limits.maxSkipped) {
      this.skippedLines.push({ lineNumber, line: line.length > MAX_SAMPLE_CHARS ? line.slice(0, MAX_SAMPLE_CHARS) : line, reason });
    }
  }

  get lines(): LineCounts {
    const { matched, ignored, missed } = this;
    return { read: matched + ignored + missed + this.skippedCount, matched, ignored, missed, skipped: this.skippedCount };
  }

  private results(list: readonly Tally[]): RegexResult[] {
    return list.map((t, i) => ({ index: i + 1, regex: t.regex, hits: t.hits, samples: t.samples }));
  }

  get failregex(): RegexResult[] {
    return this.results(this.fail);
  }

  get ignoreregex(): RegexResult[] {
    return this.results(this.ignore);
  }

  /** The `n` ids with the most failures, most first; ties in the order first seen. */
  topIds(n: number): Array<{ id: string; failures: number }> {
    if (n <= 0) return [];
    const all = [...this.ids].map(([id, failures]) => ({ id, failures }));
    all.sort((a, b) => b.failures - a.failures);
    return all.slice(0, n);
  }

  /** Distinct ids counted one by one. */
  get distinctIds(): number {
    return this.ids.size;
  }

  /** Failures of ids beyond the cap of distinct ids. */
  get otherIds(): number {
    return this.other;
  }

  get skippedSamples(): readonly SkippedSample[] {
    return this.skippedLines;
  }
}
