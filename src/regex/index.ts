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
 * Rejected with E_REGEX_SYNTAX: what Python 3.11 rejects (that we detect). Rejected with
 * E_REGEX_UNSUPPORTED: atomic groups, possessive quantifiers, `(?x)`, `(?a)`, `\N{…}`, quantified
 * lookarounds, backreferences inside look-behinds or under IGNORECASE, repeats (more than one
 * iteration) of nullable subpatterns or of captures that may not participate in every iteration,
 * and conditionals whose group is decided where the expansion would reorder backtracking.
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
