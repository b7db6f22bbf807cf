/**
 * Date template regexes for the detector: Python group 1 (the part cut out of the line) and the
 * value group marked by name so their spans can be read, translated by `src/regex`; a translation
 * the translator refuses is kept as a value, so a detector fails only when it must use it.
 */
import { compilePythonRegex, groupLayout, RegexError } from '../regex/index.js';

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

const LEADING_FLAGS = /^(?:\(\?[aiLmsux]+\))*/;

/**
 * The template pattern made readable without the `d` flag: the Python groups `wanted` (by number)
 * get names (an unnamed group becomes `(?P<_pcdd_gN>`, a named one keeps its name; numbering is
 * unchanged), and when group 1 is a direct item of the top-level sequence and nothing refers to a
 * group by number, everything before it is wrapped in `(?P<_pcdd_pre>…)`, so that group 1's span is
 * `match.index + len(pre)` and its text (V8's indices cost about 2.5 µs per match).
 */
export function prepareTemplatePattern(pattern: string, wanted: readonly number[]): { pattern: string; names: Map<number, string>; wrapped: boolean } {
  const layout = groupLayout(pattern);
  const names = new Map<number, string>();
  const inserts: Array<[number, string]> = [];
  for (const n of wanted) {
    const g = layout.groups.get(n);
    if (!g) continue;
    names.set(n, g.name ?? `${MARK}${n}`);
    if (g.name === undefined) inserts.push([g.pos + 1, `?P<${MARK}${n}>`]);
  }
  const g1 = layout.groups.get(1);
  const wrapped = g1 !== undefined && layout.topLevel.has(1) && !layout.numberedRefs;
  if (wrapped) {
    // Same offset: the closing `)` goes first so that an empty prefix reads `(?P<_pcdd_pre>)`.
    inserts.push([g1.pos, ')'], [LEADING_FLAGS.exec(pattern)?.[0].length ?? 0, `(?P<${MARK}pre>`]);
  }
  let out = pattern;
  for (const [pos, text] of inserts.sort((a, b) => b[0] - a[0])) out = out.slice(0, pos) + text + out.slice(pos);
  return { pattern: out, names, wrapped };
}

/** Translates a template regex (the group whose value is read marked by name); refusals become values. */
function compileTemplateRegex(regex: string, valueGroup: number): CompiledTemplateRegex {
  let out: CompiledTemplateRegex;
  try {
    const marked = prepareTemplatePattern(regex, valueGroup === 1 ? [1] : [1, valueGroup]);
    const c = compilePythonRegex(marked.pattern);
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
    const pre = marked.wrapped && tr.loops.length === 0 ? (byKey.get(`${MARK}pre`) ?? []) : undefined;
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
