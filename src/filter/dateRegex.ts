/**
 * Date template regexes for the detector: Python group 1 (the part cut out of the line) and the
 * value group marked by name so their spans can be read, translated by `src/regex`; a translation
 * the translator refuses is kept as a value, so a detector fails only when it must use it.
 */
import { compilePythonRegex, RegexError } from '../regex/index.js';

/** A template regex as compiled once: the matcher, or why it could not be translated. */
export interface CompiledTemplateRegex {
  /** Global RegExp with indices (`dgu`). */
  readonly re: RegExp | undefined;
  /** Python group number (1, and the value group) → the JS group names carrying it. */
  readonly numbered: ReadonlyMap<number, readonly string[]>;
  readonly named: readonly string[];
  /** Python group name → JS group names. */
  readonly byName: ReadonlyMap<string, readonly string[]>;
  readonly error: RegexError | undefined;
  /** JS names of the group wrapping everything before group 1 (set when group 1 sits at the top level: no `d` flag needed). */
  readonly pre: readonly string[] | undefined;
}



/** The prefix of the names given to unnamed groups we need spans of (translated regexes keep only named groups). */
const MARK = '_pcdd_g';

/**
 * Names Python groups `wanted` (by number) in a Python pattern: an unnamed group gets `(?P<_pcdd_gN>`,
 * a named one keeps its name. Numbering is unchanged (named groups are numbered too).
 */
export function markGroups(pattern: string, wanted: readonly number[]): { pattern: string; names: Map<number, string> } {
  const names = new Map<number, string>();
  let out = '';
  let n = 0;
  let inClass = false;
  let classStart = -1;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '\\') {
      out += pattern.slice(i, i + 2);
      i++;
      continue;
    }
    out += c;
    if (inClass) {
      if (c === ']' && i !== classStart) inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      classStart = pattern[i + 1] === '^' ? i + 2 : i + 1;
      continue;
    }
    if (c !== '(') continue;
    if (pattern[i + 1] === '?') {
      if (pattern.startsWith('?P<', i + 1)) {
        const close = pattern.indexOf('>', i + 4);
        n++;
        if (wanted.includes(n) && close > 0) names.set(n, pattern.slice(i + 4, close));
      }
      continue;
    }
    n++;
    if (wanted.includes(n)) {
      names.set(n, `${MARK}${n}`);
      out += `?P<${MARK}${n}>`;
    }
  }
  return { pattern: out, names };
}

const LEADING_FLAGS = /^(?:\(\?[aiLmsux]+\))*/;

/**
 * When group 1 of a Python pattern is a plain top-level group (no top-level `|`, not quantified, no
 * numeric back-references), wraps everything before it in `(?P<_pcdd_pre>…)` so that group 1's span
 * is `match.index + len(pre)` and its text — no `d` flag (V8's indices cost about 2.5 µs per match).
 */
export function wrapPrefix(pattern: string): string | undefined {
  if (/\\[1-9]/.test(pattern)) return undefined;
  const head = LEADING_FLAGS.exec(pattern)?.[0] ?? '';
  let depth = 0;
  let inClass = false;
  let classStart = -1;
  let g1Start = -1;
  let g1End = -1;
  for (let i = head.length; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '\\') { i++; continue; }
    if (inClass) {
      if (c === ']' && i !== classStart) inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      classStart = pattern[i + 1] === '^' ? i + 2 : i + 1;
      continue;
    }
    if (c === '|' && depth === 0) return undefined;
    if (c === '(') {
      const capturing = pattern[i + 1] !== '?' || pattern.startsWith('?P<', i + 1);
      if (capturing && g1Start === -1) {
        if (depth !== 0) return undefined;
        g1Start = i;
      }
      depth++;
    } else if (c === ')') {
      depth--;
      if (depth === 0 && g1Start !== -1 && g1End === -1) g1End = i;
    }
  }
  if (g1Start === -1 || g1End === -1 || /^[*+?{]/.test(pattern.slice(g1End + 1))) return undefined;
  return `${head}(?P<${MARK}pre>${pattern.slice(head.length, g1Start)})${pattern.slice(g1Start)}`;
}

/** Translates a template regex (the group whose value is read marked by name); refusals become values. */
function compileTemplateRegex(regex: string, valueGroup: number): CompiledTemplateRegex {
  let out: CompiledTemplateRegex;
  try {
    const marked = markGroups(regex, valueGroup === 1 ? [1] : [1, valueGroup]);
    const wrapped = wrapPrefix(marked.pattern);
    const c = compilePythonRegex(wrapped ?? marked.pattern);
    const tr = c.translation;
    const byKey = new Map<string, string[]>();
    for (const [js, py] of tr.jsToPython) {
      const list = byKey.get(py) ?? [];
      list.push(js);
      byKey.set(py, list);
    }
    const numbered = new Map<number, readonly string[]>();
    for (const [num, name] of marked.names) numbered.set(num, byKey.get(name) ?? []);
    const named = tr.groupNames.filter((g) => !g.startsWith(MARK));
    const pre = wrapped !== undefined && tr.loops.length === 0 ? (byKey.get(`${MARK}pre`) ?? []) : undefined;
    out = {
      re: new RegExp(tr.source, tr.flags.replace(/[dg]/g, '') + (pre ? 'g' : 'dg')),
      numbered,
      named,
      byName: new Map(named.map((g) => [g, byKey.get(g) ?? []])),
      error: undefined,
      pre,
    };
  } catch (e) {
    if (!(e instanceof RegexError)) throw e;
    out = { re: undefined, numbered: new Map(), named: [], byName: new Map(), error: e, pre: undefined };
  }
  return out;
}

/** Template regexes translated once and shared by the detectors that are given the same cache. */
export class TemplateRegexCache {
  private readonly compiled = new Map<string, CompiledTemplateRegex>();

  compile(regex: string, valueGroup: number): CompiledTemplateRegex {
    const key = `${valueGroup}\u0000${regex}`;
    let c = this.compiled.get(key);
    if (!c) this.compiled.set(key, (c = compileTemplateRegex(regex, valueGroup)));
    return c;
  }
}

/** One raw search result. */
export interface RawMatch {
  readonly start: number;
  readonly end: number;
  readonly m: RegExpExecArray;
}

/** The text of the first participating JS group among `jsNames`, or undefined. */
export function textOf(m: RegExpExecArray, jsNames: readonly string[] | undefined): string | undefined {
  const g = m.groups;
  if (!g || !jsNames) return undefined;
  for (const js of jsNames) {
    const v = g[js];
    if (v !== undefined) return v;
  }
  return undefined;
}

/** The span of Python group 1 (the part cut out of the line). */
export function span1(c: CompiledTemplateRegex, m: RegExpExecArray): [number, number] | undefined {
  if (c.pre) {
    const g1 = textOf(m, c.numbered.get(1));
    if (g1 === undefined) return undefined;
    const start = m.index + (textOf(m, c.pre)?.length ?? 0);
    return [start, start + g1.length];
  }
  return spanOf(m, c.numbered.get(1));
}

/** The span of the first participating JS group among `jsNames`, or undefined (needs the `d` flag). */
export function spanOf(m: RegExpExecArray, jsNames: readonly string[] | undefined): [number, number] | undefined {
  for (const js of jsNames ?? []) {
    const s = m.indices?.groups?.[js];
    if (s) return [s[0], s[1]];
  }
  return undefined;
}
