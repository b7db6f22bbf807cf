/**
 * pyvalue: `pyReprString`, `pyReprFloat` and `pyRepr` against CPython's own `repr`.
 *
 * Most expectations are computed at test time by the system Python (the one fail2ban runs
 * under), fed batches of inputs as JSON on stdin; those tests are skipped when no python3
 * with fail2ban is found. A few fixed cases, checked against CPython 3.11, always run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { PyException, PyFloat, PyTuple, type PyValue, pyRepr, pyReprFloat, pyReprString, pyStr } from '../../src/shared/pyvalue.js';

import { PYTHON, NO_PYTHON, F2B_CLIENT, asciiJson, runPython } from '../helpers/python.js';
import { prng } from '../helpers/random.js';

const f64 = new DataView(new ArrayBuffer(8));
/** The IEEE-754 bits of a double as 16 hex digits: JSON cannot carry -0.0, NaN or inf. */
function floatBits(x: number): string {
  f64.setFloat64(0, x);
  return f64.getBigUint64(0).toString(16).padStart(16, '0');
}

/** Python code: `unfloat(h)` turns floatBits() back into a float; `decode(v)` rebuilds tagged values. */
const PY_DECODE = `
import struct
def unfloat(h):
    return struct.unpack('>d', bytes.fromhex(h))[0]
def decode(v):
    if isinstance(v, dict): return unfloat(v['f'])
    if isinstance(v, list): return [decode(x) for x in v]
    return v
`;

/** A PyValue as JSON for Python: floats become {"f": bits}. */
function encodeValue(v: PyValue): unknown {
  if (v instanceof PyFloat) return { f: floatBits(v.value) };
  if (Array.isArray(v)) return (v as readonly PyValue[]).map(encodeValue);
  return v;
}

/** Compares every case and reports all mismatches at once (at most 20 of them shown). */
function assertAllEqual<T>(inputs: readonly T[], got: (input: T) => string, expected: readonly string[], what: string): void {
  assert.equal(expected.length, inputs.length);
  const bad: string[] = [];
  inputs.forEach((input, i) => {
    const g = got(input);
    if (g !== expected[i]) bad.push(`${what}(${asciiJson(input)}): got ${asciiJson(g)}, python ${asciiJson(expected[i])}`);
  });
  assert.equal(bad.length, 0, `${bad.length} of ${inputs.length} differ:\n${bad.slice(0, 20).join('\n')}`);
}

// ---------------------------------------------------------------------------------------------
// Fixed cases (verified against CPython 3.11.2).

void test('pyReprString: fixed cases verified against CPython 3.11', () => {
  const cases: Array<[string, string]> = [
    ['', "''"],
    ['abc', "'abc'"],
    ["it's", `"it's"`],
    ['say "hi"', `'say "hi"'`],
    [`both ' and "`, `'both \\' and "'`],
    ['back\\slash', "'back\\\\slash'"],
    ['a\nb\r\tc', "'a\\nb\\r\\tc'"],
    ['\x00\x1f\x7f', "'\\x00\\x1f\\x7f'"],
    ['\x80\x9f\xa0\xad', "'\\x80\\x9f\\xa0\\xad'"],
    ['caf\u00e9', "'caf\u00e9'"],
    ['\u00a0', "'\\xa0'"],
    ['\u200b', "'\\u200b'"],
    ['\u2028\u2029', "'\\u2028\\u2029'"],
    ['\u{1f600}', "'\u{1f600}'"],
    ['\ud800', "'\\ud800'"],
    ['e\u0301', "'e\u0301'"],
    ['\ufeff', "'\\ufeff'"],
    ['\u{e0001}', "'\\U000e0001'"],
  ];
  for (const [input, expected] of cases) assert.equal(pyReprString(input), expected, asciiJson(input));
});

void test('pyReprFloat: fixed cases verified against CPython 3.11', () => {
  const cases: Array<[number, string]> = [
    [0.1, '0.1'],
    [1e16, '1e+16'],
    [1e-5, '1e-05'],
    [5400.0, '5400.0'],
    [2629800.0, '2629800.0'],
    [1e22, '1e+22'],
    [-0.0, '-0.0'],
    [0, '0.0'],
    [1e-4, '0.0001'],
    [9999999999999998.0, '9999999999999998.0'],
    [123456789.123, '123456789.123'],
    [1 / 3, '0.3333333333333333'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
  ];
  for (const [input, expected] of cases) assert.equal(pyReprFloat(input), expected, String(input));
});

void test('pyRepr: fixed nested case verified against CPython 3.11', () => {
  const value: PyValue = ['set', 'sshd', 'maxretry', 5, null, true, false, [new PyFloat(1.5), [], ["x'"]], new PyFloat(2629800)];
  assert.equal(pyRepr(value), `['set', 'sshd', 'maxretry', 5, None, True, False, [1.5, [], ["x'"]], 2629800.0]`);
  assert.equal(pyRepr([]), '[]');
  assert.equal(pyRepr(-42), '-42');
});

// ---------------------------------------------------------------------------------------------
// Python-backed cases.

/** Pieces that make repr interesting: quotes, escapes, controls, invisible and non-ASCII text. */
const ATOMS: readonly string[] = [
  'a', 'Z', '0', ' ', "'", '"', '\\', '\n', '\r', '\t', '\v', '\f', '\x00', '\x07', '\x1b', '\x1f', '\x7f',
  '\x80', '\x85', '\x9f', '\xa0', '\xad', '\xe9', '\xff', '\u0100', '\u0301', '\u0378', '\u05d0', '\u0627',
  '\u061c', '\u0e01', '\u1680', '\u180e', '\u2000', '\u200b', '\u200d', '\u200e', '\u2028', '\u2029', '\u202e',
  '\u2060', '\u3000', '\u4e2d', '\ud7ff', '\ud800', '\udbff', '\udc00', '\udfff', '\ue000', '\uf8ff', '\ufeff',
  '\ufffd', '\ufffe', '\uffff', '\u{1f600}', '\u{1f1e9}\u{1f1ea}', '\u{1f468}\u200d\u{1f469}', '\u{10000}',
  '\u{1d400}', '\u{e0001}', '\u{e0100}', '\u{f0000}', '\u{10ffff}', '\\n', "\\'", '\\"', '%s', '{0}',
];

function trickyStrings(): string[] {
  const out: string[] = [
    '', "it's", 'say "hi"', `both ' and "`, `'"'"`, "''", '""', '\\', '\\\\', 'back\\slash\\', 'C:\\path\\n',
    'line1\nline2\r\nline3\r', 'tab\there', 'bell\x07', '\x00\x01\x02\x03', 'del\x7f', 'caf\u00e9 na\u00efve \u00fcber',
    'nbsp\u00a0here', 'zero\u200bwidth', 'line\u2028sep', 'para\u2029sep', 'emoji \u{1f600}\u{1f44d}\u{1f3fd}',
    'e\u0301 \u0301 \u0301\u0301', 'lone combining \u0308 at end\u0308', '\ud800 lone high', 'lone low \udc00',
    'reversed \udc00\ud800 pair', '\u{1f600}\ud83d', 'RTL \u202eoverride\u202c', 'BOM\ufeff', 'soft\u00adhyphen',
    'ideographic\u3000space', 'ogham\u1680space', '\u00a0\u2000\u2001\u2002\u200a\u202f\u205f',
    'Ελληνικά Кириллица 中文 日本語 한국어 العربية עברית हिन्दी ไทย',
    '^(?:\\[\\])?\\s*<HOST>$', "['set', 'sshd']", 'a'.repeat(300), "'".repeat(5) + '"',
  ];
  out.push(...ATOMS);
  for (const a of ATOMS) for (const b of ATOMS) out.push(a + b);
  const rnd = prng(20240601);
  for (let i = 0; i < 2000; i++) {
    let s = '';
    const n = rnd(12);
    for (let k = 0; k < n; k++) s += ATOMS[rnd(ATOMS.length)];
    out.push(s);
  }
  return out;
}

void test('pyReprString matches python repr() on tricky strings', (t) => {
  if (PYTHON === undefined) {
    t.skip(NO_PYTHON);
    return;
  }
  const inputs = trickyStrings();
  const expected = runPython<string[]>('print(json.dumps([repr(s) for s in DATA]))', inputs);
  assertAllEqual(inputs, pyReprString, expected, 'pyReprString');
  t.diagnostic(`${inputs.length} strings`);
});

void test('pyReprString matches python repr() on every code point', (t) => {
  if (PYTHON === undefined) {
    t.skip(NO_PYTHON);
    return;
  }
  // Python walks all code points itself and answers in runs, to keep the exchange small:
  // 'lit' (repr is the character in quotes), 'esc:<category>' (repr is '\xNN', '\uNNNN' or
  // '\UNNNNNNNN', as Python checked), or the exact repr for the few others (quotes, \n...).
  const answer = runPython<{ runs: Array<[number, number, string]>; special: Record<string, string> }>(
    `import unicodedata
def esc(c):
    if c <= 0xff: return "'\\\\x%02x'" % c
    if c <= 0xffff: return "'\\\\u%04x'" % c
    return "'\\\\U%08x'" % c
runs, special = [], {}
for c in range(sys.maxunicode + 1):
    ch = chr(c)
    r = repr(ch)
    if r == "'" + ch + "'": kind = 'lit'
    elif r == esc(c): kind = 'esc:' + unicodedata.category(ch)
    else:
        special[c] = r
        kind = 'special'
    if runs and runs[-1][2] == kind and runs[-1][1] == c - 1: runs[-1][1] = c
    else: runs.append([c, c, kind])
print(json.dumps({'runs': runs, 'special': special}))`,
    null,
  );
  const escape = (c: number): string =>
    c <= 0xff ? `'\\x${c.toString(16).padStart(2, '0')}'` : c <= 0xffff ? `'\\u${c.toString(16).padStart(4, '0')}'` : `'\\U${c.toString(16).padStart(8, '0')}'`;
  // Node's ICU and Python may know different Unicode versions: a code point one calls unassigned
  // (Cn, so escaped) and the other an assigned printable character. Only that version skew is
  // tolerated; everything else must match exactly.
  const bad: string[] = [];
  let count = 0;
  let skew = 0;
  for (const [first, last, kind] of answer.runs) {
    for (let c = first; c <= last; c++) {
      count++;
      const ch = String.fromCodePoint(c);
      const expected = kind === 'lit' ? `'${ch}'` : kind === 'special' ? answer.special[String(c)] : escape(c);
      const got = pyReprString(ch);
      if (got === expected) continue;
      const nodeUnassigned = /\p{Cn}/u.test(ch);
      if ((kind === 'esc:Cn' && !nodeUnassigned && got === `'${ch}'`) || (kind === 'lit' && nodeUnassigned && got === escape(c))) {
        skew++;
        continue;
      }
      bad.push(`U+${c.toString(16)}: got ${asciiJson(got)}, python ${asciiJson(expected)}`);
    }
  }
  assert.equal(count, 0x110000);
  assert.equal(bad.length, 0, `${bad.length} code points differ:\n${bad.slice(0, 20).join('\n')}`);
  t.diagnostic(`${count} code points (${answer.runs.length} runs); ${skew} tolerated where Node's and Python's Unicode versions disagree on assignment`);
});

function floatInputs(): number[] {
  const xs = [
    0.1, 0.2, 0.3, 1e16, 1e-5, 5400.0, 2629800.0, 31557600.0, 15778800.0, 1e22, -0.0, 0, 1, -1, 0.5, 1.5,
    NaN, Infinity, -Infinity, 1e-4, 9.999e-5, 1e15, 1e16 - 2, 1e16 + 2, 9007199254740992, 9007199254740994,
    123456789012345680, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1 / 3, 2 / 3, 1e21,
    1e20, 1e100, 1e-100, 1.0000000000000002, 0.30000000000000004, 100, 1e-7, 1.5e300, -2.5e-7, 12345.678,
    3600 * 1.5, 2629800 / 3, 86400 * 365.25, 0.000123, 0.0001234567890123,
  ];
  const rnd = prng(7);
  const dv = new DataView(new ArrayBuffer(8));
  for (let i = 0; i < 5000; i++) {
    dv.setUint32(0, rnd(2 ** 32));
    dv.setUint32(4, rnd(2 ** 32));
    xs.push(dv.getFloat64(0)); // any bit pattern: subnormals, huge, NaN payloads
  }
  for (let i = 0; i < 5000; i++) {
    xs.push(rnd(1_000_000) * 10 ** (rnd(50) - 25)); // short decimals around both exponent switches
    xs.push((rnd(2 ** 31) - 2 ** 30) / (rnd(1000) + 1));
  }
  for (let e = -30; e <= 30; e++) xs.push(10 ** e, -(10 ** e), 10 ** e * 0.999999, 10 ** e * 1.0000001);
  return xs;
}

void test('pyReprFloat matches python repr(float)', (t) => {
  if (PYTHON === undefined) {
    t.skip(NO_PYTHON);
    return;
  }
  const inputs = floatInputs();
  const expected = runPython<string[]>(PY_DECODE + 'print(json.dumps([repr(unfloat(h)) for h in DATA]))', inputs.map(floatBits));
  assertAllEqual(inputs, pyReprFloat, expected, 'pyReprFloat');
  t.diagnostic(`${inputs.length} floats`);
});

function randomValue(rnd: (n: number) => number, strings: readonly string[], depth: number): PyValue {
  const k = rnd(depth > 3 ? 6 : 8);
  if (k <= 1) return strings[rnd(strings.length)] ?? '';
  if (k === 2) return rnd(2) === 0 ? rnd(1000) - 500 : (rnd(2 ** 30) - 2 ** 29) * 2 ** rnd(23);
  if (k === 3) return [true, false, null][rnd(3)] ?? null;
  if (k === 4) return new PyFloat([0.1, 5400, 2629800, -0, 1e16, 1e-5, rnd(1000) / 7][rnd(7)] ?? 0);
  if (k === 5) return [];
  const n = rnd(6);
  const list: PyValue[] = [];
  for (let i = 0; i < n; i++) list.push(randomValue(rnd, strings, depth + 1));
  return list;
}

void test('pyRepr matches python repr() on nested values', (t) => {
  if (PYTHON === undefined) {
    t.skip(NO_PYTHON);
    return;
  }
  const rnd = prng(99);
  const strings = trickyStrings().slice(0, 400);
  const inputs: PyValue[] = [];
  for (let i = 0; i < 3000; i++) inputs.push(randomValue(rnd, strings, 0));
  inputs.push(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 0, true, false, null);
  const expected = runPython<string[]>(PY_DECODE + 'print(json.dumps([repr(decode(v)) for v in DATA]))', inputs.map(encodeValue));
  assertAllEqual(inputs, pyRepr, expected, 'pyRepr');
  t.diagnostic(`${inputs.length} values`);
});

// ---------------------------------------------------------------------------------------------
// Real data: `fail2ban-client -d` prints repr() of every command of the configuration stream.


void test('pyRepr reproduces every line of fail2ban-client -d', (t) => {
  if (PYTHON === undefined || F2B_CLIENT === undefined) {
    t.skip('python3/fail2ban-client not available');
    return;
  }
  const dump = spawnSync(F2B_CLIENT, ['-d'], { cwd: tmpdir(), encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(dump.status, 0, dump.stderr);
  const lines = dump.stdout.split('\n').filter((l) => l !== '');
  assert.ok(lines.length > 0, 'fail2ban-client -d printed nothing');
  const values = runPython<unknown[]>(
    `import ast
${PY_DECODE}
def enc(v):
    if isinstance(v, float): return {'f': struct.pack('>d', v).hex()}
    if isinstance(v, (list, tuple)): return [enc(x) for x in v]
    return v
print(json.dumps([enc(ast.literal_eval(l)) for l in DATA]))`,
    lines,
  );
  const decode = (v: unknown): PyValue =>
    Array.isArray(v) ? v.map(decode) : v !== null && typeof v === 'object' ? new PyFloat(f64FromBits((v as { f: string }).f)) : (v as PyValue);
  lines.forEach((line, i) => assert.equal(pyRepr(decode(values[i])), line, `command #${i}`));
  t.diagnostic(`${lines.length} commands`);
});

function f64FromBits(hex: string): number {
  f64.setBigUint64(0, BigInt('0x' + hex));
  return f64.getFloat64(0);
}

test('tuples and exceptions print as CPython prints them', () => {
  const cases: Array<[PyValue, string]> = [
    [new PyTuple([]), '()'],
    [new PyTuple(['a']), "('a',)"],
    [new PyTuple([0, 'pong']), "(0, 'pong')"],
    [[new PyTuple(['Currently failed', 0]), new PyTuple(['File list', ['/a', '/b']])], "[('Currently failed', 0), ('File list', ['/a', '/b'])]"],
    [new PyException('fail2ban.exceptions', 'UnknownJailException', ['nojail']), "UnknownJailException('nojail')"],
    [new PyException('builtins', 'Exception', []), 'Exception()'],
  ];
  for (const [v, want] of cases) assert.equal(pyRepr(v), want);
  assert.equal(pyStr(new PyException('builtins', 'ValueError', ['bad value'])), 'bad value');
  assert.equal(pyStr(new PyException('builtins', 'ValueError', [])), '');
  assert.equal(pyStr(new PyException('builtins', 'ValueError', ['a', 2])), "('a', 2)");
  assert.equal(pyStr(new PyTuple([1])), '(1,)');
});

test('tuple and exception reprs equal the system Python', { skip: PYTHON === undefined ? NO_PYTHON : false }, () => {
  const got = runPython<string[]>(
    `class UnknownJailException(KeyError): pass
print(json.dumps([repr(()), repr(('a',)), repr((0, 'pong', [1, ('x', None)])), repr(UnknownJailException('nojail')), str(ValueError('a', 2)), repr(Exception())]))`,
    null,
  );
  assert.deepEqual(got, [
    pyRepr(new PyTuple([])),
    pyRepr(new PyTuple(['a'])),
    pyRepr(new PyTuple([0, 'pong', [1, new PyTuple(['x', null])]])),
    pyRepr(new PyException('fail2ban.exceptions', 'UnknownJailException', ['nojail'])),
    pyStr(new PyException('builtins', 'ValueError', ['a', 2])),
    pyRepr(new PyException('builtins', 'Exception', [])),
  ]);
});
