/**
 * pprint: `pyPformat(obj, width, indent)` against Python's `pprint.pformat`, and against the real
 * `fail2ban-client --dp` output (pformat(width=1000, indent=2) of every command of the stream).
 *
 * Most expectations are computed at test time by the system Python (the one fail2ban runs
 * under), fed batches of inputs as JSON on stdin; those tests are skipped when no python3
 * with fail2ban is found. A few fixed cases, checked against CPython 3.11, always run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PyFloat, type PyValue } from '../../src/shared/pyvalue.js';
import { pyPformat } from '../../src/shared/pprint.js';

import { PYTHON, NO_PYTHON, F2B_CLIENT, asciiJson, runPython } from '../helpers/python.js';
import { prng } from '../helpers/random.js';

const f64 = new DataView(new ArrayBuffer(8));
function floatBits(x: number): string {
  f64.setFloat64(0, x);
  return f64.getBigUint64(0).toString(16).padStart(16, '0');
}
function floatFromBits(hex: string): number {
  f64.setBigUint64(0, BigInt('0x' + hex));
  return f64.getFloat64(0);
}

/** Python code: `decode(v)` rebuilds tagged values ({"f": bits} is a float); `encode` tags them. */
const PY_CODEC = `
import struct
def decode(v):
    if isinstance(v, dict): return struct.unpack('>d', bytes.fromhex(v['f']))[0]
    if isinstance(v, list): return [decode(x) for x in v]
    return v
def encode(v):
    if isinstance(v, float): return {'f': struct.pack('>d', v).hex()}
    if isinstance(v, (list, tuple)): return [encode(x) for x in v]
    return v
`;

function encodeValue(v: PyValue): unknown {
  if (v instanceof PyFloat) return { f: floatBits(v.value) };
  if (Array.isArray(v)) return (v as readonly PyValue[]).map(encodeValue);
  return v;
}

function decodeValue(v: unknown): PyValue {
  if (Array.isArray(v)) return v.map(decodeValue);
  if (v !== null && typeof v === 'object') return new PyFloat(floatFromBits((v as { f: string }).f));
  return v as PyValue;
}

type Case = readonly [obj: PyValue, width: number, indent: number];

/** pformat of every case, by Python. */
function pythonPformat(cases: readonly Case[]): string[] {
  return runPython<string[]>(
    PY_CODEC + 'import pprint\nprint(json.dumps([pprint.pformat(decode(o), width=w, indent=i) for o, w, i in DATA]))',
    cases.map(([o, w, i]) => [encodeValue(o), w, i]),
  );
}

/** The first line where two texts differ, with a little context. */
function firstDifference(got: string, expected: string): string {
  const g = got.split('\n');
  const e = expected.split('\n');
  let k = 0;
  while (k < g.length && k < e.length && g[k] === e[k]) k++;
  const cut = (s: string | undefined): string => (s === undefined ? '<none>' : asciiJson(s.length > 300 ? s.slice(0, 300) + '...' : s));
  return `line ${k + 1}: got ${cut(g[k])}, python ${cut(e[k])}`;
}

function assertCases(cases: readonly Case[], expected: readonly string[]): void {
  assert.equal(expected.length, cases.length);
  const bad: string[] = [];
  cases.forEach(([obj, width, indent], i) => {
    const got = pyPformat(obj, width, indent);
    const exp = expected[i] ?? '';
    if (got !== exp) {
      const shown = asciiJson(encodeValue(obj));
      bad.push(`case #${i} width=${width} indent=${indent} obj=${shown.length > 200 ? shown.slice(0, 200) + '...' : shown}\n  ${firstDifference(got, exp)}`);
    }
  });
  assert.equal(bad.length, 0, `${bad.length} of ${cases.length} differ:\n${bad.slice(0, 10).join('\n')}`);
}

// ---------------------------------------------------------------------------------------------
// Fixed cases (verified against CPython 3.11.2).

void test('pyPformat: fixed cases verified against CPython 3.11', () => {
  const cases: Array<[PyValue, number, number, string]> = [
    [['set', 'sshd', 'maxretry', 5], 1000, 2, "['set', 'sshd', 'maxretry', 5]"],
    [['multi-set', 'sshd', 'addfailregex', ['^a$', '^b$']], 30, 2, "[ 'multi-set',\n  'sshd',\n  'addfailregex',\n  ['^a$', '^b$']]"],
    ['word '.repeat(12), 20, 2, "('word word word '\n 'word word word '\n 'word word word '\n 'word word word ')"],
    ['line one\nline two\n', 10, 2, "('line '\n 'one\\n'\n 'line '\n 'two\\n')"],
    [[['aaaa', 'bbbb'], ['cccc', 'dddd']], 16, 1, "[['aaaa',\n  'bbbb'],\n ['cccc',\n  'dddd']]"],
    [[1, [2, [3, [null, true, false]]]], 8, 4, '[   1,\n    [   2,\n        [   3,\n            [   None,\n                True,\n                False]]]]'],
    [['x'.repeat(30)], 20, 2, "[ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx']"],
    [[], 1, 2, '[ ]'],
    [[`it's "q"`, 'back\\slash'], 20, 2, `[ 'it\\'s "q"',\n  'back\\\\slash']`],
    // Python's \s (str.isspace) splits words at \x1c-\x1f and \x85 but not at \ufeff, unlike JS's \s.
    ['aa\x1fbb\x1fcc\x1fdd', 12, 2, "('aa\\x1f'\n 'bb\\x1f'\n 'cc\\x1fdd')"],
    ['aa bb\x85cc dd', 12, 2, "('aa bb\\x85'\n 'cc dd')"],
    ['aa\ufeffbb\ufeffcc', 10, 2, "'aa\\ufeffbb\\ufeffcc'"],
  ];
  for (const [obj, width, indent, expected] of cases) assert.equal(pyPformat(obj, width, indent), expected);
});

// ---------------------------------------------------------------------------------------------
// Python-backed cases.

/** Strings that exercise pprint's string splitting: long, multi-line, odd whitespace and escapes. */
const PIECES: readonly string[] = [
  'a', 'foo', 'bar baz', 'x'.repeat(30), 'long word '.repeat(20), 'line1\nline2\n', '\n', '\r\n', '\r', 'tab\there',
  "it's", '"q"', `'"`, 'back\\slash', '\u00e9', '\u00a0nbsp\u00a0', 'emoji \u{1f600} ', '   ', 'p\u2028q', 'p\u2029q',
  'v\x0bw', 'f\x0cg', 'fs\x1c', 'gs\x1d', 'rs\x1e', 'us\x1f us', 'nel\x85x', 'bom\ufeffbom', 'ideo\u3000sp', 'em\u2003sp',
  '', ' lead', 'trail ', 'ab  cd\t\tef', 'zw\u200bsp', '\u00f1and\u00fa \u00e7\u00e0', '\x00\x7f', '\\n', '<HOST>',
  '^(?:\\[\\])?\\s*(?:<[^.]+\\.[^.]+>\\s+)?', 'y'.repeat(1200), ('word '.repeat(150) + '\n').repeat(3), 'z '.repeat(700),
];

function randomString(rnd: (n: number) => number): string {
  let s = '';
  const n = rnd(6);
  for (let i = 0; i < n; i++) s += PIECES[rnd(PIECES.length)];
  return s;
}

function randomValue(rnd: (n: number) => number, depth: number): PyValue {
  const k = rnd(depth > 3 ? 7 : 10);
  if (k <= 2) return randomString(rnd);
  if (k === 3) return rnd(200000) - 100000;
  if (k === 4) return [true, false, null][rnd(3)] ?? null;
  if (k === 5) return new PyFloat([0.1, 5400, 2629800, -0, 1e16, 1e-5, rnd(1000) / 8][rnd(7)] ?? 0);
  if (k === 6) return [];
  const n = rnd(7);
  const list: PyValue[] = [];
  for (let i = 0; i < n; i++) list.push(randomValue(rnd, depth + 1));
  return list;
}

/** A fail2ban-like command: ['set', jail, option, value] and ['multi-set', jail, option, [values]]. */
function commandLike(rnd: (n: number) => number): PyValue {
  const jail = ['sshd', 'nginx-http-auth', 'postfix', 'j'.repeat(rnd(40) + 1)][rnd(4)] ?? 'sshd';
  const regex = (): string => {
    let s = '^';
    const n = rnd(40) + 1;
    for (let i = 0; i < n; i++) s += ['<HOST>', '\\s+', '(?:port \\d+|on \\S+)', ' from ', 'user <F-USER>.*</F-USER>', '$', ' '][rnd(7)];
    return s;
  };
  if (rnd(2) === 0) return ['set', jail, 'prefregex', regex()];
  const values: PyValue[] = [];
  const n = rnd(30);
  for (let i = 0; i < n; i++) values.push(regex());
  return ['multi-set', jail, rnd(2) === 0 ? 'addfailregex' : 'action', values];
}

function pformatCases(): Case[] {
  const long = 'word '.repeat(250); // > 1000 characters, no newline
  const longLines = ('a fairly long line of text that goes on '.repeat(10) + '\n').repeat(5); // > 1000, newlines
  const unbreakable = 'q'.repeat(1500);
  const objects: PyValue[] = [
    long, longLines, unbreakable, [long], [longLines], [unbreakable], ['set', 'sshd', 'action', longLines],
    ['multi-set', 'sshd', 'addaction', [long, [longLines, [unbreakable, 5, null]], true]],
    ['set', 'sshd', 'actionban', 'iptables -I f2b-<name> 1 -s <ip> -j <blocktype>\nsleep 1\n'.repeat(30)],
    ['set', 'j', 'x', 'a\r\nb\rc\x0bd\x0ce\x1cf\x1dg\x1eh\x85i\u2028j\u2029k'.repeat(60)],
    ['set', 'j', 'x', 'end with newline\n'.repeat(70)], ['set', 'j', 'x', '\n'.repeat(1200)],
    ['set', 'j', 'x', ' '.repeat(1200)], ['set', 'j', 'x', `'"`.repeat(600)], ['set', 'j', 'x', '\u{1f600} '.repeat(600)],
    [[[[[['deep', long]]]]]], [[], [[]], [[], []]], ['', '', ''], '', 'short', 42, null, true, new PyFloat(2629800),
  ];
  const cases: Case[] = [];
  for (const obj of objects) for (const width of [1000, 80, 40, 20, 10, 1]) for (const indent of [2, 1, 4]) cases.push([obj, width, indent]);
  const rnd = prng(31337);
  for (let i = 0; i < 500; i++) cases.push([commandLike(rnd), [1000, 1000, 200, 80, 40, 20][rnd(6)] ?? 1000, 2]);
  for (let i = 0; i < 4000; i++) {
    cases.push([randomValue(rnd, 0), [1, 5, 10, 20, 40, 80, 300, 1000, 1000, 1000][rnd(10)] ?? 1000, [0, 1, 2, 2, 4][rnd(5)] ?? 2]);
  }
  return cases;
}

void test('pyPformat matches python pprint.pformat', (t) => {
  if (PYTHON === undefined) {
    t.skip(NO_PYTHON);
    return;
  }
  const cases = pformatCases();
  assertCases(cases, pythonPformat(cases));
  t.diagnostic(`${cases.length} cases`);
});

// ---------------------------------------------------------------------------------------------
// Real data: `fail2ban-client --dp` is pformat(width=1000, indent=2) of each `-d` command + '\n'.

function runClient(args: readonly string[]): string {
  assert.ok(F2B_CLIENT !== undefined);
  const r = spawnSync(F2B_CLIENT, args, { cwd: tmpdir(), encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, `fail2ban-client ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** Parses `-d` output (one repr per line) with Python's ast.literal_eval. */
function parseDump(dump: string): PyValue[] {
  const lines = dump.split('\n').filter((l) => l !== '');
  const values = runPython<unknown[]>(PY_CODEC + 'import ast\nprint(json.dumps([encode(ast.literal_eval(l)) for l in DATA]))', lines);
  return values.map(decodeValue);
}

/** Checks that pformat of each command, each followed by '\n', concatenates to the `--dp` text. */
function checkDumpPretty(confArgs: readonly string[]): number {
  const values = parseDump(runClient([...confArgs, '-d']));
  const pretty = runClient([...confArgs, '--dp']);
  assert.ok(values.length > 0, 'fail2ban-client -d printed nothing');
  let pos = 0;
  values.forEach((value, i) => {
    const piece = pyPformat(value, 1000, 2) + '\n';
    if (!pretty.startsWith(piece, pos)) {
      const expected = pretty.slice(pos, pos + piece.length + 200);
      assert.fail(`command #${i} (${asciiJson(encodeValue(value)).slice(0, 200)}):\n  ${firstDifference(piece, expected)}`);
    }
    pos += piece.length;
  });
  assert.equal(pos, pretty.length, 'the --dp output has more text than the -d commands produce');
  return values.length;
}

void test('pyPformat reproduces fail2ban-client --dp (the installed /etc/fail2ban)', (t) => {
  if (PYTHON === undefined || F2B_CLIENT === undefined) {
    t.skip('python3/fail2ban-client not available');
    return;
  }
  t.diagnostic(`${checkDumpPretty([])} commands`);
});

void test('pyPformat reproduces fail2ban-client --dp with every stock jail enabled', (t) => {
  if (PYTHON === undefined || F2B_CLIENT === undefined || !existsSync('/etc/fail2ban/jail.conf')) {
    t.skip('python3/fail2ban-client//etc/fail2ban not available');
    return;
  }
  // A copy of /etc/fail2ban with every jail of jail.conf enabled: many more filters and actions.
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pprint-'));
  try {
    const conf = join(dir, 'fail2ban');
    cpSync('/etc/fail2ban', conf, { recursive: true });
    const jails = [...readFileSync(join(conf, 'jail.conf'), 'utf8').matchAll(/^\[([^\]\n]+)\]/gm)]
      .map((m) => m[1] ?? '')
      .filter((name) => name !== 'INCLUDES' && name !== 'DEFAULT');
    writeFileSync(join(conf, 'jail.d', 'zz-portcullis-all.local'), jails.map((j) => `[${j}]\nenabled = true\n`).join('\n'));
    t.diagnostic(`${jails.length} jails, ${checkDumpPretty(['-c', conf])} commands`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
