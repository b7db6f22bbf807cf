/**
 * Python `re` → JavaScript RegExp translation (for fail2ban filters and date templates).
 *
 * Translated: `(?P<n>…)`, `(?P=n)` and `\N` (a reference to a group that did not participate
 * fails, as in Python), conditionals `(?(n)yes|no)` (expanded into alternatives; group copies get
 * JS names `n__2`…, mapped back), global `(?imsu)` at the start and scoped `(?ims-ims:…)`,
 * IGNORECASE by expanding letters to their Python case variants (literals and classes), `^ $ \A \Z`
 * with and without MULTILINE, `.` with and without DOTALL, Python's Unicode `\d \w \s \b \B` and
 * negations (also inside classes), `{,n}` and literal `{`, `]` first in a class, identity escapes,
 * `\x.. \u.... \U........`, octal escapes, `(?#…)` comments. Output uses the `u` flag.
 *
 * Loops: unnamed, unreferenced groups are emitted as non-capturing, so loops around them are free.
 * A named group set in some iterations of a repeat only keeps its last value in Python but is
 * cleared per iteration in JS: such a loop is emitted without captures inside a span group, the
 * regex gets the `d` flag, and `groupsOf` replays the iterations (recover.ts). A greedy repeat of a
 * body that can match empty is accepted when firsts.ts proves Python's early exit after an empty
 * iteration cannot change the result (lazy ones always, fixed counts always).
 *
 * Rejected with E_REGEX_SYNTAX: what Python 3.11 rejects (that we detect). Rejected with
 * E_REGEX_UNSUPPORTED: atomic groups, possessive quantifiers, `(?x)`, `(?a)`, `\N{…}`, quantified
 * lookarounds, backreferences inside look-behinds or under IGNORECASE (unless the group can only capture
 * characters without case variants), repeats of nullable bodies
 * holding visible groups or references or whose exit point is not proved equivalent, loops with
 * groups set in some iterations only when such a group is referenced, the body contains a
 * reference or can match empty, or the loop is inside another loop, a look-behind or a negative
 * look-around, and conditionals whose group is decided where the expansion would reorder backtracking.
 */
export { RegexError, type RegexErrorCode } from './errors.js';
export {
  compilePythonRegex,
  translatePythonRegex,
  type CompiledPythonRegex,
  type PythonMatch,
  type PythonRegexOptions,
  type Translation,
} from './translate.js';
export { firstCodeUnits, requiredLiteral } from './literals.js';
export { groupLayout, type GroupLayout } from './layout.js';
