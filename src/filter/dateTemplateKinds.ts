/**
 * The three kinds of date templates (datetemplate.py): `DatePatternRegex` (strptime-style
 * directives), `DateEpoch` (Unix time, optionally long/milliseconds) and `DateTai64n`.
 */
import { boundRegex, type DateTemplate, type WordBegin } from './dateTemplate.js';
import { DIRECTIVE_RE, type DirectiveTables } from './dateDirectives.js';
import { pyFormatMapping } from './datePyFormat.js';
import { DatePatternError, PyFormatError } from './dateErrors.js';

const RE_EXLINE_NO_BOUNDS = /^\{UNB\}/;
const RE_EXLINE_BOUND_BEG = /^\{\^LN-BEG\}/;
const RE_ALPHA_PATTERN = /(?<!%)%[aAbBpc]/;
/** `{EPOCH}` or `{LEPOCH}` inside a user pattern, any case, not escaped. */
export const RE_EPOCH_PATTERN = /(?<!\\)\{L?EPOCH\}/gi;

const EPOCH_RE = String.raw`\d{10,11}\b(?:\.\d{3,6})?`;
const LONG_EPOCH_RE = String.raw`\d{10,11}(?:\d{3}(?:\.\d{1,6}|\d{3})?)?`;

/** `DatePatternRegex(pattern)` with the given bounds; throws {@link DatePatternError} as fail2ban does. */
export function patternTemplate(tables: DirectiveTables, original: string, wordBeginIn: WordBegin = true, wordEndIn = true): DateTemplate {
  let pattern = original;
  let wordBegin = wordBeginIn;
  let wordEnd = wordEndIn;
  if (RE_EXLINE_NO_BOUNDS.test(pattern)) {
    pattern = pattern.replace(RE_EXLINE_NO_BOUNDS, '');
    wordBegin = wordEnd = false;
  }
  if (wordBegin !== false && RE_EXLINE_BOUND_BEG.test(pattern)) {
    pattern = pattern.replace(RE_EXLINE_BOUND_BEG, '');
    wordBegin = 'start';
  }
  const fmt = pattern.replace(DIRECTIVE_RE, (_m, key: string) => `%(${key})s`);
  let name: string;
  let regex: string;
  try {
    name = pyFormatMapping(fmt, tables.names);
    regex = pyFormatMapping(fmt, tables.regex);
  } catch (e) {
    if (!(e instanceof PyFormatError)) throw e;
    throw new DatePatternError(
      'TypeError',
      `Failed to set datepattern '${pattern}' (may be an invalid format or unescaped percent char): ${e.message}`,
    );
  }
  if (RE_ALPHA_PATTERN.test(pattern)) regex = '(?iu)' + regex;
  const b = boundRegex(regex, name, wordBegin, wordEnd);
  return { kind: 'pattern', name: b.name, regex: b.regex, flags: b.flags, weight: 1, pattern: original };
}

/** How a `DateEpoch` is made: plain (`EPOCH`), line-begin only (`^EPOCH`), or inside a user pattern. */
export interface EpochOptions {
  readonly lineBeginOnly?: boolean;
  readonly pattern?: string;
  readonly longForm?: boolean;
}

/** `DateEpoch(lineBeginOnly, pattern, longFrm)`. */
export function epochTemplate(opts: EpochOptions): DateTemplate {
  const longForm = opts.longForm ?? false;
  const epochRe = longForm ? LONG_EPOCH_RE : EPOCH_RE;
  const baseName = opts.pattern !== undefined && opts.pattern !== '' ? opts.pattern : longForm ? 'LongEpoch' : 'Epoch';
  let b;
  let groupIndex = 1;
  if (opts.pattern !== undefined && opts.pattern !== '') {
    const regex = '(' + opts.pattern.replace(RE_EPOCH_PATTERN, () => `(${epochRe})`) + ')';
    groupIndex = 2;
    b = boundRegex(regex, baseName, true, true);
  } else if (opts.lineBeginOnly !== true) {
    const regex = String.raw`((?:^|(?P<square>(?<=^\[))|(?P<selinux>(?<=\baudit\()))${epochRe})(?:(?(selinux)(?=:\d+\)))|(?(square)(?=\])))`;
    b = boundRegex(regex, baseName, false, true);
  } else {
    const regex = String.raw`((?P<square>(?<=^\[))?${epochRe})(?(square)(?=\]))`;
    b = boundRegex(regex, baseName, 'start', true);
  }
  return { kind: 'epoch', name: b.name, regex: b.regex, flags: b.flags, weight: 1, longForm, groupIndex };
}

/** `DateTai64n(wordBegin)`. */
export function tai64nTemplate(wordBegin: WordBegin): DateTemplate {
  const b = boundRegex('@[0-9a-f]{24}', 'TAI64N', wordBegin, true);
  return { kind: 'tai64n', name: b.name, regex: b.regex, flags: b.flags, weight: 1 };
}
