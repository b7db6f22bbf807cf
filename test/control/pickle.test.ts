/**
 * The pickle subset against CPython's own pickle (/usr/bin/python3, the one fail2ban runs on):
 * our bytes are read back by `pickle.loads`, Python's `pickle.dumps(v, HIGHEST_PROTOCOL)` is read
 * by ours, and our bytes are compared with Python's byte for byte. Then hostile inputs: every
 * truncation, random bytes, forbidden globals, deep nesting, huge declared lengths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { PickleError, decodePickle, encodePickle } from '../../src/control/pickle.js';
import { PyDict, PyException, PyFloat, PyTuple, type PyValue } from '../../src/shared/pyvalue.js';
import { NO_PYTHON, PYTHON, runPython } from '../helpers/python.js';
import { mulberry32 } from '../helpers/random.js';

const skip = PYTHON === undefined ? NO_PYTHON : false;

const f64 = new DataView(new ArrayBuffer(8));
function floatBits(x: number): string {
  f64.setFloat64(0, x);
  return f64.getBigUint64(0).toString(16).padStart(16, '0');
}

type Canon = null | { readonly [tag: string]: unknown };

/** A value as tagged JSON both sides can build and compare (ints as text, floats as bits). */
function canon(v: PyValue): Canon {
  if (v === null) return null;
  if (typeof v === 'boolean') return { b: v };
  if (typeof v === 'number' || typeof v === 'bigint') return { i: String(v) };
  if (typeof v === 'string') return { s: v };
  if (v instanceof PyFloat) return { f: Number.isNaN(v.value) ? 'nan' : floatBits(v.value) };
  if (v instanceof PyTuple) return { t: v.items.map(canon) };
  if (v instanceof PyDict) return { d: v.entries.map(([k, x]) => [k, canon(x)]) };
  if (v instanceof PyException) return { e: [v.module, v.name, v.args.map(canon)] };
  return { l: v.map(canon) };
}

const PY_CANON = `
import pickle, struct, importlib
def fresh(s):
    # a new str object, as one read from a socket is (CPython shares only '' and 1-char Latin-1)
    return s.encode('utf-8', 'surrogatepass').decode('utf-8', 'surrogatepass')
def build(d):
    if d is None: return None
    if 'b' in d: return d['b']
    if 'i' in d: return int(d['i'])
    if 's' in d: return fresh(d['s'])
    if 'f' in d: return float('nan') if d['f'] == 'nan' else struct.unpack('>d', bytes.fromhex(d['f']))[0]
    if 't' in d: return tuple(build(x) for x in d['t'])
    if 'l' in d: return [build(x) for x in d['l']]
    if 'd' in d: return {fresh(k): build(x) for k, x in d['d']}
    if 'e' in d:
        mod, name, args = d['e']
        return getattr(importlib.import_module(mod), name)(*[build(a) for a in args])
    raise ValueError(d)
def canon(v):
    if v is None: return None
    if isinstance(v, bool): return {'b': v}
    if isinstance(v, int): return {'i': str(v)}
    if isinstance(v, str): return {'s': v}
    if isinstance(v, float): return {'f': 'nan' if v != v else struct.pack('>d', v).hex()}
    if isinstance(v, tuple): return {'t': [canon(x) for x in v]}
    if isinstance(v, list): return {'l': [canon(x) for x in v]}
    if isinstance(v, dict): return {'d': [[k, canon(x)] for k, x in v.items()]}
    if isinstance(v, BaseException): return {'e': [type(v).__module__, type(v).__qualname__, [canon(a) for a in v.args]]}
    return {'?': repr(v)}
`;

// ---------------------------------------------------------------------------------------------
// Random values

function generator(seed: number): () => PyValue {
  const rnd = mulberry32(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const char = (): string => {
    switch (int(6)) {
      case 0:
      case 1:
        return String.fromCharCode(0x20 + int(95));
      case 2:
        return String.fromCharCode(int(0x100));
      case 3:
        return String.fromCharCode(0x100 + int(0xd700));
      case 4:
        return String.fromCodePoint(0x10000 + int(0x100000));
      default:
        return pick(['\n', '\0', 'é', '€', '😀', '<', '>', "'", '"', '\\']);
    }
  };
  // Each value gets a budget of characters and nodes so that nesting cannot multiply sizes.
  let chars = 0;
  let nodes = 0;
  const str = (): string => {
    const r = int(100);
    let n = r < 10 ? 0 : r < 30 ? 1 : r < 85 ? 2 + int(20) : r < 97 ? 200 + int(400) : 66000 + int(2000);
    if (n > chars) n = Math.min(n, 20);
    chars -= n;
    let s = '';
    while (s.length < n) s += char();
    return s;
  };
  const integer = (): number | bigint => {
    switch (int(7)) {
      case 0:
        return int(256);
      case 1:
        return int(65536) - (int(2) === 0 ? 0 : 70000);
      case 2:
        return int(0x7fffffff) * (int(2) === 0 ? 1 : -1);
      case 3:
        return 0x80000000 + int(1e9) * (int(2) === 0 ? 1 : -1) * 3;
      case 4:
        return Number.MAX_SAFE_INTEGER - int(1000);
      case 5:
        return (1n << BigInt(63 + int(200))) * (int(2) === 0 ? 1n : -1n) + BigInt(int(1e9));
      default:
        return pick([0, -1, 255, 256, -256, 65535, 65536, -2147483648, 2147483647, 2147483648, -2147483649]);
    }
  };
  const float = (): PyFloat => new PyFloat(pick([0, -0, Infinity, -Infinity, NaN, 1.5, 5400, 1e300, -2.5e-310, (rnd() - 0.5) * 10 ** int(40)]));
  const exception = (depth: number): PyException => {
    const [module, name] = pick([
      ['builtins', 'Exception'],
      ['builtins', 'ValueError'],
      ['builtins', 'IndexError'],
      ['builtins', 'KeyError'],
      ['builtins', 'TypeError'],
      ['fail2ban.exceptions', 'UnknownJailException'],
      ['fail2ban.exceptions', 'DuplicateJailException'],
    ] as const);
    const args: PyValue[] = [];
    for (let n = int(3); n > 0; n--) args.push(value(depth + 1));
    return new PyException(module, name, args);
  };
  const value = (depth: number): PyValue => {
    const leaf = depth >= 4 || int(3) === 0 || --nodes < 0;
    if (leaf) {
      const k = int(10);
      if (k < 4) return str();
      if (k < 6) return integer();
      if (k < 7) return float();
      if (k < 8) return null;
      return int(2) === 0;
    }
    const n = int(5) === 0 && nodes > 1100 ? 1000 + int(3) : int(6);
    switch (int(5)) {
      case 0:
        return Array.from({ length: n }, () => value(depth + 1));
      case 1:
        return new PyTuple(Array.from({ length: n }, () => value(depth + 1)));
      case 2: {
        const keys = new Set<string>();
        for (let i = 0; i < n; i++) keys.add(str().slice(0, 40));
        return new PyDict([...keys].map((k) => [k, value(depth + 1)] as const));
      }
      case 3:
        return exception(depth);
      default:
        nodes -= n;
        return Array.from({ length: n }, () => (int(2) === 0 ? str() : integer()));
    }
  };
  return () => {
    chars = int(15) === 0 ? 150_000 : 4000;
    nodes = int(4) === 0 ? 3000 : 60;
    return value(0);
  };
}

// ---------------------------------------------------------------------------------------------
// Fixed cases (verified against CPython 3.11.2)

void test('pickle: the spec examples and fail2ban replies are byte-identical to CPython', () => {
  const hex = (v: PyValue): string => encodePickle(v).toString('hex');
  assert.equal(hex(['ping']), '8005950b000000000000005d948c0470696e6794612e');
  assert.equal(hex(new PyTuple([0, 'pong'])), '8005950c000000000000004b008c04706f6e679486942e');
  assert.equal(
    hex(new PyException('builtins', 'Exception', ['Invalid command'])),
    '80059530000000000000008c086275696c74696e73948c09457863657074696f6e9493948c0f496e76616c696420636f6d6d616e6494859452942e',
  );
  assert.equal(
    encodePickle(new PyException('fail2ban.exceptions', 'UnknownJailException', ['nojail'])).toString('latin1'),
    '\x80\x05\x95=\x00\x00\x00\x00\x00\x00\x00\x8c\x13fail2ban.exceptions\x94\x8c\x14UnknownJailException\x94\x93\x94\x8c\x06nojail\x94\x85\x94R\x94.',
  );
  assert.equal(hex(new PyDict([['a', 1], ['b', [1, 2]]])), '80059517000000000000007d94288c0161944b018c0162945d94284b014b0265752e');
  // '' and 1-char Latin-1 strings are CPython singletons: the second one is a BINGET.
  assert.equal(hex(['', '', 'È', 'È']), '80059511000000000000005d94288c009468018c02c388946802652e');
  const back = decodePickle(Buffer.from('8005950c000000000000004b008c04706f6e679486942e', 'hex'));
  assert.deepEqual(canon(back), canon(new PyTuple([0, 'pong'])));
});

void test('pickle: protocol 0 STRING/UNICODE/INT, non-string dict keys, builtins.str', () => {
  const dec = (s: string): PyValue => decodePickle(Buffer.from(s, 'latin1'));
  assert.deepEqual(canon(dec("S'a\\x41\\n\\'q'\np0\n.")), { s: "aA\n'q" });
  assert.deepEqual(canon(dec('V\\u20ac\\U0001f600x\np0\n.')), { s: '€😀x' });
  assert.deepEqual(canon(dec('(I01\nI00\nI-12\nL123456789012345678901234567890L\nF1.5\nl.')), canon([true, false, -12, 123456789012345678901234567890n, new PyFloat(1.5)]));
  assert.deepEqual(canon(dec('}(K\x01K\x02N\x88u.')), canon(new PyDict([['1', 2], ['None', true]])));
  assert.deepEqual(dec('\x80\x04\x8c\x08builtins\x8c\x03str\x93\x8c\x071.2.3.4\x85R.'), '1.2.3.4');
  assert.throws(() => dec('}(]K\x01u.'), PickleError, 'a list as dict key');
});

// ---------------------------------------------------------------------------------------------
// Against CPython

interface PyAnswer {
  readonly back: Canon;
  readonly py: string;
}

void test('pickle: 300 random values: ours → pickle.loads, pickle.dumps → ours, byte identity', { skip }, () => {
  const next = generator(20240511);
  const values = Array.from({ length: 300 }, next);
  const ours = values.map((v) => encodePickle(v).toString('hex'));
  const answers = runPython<PyAnswer[]>(
    PY_CANON +
      `
out = []
for item in DATA:
    v = build(item['v'])
    try: back = canon(pickle.loads(bytes.fromhex(item['ours'])))
    except Exception as e: back = {'err': repr(e)}
    out.append({'back': back, 'py': pickle.dumps(v, pickle.HIGHEST_PROTOCOL).hex()})
print(json.dumps(out))
`,
    values.map((v, i) => ({ v: canon(v), ours: ours[i] })),
  );
  let identical = 0;
  const bad: string[] = [];
  values.forEach((v, i) => {
    const a = answers[i] as PyAnswer;
    const want = JSON.stringify(canon(v));
    if (JSON.stringify(a.back) !== want) bad.push(`#${i}: python read ours as ${JSON.stringify(a.back).slice(0, 300)}, want ${want.slice(0, 300)}`);
    const mine = JSON.stringify(canon(decodePickle(Buffer.from(a.py, 'hex'))));
    if (mine !== want) bad.push(`#${i}: we read python's as ${mine.slice(0, 300)}, want ${want.slice(0, 300)}`);
    if (a.py === ours[i]) identical++;
    else bad.push(`#${i}: bytes differ: ours ${ours[i]?.slice(0, 200)}…, python ${a.py.slice(0, 200)}…`);
  });
  assert.deepEqual(bad.slice(0, 10), []);
  assert.equal(identical, values.length);
  // What the sample covers (so the test cannot quietly shrink to trivial values).
  const all = ours.join('');
  assert.ok(all.includes('8a'), 'LONG1');
  assert.ok(values.some((v) => JSON.stringify(canon(v)).length > 66000), 'a string over 64 KiB');
});

void test('pickle: shared objects, every protocol of CPython, IPAddr, bytes and sets', { skip }, () => {
  const shared = ['x', 'yy'];
  const ours = encodePickle([shared, shared, new PyTuple([])]).toString('hex');
  const r = runPython<{ shared: string; protos: string[]; ip: string; misc: string[]; batches: string[] }>(
    PY_CANON +
      `
a = ['x', fresh('yy')]
from fail2ban.server.ipdns import IPAddr
v = [1, -70000, 2**80, 1.25, None, True, fresh('é€😀'), ('a', fresh('bc')), {fresh('k'): [fresh('v')]}, KeyError(fresh('nojail'))]
print(json.dumps({
  'shared': pickle.dumps([a, a, ()], 5).hex(),
  'protos': [pickle.dumps(v, p).hex() for p in range(0, 6)],
  'ip': pickle.dumps([IPAddr('192.0.2.1'), IPAddr('2001:db8::1')], 5).hex(),
  'batches': [pickle.dumps(x, 5).hex() for x in [list(range(1000)), list(range(2001)), {str(i): i for i in range(1000)}, {str(i): i for i in range(2000)}, {str(i): i for i in range(1001)}]],
  'misc': [pickle.dumps(x, p).hex() for x, p in [(b'\\x00\\xffab', 5), (b'x' * 300, 3), (bytearray(b'ab'), 5), ({1, 2}, 4), (frozenset([3]), 4), ('\\ud800x', 5)]],
}))
`,
    null,
  );
  assert.equal(ours, r.shared);
  const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
  const batches = [range(1000), range(2001), ...[1000, 2000, 1001].map((n) => new PyDict(range(n).map((i) => [String(i), i] as const)))];
  assert.deepEqual(
    batches.map((v) => encodePickle(v).toString('hex')),
    r.batches,
    'lists and dicts around the batch size of 1000',
  );
  const want = canon([1, -70000, 2n ** 80n, new PyFloat(1.25), null, true, 'é€😀', new PyTuple(['a', 'bc']), new PyDict([['k', ['v']]]), new PyException('builtins', 'KeyError', ['nojail'])]);
  r.protos.forEach((hex, p) => assert.deepEqual(canon(decodePickle(Buffer.from(hex, 'hex'))), want, `protocol ${p}`));
  assert.deepEqual(decodePickle(Buffer.from(r.ip, 'hex')), ['192.0.2.1', '2001:db8::1']);
  const misc = r.misc.map((h) => decodePickle(Buffer.from(h, 'hex')));
  assert.deepEqual(misc, ['\x00\xffab', 'x'.repeat(300), 'ab', [1, 2], [3], '\ud800x']);
  assert.equal(encodePickle('\ud800x').toString('hex'), r.misc[5]);
});

// ---------------------------------------------------------------------------------------------
// Hostile input

/** Runs `decode` and requires either a value or a PickleError, nothing else. */
function safely(buf: Uint8Array): 'ok' | 'error' {
  try {
    decodePickle(buf);
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof PickleError, `not a PickleError: ${String(err)}`);
    return 'error';
  }
}

void test('pickle: every truncation of a valid pickle is a PickleError', () => {
  const v = [new PyDict([['a', [1, 2n ** 70n, new PyFloat(2.5)]]]), new PyTuple(['x'.repeat(300), null, true]), new PyException('builtins', 'ValueError', ['bad'])];
  const buf = encodePickle(v);
  for (let i = 0; i < buf.length; i++) assert.throws(() => decodePickle(buf.subarray(0, i)), PickleError, `prefix of ${i} bytes`);
  assert.throws(() => decodePickle(new Uint8Array(0)), /Ran out of input/);
});

void test('pickle: random bytes and mutated pickles never crash', () => {
  const rnd = mulberry32(7);
  const valid = encodePickle([new PyDict([['k', [1, 'two', new PyTuple([new PyFloat(3.5)])]]]), 'x'.repeat(20)]);
  const counts = { ok: 0, error: 0 };
  for (let n = 0; n < 3000; n++) {
    let buf: Uint8Array;
    if (n % 2 === 0) buf = Uint8Array.from({ length: Math.floor(rnd() * 200) }, () => Math.floor(rnd() * 256));
    else {
      buf = Uint8Array.from(valid);
      for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
    }
    counts[safely(buf)]++;
  }
  assert.ok(counts.error > 0 && counts.ok + counts.error === 3000);
});

void test('pickle: globals outside the allow-list are refused and nothing runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc-pickle-'));
  try {
    const marker = join(dir, 'ran');
    const payloads = [
      `cos\nsystem\n(S'touch ${marker}'\ntR.`,
      `\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x8c\x06system\x93\x8c${String.fromCharCode(6 + marker.length)}touch ${marker}\x85R.`,
      `\x80\x04\x8c\x08builtins\x8c\x04eval\x93\x8c\x0b__import__()\x85R.`,
      `c__builtin__\neval\n(S'1'\ntR.`,
      `\x80\x04\x8c\x08builtins\x8c\x07getattr\x93.`,
      `csubprocess\nPopen\n.`,
      `\x80\x04\x8c\x13fail2ban.exceptions\x8c\x07logging\x93.`,
    ];
    for (const p of payloads) assert.throws(() => decodePickle(Buffer.from(p, 'latin1')), (e: unknown) => e instanceof PickleError && /forbidden/.test(e.message), JSON.stringify(p));
    assert.equal(existsSync(marker), false);
    // An allowed class is not a value by itself, and REDUCE needs an allowed class.
    assert.throws(() => decodePickle(Buffer.from('\x80\x04\x8c\x08builtins\x8c\x09Exception\x93.', 'latin1')), PickleError);
    assert.throws(() => decodePickle(Buffer.from('\x80\x04]K\x01\x85R.', 'latin1')), PickleError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('pickle: deep nesting, cycles, exponential sharing and huge lengths are refused', () => {
  const dec = (s: string | Buffer): PyValue => decodePickle(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
  const cases: Array<[string, Buffer | string]> = [
    ['100k MARKs', '('.repeat(100_000) + '.'],
    ['100k nested lists', ']'.repeat(100_000) + 'a'.repeat(99_999) + '.'],
    ['100k nested lists through the memo', buildMemoChain(100_000)],

    ['2^64 leaves by DUP', 'N' + '2\x86'.repeat(64) + '.'],
    ['BINUNICODE8 of 2^62 bytes', '\x80\x04\x8d' + '\x00\x00\x00\x00\x00\x00\x00\x40' + 'ab.'],
    ['BINUNICODE of 4 GiB', '\x80\x04X\xff\xff\xff\xffab.'],
    ['BINBYTES8 of 2^56 bytes', '\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x01ab.'],
    ['LONG4 of 2 GiB', '\x80\x04\x8b\xff\xff\xff\x7fab.'],
    ['FRAME of 2^60 bytes', '\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x10N.'],
    ['an INT of 100k digits', 'I' + '9'.repeat(100_000) + '\n.'],
    ['a memo GET of nothing', 'h\x05.'],
    ['no STOP', 'N'],
    ['stack underflow', 'a.'],
    ['protocol 6', '\x80\x06N.'],
  ];
  for (const [what, input] of cases) assert.throws(() => dec(input), PickleError, what);
  assert.throws(() => dec(']\x94h\x00a.'), /contains itself/, 'a list that contains itself');
  assert.throws(() => dec('N' + '2\x86'.repeat(64) + '.'), /more than 2000000 items/, '2^64 leaves');
  // Limits are parameters: the same value passes or fails with the limit.
  const deep = ']'.repeat(50) + 'a'.repeat(49) + '.';
  assert.doesNotThrow(() => dec(deep));
  assert.throws(() => decodePickle(Buffer.from(deep, 'latin1'), { maxDepth: 10 }), /deeper than 10/);
  assert.throws(() => decodePickle(Buffer.alloc(100, 0x4e), { maxBytes: 50 }), /exceeds the limit/);
});

/** L0 kept at the bottom; n times: new list, memoize, append it to the one on top, pop, get the new one (constant stack). */
function buildMemoChain(n: number): string {
  let s = ']\x94h\x00';
  for (let i = 1; i <= n; i++) s += ']\x94a0j' + String.fromCharCode(i & 0xff, (i >> 8) & 0xff, (i >> 16) & 0xff, 0);
  return s + '0.';
}
