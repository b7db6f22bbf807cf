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
  readonly groups: Record<string, string | undefined>;
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

/** Translates and compiles. */
export function compilePythonRegex(pattern: string, opts: PythonRegexOptions = {}): CompiledPythonRegex {
  const translation = translatePythonRegex(pattern, opts);
  const regex = new RegExp(translation.source, translation.flags);
  const global = new RegExp(translation.source, translation.flags + 'g');
  const sticky = new RegExp(translation.source, translation.flags + 'y');
  const known = new Set(translation.groupNames);
  // Per Python group, the JS groups carrying it in JS order (the first that participated wins).
  const byPython = new Map<string, string[]>(translation.groupNames.map((n) => [n, []]));
  for (const [js, py] of translation.jsToPython) byPython.get(py)?.push(js);
  const carriers = [...byPython];
  const groupsOf = (m: RegExpExecArray): Record<string, string | undefined> => {
    const out: Record<string, string | undefined> = {};
    const g = m.groups;
    for (const [py, jsList] of carriers) {
      let v: string | undefined;
      if (g) {
        for (const js of jsList) {
          v = g[js];
          if (v !== undefined) break;
        }
      }
      out[py] = v;
    }
    for (const loop of translation.loops) {
      const span = m.indices?.groups?.[loop.group];
      if (span === undefined) continue;
      for (const [py, v] of recoverLoop(loop, m.input, span[0], span[1])) {
        if (known.has(py)) out[py] = v;
      }
    }
    return out;
  };
  const run = (re: RegExp, subject: string, pos: number): PythonMatch | null => {
    re.lastIndex = pos;
    const m = re.exec(subject);
    return m ? { index: m.index, end: m.index + m[0].length, groups: groupsOf(m) } : null;
  };
  return {
    translation,
    regex,
    search: (subject, pos = 0) => run(global, subject, pos),
    match: (subject, pos = 0) => run(sticky, subject, pos),
    groupsOf,
  };
}
