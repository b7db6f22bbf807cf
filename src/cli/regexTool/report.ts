/**
 * fail2ban-regex's statistics and report (`testRegex`, `process`, `printStats`, `printLines`):
 * hits per regex, prefregex matches, date template hits, matched / ignored / missed lines.
 */
import type { Failure, Filter } from '../../filter/filter.js';
import { joinTuple, releasedLines, truthy, type FailData } from '../../filter/failData.js';
import { localNaive, type LocalZone } from '../../filter/strptimeLocal.js';
import type { RegexToolOptions } from '../regexOptions.js';
import { pyReprDict } from './pyfmt.js';
import type { SkippedLine } from './guard.js';
import { debuggexUrl, encodeIgnore } from './debuggex.js';

interface RegexStat {
  readonly regex: string;
  hits: number;
  readonly ips: Array<{ fid: string; time: number | null; multiple: boolean }>;
}

/** `pprint_list(l, header)`. */
export function pprintList(l: readonly string[], header?: string): string[] {
  if (l.length === 0) return [];
  const text = (header ? `|- ${header}\n` : '') + '|  ' + l.join('\n|  ') + '\n`-';
  return [text];
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `time.strftime("%a %b %d %H:%M:%S %Y", time.localtime(t))`. */
function ctimeLike(t: number, zone: LocalZone): string {
  const d = new Date(Math.floor(localNaive(zone, Math.floor(t))) * 1000);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${DAYS[d.getUTCDay()] ?? ''} ${MONTHS[d.getUTCMonth()] ?? ''} ${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** Python `str.rstrip()` (Unicode whitespace). */
function rstrip(s: string): string {
  return s.replace(/[\s\x1c-\x1f\x85]+$/u, '');
}

export class RegexReport {
  private readonly failStats: RegexStat[];
  private readonly ignoreStats: RegexStat[];
  private readonly printLimit: number;
  private prefMatched = 0;
  private readonly prefGroups: Array<FailData | '...'> = [];
  private lineIgnored = false;
  private tested = 0;
  private matched = 0;
  private missed = 0;
  private ignored = 0;
  private readonly matchedLines: string[] = [];
  private readonly missedLines: string[] = [];
  private readonly ignoredLines: string[] = [];
  private readonly skippedLines: SkippedLine[] = [];
  /** `-D`: the lines as fail2ban-regex hands them to debuggex (`*_lines_timeextracted`). */
  private readonly matchedDbg: string[] = [];
  private readonly missedDbg: string[] = [];
  private readonly ignoredDbg: string[] = [];

  constructor(
    private readonly filter: Filter,
    private readonly opts: RegexToolOptions,
    private readonly failregex: readonly string[],
    private readonly ignoreregex: readonly string[],
    private readonly zone: LocalZone,
    /** "Now" for failures without a time (`time.localtime(None)`). */
    private readonly now: () => number,
  ) {
    this.failStats = failregex.map((regex) => ({ regex, hits: 0, ips: [] }));
    this.ignoreStats = ignoreregex.map((regex) => ({ regex, hits: 0, ips: [] }));
    this.printLimit = opts.maxlines || 20;
    filter.onIgnoreRegex = (i): void => {
      this.lineIgnored = true;
      const s = this.ignoreStats[i];
      if (s) s.hits++;
    };
  }

  /** `testRegex(line)`: the failures to count and whether the line is ignored. */
  test(line: string): { ret: Failure[]; ignored: boolean; dbgLine: string } {
    const f = this.filter;
    const multi = f.maxlines > 1;
    const orgBuffer = multi ? f.buffer.slice() : f.buffer;
    this.lineIgnored = false;
    let isIgnored = false;
    const found = f.processLine(line);
    const ret: Failure[] = [];
    for (const m of found) {
      if (!this.opts.out) {
        const stat = this.failStats[m.index];
        if (stat) {
          stat.hits++;
          stat.ips.push({ fid: m.fid ? m.fid.text : 'None', time: m.time, multiple: ret.length > 1 });
        }
      }
      if (!truthy(m.fail.get('nofail'))) ret.push(m);
      else isIgnored = true;
    }
    if (this.opts.out) return { ret, ignored: false, dbgLine: line };
    if (f.prefRegex && f.prefMatched) {
      this.prefMatched++;
      if (this.opts.verbose) {
        const groups = f.prefGroups();
        if (groups && this.prefGroups.length < this.printLimit) this.prefGroups.push(groups);
        else if (this.prefGroups.length === this.printLimit) this.prefGroups.push('...');
      }
    }
    const dbg = this.opts.debuggex;
    const lines: string[] = [];
    if (multi) {
      for (const bufLine of releasedLines(orgBuffer, f.maxlines, f.buffer)) {
        const idx = this.missedLines.indexOf(joinTuple(bufLine));
        if (idx !== -1) {
          this.missedLines.splice(idx, 1);
          const j = dbg ? this.missedDbg.indexOf(bufLine[0] + bufLine[2]) : -1;
          if (j !== -1) this.missedDbg.splice(j, 1);
        }
        if (this.opts.printAllMatched) {
          if (!dbg) this.matchedLines.push(joinTuple(bufLine));
          else lines.push(bufLine[0] + bufLine[2]);
        }
        this.matched++;
        this.missed--;
      }
    }
    // fail2ban-regex hands debuggex the line as read, or the buffered lines without their dates.
    if (lines.length > 0) lines.push(f.processedLine());
    return { ret, ignored: isIgnored || this.lineIgnored, dbgLine: lines.length > 0 ? lines.join('\n') : line };
  }

  /** The counting part of `process()` for one tested line. */
  count(line: string, ret: readonly Failure[], ignored: boolean, dbgLine = line): void {
    const o = this.opts;
    if (ignored) {
      this.ignored++;
      if (!o.printNoIgnored && (o.printAllIgnored || this.ignored <= this.printLimit + 1)) {
        this.ignoredLines.push(line);
        if (o.debuggex) this.ignoredDbg.push(dbgLine);
      }
    } else if (ret.length > 0) {
      this.matched++;
      if (o.printAllMatched) {
        this.matchedLines.push(line);
        if (o.debuggex) this.matchedDbg.push(dbgLine);
      }
    } else {
      this.missed++;
      if (!o.printNoMissed && (o.printAllMissed || this.missed <= this.printLimit + 1)) {
        this.missedLines.push(line);
        if (o.debuggex) this.missedDbg.push(dbgLine);
      }
    }
    this.tested++;
  }

  /** A line cut off by the time budget (or an error while processing it). */
  skipped(s: SkippedLine): void {
    this.skippedLines.push(s);
  }

  /** portcullis' addition: lines that could not be processed (printed only when there are any). */
  skippedReport(): string[] {
    if (this.skippedLines.length === 0) return [];
    const shown = this.skippedLines.slice(0, this.printLimit).map((s) => `${s.reason}: ${s.item.length > 200 ? s.item.slice(0, 197) + '...' : s.item}`);
    return [`Skipped line(s): ${this.skippedLines.length} (not processed)`, ...pprintList(shown)];
  }

  private regexBlock(title: string, stats: readonly RegexStat[]): string[] {
    let total = 0;
    const out: string[] = [];
    stats.forEach((s, cnt) => {
      total += s.hits;
      if (s.hits || this.opts.verbose) out.push(`${String(cnt + 1).padStart(2)}) [${s.hits}] ${s.regex}`);
      if (this.opts.verbose) {
        for (const ip of s.ips) out.push(`    ${ip.fid}  ${ctimeLike(ip.time ?? this.now(), this.zone)}${ip.multiple ? ' (multiple regex matched)' : ''}`);
      }
    });
    return [`\n${title}: ${total} total`, ...pprintList(out, ' #) [# of hits] regular expression')];
  }

  private linesBlock(kind: 'matched' | 'ignored' | 'missed'): string[] {
    const count = this[kind];
    const list = kind === 'matched' ? this.matchedLines : kind === 'ignored' ? this.ignoredLines : this.missedLines;
    if (!count) return [];
    const header = `${kind[0]?.toUpperCase() ?? ''}${kind.slice(1)} line(s):`;
    const all = kind === 'matched' ? this.opts.printAllMatched : kind === 'ignored' ? this.opts.printAllIgnored : this.opts.printAllMissed;
    if (this.opts.debuggex && (count < this.printLimit || all)) {
      const samples = kind === 'matched' ? this.matchedDbg : kind === 'ignored' ? this.ignoredDbg : this.missedDbg;
      const regexes = kind === 'ignored' ? this.ignoreregex : this.failregex;
      const multiline = this.filter.maxlines > 1;
      const rows: string[] = [];
      for (const sample of samples) {
        const bytes = encodeIgnore(sample, this.opts.encoding);
        for (const r of regexes) rows.push(rstrip(`${sample} | ${r} |  ${debuggexUrl(bytes, r, multiline, this.opts.usedns)}`));
      }
      return pprintList(rows, header);
    }
    if (count < this.printLimit || all) return pprintList(list.map(rstrip), header);
    return [`${header} too many to print.  Use --print-all-${kind} to print all ${count} lines`];
  }

  /** `printStats()`. */
  render(elapsed: number): string[] {
    const out: string[] = ['', 'Results', '======='];
    const f = this.filter;
    if (f.prefRegex) {
      const l = [f.prefRegex.expanded];
      if (this.opts.verbose) for (const g of this.prefGroups) l.push(`    ${g === '...' ? '...' : pyReprDict(g)}`);
      out.push(`\nPrefregex: ${this.prefMatched} total`, ...pprintList(l));
    }
    out.push(...this.regexBlock('Failregex', this.failStats), ...this.regexBlock('Ignoreregex', this.ignoreStats));
    out.push('\nDate template hits:');
    const dates: string[] = [];
    for (const t of f.dateDetector.usage) {
      if (!this.opts.verbose && !t.hits) continue;
      dates.push(`[${t.hits}] ${t.name}`);
      if (this.opts.verboseDate) {
        dates.push(`    # weight: ${t.weight.toFixed(3)} (${t.templateWeight.toFixed(3)}), pattern: ${t.pattern ?? ''}`);
        dates.push(`    # regex:   ${t.regex}`);
      }
    }
    out.push(...pprintList(dates, '[# of hits] date format'));
    out.push(`\nLines: ${this.tested} lines, ${this.ignored} ignored, ${this.matched} matched, ${this.missed} missed`);
    out.push(`[processed in ${elapsed.toFixed(2)} sec]`);
    out.push('');
    out.push(...this.skippedReport());
    if (this.opts.printAllMatched) out.push(...this.linesBlock('matched'));
    if (!this.opts.printNoIgnored) out.push(...this.linesBlock('ignored'));
    if (!this.opts.printNoMissed) out.push(...this.linesBlock('missed'));
    return out;
  }
}
