/**
 * duration: `str2seconds` against fail2ban's own `MyTime.str2seconds` (Debian fail2ban 1.0.2,
 * system Python 3.11), and against `fail2ban-client --str2sec`.
 *
 * Most expectations are computed at test time by the system Python, fed batches of inputs as
 * JSON on stdin; those tests are skipped when no python3 with fail2ban is found. A few fixed
 * cases, checked against fail2ban 1.0.2 on CPython 3.11, always run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { PyFloat, pyReprFloat } from '../../src/shared/pyvalue.js';
import { DurationError, durationExpression, parseDurationSeconds, str2seconds } from '../../src/shared/duration.js';

import { PYTHON, NO_PYTHON, F2B_CLIENT, asciiJson, runPython } from '../helpers/python.js';
import { prng } from '../helpers/random.js';

// ---------------------------------------------------------------------------------------------
// Outcomes, in one comparable shape for both sides.

/** `int`: str(int); `float`: repr(float); `error`: str(exception); `other`: any other result type. */
type Outcome = { int: string } | { float: string } | { error: string; type: string } | { other: string };

/** MyTime.str2seconds of each input, by fail2ban itself. Also the expression handed to eval. */
function pythonStr2seconds(inputs: readonly string[]): Array<{ outcome: Outcome; expr: string }> {
  return runPython(
    `from fail2ban.server.mytime import MyTime
import warnings
warnings.simplefilter('ignore')
def expr(val):
    val = MyTime._str2sec_prep.sub(r" \\1", val)
    for rexp, rpl in MyTime._str2sec_parts:
        val = rexp.sub(rpl, val)
    return MyTime._str2sec_fini.sub(r"\\1+\\2", val)
def outcome(s):
    try:
        v = MyTime.str2seconds(s)
    except Exception as e:
        return {'error': str(e), 'type': type(e).__name__}
    if type(v) is int: return {'int': str(v)}
    if type(v) is float: return {'float': repr(v)}
    return {'other': type(v).__name__ + ': ' + repr(v)}
print(json.dumps([{'outcome': outcome(s), 'expr': expr(s)} for s in DATA]))`,
    inputs,
  );
}

function tsOutcome(text: string): Outcome {
  let v: number | bigint | PyFloat;
  try {
    v = str2seconds(text);
  } catch (e) {
    assert.ok(e instanceof DurationError, `str2seconds(${asciiJson(text)}) threw ${String(e)}, not a DurationError`);
    assert.equal(e.code, 'E_DURATION');
    return { error: e.message, type: '' };
  }
  if (v instanceof PyFloat) return { float: pyReprFloat(v.value) };
  assert.ok(typeof v === 'bigint' || Number.isInteger(v), `str2seconds(${asciiJson(text)}) returned the non-integer number ${v}; floats must be PyFloat`);
  return { int: String(v) };
}

/** Equal when the same kind and text; for errors only the message (Python's exception class is informational). */
function sameOutcome(a: Outcome, b: Outcome): boolean {
  if ('error' in a && 'error' in b) return a.error === b.error;
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Compares str2seconds (and durationExpression) with Python on every input; reports all mismatches. */
function assertMatchesPython(inputs: readonly string[], expected: ReadonlyArray<{ outcome: Outcome; expr: string }>): void {
  assert.equal(expected.length, inputs.length);
  const bad: string[] = [];
  inputs.forEach((text, i) => {
    const exp = expected[i];
    if (exp === undefined) return;
    const expr = durationExpression(text);
    if (expr !== exp.expr) bad.push(`durationExpression(${asciiJson(text)}) = ${asciiJson(expr)}, python ${asciiJson(exp.expr)}`);
    const got = tsOutcome(text);
    if (!sameOutcome(got, exp.outcome)) bad.push(`str2seconds(${asciiJson(text)}) = ${asciiJson(got)}, python ${asciiJson(exp.outcome)}`);
  });
  assert.equal(bad.length, 0, `${bad.length} mismatches in ${inputs.length} inputs:\n${bad.slice(0, 25).join('\n')}`);
}

// ---------------------------------------------------------------------------------------------
// Fixed cases (verified against fail2ban 1.0.2 on CPython 3.11.2).

void test('str2seconds: fixed cases verified against fail2ban 1.0.2', () => {
  const values: Array<[string, number | string]> = [
    // number: a Python int; string: repr of a Python float
    ['10m', 600], ['1h', 3600], ['1d12h30m', 131400], ['1h30', 3630], ['1.5h', '5400.0'], ['1mo', '2629800.0'],
    ['1y-6mo', '15778800.0'], ['2w', 1209600], ['-1', -1], ['600', 600], ['2**3', 8], ['7//2', 3], ['-7%3', 2],
    ['10m/3', '200.0'], ['1_000', 1000], [' 1h ', 3600], ['1 hour 30 minutes', 5400], ['3 days', 259200],
    ['1week', 604800], ['0d 1h 30m', 5400], ['1hour+30min', 5400], ['6 months', '15778800.0'], ['1M', 60], ['1MO', '2629800.0'],
  ];
  for (const [text, expected] of values) {
    const got = str2seconds(text);
    if (typeof expected === 'number') assert.equal(got, expected, text);
    else {
      assert.ok(got instanceof PyFloat, `${text}: expected a float`);
      assert.equal(pyReprFloat(got.value), expected, text);
    }
  }
  const errors: Array<[string, string]> = [
    ['abc', "name 'abc' is not defined"],
    ['', 'invalid syntax (<string>, line 0)'],
    ['1 2 3', 'invalid syntax (<string>, line 1)'],
    ['(1h', "'(' was never closed (<string>, line 1)"],
    ['1h)', "unmatched ')' (<string>, line 1)"],
    ['5x', 'invalid decimal literal (<string>, line 1)'],
    ['1/0', 'division by zero'],
    ['1//0', 'integer division or modulo by zero'],
    ['1mo//0', 'float floor division by zero'],
    ['1mo%0', 'float modulo'],
  ];
  for (const [text, message] of errors) {
    assert.throws(() => str2seconds(text), (e: unknown) => e instanceof DurationError && e.message === message, text);
  }
});

void test('parseDurationSeconds: a plain number, or undefined when str2seconds throws', () => {
  assert.equal(parseDurationSeconds('1.5h'), 5400);
  assert.equal(parseDurationSeconds('10m'), 600);
  assert.equal(parseDurationSeconds('-1'), -1);
  assert.equal(parseDurationSeconds('abc'), undefined);
  assert.equal(parseDurationSeconds(''), undefined);
});

// ---------------------------------------------------------------------------------------------
// Python-backed cases.

const LISTED: readonly string[] = [
  // the brief's list
  '10m', '1h', '1d12h30m', '1h30', '1.5h', '1mo', '1y-6mo', '2w', '-1', '600', '1 2 3', 'abc', '', '(1h', '1h)', '2**3',
  '7//2', '-7%3', '10m/3', '1_000', '5x', ' 1h ', '1 hour 30 minutes', '3 days', '1week',
  // fail2ban's docstring and jail.conf values
  '1h 2m 3s', '1hour+30min', '0d 1h 30m', '1year-6mo', '6 months', '1month', '1year', '10m', '1d', '5w', '600', '86400',
  '-1', '1.5', '3600.', '.5d', '0',
  // every unit spelling, in several cases
  ...['s', 'ss', 'sec', 'second', 'seconds', 'm', 'mm', 'mi', 'min', 'minute', 'minutes', 'h', 'hh', 'ho', 'hou', 'hour', 'hours',
    'd', 'dd', 'da', 'day', 'days', 'w', 'ww', 'we', 'wee', 'week', 'weeks', 'mo', 'mon', 'month', 'months', 'y', 'yy', 'ye',
    'yea', 'year', 'years'].flatMap((u) => [`1${u}`, `2 ${u}`, `3${u.toUpperCase()}`, `4${u[0]?.toUpperCase() ?? ''}${u.slice(1)}`, `${u}`]),
  // near-misses of units
  '1secs', '1mins', '1hr', '1 hr', '1hrs', '1dy', '1wk', '1 mth', '1yr', '1x', '1 x', '1h x', '1 h x', 'x + 1',
  // combinations and spacing
  '1y1mo1w1d1h1m1s', '1h 30m', '1h30m', '1h-30m', '1h -30m', '-1h', '+1h', '--1', '- - 1', '+-+-1h', '1 -1', '1 + + 1',
  '1++1', '1 h', '1\t2', '1\n2', '1  2', '  ', '\t', '1h 30', '1 1', '1.5 1.5', '1.5h 2', '0 5', '1_0 1_0', '3 days 2',
  '1y 1', '1 mo 1', '1 1.5', '1.5 1', '2 ** 3', '1h ** 2', '2**3h', '10 % 3h', '.5 .5', '5. 5.', '1 .5', '1.5.5', '1..5',
  '5.d', '5.h', '1e3', '1e5', '1E3',
  // arithmetic and its errors
  '2**-1', '2**0.5', '-2**2', '2**3**2', '10**15', '7.0//2', '-7//2', '-7.5%2', '7%-3', '10d/0', '10d//0', '10mo//0',
  '10mo%0', '1/0', '1//0', '1.0//0', '1.0%0', '1h/3', '1mo/7', '1y/12', '(1h)', '((1))', '((((1))))', '-(1h)', '(1h 30m)',
  '2*(1h+30m)', '(1', '1)', '((1)', '(1))', '(((1)))+((2)', ')', '(', ')(', '())', '((', '1h30m)', '1h+(2m', '(1h))',
  '1h 30m)', '*', '1*', '*1', '1 *', '1+', '1h +', '1h *', '* 1h', '2+*3', '2*/3', '2///3', '2 ** ** 3', '1:30', '1;2',
  'bantime', 'forever', 'never', 'None', 'abc+1', '1+abc', '1\u00a02',
];

void test('str2seconds matches MyTime.str2seconds on listed cases', (t) => {
  if (PYTHON === undefined) {
    t.skip(NO_PYTHON);
    return;
  }
  const expected = pythonStr2seconds(LISTED);
  // Results Python computes that are not durations at all (a builtin for 'min', a tuple...) are out of scope.
  const kept = LISTED.filter((_, i) => !('other' in (expected[i]?.outcome ?? {})));
  const keptExpected = expected.filter((e) => !('other' in e.outcome));
  assertMatchesPython(kept, keptExpected);
  t.diagnostic(`${kept.length} inputs (${LISTED.length - kept.length} with non-numeric Python results left out)`);
});

/**
 * Random time strings from a grammar of numbers, units, operators, spaces and parentheses, some
 * with one deliberate fault (a missing or stray parenthesis, a dangling operator, an unknown unit).
 * It stays inside what a fail2ban time string looks like, and away from the divergences listed in
 * the todo test below: a faulty string is otherwise well formed (only explicit operators, no
 * parenthesis right after a term), there is at most one `*` or `/` (no integers past 2**53),
 * never a zero divisor, and `%`, `//`, `**` only in all-integer strings.
 */
function randomDuration(rnd: (n: number) => number): string {
  const UNITS = ['s', 'sec', 'second', 'seconds', 'm', 'mm', 'min', 'minute', 'minutes', 'h', 'hh', 'hour', 'hours', 'd', 'dd',
    'da', 'day', 'days', 'w', 'ww', 'week', 'weeks', 'mo', 'mon', 'month', 'months', 'y', 'yy', 'year', 'years', ''];
  const FLOAT_UNIT = /^(mo|mon|month|months|y|yy|year|years)$/i;
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)] as T;
  const caseOf = (u: string): string => [u, u.toUpperCase(), (u[0]?.toUpperCase() ?? '') + u.slice(1)][rnd(3)] ?? u;
  const fault = rnd(4) === 0 ? rnd(6) : -1; // which fault, if any
  const faultyTerm = fault === 5 ? rnd(4) : -1;
  let hasFloat = false;
  let usedStar = false;
  let terms = 0;

  const number = (nonZero: boolean): string => {
    const k = rnd(10);
    let n: string;
    if (k < 5) n = String(rnd(100) + 1);
    else if (k === 5) n = pick(['1_000', '2_5', '1_0_0']);
    else if (k === 6) n = `${rnd(100)}.${rnd(99) + 1}`;
    else if (k === 7) n = `.${rnd(9) + 1}`;
    else if (k === 8) n = `${rnd(20) + 1}.`;
    else n = nonZero ? '7' : '0';
    if (n.includes('.')) hasFloat = true;
    return n;
  };
  const term = (nonZero: boolean, depth: number): string => {
    const n = number(nonZero);
    // "1x" is an invalid literal; "1 x" is a syntax error at the top level, but "Perhaps you forgot a comma?" in brackets.
    if (terms++ === faultyTerm) {
      const bad = pick(n === '0' ? ['hr', 'mins'] : ['x', 'hr', 'mins', 'secs', 'wk', 'yr', 'mth']); // "0x" is a hex prefix
      return n + (depth === 0 ? pick(['', ' ']) : '') + bad;
    }
    const unit = caseOf(pick(UNITS));
    if (FLOAT_UNIT.test(unit)) hasFloat = true;
    // "20.h" is an invalid literal in Python: a number ending in "." gets a space before its unit.
    return n + (n.endsWith('.') && unit !== '' ? ' ' : pick(['', '', '', ' '])) + unit;
  };
  const expr = (depth: number): string => {
    let s = '';
    const count = rnd(4) + 1;
    for (let i = 0; i < count; i++) {
      let afterOperator = i === 0;
      let nonZero = false;
      if (i > 0) {
        const ops = ['+', '-', ' + ', ' - '];
        // implicit "+" between neighbouring numbers; no "" after a digit ("1.5" "2_5" would make "1.52_5")
        if (fault < 0 && depth === 0) ops.push(' ', ' ', ...(/[a-z]$/i.test(s) ? [''] : []));
        if (!usedStar) ops.push('*', '/', ' * ');
        if (!hasFloat) ops.push('%', '//');
        const op = pick(ops);
        s += op;
        if (op.trim() === '*' || op === '/') usedStar = true;
        if (op === '%' || op === '//') {
          s += String(rnd(9) + 1); // a non-zero integer divisor, no unit
          continue;
        }
        afterOperator = op.trim() !== '';
        nonZero = op === '/';
      }
      if (rnd(6) === 0) s += pick(['-', '+', '- ', '--']);
      if (afterOperator && !nonZero && depth < 2 && rnd(5) === 0) s += '(' + expr(depth + 1) + ')';
      else s += term(nonZero, depth);
    }
    return s;
  };

  let s = expr(0);
  if (fault < 0 && !usedStar && !hasFloat && rnd(6) === 0) s += `**${rnd(3)}`;
  if (fault === 0) s = '(' + s; // never closed
  else if (fault === 1) s += ')'; // unmatched
  else if (fault === 2) s += pick(['+', '*', ' -', '/', '**']); // dangling operator
  else if (fault === 3) s = pick(['*', '/', '%', '**']) + s;
  else if (fault === 4) s = pick([`((${s})`, `(${s}))`, `)${s}`, `( ${s} ) )`]);
  return s;
}

void test('str2seconds matches MyTime.str2seconds on generated time strings', (t) => {
  if (PYTHON === undefined) {
    t.skip(NO_PYTHON);
    return;
  }
  const rnd = prng(1234);
  const inputs = [...new Set(Array.from({ length: 6000 }, () => randomDuration(rnd)))];
  const expected = pythonStr2seconds(inputs);
  const kept: string[] = [];
  const keptExpected: Array<{ outcome: Outcome; expr: string }> = [];
  let bigInts = 0;
  let signedZeros = 0;
  inputs.forEach((text, i) => {
    const e = expected[i];
    if (e === undefined) return;
    // Left out: integers beyond 2**53 (JS numbers cannot hold them) and a zero float with the other
    // sign (arith.ts keeps JS's integer -0, which Python does not have: "-0mo" is 0.0, not -0.0).
    const o = e.outcome;
    const otherZero = 'float' in o && o.float.endsWith('0.0') && Number(o.float) === 0 ? (o.float === '0.0' ? '-0.0' : '0.0') : undefined;
    if ('int' in o && !Number.isSafeInteger(Number(o.int))) bigInts++;
    else if (otherZero !== undefined && sameOutcome(tsOutcome(text), { float: otherZero })) signedZeros++;
    else {
      assert.ok(!('other' in o), `${asciiJson(text)}: python returned ${asciiJson(o)}`);
      kept.push(text);
      keptExpected.push(e);
    }
  });
  assertMatchesPython(kept, keptExpected);
  const kinds = new Map<string, number>();
  for (const e of keptExpected) kinds.set(Object.keys(e.outcome)[0] ?? '', (kinds.get(Object.keys(e.outcome)[0] ?? '') ?? 0) + 1);
  t.diagnostic(`${kept.length} inputs (${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}); left out: ${bigInts} ints past 2**53, ${signedZeros} zeros of the other sign`);
});

void test('str2seconds matches fail2ban-client --str2sec', (t) => {
  if (F2B_CLIENT === undefined) {
    t.skip('fail2ban-client is not available');
    return;
  }
  const inputs = ['1h', '1.5h', '1mo', '1y-6mo', '1d12h30m', '-1', '10m/3', 'abc', '', '1 2 3', '(1h'];
  for (const text of inputs) {
    const r: SpawnSyncReturns<string> = spawnSync(F2B_CLIENT, ['--str2sec', text], { cwd: tmpdir(), encoding: 'utf8' });
    let expected: string;
    let status: number;
    try {
      const v = str2seconds(text);
      expected = v instanceof PyFloat ? pyReprFloat(v.value) : String(v);
      status = 0;
    } catch (e) {
      expected = `ERROR: ${(e as Error).message}`;
      status = 255;
    }
    assert.equal(r.stdout, expected + '\n', `--str2sec ${asciiJson(text)}`);
    assert.equal(r.status, status, `--str2sec ${asciiJson(text)} exit status`);
  }
  t.diagnostic(`${inputs.length} inputs`);
});

// ---------------------------------------------------------------------------------------------
// Known divergences: str2seconds evaluates with the arithmetic evaluator in src/shared/arith.ts,
// which does not reproduce these Python behaviours. Kept as a todo so they stay visible; the
// expectations still come from Python.

const FORMER_DIVERGENCES: readonly string[] = [
  '1%0', // Python 3.11: "integer modulo by zero"
  '1h/0.0', // "float division by zero"
  '0**-1', // "0.0 cannot be raised to a negative power", not inf
  '1_', '1__0', '1.5_5', '91.92_5 h', // underscores: only single ones between digits, also in the fraction
  '01h', '007', // "leading zeros in decimal integer literals are not permitted; ..."
  '1e+3', '1E-2', // exponents Python reads as floats
  '1//0.1', '-4.0%2', '4.0%-2', // float floor division and signed zeros of float modulo
  '-0mo', '-0*2.5', // int -0 does not exist in Python: 0.0, not -0.0
  '10**30', '2**62', '2**53+1', // integers past 2**53
  'abc def', 'hr 30', 'x1', 'x 1', 'a b', 'x + (1', // a syntax error wins over a NameError found earlier
  '(1h + 1mo/0 *', '(1h 30m + 1/0', // ... and over a ZeroDivisionError found earlier
  '1.5(x', '***) seconds', '(.6minute .5sec', '84HH .4second*--.1 DAY)', // an unclosed/unmatched bracket wins over other syntax errors
  '1h (30m)', '1h(30m)', // a call: "'int' object is not callable"
  '(1h .5m)', // inside brackets: "invalid syntax. Perhaps you forgot a comma?"
  '1h\u00a0', '\u00a01h', '1h 1\u2003h', // U+00A0, U+2003 are not whitespace to Python's tokenizer
];

void test('str2seconds: the cases that once diverged from Python (error precedence, literals, signed zeros, big ints)', (t) => {
  if (PYTHON === undefined) {
    t.skip(NO_PYTHON);
    return;
  }
  assertMatchesPython(FORMER_DIVERGENCES, pythonStr2seconds(FORMER_DIVERGENCES));
});
