/**
 * bantime.increment: option parsing, `get` values and evformula against fail2ban's own
 * `Jail.setBanTimeExtra` / `getBanTimeExtra('evformula')` (Debian fail2ban 1.0.2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BanTimeIncrement, BanTimeOptionError, failureRetryCount, type PyNumberValue } from '../../src/ban/banTimeIncrement.js';
import { PyFloat, pyRepr } from '../../src/shared/pyvalue.js';
import { LEVEL } from '../../src/system/log.js';
import { MemoryLog } from '../../src/testing/memoryLog.js';
import { NO_PYTHON, PYTHON, runPython } from '../helpers/python.js';
import { prng } from '../helpers/random.js';

const SKIP = { skip: PYTHON === undefined ? NO_PYTHON : false };

interface Case {
  readonly sets: ReadonlyArray<readonly [string, string | boolean]>;
  /** [bantime, bantime is a float, count] */
  readonly evals: ReadonlyArray<readonly [number, boolean, number]>;
}

/** Per case: 'error' when a set raised, else the repr of every get and of every evformula result. */
type Result = { error: string } | { gets: Record<string, string>; evals: string[] };

const OPTS = ['increment', 'factor', 'formula', 'multipliers', 'maxtime', 'rndtime', 'overalljails'];

const PY_JAIL = `
import logging
logging.disable(logging.CRITICAL)
import fail2ban.server.jail as J
from fail2ban.server.jail import Jail
from fail2ban.server.observer import ObserverThread
class R:
    seq = []
    @staticmethod
    def random():
        return R.seq.pop(0)
J.random = R
out = []
for case in DATA:
    j = Jail('t', backend='polling')
    try:
        for opt, val in case['sets']:
            j.setBanTimeExtra(opt, val)
        R.seq = [0.125 * k for k in range(1, 8)] * 50
        evals = []
        for t, isf, c in case['evals']:
            try:
                evals.append(repr(j.getBanTimeExtra('evformula')(ObserverThread.BanTimeIncr(float(t) if isf else int(t), c))))
            except Exception as e:
                evals.append('error ' + type(e).__name__)
        gets = {o: repr(j.getBanTimeExtra(o)) for o in ${JSON.stringify(OPTS)}}
        out.append({'gets': gets, 'evals': evals})
    except Exception as e:
        out.append({'error': type(e).__name__})
print(json.dumps(out))
`;

function sequence(): () => number {
  const seq = Array.from({ length: 350 }, (_v, i) => 0.125 * ((i % 7) + 1));
  return () => seq.shift() ?? 0;
}

function ours(c: Case): Result {
  const inc = new BanTimeIncrement(new MemoryLog(), () => false, sequence());
  try {
    for (const [opt, val] of c.sets) inc.set(opt, val);
  } catch (e) {
    if (e instanceof BanTimeOptionError) return { error: 'error' };
    throw e;
  }
  const random = sequence();
  const evals = c.evals.map(([t, isf, count]) => {
    try {
      const bt: PyNumberValue = isf ? new PyFloat(t) : t;
      return pyRepr(inc.evformula(bt, count, random));
    } catch {
      return 'error';
    }
  });
  return { gets: Object.fromEntries(OPTS.map((o) => [o, pyRepr(inc.get(o))])), evals };
}

function normalise(r: Result): Result {
  if ('error' in r) return { error: 'error' };
  return { gets: r.gets, evals: r.evals.map((e) => (e.startsWith('error') ? 'error' : e)) };
}

function generate(seed: number, n: number, withRandom: boolean): Case[] {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[r(xs.length)] as T;
  const values: Record<string, ReadonlyArray<string | boolean>> = {
    increment: ['true', 'false', 'yes', 'On', '0', true, false, ''],
    factor: ['1', '2', '1.5', '2.0 / 2.885385', '3', '0.5', ''],
    formula: [
      'ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor',
      'ban.Time * math.exp(float(ban.Count+1)*banFactor)/math.exp(1*banFactor)',
      'ban.Time * ban.Count',
      'ban.Time + 60 * ban.Count * banFactor',
      'ban.Time / 2',
      'ban.Time // 3 * banFactor',
      '',
    ],
    multipliers: ['1 2 4 8 16 32 64', '1 5 30 60 300 720 1440 2880', '2', '3 1', ''],
    maxtime: ['1h', '1d', '3600', '1w', '90', '1.5h', '5m 30s', ''],
    rndtime: withRandom ? ['10', '1m', '0.5', ''] : [''],
    overalljails: ['true', 'false', true, ''],
  };
  return Array.from({ length: n }, () => {
    const sets = Array.from({ length: 1 + r(6) }, () => {
      const opt = pick(OPTS);
      return [opt, pick(values[opt] ?? [''])] as const;
    });
    const evals = Array.from({ length: 6 }, () => [pick([600, 10, 3600, 1, 5400, 86400, 7]), r(5) === 0, r(32)] as const);
    return { sets, evals };
  });
}

test('evformula and get values match fail2ban Jail.setBanTimeExtra (no rndtime)', SKIP, () => {
  const cases = generate(77, 1500, false);
  const theirs = runPython<Result[]>(PY_JAIL, cases);
  let evaluated = 0;
  cases.forEach((c, i) => {
    const a = ours(c);
    assert.deepEqual(a, normalise(theirs[i] as Result), JSON.stringify(c));
    if ('evals' in a) evaluated += a.evals.filter((e) => e !== 'error').length;
  });
  assert.ok(evaluated > 5000, `only ${evaluated} formula results compared`);
});

test('rndtime with an injected random source matches fail2ban (random.random patched the same way)', SKIP, () => {
  const cases = generate(78, 300, true).filter((c) => c.sets.some(([o, v]) => o === 'rndtime' && v !== ''));
  assert.ok(cases.length > 30);
  const theirs = runPython<Result[]>(PY_JAIL, cases);
  cases.forEach((c, i) => assert.deepEqual(ours(c), normalise(theirs[i] as Result), JSON.stringify(c)));
});

test('invalid values raise where fail2ban raises', SKIP, () => {
  const bad: Case[] = [
    { sets: [['multipliers', '1  2']], evals: [] },
    { sets: [['multipliers', '1 x']], evals: [] },
    { sets: [['formula', 'ban.Time *']], evals: [] },
    { sets: [['factor', 'nope']], evals: [] },
    { sets: [['maxtime', 'abc']], evals: [] },
    { sets: [['formula', 'ban.Time * nope']], evals: [[600, false, 2]] },
  ];
  const theirs = runPython<Result[]>(PY_JAIL, bad);
  bad.forEach((c, i) => assert.deepEqual(ours(c), normalise(theirs[i] as Result), JSON.stringify(c)));
});

test('fixed values: the observed t3 run and the defaults (no oracle needed)', () => {
  const log = new MemoryLog();
  const inc = new BanTimeIncrement(log, () => false, () => 0);
  inc.set('increment', true);
  inc.set('maxtime', '1h');
  assert.deepEqual(log.records, [
    { name: 'fail2ban.jail', level: LEVEL.INFO, message: 'Set banTime.increment = True' },
    { name: 'fail2ban.jail', level: LEVEL.WARNING, message: 'ban time increment is not available as long jail database is not set' },
    { name: 'fail2ban.jail', level: LEVEL.INFO, message: 'Set banTime.maxtime = 1h' },
  ]);
  assert.equal(inc.evformula(10, 1), 20);
  assert.equal(inc.evformula(10, 2), 40);
  assert.equal(inc.evformula(600, 30), 3600);
  assert.equal(inc.get('maxtime'), 3600);
  assert.equal(inc.enabled, true);
  assert.equal(inc.maxBanTime(600), 3600);
  inc.set('increment', '');
  assert.equal(inc.get('increment'), false);
  assert.equal(inc.maxBanTime(600), 600);
  inc.set('multipliers', '1 5 30');
  assert.deepEqual([1, 2, 3, 9].map((n) => inc.evformula(60, n)), [300, 1800, 1800, 1800]);
  inc.set('factor', '1.5');
  assert.deepEqual(inc.evformula(60, 1), new PyFloat(450));
  assert.equal(inc.get('factor'), '1.5');
});

test('overalljails uses the truthiness of the raw value, as fail2ban', () => {
  const inc = new BanTimeIncrement(new MemoryLog(), () => true);
  assert.equal(inc.overallJails, false);
  inc.set('overalljails', 'false');
  assert.equal(inc.overallJails, true);
  inc.set('overalljails', false);
  assert.equal(inc.overallJails, false);
});

test('failureRetryCount is a float unless maxretry is smaller', () => {
  assert.deepEqual(failureRetryCount(1, 5), new PyFloat(2));
  assert.deepEqual(failureRetryCount(2, 5), new PyFloat(3));
  assert.deepEqual(failureRetryCount(3, 5), new PyFloat(5));
  assert.deepEqual(failureRetryCount(3, 5.0), new PyFloat(5));
  assert.equal(failureRetryCount(4, 5), 5);
  assert.deepEqual(failureRetryCount(0, 5), new PyFloat(1.5));
  assert.equal(pyRepr(failureRetryCount(40, 3)), '3');
});
