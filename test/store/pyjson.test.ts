import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dumpData, loadData, pyJsonDumps, pyJsonLoads, PyJsonSyntaxError } from '../../src/store/pyjson.js';
import { PyDict, PyFloat, PyTuple } from '../../src/shared/pyvalue.js';
import { PYTHON, NO_PYTHON, runPython } from '../helpers/python.js';
import { mulberry32 } from '../helpers/random.js';
import { PY_UNTAG, tagPy } from '../helpers/pytag.js';

const skip = PYTHON === undefined ? NO_PYTHON : false;

const CHARS = [
  'a', 'Z', ' ', '"', '\\', '/', '\n', '\r', '\t', '\b', '\f', '\x00', '\x01', '\x1f', '\x7f', '\x80', 'é', 'ß', '中', '\u2028',
  '\u2029', '\ufeff', '\ufffd', '😀', '\ud800', '\udc00', '\udbff', '{', ':', ',', "'",
];

function genString(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) s += CHARS[Math.floor(r() * CHARS.length)] ?? '';
  return s;
}

const SPECIAL_FLOATS = [0.1, 3.0, -0.0, 0.0, 1e16, 1e15, 9999999999999998, 1e-4, 1e-5, 1.5e-7, 123456789.125, 5e-324, 1.7976931348623157e308, NaN, Infinity, -Infinity, 2 ** 53, 1 / 3];

function genFloat(r: () => number): number {
  const pick = r();
  if (pick < 0.3) return SPECIAL_FLOATS[Math.floor(r() * SPECIAL_FLOATS.length)] ?? 0;
  if (pick < 0.6) return (r() - 0.5) * 10 ** Math.floor(r() * 40 - 20);
  const buf = new DataView(new ArrayBuffer(8));
  buf.setUint32(0, Math.floor(r() * 2 ** 32));
  buf.setUint32(4, Math.floor(r() * 2 ** 32));
  return buf.getFloat64(0);
}

function genValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 2 ? 5 : 8));
  switch (k) {
    case 0:
      return genString(r);
    case 1:
      return r() < 0.2 ? BigInt(Math.floor(r() * 2 ** 50)) * 10n ** 6n : Math.floor((r() - 0.5) * 2 ** Math.floor(r() * 53));
    case 2:
      return new PyFloat(genFloat(r));
    case 3:
      return r() < 0.5;
    case 4:
      return null;
    case 5:
    case 6: {
      const n = Math.floor(r() * 5);
      return new PyDict(Array.from({ length: n }, (_, i) => [genString(r) + String(i), genValue(r, depth + 1)] as const) as [string, never][]);
    }
    default:
      return Array.from({ length: Math.floor(r() * 5) }, () => genValue(r, depth + 1));
  }
}

function pythonDumps(values: readonly unknown[]): string[] {
  return runPython<string[]>(
    PY_UNTAG + "print(json.dumps([json.dumps(un(v), ensure_ascii=False).encode('utf-8', 'replace').hex() for v in DATA]))",
    values.map(tagPy),
  );
}

test('json.dumps(ensure_ascii=False) byte for byte on 400 generated values', { skip }, () => {
  const r = mulberry32(20240522);
  const values = Array.from({ length: 400 }, () => genValue(r, 0));
  const expected = pythonDumps(values);
  let same = 0;
  values.forEach((v, i) => {
    assert.equal(dumpData(v).toString('hex'), expected[i], `value ${i}: ${pyJsonDumps(v)}`);
    same++;
  });
  assert.equal(same, 400);
});

test('floats alone: 2000 values through float.__repr__', { skip }, () => {
  const r = mulberry32(7);
  const values = Array.from({ length: 2000 }, () => new PyFloat(genFloat(r)));
  const expected = pythonDumps(values);
  values.forEach((v, i) => assert.equal(dumpData(v).toString('hex'), expected[i], `float ${v.value}`));
});

test('what Python wrote reads back and writes again as the same bytes', { skip }, () => {
  const r = mulberry32(99);
  const values = Array.from({ length: 300 }, () => genValue(r, 0));
  for (const hex of pythonDumps(values)) {
    const bytes = Buffer.from(hex, 'hex');
    assert.equal(dumpData(pyJsonLoads(bytes)).toString('hex'), hex);
  }
});

test('plain objects, Maps, tuples, sets and addresses as fail2ban writes them', () => {
  const data = new Map<string, unknown>([
    ['matches', [new PyTuple(['', 'Nov 22', ' x']), 'y']],
    ['failures', 3],
    ['rate', 1.5],
    ['ip', { family: 4, value: 0n, plen: 32, text: '192.0.2.1' }],
    ['names', new Set(['a'])],
    ['nested', { a: 1, b: undefined }],
  ]);
  assert.equal(
    pyJsonDumps(data),
    '{"matches": [["", "Nov 22", " x"], "y"], "failures": 3, "rate": 1.5, "ip": "192.0.2.1", "names": "[\'a\']", "nested": {"a": 1, "b": null}}',
  );
  assert.equal(pyJsonDumps([]), '[]');
  assert.equal(pyJsonDumps({}), '{}');
  assert.equal(pyJsonDumps(2 ** 60), '1152921504606846976');
  assert.equal(pyJsonDumps(-0), '-0.0');
});

test('lone surrogates are stored as "?" (encode with errors=replace), pairs as UTF-8', () => {
  assert.equal(dumpData('a\ud800b\udc00😀').toString('utf8'), '"a?b?😀"');
});

test('the reader: NaN/Infinity tokens, int/float kept apart, key order and duplicates as Python', () => {
  const v = pyJsonLoads('{"b": NaN, "a": [Infinity, -Infinity, 1, 1.0, 1e2, 12345678901234567890], "b": 2}');
  assert.ok(v instanceof PyDict);
  assert.deepEqual(v.entries.map(([k]) => k), ['b', 'a']);
  assert.equal(pyJsonDumps(v), '{"b": 2, "a": [Infinity, -Infinity, 1, 1.0, 100.0, 12345678901234567890]}');
});

test('the reader is tolerant: bad UTF-8 replaced, garbage gives undefined, NULL gives None', () => {
  const bad = Buffer.concat([Buffer.from('{"m": "a'), Buffer.from([0xff, 0xc3]), Buffer.from('"}')]);
  assert.equal(pyJsonDumps(loadData(bad)), '{"m": "a\ufffd\ufffd"}');
  assert.equal(loadData('{"m": '), undefined);
  assert.equal(loadData('[1] x'), undefined);
  assert.equal(loadData('"a\nb"'), undefined); // strict: raw control characters refused, as Python
  assert.equal(loadData(null), null);
  assert.throws(() => pyJsonLoads('nope'), PyJsonSyntaxError);
});

test('Python agrees on what the reader refuses and accepts', { skip }, () => {
  const inputs = ['{"m": ', '[1] x', '"a\nb"', 'nope', '[NaN, -Infinity]', '{"a": 1, "a": 2}', ' [1 , 2 ] ', '"\\ud800"', '01', '-', '1.', '.5'];
  const py = runPython<Array<string | null>>(
    'out = []\nfor s in DATA:\n    try:\n        out.append(json.dumps(json.loads(s), ensure_ascii=False))\n    except ValueError:\n        out.append(None)\nprint(json.dumps(out))',
    inputs,
  );
  inputs.forEach((s, i) => {
    const v = loadData(s);
    assert.equal(v === undefined ? null : pyJsonDumps(v), py[i], `input ${JSON.stringify(s)}`);
  });
});
