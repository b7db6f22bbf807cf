/**
 * timefmt: seconds2str, time2str and the `banip --with-time` line against fail2ban's own
 * `MyTime.seconds2str` / `MyTime.time2str` / `BanManager.getBanList(withTime=True)` format, with the
 * time zone set explicitly on both sides.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TIME, banWithTimeLine, seconds2str, time2str, type SecondsValue } from '../../src/shared/timefmt.js';
import { PyFloat } from '../../src/shared/pyvalue.js';
import { NO_PYTHON, PYTHON, runPython } from '../helpers/python.js';
import { mulberry32, prng } from '../helpers/random.js';

const SKIP = { skip: PYTHON === undefined ? NO_PYTHON : false };

/** [value, is a float] */
type Num = readonly [number, boolean];
const toValue = ([v, isFloat]: Num): SecondsValue => (isFloat ? new PyFloat(v) : v);

function withTz<T>(tz: string, f: () => T): T {
  const old = process.env.TZ;
  process.env.TZ = tz;
  try {
    return f();
  } finally {
    if (old === undefined) delete process.env.TZ;
    else process.env.TZ = old;
  }
}

function secondsCases(): Num[] {
  const r = prng(99);
  const f = mulberry32(7);
  const out: Num[] = [];
  const edges = [0, 1, 59, 60, 61, 3594, 3595, 3599, 3600, 3605, 3615, 86399, 86400, 86430, 86460, 604799, 604800, 606600,
    31535999, 31536000, 31536000 + 43200, 31579200, 63072000, 86400 * 390, 86400 * 368, 198900, 176399, 3590, 10, 20, 600];
  for (const e of edges) out.push([e, false], [e, true], [e + 0.5, true], [e - 0.5, true]);
  for (let i = 0; i < 3000; i++) {
    const scale = [60, 3600, 86400, 604800, 31536000, 31536000 * 50][r(6)] ?? 60;
    out.push([r(scale * 2), false]);
    out.push([Math.round(f() * scale * 2 * 1000) / 1000, true]);
    // exact halves of the rounding units (round half to even)
    const unit = [10, 60, 3600, 86400][r(4)] ?? 10;
    out.push([unit * r(10000) + unit / 2, false]);
  }
  out.push([-1, false], [-5, false], [-0.5, true]);
  return out;
}

test('seconds2str matches MyTime.seconds2str on thousands of ints and floats', SKIP, () => {
  const cases = secondsCases();
  const theirs = runPython<string[]>(
    `from fail2ban.server.mytime import MyTime
print(json.dumps([str(MyTime.seconds2str(float(v) if f else int(v))) for v, f in DATA]))`,
    cases,
  );
  const bad = cases.map((c, i) => [c, seconds2str(toValue(c)), theirs[i]] as const).filter(([, a, b]) => a !== b);
  assert.deepEqual(bad.slice(0, 10), []);
});

test('seconds2str: the examples of fail2ban\'s docstring and spec (no oracle needed)', () => {
  assert.equal(seconds2str(86400 * 390), '1y 3w 4d');
  assert.equal(seconds2str(86400 * 368), '1y 3d');
  assert.equal(seconds2str(86400 * 2 + 3600 * 7 + 60 * 15), '2d 7h 15m');
  assert.equal(seconds2str(86400 * 2 + 3599), '2d 1h');
  assert.equal(seconds2str(3600 - 5), '1h');
  assert.equal(seconds2str(3600 - 10), '59m 50s');
  assert.equal(seconds2str(59), '59s');
  assert.equal(seconds2str(0), '0');
  assert.equal(seconds2str(20), '20s');
  assert.equal(seconds2str(new PyFloat(90.5)), '1.0m 30.5s');
});

function timeCases(): Num[] {
  const r = prng(5);
  const f = mulberry32(6);
  const out: Num[] = [];
  for (let i = 0; i < 2500; i++) {
    out.push([r(2 ** 31), false]);
    out.push([f() * 4e9, true]);
    out.push([r(2 ** 31) + 0.9999995, true]); // microsecond rounding
    out.push([r(2 ** 31) + 0.4999995, true]);
  }
  // DST switches in Europe and the US, year ends, far future, the 9999 cut-off, before 1970
  out.push([1711846799, false], [1711846800, false], [1729990799, false], [1729990800, false], [1710054000, false], [1730613600, false]);
  out.push([0, false], [-1, false], [-86400.5, true], [4102444800, false], [253402214399, false], [253402214400, false], [MAX_TIME, false]);
  out.push([1795227269, false], [1795227269 + 0.9999996, true], [2e9 + 0.5, true]);
  return out;
}

for (const tz of ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe']) {
  test(`time2str matches MyTime.time2str (TZ=${tz})`, SKIP, () => {
    const cases = timeCases();
    const theirs = runPython<string[]>(
      `import os, time
os.environ['TZ'] = ${JSON.stringify(tz)}
time.tzset()
from fail2ban.server.mytime import MyTime
print(json.dumps([MyTime.time2str(float(v) if f else int(v)) for v, f in DATA]))`,
      cases,
    );
    const ours = withTz(tz, () => cases.map((c) => time2str(toValue(c))));
    const bad = cases.map((c, i) => [c, ours[i], theirs[i]] as const).filter(([, a, b]) => a !== b);
    assert.deepEqual(bad.slice(0, 10), []);
  });
}

test('the banip --with-time line matches BanManager.getBanList(withTime=True)', SKIP, () => {
  const cases: Array<readonly [string, number, Num]> = [
    ['192.0.2.10', 1795227269, [30, false]],
    ['2001:db8::1', 1795227269, [-1, false]],
    ['203.0.113.5', 1795227269.75, [600.9, true]],
    ['198.51.100.1', 1700000000, [86400 * 30, false]],
    ['198.51.100.2', 1700000000, [5400, true]],
  ];
  const theirs = runPython<string[]>(
    `import os, time
os.environ['TZ'] = 'Europe/Berlin'
time.tzset()
from fail2ban.server.banmanager import BanManager
from fail2ban.server.ticket import BanTicket
from fail2ban.server.mytime import MyTime
out = []
for ip, t, (bt, f) in DATA:
    MyTime.setTime(t)
    m = BanManager()
    tk = BanTicket(ip, t)
    tk.setBanTime(float(bt) if f else int(bt))
    m.addBanTicket(tk)
    out.extend(m.getBanList(ordered=True, withTime=True))
print(json.dumps(out))`,
    cases,
  );
  const ours = withTz('Europe/Berlin', () => cases.map(([ip, t, bt]) => banWithTimeLine(ip, t, toValue(bt))));
  assert.deepEqual(ours, theirs);
  assert.equal(
    withTz('UTC', () => banWithTimeLine('192.0.2.10', Date.UTC(2026, 10, 22, 2, 14, 29) / 1000, 30)),
    '192.0.2.10 \t2026-11-22 02:14:29 + 30 = 2026-11-22 02:14:59',
  );
  assert.equal(withTz('UTC', () => banWithTimeLine('192.0.2.10', 1795227269, -1)).split(' = ')[1], '9999-12-31 23:59:59');
});
