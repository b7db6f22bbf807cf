/** Date templates against the spec dump and against the installed fail2ban (DateDetector). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { NO_PYTHON, PYTHON, runPython } from '../helpers/python.js';
import { prng } from '../helpers/random.js';
import { ROOT } from '../helpers/oracle.js';
import {
  buildDateTemplates,
  datePatternLines,
  createDateTemplateContext,
  defaultDateTemplates,
  type DateTemplate,
} from '../../src/filter/dateTemplates.js';
import { DatePatternError } from '../../src/filter/dateErrors.js';
import { yearCenturyRegex } from '../../src/filter/dateDirectives.js';

const FLAG_NAMES: ReadonlyArray<readonly [string, number]> = [['LINE_BEGIN', 8], ['LINE_END', 4], ['WORD_BEGIN', 2], ['WORD_END', 1]];
const KIND_CLASS = { pattern: 'DatePatternRegex', epoch: 'DateEpoch', tai64n: 'DateTai64n' } as const;

/** A template as both sides report it. */
type Row = [cls: string, name: string, regex: string, flags: number, weight: number, pattern: string | null];
type Outcome = { ok: Row[] } | { err: [string, string] };

function row(t: DateTemplate): Row {
  return [KIND_CLASS[t.kind], t.name, t.regex, t.flags, t.weight, t.pattern ?? null];
}

function outcome(year: number, lines: readonly string[]): Outcome {
  try {
    return { ok: buildDateTemplates(createDateTemplateContext({ year }), lines).map(row) };
  } catch (e) {
    if (e instanceof DatePatternError) return { err: [e.pythonClass, e.pythonMessage] };
    throw e;
  }
}

test('the 31 defaults equal date-templates.txt (year 2026, upstream #13)', () => {
  const text = readFileSync(path.join(ROOT, 'test', 'fixtures', 'spec', 'date-templates.txt'), 'utf8');
  const re = /^#(\d+) (\w+) weight=([\d.]+) flags=(\S+) pattern=.*\n {4}name : (.*)\n {4}regex: (.*)$/gm;
  const expected = [...text.matchAll(re)].map((m) => {
    const flags = (m[4] ?? '').split('|').reduce((acc, f) => acc | (FLAG_NAMES.find(([n]) => n === f)?.[1] ?? NaN), 0);
    return [m[2], m[5], m[6], flags, Number(m[3])];
  });
  assert.equal(expected.length, 31);
  const ctx = createDateTemplateContext({ year: 2026, upstreamDefaults: true });
  const got = defaultDateTemplates(ctx).map((t) => row(t).slice(0, 5));
  assert.deepEqual(got, expected);
});

test('%ExY regex for several years', () => {
  assert.equal(yearCenturyRegex(2026), String.raw`(?P<Y>20[012]\d)`);
  assert.equal(yearCenturyRegex(2027), String.raw`(?P<Y>20[0123]\d)`);
});

const ORACLE = String.raw`
import datetime as _dt
from collections import OrderedDict
from fail2ban.server import strptime, datetemplate, datedetector
class _FakeDT(_dt.datetime):
    @classmethod
    def now(cls, tz=None): return cls(DATA['year'], 6, 15, 12, 0, 0)
class _FakeMod: datetime = _FakeDT
_orig = strptime.datetime; strptime.datetime = _FakeMod; strptime._updateTimeRE(); strptime.datetime = _orig
_pn = datetemplate.DatePatternRegex._patternName
_pn['Exk'] = 'Ex%k'; _pn['Exl'] = 'Ex%l'
_expl = ['a','A','b','B','d','H','I','j','m','M','p','S','U','w','W','y','Y','%','z','f','Z']
_order = _expl + [k for k in strptime.timeRE.keys() if k not in _expl]
datetemplate.DatePatternRegex._patternName = {k: _pn[k] for k in _order}
DD = datedetector.DateDetector
def row(t):
    return [type(t).__name__, t.name, t.regex, t.flags, t.weight, getattr(t, 'pattern', None)]
defaults = [row(t) for t in DD._defCache.templates]
snap = OrderedDict(datedetector.DD_patternCache._cache)
out = []
for lines in DATA['values']:
    datedetector.DD_patternCache._cache = OrderedDict(snap)
    dd = DD()
    try:
        for l in lines: dd.appendTemplate(l)
        out.append({'ok': [row(t.template) for t in dd.templates]})
    except Exception as e:
        out.append({'err': [type(e).__name__, str(e)]})
print(json.dumps({'defaults': defaults, 'out': out}))
`;

/** Every stock datepattern value (config-level `%%` unescaped). */
function stockValues(): string[][] {
  const dir = '/etc/fail2ban/filter.d';
  const out: string[][] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.conf'))) {
    for (const m of readFileSync(`${dir}/${f}`, 'utf8').matchAll(/^datepattern\s*=\s*(.*)$/gm)) {
      const v = (m[1] ?? '').replace(/%%/g, '%');
      if (!v.includes('<') || v.includes('{DATE}') || v.includes('<W>')) out.push([v]);
    }
  }
  return out;
}

const SPEC_VALUES: string[][] = [
  ['%Y-%m-%d %H:%M:%S'], ['{^LN-BEG}'], [String.raw`^[^\[]*\[({DATE})`], ['{NONE}'], ['EPOCH'], ['^EPOCH'],
  ['{^LN-BEG}EPOCH'], ['LEPOCH'], ['^LEPOCH'], ['{^LN-BEG}LEPOCH'], ['TAI64N'], ['^TAI64N'], ['{^LN-BEG}TAI64N'],
  ['{DEFAULT}'], ['{UNB}%H:%M'], ['**%H:%M**'], ['%%'], ['%q'], ['%'], ['%Y%'], [String.raw`^<\d+>\d+\s+{DATE}`], ['^{DATE}'],
  ['^<W>{DATE}'], [String.raw`^<co ts="{DATE}"\s+`], ['{DATE}'], ['{^LN-BEG}{DATE}'], [String.raw`\{DATE}`], ['x{EPOCH}y'],
  ['^t={LEPOCH}'], ['epoch'], ['^tai64n'], ['{^ln-beg}'], ['{none}'], ['{default}'], ['{^LN-BEG}', '%H:%M:%S'],
  ['%H:%M:%S', '{^LN-BEG}'], ['{^LN-BEG}%H:%M:%S', '{^LN-BEG}'], ['{^LN-BEG}', '{^LN-BEG}%H:%M:%S'], ['%H', '%H'],
  ['{DEFAULT}', '%H'], ['^{DATE}', '{DATE}'], ['%s%H'], ['%H%s'], ['%5d'], ['%(d)s'], ['%(zz)s'], ['%*s'], ['%.2s%d'],
  ['(?i)%H:%M'], ['%b (?x)%d'], ['(^%H)'], ['(?:^%H)'], ['%H$'], ['%H$)'], [String.raw`%H\$`], [String.raw`%H\b`],
  [String.raw`%H\s`], ['(%H):%M'], ['((?P<H>\\d+))'], ['%Exk %Exl %ExZ %Exz %c %x %X %j %U %W %w %u %G %V %A %B'],
];

const PIECES = [
  '%Y', '%y', '%m', '%d', '%H', '%M', '%S', '%f', '%z', '%Z', '%a', '%A', '%b', '%B', '%p', '%I', '%k', '%l', '%j', '%U', '%W',
  '%w', '%c', '%x', '%X', '%ExY', '%Exy', '%Exm', '%Exd', '%ExH', '%ExM', '%ExS', '%Exz', '%ExZ', '%Exk', '%Exl', '%%',
  '-', '/', ' ', ':', 'T', 'abc', String.raw`\[`, String.raw`\d+`, '.', '(?:', ')', '(', '|', '?', '$', '^', '**', String.raw`\b`,
  String.raw`\s`, '(?i)', '(?iu)', '(?P<x>', 'é', '{EPOCH}', '{LEPOCH}', '{DATE}', 'EPOCH', 'TAI64N', '%q', '%', '%5d', '%s',
  '(?:^|\\b|\\W)', '(?=\\b|\\W|$)', '\\{DATE}', '%(d)s', '  ',
];
const PREFIXES = ['', '', '', '{^LN-BEG}', '^', '{UNB}', '**', '(^', '(?:^', ' ', '{UNB}{^LN-BEG}', '{^LN-BEG}^', '(?iu)^', '({^LN-BEG}'];
const SUFFIXES = ['', '', '', '$', '**', String.raw`\b`, String.raw`\s`, '$)', ')', ' ', '**)'];

function generated(count: number, seed: number): string[][] {
  const r = prng(seed);
  const pick = <T>(a: readonly T[]): T => a[r(a.length)] as T;
  const one = (): string => {
    let s = pick(PREFIXES);
    const n = 1 + r(6);
    for (let i = 0; i < n; i++) s += pick(PIECES);
    return s + pick(SUFFIXES);
  };
  const out: string[][] = [];
  for (let i = 0; i < count; i++) {
    const k = r(10) < 8 ? 1 : 2 + r(2);
    const lines: string[] = [];
    for (let j = 0; j < k; j++) lines.push(r(12) === 0 ? pick(['{^LN-BEG}', '{DEFAULT}', '^{DATE}', 'EPOCH', '{NONE}']) : one());
    out.push(lines);
  }
  return out;
}

for (const year of [2026, 2027, 2099]) {
  test(`defaults and datepattern values equal the installed fail2ban (year ${year})`, { skip: PYTHON ? false : NO_PYTHON }, () => {
    const values = [...stockValues(), ...SPEC_VALUES, ...generated(year === 2026 ? 1500 : 300, year)];
    const py = runPython<{ defaults: Row[]; out: Outcome[] }>(ORACLE, { year, values });
    const ctx = createDateTemplateContext({ year });
    assert.deepEqual(defaultDateTemplates(ctx).map(row), py.defaults);
    let failures = 0;
    values.forEach((lines, i) => {
      const mine = outcome(year, lines);
      const theirs = py.out[i];
      if (failures < 5 && JSON.stringify(mine) !== JSON.stringify(theirs)) {
        failures++;
        assert.deepEqual({ lines, mine }, { lines, mine: theirs });
      }
    });
    assert.equal(failures, 0);
  });
}

test('datepattern values split into lines as Filter.setDatePattern does', { skip: PYTHON ? false : NO_PYTHON }, () => {
  const values = ['{^LN-BEG}\n\n  %H:%M \r\n', '\u00a0^%Y\u2028\n\tEPOCH\x1c', '\n\n', 'a\n\nb\n \n c '];
  const py = runPython<string[][]>('import re\nprint(json.dumps([list(filter(bool, map(str.strip, re.split("\\n+", v)))) for v in DATA]))', values);
  assert.deepEqual(values.map(datePatternLines), py);
  const ctx = createDateTemplateContext({ year: 2026 });
  assert.deepEqual(buildDateTemplates(ctx, values[0] ?? '').map((t) => t.name).slice(-1), ['24hour:Minute']);
});

test('weight of a user pattern equal to an anchored default', () => {
  const lines = ['{^LN-BEG}%m/%d/%ExY:%H:%M:%S'];
  assert.equal(buildDateTemplates(createDateTemplateContext({ year: 2026 }), lines)[0]?.weight, 100);
  assert.equal(buildDateTemplates(createDateTemplateContext({ year: 2026, sharedAnchoredWeight: false }), lines)[0]?.weight, 1);
});
