/** The report of `portcullis regex`: text for people (with or without colour) and JSON. */
import type { LineCounts, RegexResult, Sample, SkippedSample } from './stats.js';
import { group, visible } from './text.js';

export interface RegexCommandReport {
  readonly log: string;
  readonly filter: {
    /** FILTER as given. */
    readonly argument: string;
    /** `filter` (a filter file was read) or `regex` (FILTER is the failregex itself). */
    readonly kind: 'filter' | 'regex';
    /** The filter files read (the .conf and the .local beside it). */
    readonly files: readonly string[];
    readonly maxlines: number;
  };
  readonly lines: LineCounts;
  readonly elapsedSeconds: number;
  /** Lines read per second; null when no time could be measured. */
  readonly linesPerSecond: number | null;
  readonly failregex: readonly RegexResult[];
  readonly ignoreregex: readonly RegexResult[];
  readonly dateTemplates: ReadonlyArray<{ readonly name: string; readonly hits: number }>;
  readonly topIds: ReadonlyArray<{ readonly id: string; readonly failures: number }>;
  readonly distinctIds: number;
  readonly otherIds: number;
  readonly skipped: readonly SkippedSample[];
}

type Paint = (codes: string, text: string) => string;

const plain: Paint = (_codes, text) => text;
const ansi: Paint = (codes, text) => `\x1b[${codes}m${text}\x1b[0m`;

const BOLD = '1';
const GREEN = '32';
const YELLOW = '33';
const RED = '31';
const DIM = '2';
const ID = '1;36';

function plural(n: number, one: string, many = `${one}s`): string {
  return `${group(n)} ${n === 1 ? one : many}`;
}

function sampleLine(s: Sample, paint: Paint): string {
  const where = `line ${group(s.lineNumber)}: `;
  if (!s.span) return `      ${where}${visible(s.line)}`;
  const [a, b] = s.span;
  return `      ${where}${visible(s.line.slice(0, a))}${paint(ID, visible(s.line.slice(a, b)))}${visible(s.line.slice(b))}`;
}

function regexBlock(title: string, list: readonly RegexResult[], paint: Paint, countColor: string): string[] {
  const total = list.reduce((n, r) => n + r.hits, 0);
  const hit = list.filter((r) => r.hits > 0);
  const out = ['', `${paint(BOLD, title)}: ${paint(total > 0 ? countColor : DIM, plural(total, 'hit'))} from ${group(hit.length)} of ${plural(list.length, 'regex', 'regexes')}`];
  const width = String(list.length).length;
  for (const r of hit) {
    out.push(`  ${String(r.index).padStart(width)}) [${paint(countColor, group(r.hits))}] ${visible(r.regex)}`);
    for (const s of r.samples) out.push(sampleLine(s, paint));
  }
  return out;
}

/** The text report; `color` adds ANSI escapes (none at all without it). */
export function renderText(r: RegexCommandReport, color: boolean): string {
  const paint = color ? ansi : plain;
  const l = r.lines;
  const out: string[] = [];
  out.push(`${paint(BOLD, 'Log:')}    ${visible(r.log)}`);
  let filter = visible(r.filter.argument);
  if (r.filter.kind === 'regex') filter += ' (a regular expression given on the command line)';
  else if (r.filter.files.length > 0) filter += ` (${r.filter.files.map(visible).join(', ')})`;
  if (r.filter.maxlines > 1) filter += `, multi-line: maxlines ${r.filter.maxlines}`;
  out.push(`${paint(BOLD, 'Filter:')} ${filter}`);
  const rate = r.linesPerSecond === null ? '' : `, ${group(r.linesPerSecond)} lines/s`;
  out.push(
    '',
    `${paint(BOLD, 'Lines:')} ${group(l.read)} read, ${paint(GREEN, `${group(l.matched)} matched`)}, ${paint(YELLOW, `${group(l.ignored)} ignored`)}, ` +
      `${paint(l.missed > 0 ? RED : DIM, `${group(l.missed)} missed`)}, ${paint(l.skipped > 0 ? RED : DIM, `${group(l.skipped)} skipped`)} ` +
      `in ${r.elapsedSeconds.toFixed(2)} s${rate}`,
  );
  out.push(...regexBlock('Failregex', r.failregex, paint, GREEN));
  if (r.ignoreregex.length > 0) out.push(...regexBlock('Ignoreregex', r.ignoreregex, paint, YELLOW));
  out.push('', `${paint(BOLD, 'Date templates used:')}${r.dateTemplates.length === 0 ? ' none' : ''}`);
  for (const d of r.dateTemplates) out.push(`  [${group(d.hits)}] ${visible(d.name)}`);
  if (r.topIds.length > 0) {
    const capped = r.otherIds > 0 ? ' counted one by one' : '';
    out.push('', `${paint(BOLD, 'Top failure ids:')} ${r.topIds.length} of ${plural(r.distinctIds, 'id')}${capped}`);
    const width = Math.max(...r.topIds.map((t) => visible(t.id).length));
    for (const t of r.topIds) out.push(`  ${paint(ID, visible(t.id).padEnd(width))}  ${plural(t.failures, 'failure')}`);
    if (r.otherIds > 0) out.push(`  (and ${plural(r.otherIds, 'failure')} of further ids, not counted one by one)`);
  }
  if (l.skipped > 0) {
    out.push('', `${paint(BOLD, 'Skipped lines:')} ${paint(RED, group(l.skipped))} (not processed)`);
    for (const s of r.skipped) out.push(`      line ${group(s.lineNumber)}: ${visible(s.reason)}: ${visible(s.line.length > 200 ? `${s.line.slice(0, 197)}...` : s.line)}`);
  }
  return out.join('\n') + '\n';
}

function jsonRegex(list: readonly RegexResult[]): unknown[] {
  return list.map((x) => ({
    index: x.index,
    regex: x.regex,
    hits: x.hits,
    samples: x.samples.map((s) => ({ lineNumber: s.lineNumber, line: s.line, id: s.id })),
  }));
}

/** The JSON report: one object, keys always in this order. */
export function renderJson(r: RegexCommandReport): string {
  const l = r.lines;
  const data = {
    log: r.log,
    filter: { argument: r.filter.argument, kind: r.filter.kind, files: r.filter.files, maxlines: r.filter.maxlines },
    lines: { read: l.read, matched: l.matched, ignored: l.ignored, missed: l.missed, skipped: l.skipped },
    elapsedSeconds: r.elapsedSeconds,
    linesPerSecond: r.linesPerSecond,
    failregex: jsonRegex(r.failregex),
    ignoreregex: jsonRegex(r.ignoreregex),
    dateTemplates: r.dateTemplates.map((d) => ({ name: d.name, hits: d.hits })),
    topIds: r.topIds.map((t) => ({ id: t.id, failures: t.failures })),
    distinctIds: r.distinctIds,
    otherIds: r.otherIds,
    skipped: r.skipped.map((s) => ({ lineNumber: s.lineNumber, line: s.line, reason: s.reason })),
  };
  return JSON.stringify(data, null, 2) + '\n';
}
