/**
 * Python 3.11 `re` (str patterns) to JavaScript RegExp with the same match semantics for
 * `search`/`match`. See README-style notes in index.ts for what is covered and what is rejected.
 */
import { checkTree } from './checks.js';
import { emit } from './emit.js';
import { expandReferences } from './expand.js';
import { parsePython } from './parser.js';
import { recoverLoop } from './recover.js';
import type { LoopRecovery } from './emit.js';

/** Flags given to `re.compile` (inline flags in the pattern are honoured as well). */
export interface PythonRegexOptions {
  readonly multiline?: boolean;
  readonly ignoreCase?: boolean;
  readonly dotAll?: boolean;
}

/** A translated pattern: compile `source` with `flags`. */
export interface Translation {
  readonly source: string;
  readonly flags: string;
  /** Python's named groups, in order of definition. */
  readonly groupNames: readonly string[];
  /** For every JS capturing group: the Python group (its name, or its number for unnamed ones). */
  readonly jsToPython: ReadonlyMap<string, string>;
  /**
   * Loops whose named captures JS loses (set in some iterations only): the regex has the `d` flag
   * and `groupsOf` replays them (recover.ts), so run the regex through `groupsOf`.
   */
  readonly loops: readonly LoopRecovery[];
}

/** Translates; throws RegexError (E_REGEX_SYNTAX / E_REGEX_UNSUPPORTED) when it cannot do so faithfully. */
export function translatePythonRegex(pattern: string, opts: PythonRegexOptions = {}): Translation {
  const parsed = parsePython(pattern, { ic: opts.ignoreCase ?? false, ml: opts.multiline ?? false, dotAll: opts.dotAll ?? false });
  checkTree(parsed.root, pattern);
  const tree = expandReferences(parsed.root, pattern);
  const names = [...parsed.names.keys()];
  const { source, jsToPython, loops } = emit(tree, names);
  return { source, flags: loops.length > 0 ? 'du' : 'u', groupNames: names, jsToPython, loops };
}

/** A match: UTF-16 offsets and Python's groupdict (undefined for a group that did not participate). */
export interface PythonMatch {
  readonly index: number;
  readonly end: number;
  /** Python's groupdict, built on first use. */
  readonly groups: Record<string, string | undefined>;
  /** The `i`-th Python named group (in `translation.groupNames` order); no groupdict is built. */
  groupAt(i: number): string | undefined;
}

/** A compiled translation with Python's `search` and `match`. */
export interface CompiledPythonRegex {
  readonly translation: Translation;
  /** The translated RegExp (flags `u`, or `du` with `loops`), for callers that run it themselves (see `groupsOf`). */
  readonly regex: RegExp;
  /** `re.search(subject[pos:])` semantics but offsets in `subject`; lookbehinds and `^` see the whole subject, as in Python. */
  search(subject: string, pos?: number): PythonMatch | null;
  /** `pattern.match(subject, pos)`: the match must start at `pos`. */
  match(subject: string, pos?: number): PythonMatch | null;
  /** Python's groupdict from a match of `regex`. */
  groupsOf(m: RegExpExecArray): Record<string, string | undefined>;
}

/**
 * The JS capture index of every named group of `source` (emitted by emit.ts, `u` syntax): captures
 * are numbered by their `(` in source order; escapes and class contents are skipped. The emitter
 * names every capture, so a bare `(` capture is an error here.
 */
export function captureIndices(source: string): Map<string, number> {
  const out = new Map<string, number>();
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') {
      if (source[i + 1] !== '?') throw new Error(`translated regex has an unnamed capture at ${i}: ${source}`);
      if (source[i + 2] === '<' && source[i + 3] !== '=' && source[i + 3] !== '!') {
        const close = source.indexOf('>', i + 3);
        out.set(source.slice(i + 3, close), out.size + 1);
      }
    }
  }
  return out;
}

/** Reads Python groups from a raw JS match by capture index. */
class GroupReader {
  constructor(
    /** Per Python group (groupNames order), the JS capture indices carrying it, in JS order. */
    readonly carriers: readonly (readonly number[])[],
    readonly names: readonly string[],
  ) {}

  at(m: RegExpExecArray, i: number): string | undefined {
    const list = this.carriers[i];
    if (list === undefined) return undefined;
    for (let k = 0; k < list.length; k++) {
      const v = m[list[k] as number];
      if (v !== undefined) return v;
    }
    return undefined;
  }

  /** Python's groupdict of the match (before any loop recovery). */
  dict(m: RegExpExecArray): Record<string, string | undefined> {
    const out: Record<string, string | undefined> = {};
    for (let i = 0; i < this.names.length; i++) out[this.names[i] as string] = this.at(m, i);
    return out;
  }
}

/** A match read through capture indices (no `groups` object is touched unless asked for). */
class IndexedMatch implements PythonMatch {
  readonly index: number;
  readonly end: number;
  private dict: Record<string, string | undefined> | undefined;

  constructor(
    private readonly raw: RegExpExecArray,
    private readonly reader: GroupReader,
  ) {
    this.index = raw.index;
    this.end = raw.index + (raw[0]).length;
  }

  groupAt(i: number): string | undefined {
    return this.reader.at(this.raw, i);
  }

  get groups(): Record<string, string | undefined> {
    return (this.dict ??= this.reader.dict(this.raw));
  }
}

/** A match whose groupdict needed loop recovery: built eagerly. */
class DictMatch implements PythonMatch {
  constructor(
    readonly index: number,
    readonly end: number,
    readonly groups: Record<string, string | undefined>,
    private readonly names: readonly string[],
  ) {}

  groupAt(i: number): string | undefined {
    const n = this.names[i];
    return n === undefined ? undefined : this.groups[n];
  }
}

/** Translates and compiles. */
export function compilePythonRegex(pattern: string, opts: PythonRegexOptions = {}): CompiledPythonRegex {
  const translation = translatePythonRegex(pattern, opts);
  const regex = new RegExp(translation.source, translation.flags);
  const global = new RegExp(translation.source, translation.flags + 'g');
  const sticky = new RegExp(translation.source, translation.flags + 'y');
  const known = new Set(translation.groupNames);
  const index = captureIndices(translation.source);
  // Per Python group, the JS groups carrying it in JS order (the first that participated wins).
  const byPython = new Map<string, number[]>(translation.groupNames.map((n) => [n, []]));
  for (const [js, py] of translation.jsToPython) {
    const i = index.get(js);
    if (i !== undefined) byPython.get(py)?.push(i);
  }
  const reader = new GroupReader([...byPython.values()], translation.groupNames);
  const groupsOf = (m: RegExpExecArray): Record<string, string | undefined> => {
    const out = reader.dict(m);
    for (const loop of translation.loops) {
      const span = m.indices?.groups?.[loop.group];
      if (span === undefined) continue;
      for (const [py, v] of recoverLoop(loop, m.input, span[0], span[1])) {
        if (known.has(py)) out[py] = v;
      }
    }
    return out;
  };
  const hasLoops = translation.loops.length > 0;
  const run = (re: RegExp, subject: string, pos: number): PythonMatch | null => {
    re.lastIndex = pos;
    const m = re.exec(subject);
    if (m === null) return null;
    if (!hasLoops) return new IndexedMatch(m, reader);
    return new DictMatch(m.index, m.index + m[0].length, groupsOf(m), translation.groupNames);
  };
  return {
    translation,
    regex,
    search: (subject, pos = 0) => run(global, subject, pos),
    match: (subject, pos = 0) => run(sticky, subject, pos),
    groupsOf,
  };
}
