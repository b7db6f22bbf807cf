/**
 * One log line through the filter, counted as fail2ban-regex counts it (`testRegex` + `process`):
 * every failure is a hit of its regex; a line is ignored when an ignoreregex hit it or one of its
 * failures is `nofail`, matched when it has a failure left, missed otherwise; with maxlines > 1
 * the buffered lines a match used up turn from missed to matched.
 */
import type { Failure, Filter } from '../../filter/filter.js';
import { releasedLines, textOf, truthy } from '../../filter/failData.js';
import type { RegexStats } from './stats.js';

/** The texts to look for when marking a failure's id in its line: the id, then the raw host groups. */
function idTexts(m: Failure): string[] {
  const out: string[] = [];
  if (m.fid) out.push(m.fid.text);
  for (const k of ['fid', 'ip4', 'ip6', 'dns']) {
    const t = textOf(m.fail, k);
    if (t !== null && t !== '' && !out.includes(t)) out.push(t);
  }
  return out;
}

export class LineTester {
  private lineIgnored = false;

  constructor(private readonly filter: Filter, private readonly stats: RegexStats) {
    filter.onIgnoreRegex = (i): void => {
      this.lineIgnored = true;
      stats.ignoreHit(i);
    };
  }

  /** Tests one line (without its line end); `lineNumber` is its 1-based place in the file. */
  test(lineNumber: number, line: string): void {
    const f = this.filter;
    const stats = this.stats;
    stats.beginLine(lineNumber, line);
    const multi = f.maxlines > 1;
    const before = multi ? f.buffer.slice() : [];
    this.lineIgnored = false;
    let nofail = false;
    const ids: string[] = [];
    let failures = 0;
    for (const m of f.processLine(line)) {
      stats.failHit(m.index, m.fid ? m.fid.text : null, idTexts(m));
      if (truthy(m.fail.get('nofail'))) {
        nofail = true;
        continue;
      }
      failures++;
      if (m.fid) ids.push(m.fid.text);
    }
    if (multi) {
      const released = releasedLines(before, f.maxlines, f.buffer).length;
      if (released > 0) stats.released(released);
    }
    stats.endLine(nofail || this.lineIgnored ? 'ignored' : failures > 0 ? 'matched' : 'missed', ids);
  }
}
