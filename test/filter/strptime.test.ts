/** strptime (group dict -> Unix time) against the installed fail2ban, in UTC and Europe/Berlin. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { NO_PYTHON, PYTHON, asciiJson } from '../helpers/python.js';
import { prng } from '../helpers/random.js';
import { UTC_ZONE, groupDictToTime, intlZone, validateTimeZone, type LocalZone } from '../../src/filter/strptime.js';
import { DateParseError, TimeZoneError } from '../../src/filter/dateErrors.js';
import { epochValue, tai64nValue } from '../../src/filter/strptimeEpoch.js';

type Outcome = { ok: number } | { err: [string, string] };
interface Case { d: Array<[string, string | null]>; now: number; tz: string | number | null }

/** Runs a script with fail2ban importable under a given TZ; DATA holds the input. */
function runPythonTz<T>(tz: string, script: string, input: unknown): T {
  const prelude = 'import sys, json\nsys.path.insert(0, "/usr/lib/python3/dist-packages")\nDATA = json.loads(sys.stdin.read())\n';
  const r = spawnSync(PYTHON ?? 'python3', ['-c', prelude + script], {
    input: asciiJson(input), encoding: 'utf8', maxBuffer: 1 << 30, env: { ...process.env, TZ: tz },
  });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

const ORACLE = `
from fail2ban.server.mytime import MyTime
from fail2ban.server.strptime import reGroupDictStrptime
out = []
for c in DATA:
    MyTime.setTime(c['now'])
    try:
        out.append({'ok': reGroupDictStrptime(dict(c['d']), default_tz=c['tz'])})
    except Exception as e:
        out.append({'err': [type(e).__name__, str(e)]})
print(json.dumps(out))
`;

const NOWS = [
  1123977600, // 2005-08-14 00:00 UTC
  1124013600, // 2005-08-14 10:00 UTC
  1711846800 - 1800, // 2024-03-31 00:30 UTC, just before the CEST switch
  1729989000, // 2024-10-27 00:30 UTC, inside the repeated hour
  1735687800, // 2024-12-31 23:30 UTC
  1795322130, // 2026-11-22
  951825600, // 2000-02-29 12:00 UTC
  1704067199, // 2023-12-31 23:59:59 UTC
];
const ZONES = ['UTC', 'GMT', 'Z', '+0200', '-05:30', '+05', '-0000', 'CEST', 'CET', 'EST-0100', 'UTC+0200', 'XYZ', 'error',
  'ABC', 'PDT', 'NPT', 'ChST', '+1960', '+٠٥:٣٠', 'CEST+', '', 'UTC\n', 'utc', 'A', 'NZDT+13:45', '+02:0'];
const KEYS = ['y', 'Y', 'm', 'b', 'B', 'd', 'H', 'I', 'p', 'M', 'S', 'f', 'a', 'A', 'w', 'j', 'U', 'W', 'z', 'Z', 'x'];

function valueFor(key: string, r: (n: number) => number): string | null {
  const pick = <T>(a: readonly T[]): T => a[r(a.length)] as T;
  if (r(25) === 0) return null;
  if (r(30) === 0) return pick(['', 'abc', ' 5', '٣', '1_0', '+3', '-1', '99999999999', '2147483648', '1e3', ' ', '07 ']);
  const num = (lo: number, hi: number, pad = 2): string => String(lo + r(hi - lo + 1)).padStart(r(3) === 0 ? 1 : pad, '0');
  switch (key) {
    case 'y': return num(0, 99);
    case 'Y': return pick([num(1998, 2030, 4), num(1, 9999, 4), '0000', '10000', '2004', '2005']);
    case 'm': return num(r(15) === 0 ? 0 : 1, r(15) === 0 ? 13 : 12);
    case 'b': return pick(['jan', 'Feb', 'MAR', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec', 'xyz', 'mai']);
    case 'B': return pick(['january', 'February', 'MARCH', 'december', 'july', 'jan']);
    case 'd': return r(8) === 0 ? ' ' + num(1, 9, 1) : num(r(20) === 0 ? 0 : 1, r(15) === 0 ? 32 : 31);
    case 'H': return num(0, r(15) === 0 ? 24 : 23);
    case 'I': return num(r(10) === 0 ? 0 : 1, r(10) === 0 ? 13 : 12);
    case 'p': return pick(['am', 'PM', 'pm', 'AM', '', 'xx']);
    case 'M': case 'S': return num(0, r(15) === 0 ? 61 : 59);
    case 'f': return num(0, 999999, 6);
    case 'a': return pick(['mon', 'Tue', 'wed', 'thu', 'fri', 'sat', 'sun', 'xyz']);
    case 'A': return pick(['monday', 'Sunday', 'WEDNESDAY', 'mon']);
    case 'w': return num(0, 7, 1);
    case 'j': return num(r(20) === 0 ? 0 : 1, r(10) === 0 ? 800 : 366, 3);
    case 'U': case 'W': return num(0, 53);
    default: return pick(ZONES);
  }
}

function cases(count: number, seed: number): Case[] {
  const r = prng(seed);
  const out: Case[] = [];
  for (let i = 0; i < count; i++) {
    const keys = KEYS.filter(() => r(3) === 0);
    for (let k = keys.length - 1; k > 0; k--) {
      const j = r(k + 1);
      [keys[k], keys[j]] = [keys[j] as string, keys[k] as string];
    }
    const d = keys.map((k): [string, string | null] => [k, valueFor(k, r)]);
    const tz = r(4) === 0 ? (ZONES[r(ZONES.length)] as string) : r(20) === 0 ? 60 : null;
    out.push({ d, now: (NOWS[r(NOWS.length)] as number) + r(3) * 3600 * (r(2) ? 1 : -1), tz });
  }
  return out;
}

/** Dates near the Berlin DST switches with no zone, so mktime's gap/overlap rules are exercised. */
function dstCases(): Case[] {
  const out: Case[] = [];
  for (const [y, m, d] of [[2024, 3, 31], [2024, 10, 27], [2021, 3, 28], [1980, 9, 28], [2040, 10, 28]] as const) {
    for (let mins = 0; mins < 240; mins += 15) {
      const hm: [string, string | null][] = [['H', String(Math.floor(mins / 60))], ['M', String(mins % 60)]];
      out.push({ d: [['Y', String(y)], ['m', String(m)], ['d', String(d)], ...hm], now: 1795322130, tz: null });
    }
  }
  return out;
}

function mine(c: Case, zone: LocalZone): Outcome {
  const dict: Record<string, string | undefined> = {};
  for (const [k, v] of c.d) dict[k] = v ?? undefined;
  try {
    return { ok: groupDictToTime(dict, { now: c.now, zone, defaultTz: c.tz ?? undefined }) };
  } catch (e) {
    if (e instanceof DateParseError) return { err: [e.pythonClass, e.pythonMessage] };
    throw e;
  }
}

for (const [tz, zone] of [['UTC', UTC_ZONE], ['Europe/Berlin', intlZone('Europe/Berlin')]] as const) {
  test(`group dicts equal reGroupDictStrptime (TZ=${tz})`, { skip: PYTHON ? false : NO_PYTHON }, () => {
    const all = [...cases(4000, tz.length), ...dstCases()];
    const py = runPythonTz<Outcome[]>(tz, ORACLE, all);
    let bad = 0;
    all.forEach((c, i) => {
      const got = mine(c, zone);
      if (bad < 5 && JSON.stringify(got) !== JSON.stringify(py[i])) {
        bad++;
        assert.deepEqual({ c, got }, { c, got: py[i] });
      }
    });
    const oks = py.filter((o) => 'ok' in o).length;
    assert.ok(oks > all.length / 5, `enough successful cases (${oks})`);
  });
}

test('validateTimeZone equals fail2ban', { skip: PYTHON ? false : NO_PYTHON }, () => {
  const script = `
from fail2ban.server.strptime import validateTimeZone
out = []
for z in DATA:
    try: out.append({'ok': validateTimeZone(z)})
    except Exception as e: out.append({'err': [type(e).__name__, str(e)]})
print(json.dumps(out))`;
  const zones = [...ZONES, 'Europe/Berlin', 'UTC+02:00', '+02:00', 'CET', 'EST-0100', 'UTC-1', 'GMT+5'];
  const py = runPythonTz<Outcome[]>('UTC', script, zones);
  zones.forEach((z, i) => {
    let got: Outcome;
    try {
      got = { ok: validateTimeZone(z) };
    } catch (e) {
      assert.ok(e instanceof TimeZoneError);
      got = { err: [e.pythonClass, e.pythonMessage] };
    }
    assert.deepEqual(got, py[i], z);
  });
});

test('Epoch, LEPOCH and TAI64N values equal fail2ban', { skip: PYTHON ? false : NO_PYTHON }, () => {
  const script = `
from fail2ban.server.datetemplate import DateEpoch, DateTai64n
class M:
    def __init__(s, v): s.v = v
    def group(s, i): return s.v
out = []
for kind, v in DATA:
    t = DateTai64n() if kind == 't' else DateEpoch(longFrm=(kind == 'l'))
    out.append(t.getDate('', M(v))[0])
print(json.dumps(out))`;
  const r = prng(7);
  const items: Array<[string, string]> = [];
  for (let i = 0; i < 300; i++) {
    const digits = String(1000000000 + r(2000000000)) + String(r(10 ** 6)).padStart(6, '0').slice(0, r(7));
    items.push([r(2) ? 'l' : 'e', digits], ['l', digits + '.' + String(r(1000))], ['e', digits.slice(0, 10) + '.' + String(r(999999))]);
    items.push(['t', '@4000000' + r(2 ** 30).toString(16).padStart(9, '0') + r(2 ** 30).toString(16).padStart(8, '0')]);
  }
  const py = runPythonTz<number[]>('UTC', script, items);
  items.forEach(([kind, v], i) => {
    const got = kind === 't' ? tai64nValue(v) : epochValue(v, kind === 'l');
    assert.equal(got, py[i], `${kind} ${v}`);
  });
});
