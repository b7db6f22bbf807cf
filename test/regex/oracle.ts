/** Python `re.search` as the oracle for the regex translation tests, and our side in the same shape. */
import { compilePythonRegex, RegexError } from '../../src/regex/index.js';
import { runPython } from '../helpers/python.js';

/** One comparison: pattern, compile flags (`i`, `m`, `s`), subject. */
export interface Case {
  readonly p: string;
  readonly f: string;
  readonly s: string;
}

/** Outcome of a search: an error, no match, or span (code points) and groupdict. */
export type Outcome = { error: string } | null | { span: [number, number]; groups: Record<string, string | null> };

const SCRIPT = `
import re, warnings
warnings.simplefilter('ignore')
cache = {}
out = []
for c in DATA:
    fl = (re.I if 'i' in c['f'] else 0) | (re.M if 'm' in c['f'] else 0) | (re.S if 's' in c['f'] else 0)
    key = (c['p'], fl)
    if key not in cache:
        try:
            cache[key] = re.compile(c['p'], fl)
        except re.error as e:
            cache[key] = str(e)
    r = cache[key]
    if isinstance(r, str):
        out.append({'error': r}); continue
    m = r.search(c['s'])
    out.append(None if m is None else {'span': m.span(), 'groups': m.groupdict()})
print(json.dumps(out))
`;

/** Python's outcomes for a batch, in one run. */
export function pythonOutcomes(cases: readonly Case[]): Outcome[] {
  return runPython<Outcome[]>(SCRIPT, cases);
}

const cpLen = (s: string): number => Array.from(s).length;

/** Our outcome; `{ error: 'E_REGEX_…: message' }` when the translation throws. */
export function ourOutcome(c: Case): Outcome {
  let rx;
  try {
    rx = compilePythonRegex(c.p, { ignoreCase: c.f.includes('i'), multiline: c.f.includes('m'), dotAll: c.f.includes('s') });
  } catch (e) {
    if (e instanceof RegexError) return { error: `${e.code}: ${e.message}` };
    throw e;
  }
  const m = rx.search(c.s);
  if (m === null) return null;
  const groups: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(m.groups)) groups[k] = v ?? null;
  const start = cpLen(c.s.slice(0, m.index));
  return { span: [start, start + cpLen(c.s.slice(m.index, m.end))], groups };
}

/** True when both agree; an error on both sides counts as agreement (ours may be a refusal met first). */
export function agree(py: Outcome, ours: Outcome): boolean {
  if (py !== null && 'error' in py) return ours !== null && 'error' in ours;
  return JSON.stringify(py) === JSON.stringify(ours);
}

/** True when ours is a deliberate refusal (E_REGEX_UNSUPPORTED). */
export function refused(ours: Outcome): boolean {
  return ours !== null && 'error' in ours && ours.error.startsWith('E_REGEX_UNSUPPORTED');
}
