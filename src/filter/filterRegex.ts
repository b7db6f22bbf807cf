/**
 * fail2ban's `Regex` / `FailRegex` (failregex.py): a filter regex with its tags expanded, compiled
 * once through the Python→JS translator, with `alt_`/`tuple_` group merging (`getGroups`), the
 * failure-id check, and the multi-line split of a buffer into matched and unmatched lines.
 */
import { compilePythonRegex, firstCodeUnits, RegexError, requiredLiteral, type CompiledPythonRegex, type PythonMatch } from '../regex/index.js';
import { PortcullisError } from '../shared/errors.js';
import { GroupTuple, truthy, type FailData, type FailValue, type TupleLine } from './failData.js';
import { mapTagToGroup, prepareFailRegex } from './tagExpand.js';

/** Why a filter regex cannot be used; `pythonMessage` is fail2ban's own text. */
export class FilterRegexError extends PortcullisError {
  readonly regex: string;
  readonly pythonMessage: string;

  constructor(message: string, regex: string, pythonMessage: string, cause?: unknown) {
    super('E_FILTER_REGEX', message, cause === undefined ? undefined : { cause });
    this.regex = regex;
    this.pythonMessage = pythonMessage;
  }
}

const COMPLNAME = /^(alt_|tuple_)(.*?)(?:_\d+)?$/su;
const FAILURE_ID_PRESENTS = ['fid', 'ip4', 'ip6', 'dns', 'mlfid'];

export interface FilterRegexOptions {
  readonly multiline?: boolean;
  readonly usedns?: string;
}

/** Python `str.splitlines()` separators. */
const SPLITLINES = /\r\n|[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]/u;

/** A compiled filter regex (prefregex, failregex or ignoreregex). */
export class FilterRegex {
  /** The regex as configured (before tag expansion). */
  readonly source: string;
  /** The Python regex after tag expansion (`getRegex()`). */
  readonly expanded: string;
  readonly compiled: CompiledPythonRegex;
  readonly groupNames: ReadonlySet<string>;
  /** Python's named groups in definition order (`groupAt` indices). */
  private readonly names: readonly string[];
  /** Text every match contains: a buffer without it is not searched (exact pre-check). */
  readonly literal: string | undefined;
  /** For a regex anchored at the start: the code units a match can begin with (`firstCodeUnits`). */
  readonly firstUnits: ReadonlySet<number> | undefined;
  /** `firstUnits` for ASCII as a lookup table (the common case, cheaper than a Set). */
  private readonly firstAscii: Uint8Array | undefined;
  private readonly altValues: ReadonlyArray<readonly [string, string]>;
  private readonly tupleValues: ReadonlyArray<readonly [string, string]>;
  private readonly skipGroups: readonly string[];

  constructor(regex: string, opts: FilterRegexOptions = {}) {
    this.source = regex;
    const expanded = prepareFailRegex(regex, opts.usedns ?? 'yes');
    if (expanded.trimStart() === '') {
      throw new FilterRegexError('empty regex', regex, 'Cannot add empty regex');
    }
    this.expanded = expanded;
    try {
      this.compiled = compilePythonRegex(expanded, { multiline: opts.multiline ?? false });
    } catch (e) {
      if (!(e instanceof RegexError)) throw e;
      const why = e.code === 'E_REGEX_SYNTAX' ? 'is not a valid Python regular expression' : 'uses a construct portcullis cannot translate exactly';
      throw new FilterRegexError(
        `regex ${why}: ${e.construct} at position ${e.position} in '${expanded}'`,
        regex,
        `Unable to compile regular expression '${expanded}':\n${e.construct} at position ${e.position}`,
        e,
      );
    }
    this.literal = requiredLiteral(expanded, { multiline: opts.multiline ?? false });
    this.firstUnits = firstCodeUnits(expanded, { multiline: opts.multiline ?? false });
    if (this.firstUnits !== undefined) {
      this.firstAscii = new Uint8Array(128);
      for (const u of this.firstUnits) if (u < 128) this.firstAscii[u] = 1;
    }
    const names = this.compiled.translation.groupNames;
    this.names = names;
    this.groupNames = new Set(names);
    const alt: Array<[string, string]> = [];
    const tup: Array<[string, string]> = [];
    for (const k of names) {
      if (k.length <= 4) continue;
      const m = COMPLNAME.exec(k);
      if (!m) continue;
      (m[1] === 'alt_' ? alt : tup).push([k, mapTagToGroup(m[2] ?? '')]);
    }
    const cmp = (a: readonly [string, string], b: readonly [string, string]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0);
    this.altValues = alt.sort(cmp);
    this.tupleValues = tup.sort(cmp);
    const skips: string[] = [];
    for (let n = 0; this.groupNames.has(`skiplines${n}`); n++) skips.push(`skiplines${n}`);
    this.skipGroups = skips;
  }

  /** Whether the regex has one of the failure-id groups (`fid ip4 ip6 dns mlfid`). */
  hasFailureId(): boolean {
    return FAILURE_ID_PRESENTS.some((g) => this.groupNames.has(g));
  }

  /** The `groupAt` index of a named group, -1 when the regex has none. */
  groupIndex(name: string): number {
    return this.names.indexOf(name);
  }

  /** `re.search(buf)`. */
  search(buf: string): PythonMatch | null {
    if (this.firstAscii !== undefined) {
      const c = buf.charCodeAt(0);
      if (c < 128 ? this.firstAscii[c] === 0 : !(this.firstUnits as ReadonlySet<number>).has(c)) return null;
    }
    if (this.literal !== undefined && !buf.includes(this.literal)) return null;
    return this.compiled.search(buf);
  }

  /**
   * `getGroups()`: the groupdict with alt_ values merged and tuple_ values combined. With `base`
   * (the prefregex's groups), `base.copy().update(getGroups())` in one go; `skip` leaves one group out.
   */
  groups(m: PythonMatch, base?: FailData | null, skip?: string): FailData {
    if (base && base.size > 0 && (this.altValues.length > 0 || this.tupleValues.length > 0)) {
      const merged: FailData = new Map(base);
      for (const [k, v] of this.groups(m, null, skip)) merged.set(k, v);
      return merged;
    }
    const fail: FailData = base && base.size > 0 ? new Map(base) : new Map<string, FailValue>();
    const names = this.names;
    for (let i = 0; i < names.length; i++) {
      const k = names[i] as string;
      if (k !== skip) fail.set(k, m.groupAt(i) ?? null);
    }
    for (const [k, n] of this.altValues) {
      const v = fail.get(k);
      if (truthy(v) && !truthy(fail.get(n))) fail.set(n, v ?? null);
    }
    for (const [k, n] of this.tupleValues) {
      const v = fail.get(k) ?? null;
      const t = fail.get(n) ?? null;
      fail.set(n, t instanceof GroupTuple ? new GroupTuple([...t.items, v]) : new GroupTuple([t, v]));
    }
    return fail;
  }

  /** `getFailID()`: the first of fid, ip4, ip6, dns that took part. */
  failId(m: PythonMatch, buf: string): string {
    for (const g of ['fid', 'ip4', 'ip6', 'dns']) {
      const i = this.names.indexOf(g);
      const v = i < 0 ? undefined : m.groupAt(i);
      if (v !== undefined) return v;
    }
    throw new FilterRegexError(`no failure-id group took part in the match of '${this.expanded}'`, this.source, `No group found in '${buf}' using '${this.expanded}'`);
  }

  /**
   * The lines of `orgLines` the match covers and the others (`getMatchedTupleLines` /
   * `getUnmatchedTupleLines`): single-line buffers are matched whole; in a multi-line buffer the
   * match's first to last line, minus the lines captured by `<SKIPLINES>`.
   */
  splitLines(m: PythonMatch, buf: string, orgLines: readonly TupleLine[]): { matched: TupleLine[]; unmatched: TupleLine[] } {
    if (orgLines.length <= 1) return { matched: orgLines.slice(), unmatched: [] };
    const lineStart = buf.lastIndexOf('\n', m.index) + 1;
    const endNl = buf.indexOf('\n', Math.max(0, m.end - 1));
    const lineEnd = endNl === -1 ? buf.length : endNl + 1;
    const count1 = countNl(buf, lineStart);
    const count2 = countNl(buf, lineEnd);
    const matched = orgLines.slice(count1, count2);
    const unmatched = orgLines.slice(0, count1);
    let skipped = '';
    for (const g of this.skipGroups) skipped += m.groups[g] ?? '';
    let n = 0;
    for (const skippedLine of splitLines(skipped)) {
      for (let i = n; i < matched.length; i++) {
        const l = matched[i] as TupleLine;
        if (l[0] + l[2] === skippedLine) {
          unmatched.push(l);
          matched.splice(i, 1);
          n += i - n;
          break;
        }
      }
    }
    for (const l of orgLines.slice(count2)) unmatched.push(l);
    return { matched, unmatched };
  }
}

function countNl(s: string, end: number): number {
  let c = 0;
  for (let i = s.indexOf('\n'); i !== -1 && i < end; i = s.indexOf('\n', i + 1)) c++;
  return c;
}

/** Python `str.splitlines(False)`. */
export function splitLines(s: string): string[] {
  if (s === '') return [];
  const out = s.split(SPLITLINES);
  if (out[out.length - 1] === '') out.pop();
  return out;
}
