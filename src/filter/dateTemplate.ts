/**
 * One date template as fail2ban builds it (`DateTemplate.setRegex` in datetemplate.py): the regex
 * gets its capturing group, word or line bounds and flags. Regexes are Python-syntax strings.
 */

/** Template flags, with fail2ban's values. */
export const DateFlag = { LINE_BEGIN: 8, LINE_END: 4, WORD_BEGIN: 2, WORD_END: 1 } as const;

/** What kind of template it is, which decides how the match becomes a time. */
export type DateTemplateKind = 'pattern' | 'epoch' | 'tai64n';

/** A built date template. */
export interface DateTemplate {
  readonly kind: DateTemplateKind;
  readonly name: string;
  /** The Python-syntax regex; group 1 is what gets cut out of the line. */
  readonly regex: string;
  /** Bit set of {@link DateFlag}. */
  readonly flags: number;
  /** 100 for the `{^LN-BEG}` copies in the default list, else 1. */
  readonly weight: number;
  /** `pattern` templates: the pattern as given (with `{UNB}`/`{^LN-BEG}`). */
  readonly pattern?: string;
  /** `epoch` templates: LEPOCH (milli/microsecond) form. */
  readonly longForm?: boolean;
  /** `epoch` templates: the group holding the number (1, or 2 for `{EPOCH}` inside a pattern). */
  readonly groupIndex?: number;
}

/** How `wordBegin` was given: true, false, or `'start'` (line begin). */
export type WordBegin = boolean | 'start';

/** Python's `\w` for str patterns, closely enough for flag groups like `(?iu)`. */
const W = String.raw`[\p{L}\p{N}_]`;
const RE_GROUPED = /(?<!\(\?)(?<!\\)\((?!\?)/;
const RE_GROUP = new RegExp(String.raw`^((?:\(\?${W}+\))?\^?(?:\(\?${W}+\))?)([^\n]*?)(\$?)$`, 'u');
const RE_GLOBALFLAGS = /\(\?[a-z]+\)/;
const RE_NO_WRD_BOUND_BEG = new RegExp(String.raw`^\(*(?:\(\?${W}+\))?(?:\^|\(*\*\*|\((?:\?:)?\^)`, 'u');
const RE_NO_WRD_BOUND_END = /(?<!\\)(?:\$\)?|\\b|\\s|\*\*\)*)$/;
const RE_DEL_WRD_BOUNDS = new RegExp(String.raw`^\(*(?:\(\?${W}+\))?\(*\*\*|(?<!\\)\*\*\)*$`, 'gu');
const RE_LINE_BOUND_BEG = new RegExp(String.raw`^(?:\(\?${W}+\))?(?:\^|\((?:\?:)?\^(?!\|))`, 'u');
const RE_LINE_BOUND_END = /(?<![\\|])(?:\$\)?)$/;

/** Python's `str.strip()` whitespace. */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const STRIP_RE = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/** Python's `str.strip()`. */
export function pyStrip(s: string): string {
  return s.replace(STRIP_RE, '');
}

/** The result of bounding a regex: the final regex, the flags, and the (maybe prefixed) name. */
export interface BoundRegex {
  readonly regex: string;
  readonly flags: number;
  readonly name: string;
}

/** `DateTemplate.setRegex(regex, wordBegin, wordEnd)` for a template currently named `name`. */
export function boundRegex(input: string, name: string, wordBegin: WordBegin, wordEnd: boolean): BoundRegex {
  let regex = pyStrip(input);
  const gf = RE_GLOBALFLAGS.exec(regex);
  if (gf) regex = regex.slice(0, gf.index) + regex.slice(gf.index + gf[0].length);
  const boundBegin = wordBegin !== false && !RE_NO_WRD_BOUND_BEG.test(regex);
  const boundEnd = wordEnd && !RE_NO_WRD_BOUND_END.test(regex);
  if (!RE_GROUPED.test(regex)) regex = regex.replace(RE_GROUP, (_m, a: string, b: string, c: string) => `${a}(${b})${c}`);
  let flags = 0;
  let outName = name;
  if (boundBegin) {
    if (wordBegin !== 'start') {
      flags |= DateFlag.WORD_BEGIN;
      regex = String.raw`(?=^|\b|\W)` + regex;
    } else {
      flags |= DateFlag.LINE_BEGIN;
      regex = String.raw`^(?:\W{0,2})?` + regex;
      if (!outName.startsWith('{^LN-BEG}')) outName = '{^LN-BEG}' + outName;
    }
  }
  if (boundEnd) {
    flags |= DateFlag.WORD_END;
    regex += String.raw`(?=\b|\W|$)`;
  }
  if (!(flags & DateFlag.LINE_BEGIN) && RE_LINE_BOUND_BEG.test(regex)) flags |= DateFlag.LINE_BEGIN;
  if (RE_LINE_BOUND_END.test(regex)) flags |= DateFlag.LINE_END;
  regex = regex.replace(RE_DEL_WRD_BOUNDS, (m) => m.replaceAll('**', ''));
  if (gf) regex = gf[0] + regex;
  return { regex, flags, name: outName };
}
