/**
 * The names fail2ban's formulas use: `math` (exp, log, sqrt, pow, floor, ceil, pi, e), `random`,
 * and the builtins min, max, abs, int, float, round, pow; `pyNamespace` for objects like `ban`.
 */
import { argErr, arity, asInt, fn, floatToInt, toFloatArg } from './builtinArgs.js';
import { expOf, logOf, powOf } from './doubleDouble.js';
import { bitLength } from './intFloat.js';
import { binary, compare, floatPow, isOddInteger } from './operators.js';
import { pyRoundBuiltin } from './round.js';
import { PyExprError, pyTypeName, type PyFunction, type PyNamespace, type PyNumeric, type PyScope, type PyScopeValue } from './types.js';

function minMax(name: string, wantGreater: boolean): PyFunction {
  return fn(name, (args) => {
    if (args.length === 0) throw argErr(`${name} expected at least 1 argument, got 0`);
    if (args.length === 1) throw argErr(`'${pyTypeName(args[0] as PyNumeric)}' object is not iterable`);
    let best = args[0] as PyNumeric;
    for (const v of args.slice(1)) if (compare(wantGreater ? '>' : '<', v, best, -1)) best = v;
    return best;
  });
}

function mathLog(args: readonly PyNumeric[]): number {
  arity('log', args, 1, 2);
  const ln = (v: PyNumeric): number => {
    const x = asInt(v);
    if (typeof x === 'bigint') {
      if (x <= 0n) throw new PyExprError('ValueError', 'math domain error', -1);
      const f = Number(x);
      if (Number.isFinite(f)) return logOf(f);
      // CPython: frexp of the int, then log(m) + log(2.0) * e.
      const e = bitLength(x);
      return logOf(Number(x >> BigInt(e - 64)) / 2 ** 64) + Math.LN2 * e;
    }
    if (!(x > 0) && !Number.isNaN(x)) throw new PyExprError('ValueError', 'math domain error', -1);
    return logOf(x);
  };
  const num = ln(args[0] as PyNumeric);
  if (args.length === 1) return num;
  const den = ln(args[1] as PyNumeric);
  if (den === 0) throw new PyExprError('ZeroDivisionError', 'float division by zero', -1);
  return num / den;
}

function mathPow(args: readonly PyNumeric[]): number {
  arity('pow', args, 2, 2);
  const x = toFloatArg(args[0] as PyNumeric);
  const y = toFloatArg(args[1] as PyNumeric);
  if (Number.isFinite(x) && Number.isFinite(y)) {
    if ((x === 0 && y < 0) || (x < 0 && !Number.isInteger(y))) throw new PyExprError('ValueError', 'math domain error', -1);
    const r = y === 0 || x === 1 ? 1 : x === 0 ? (isOddInteger(y) ? x : 0) : (x < 0 && isOddInteger(y) ? -1 : 1) * powOf(Math.abs(x), y);
    if (!Number.isFinite(r)) throw new PyExprError('OverflowError', 'math range error', -1);
    return r;
  }
  if (x === 1 || y === 0) return 1;
  return floatPow(x, y, -1);
}

function mathRound(name: 'floor' | 'ceil'): PyFunction {
  return fn(name, (args) => {
    arity(name, args, 1, 1);
    const x = asInt(args[0] as PyNumeric);
    if (typeof x === 'bigint') return x;
    return floatToInt(name === 'floor' ? Math.floor(x) : Math.ceil(x));
  });
}

function mathFn(name: string, f: (x: number) => number, domain: (x: number) => boolean): PyFunction {
  return fn(name, (args) => {
    arity(name, args, 1, 1);
    const x = toFloatArg(args[0] as PyNumeric);
    if (!domain(x)) throw new PyExprError('ValueError', 'math domain error', -1);
    const r = f(x);
    if (!Number.isFinite(r) && Number.isFinite(x)) throw new PyExprError('OverflowError', 'math range error', -1);
    return r;
  });
}

function namespace(name: string, entries: ReadonlyArray<readonly [string, PyScopeValue]>): PyNamespace {
  return { kind: 'namespace', name, attrs: new Map(entries) };
}

/** An object with attributes, e.g. `ban` with `Time` and `Count`. */
export function pyNamespace(name: string, attrs: Readonly<Record<string, PyScopeValue>>): PyNamespace {
  return namespace(name, Object.entries(attrs));
}

/**
 * The globals a fail2ban formula sees: `math` (exp, log, sqrt, pow, floor, ceil, pi, e),
 * `random.random()` from `random` (values in [0, 1)), and the builtins min, max, abs, int, float,
 * round, pow. `extra` adds or overrides names (`ban`, `banFactor`).
 */
export function pyStandardScope(random: () => number, extra: ReadonlyArray<readonly [string, PyScopeValue]> = []): PyScope {
  const math = namespace('math', [
    ['exp', mathFn('exp', (x) => (Number.isFinite(x) ? expOf([x, 0]) : Math.exp(x)), () => true)],
    ['log', fn('log', mathLog)],
    ['sqrt', mathFn('sqrt', Math.sqrt, (x) => !(x < 0))],
    ['pow', fn('pow', mathPow)],
    ['floor', mathRound('floor')],
    ['ceil', mathRound('ceil')],
    ['pi', Math.PI],
    ['e', Math.E],
  ]);
  const rnd = namespace('random', [['random', fn('random', (args) => (arity('random', args, 0, 0), random()))]]);
  const builtins: ReadonlyArray<readonly [string, PyScopeValue]> = [
    ['math', math],
    ['random', rnd],
    ['min', minMax('min', false)],
    ['max', minMax('max', true)],
    ['abs', fn('abs', (args) => (arity('abs', args, 1, 1), ((v) => (typeof v === 'bigint' ? (v < 0n ? -v : v) : Math.abs(v)))(asInt(args[0] as PyNumeric))))],
    ['int', fn('int', (args) => (arity('int', args, 0, 1), ((v) => (typeof v === 'bigint' ? v : floatToInt(v)))(asInt(args[0] ?? 0n))))],
    ['float', fn('float', (args) => (arity('float', args, 0, 1), toFloatArg(args[0] ?? 0)))],
    ['round', fn('round', pyRoundBuiltin)],
    ['pow', fn('pow', (args) => (arity('pow', args, 2, 2), binary('**', args[0] as PyNumeric, args[1] as PyNumeric, -1)))],
  ];
  return new Map([...builtins, ...extra]);
}
