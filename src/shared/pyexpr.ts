/**
 * A safe evaluator for the Python expressions fail2ban hands to `eval` in `bantime.factor` and
 * `bantime.formula`: numbers, arithmetic, bit operations, comparisons, `and`/`or`/`not`,
 * `a if c else b`, names and attributes from a given scope, calls with positional arguments.
 * Anything else (strings, subscripts, lambdas, dunder attributes, keyword arguments…) is refused
 * with a typed `PyExprError` at compile time, so nothing outside the grammar is ever evaluated.
 *
 * Values follow Python's numeric model: an int is a `bigint` (exact, no overflow), a float a
 * `number`, a bool a `boolean` (1/0 in arithmetic). `/` gives a float, `//` and `%` floor, int
 * to float conversion and int true division are correctly rounded, int sizes are capped
 * (`9**9**9` is an error, not a hang).
 *
 * This module is the public face; the parts live in `./pyexpr/`: types (values, PyExprError),
 * tokenize, parse, evaluate (compile API), intFloat and doubleDouble (CPython-exact arithmetic),
 * operators, builtins (with builtinArgs, round), values (conversions).
 */
export { MAX_INT_BITS, PyExprError, pyTypeName, type PyFunction, type PyNamespace, type PyNumeric, type PyScope, type PyScopeValue } from './pyexpr/types.js';
export { intToFloat } from './pyexpr/intFloat.js';
export { pyTruthy } from './pyexpr/operators.js';
export { CompiledPyExpr, compilePyExpr } from './pyexpr/evaluate.js';
export { pyNumericFromValue, pyNumericRepr, pyNumericToNumber, pyNumericToValue } from './pyexpr/values.js';
export { pyNamespace, pyStandardScope } from './pyexpr/builtins.js';
