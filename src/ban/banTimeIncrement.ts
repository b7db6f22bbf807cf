/**
 * bantime.increment: the `bantime.<opt>` options of a jail and the ban time they compute for an IP
 * banned before, as fail2ban's `Jail.setBanTimeExtra` builds its `evformula` (spec §2.4).
 *
 * Options keep fail2ban's storage: the raw value as sent (`factor`, `formula`, `multipliers`,
 * `overalljails`), `increment` as a bool, `maxtime`/`rndtime` as seconds. The formula is compiled
 * once, when an option it depends on changes; `factor` is evaluated at that moment. Values follow
 * Python's numeric types (an int bantime and int factor give an int ban time, a float factor a float).
 */
import { PortcullisError } from '../shared/errors.js';
import { str2seconds } from '../shared/duration.js';
import { PyFloat, pyAsBool, pyStr, type PyValue } from '../shared/pyvalue.js';
import {
  type CompiledPyExpr,
  type PyNumeric,
  type PyScopeValue,
  compilePyExpr,
  pyNamespace,
  pyNumericFromValue,
  pyNumericToValue,
  pyStandardScope,
  pyTruthy,
} from '../shared/pyexpr.js';
import { LEVEL, type ServerLog } from '../system/log.js';

/** fail2ban's default `bantime.formula`. */
export const DEFAULT_BANTIME_FORMULA = 'ban.Time * (1<<(ban.Count if ban.Count<20 else 20)) * banFactor';

/** The option names `set <jail> bantime.<opt>` accepts. */
export const BANTIME_OPTIONS = ['increment', 'factor', 'formula', 'multipliers', 'maxtime', 'rndtime', 'overalljails'] as const;

/** A value fail2ban could not use (Python would raise ValueError, SyntaxError …); `pythonMessage` is its text. */
export class BanTimeOptionError extends PortcullisError {
  constructor(
    readonly option: string,
    readonly pythonMessage: string,
    options?: { cause?: unknown },
  ) {
    super('E_BANTIME_OPTION', `Invalid bantime.${option}: ${pythonMessage}`, options);
  }
}

/** A number as the option values and the jail's bantime come (PyValue convention: number = int, PyFloat = float). */
export type PyNumberValue = number | bigint | PyFloat | boolean;

type EvFormula = (banTime: PyNumeric, banCount: PyNumeric, random: () => number) => PyNumeric;

/** Python's `int(str)` (base 10): surrounding whitespace, a sign, digits with single underscores. */
export function pyIntFromString(text: string): bigint {
  const t = text.trim();
  if (!/^[+-]?\d+(?:_\d+)*$/.test(t)) throw new BanTimeOptionError('multipliers', `invalid literal for int() with base 10: ${pyStrRepr(text)}`);
  return BigInt(t.replaceAll('_', ''));
}

const pyStrRepr = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** Python's `min(a, b)`: `a` unless `b` is smaller. */
function pyMin(a: PyNumeric, b: PyNumeric): PyNumeric {
  return compareNumbers(b, a) < 0 ? b : a;
}

function compareNumbers(a: PyNumeric, b: PyNumeric): number {
  const scope = new Map<string, PyScopeValue>([['a', a], ['b', b]]);
  return LESS.evaluate(scope) === true ? -1 : EQUAL.evaluate(scope) === true ? 0 : 1;
}

const LESS = compilePyExpr('a < b');
const EQUAL = compilePyExpr('a == b');
const MAX_OF = compilePyExpr('max(a, b)');
const ARITH = {
  times: compilePyExpr('a * b'),
  plus: compilePyExpr('a + random.random() * b'),
};

/** The `bantime.*` options of one jail and the `evformula` they make. */
export class BanTimeIncrement {
  private readonly extra = new Map<string, PyValue>();
  private multipliers: readonly bigint[] = [];
  private formula: EvFormula | undefined;

  /**
   * `log` receives fail2ban's `Set banTime.<opt> = <value>` (logger fail2ban.jail) and the warning
   * about a missing database; `hasDatabase` tells whether the jail has one.
   */
  constructor(
    private readonly log: ServerLog,
    private readonly hasDatabase: () => boolean,
    private readonly random: () => number = Math.random,
  ) {}

  /** `set <jail> bantime.<opt> <value>`; '' or null removes the option. Throws BanTimeOptionError as fail2ban would raise. */
  set(opt: string, rawValue: PyValue): void {
    const value = rawValue === '' ? null : rawValue;
    this.log.log('fail2ban.jail', LEVEL.INFO, `Set banTime.${opt} = ${pyStr(value)}`);
    // maxtime/rndtime are converted before anything is stored, so a bad value leaves the options unchanged.
    const stored = (opt === 'maxtime' || opt === 'rndtime') && value !== null ? seconds(opt, value) : value;
    if (stored !== null) this.extra.set(opt, stored);
    else this.extra.delete(opt);
    if (opt === 'increment') {
      this.extra.set(opt, pyAsBool(value));
      if (this.extra.get(opt) === true && !this.hasDatabase()) {
        this.log.log('fail2ban.jail', LEVEL.WARNING, 'ban time increment is not available as long jail database is not set');
      }
    }
    if (['formula', 'factor', 'maxtime', 'rndtime', 'multipliers'].includes(opt) || this.formula === undefined) {
      if (opt === 'multipliers') this.multipliers = typeof value === 'string' ? value.split(' ').map(pyIntFromString) : [];
      this.formula = this.build();
    }
  }

  /** `get <jail> bantime.<opt>`: the stored value (null = None), as fail2ban's getBanTimeExtra returns it. */
  get(opt: string): PyValue {
    return this.extra.get(opt) ?? null;
  }

  /** Whether bantime.increment is on. */
  get enabled(): boolean {
    return this.extra.get('increment') === true;
  }

  /** Whether the search for previous bans spans all jails (truthiness of the raw value, as fail2ban). */
  get overallJails(): boolean {
    const v = this.extra.get('overalljails') ?? null;
    if (typeof v === 'string') return v.length > 0;
    return v !== null && pyTruthy(pyNumericFromValue(v as PyNumberValue));
  }

  /** `Jail.getMaxBanTime`: maxtime (or -1) when increment is on, else the jail's bantime. */
  maxBanTime(jailBanTime: PyNumberValue): PyValue {
    return this.enabled ? (this.extra.get('maxtime') ?? -1) : jailBanTime;
  }

  /** The new ban time for an IP banned `banCount` times before, from the base `banTime`, exactly as fail2ban's evformula. */
  evformula(banTime: PyNumberValue, banCount: number, random: () => number = this.random): PyNumberValue {
    this.formula ??= this.build();
    return pyNumericToValue(this.formula(pyNumericFromValue(banTime), BigInt(banCount), random));
  }

  private build(): EvFormula {
    const factor = this.extra.get('factor') ?? '1';
    const banFactor = evaluateFactor(typeof factor === 'string' ? factor : pyStr(factor), this.random);
    let ev: EvFormula;
    const mult = this.multipliers;
    if (mult.length > 0) {
      ev = (time, count) => {
        const n = Number(count);
        const idx = n < mult.length ? (n < 0 ? mult.length + n : n) : mult.length - 1;
        const m = mult[idx];
        if (m === undefined) throw new BanTimeOptionError('multipliers', 'list index out of range');
        return times(times(time, banFactor), m);
      };
    } else {
      const formula = compileFormula(this.extra.get('formula'));
      ev = (time, count, random) => {
        const scope = pyStandardScope(random, [['ban', pyNamespace('ban', { Time: time, Count: count })], ['banFactor', banFactor]]);
        return maxOf(time, formula.evaluate(scope));
      };
    }
    const maxtime = this.extra.get('maxtime');
    if (maxtime !== undefined && maxtime !== null) {
      const limit = pyNumericFromValue(maxtime as PyNumberValue);
      const inner = ev;
      ev = (time, count, random) => pyMin(inner(time, count, random), limit);
    }
    const rndtime = this.extra.get('rndtime');
    if (rndtime !== undefined && rndtime !== null) {
      const spread = pyNumericFromValue(rndtime as PyNumberValue);
      const inner = ev;
      ev = (time, count, random) => ARITH.plus.evaluate(pyStandardScope(random, [['a', inner(time, count, random)], ['b', spread]]));
    }
    return ev;
  }
}

function times(a: PyNumeric, b: PyNumeric): PyNumeric {
  return ARITH.times.evaluate(new Map([['a', a], ['b', b]]));
}

function maxOf(a: PyNumeric, b: PyNumeric): PyNumeric {
  return MAX_OF.evaluate(pyStandardScope(Math.random, [['a', a], ['b', b]]));
}

function seconds(opt: string, value: PyValue): PyValue {
  if (typeof value !== 'string') return value;
  try {
    return str2seconds(value);
  } catch (e) {
    throw new BanTimeOptionError(opt, e instanceof Error ? e.message : String(e), { cause: e });
  }
}

function evaluateFactor(factor: string, random: () => number): PyNumeric {
  try {
    return compilePyExpr(factor).evaluate(pyStandardScope(random));
  } catch (e) {
    throw new BanTimeOptionError('factor', e instanceof Error ? e.message : String(e), { cause: e });
  }
}

function compileFormula(formula: PyValue | undefined): CompiledPyExpr {
  const text = formula === undefined || formula === null ? DEFAULT_BANTIME_FORMULA : pyStr(formula);
  try {
    return compilePyExpr(text);
  } catch (e) {
    throw new BanTimeOptionError('formula', e instanceof Error ? e.message : String(e), { cause: e });
  }
}

/**
 * The observer's failure-count boost for an IP banned `banCount` times before:
 * `min((1 << min(banCount, 20)) / 2 + 1, maxRetry)` — a float (2.0, 3.0, 5.0 …) unless maxRetry is smaller.
 */
export function failureRetryCount(banCount: number, maxRetry: number): PyNumberValue {
  const boost = 2 ** Math.min(banCount, 20) / 2 + 1;
  return maxRetry < boost ? maxRetry : new PyFloat(boost);
}
