/** Option templates and the conversions fail2ban's readers apply (`_as_bool`, `int`). */
import { ConfigError } from '../../shared/errors.js';
import { pyReprString } from '../../shared/pyvalue.js';
import { NoSectionError } from '../ini/errors.js';
import { pyStrip } from '../ini/pytext.js';
import { pyStr, type ConfigStore, type OptionValue, type Vars } from '../ini/store.js';
import type { ConfigLog } from '../log.js';

export type OptionType = 'string' | 'bool' | 'int';
/** [name, type, default]; a default of null means "leave out when absent". */
export type OptionSpec = readonly [name: string, type: OptionType, fallback: OptionValue];

/** `_as_bool`: "1", "on", "true", "yes" (any case) are true; anything else is false. */
export function pyBool(value: OptionValue): boolean {
  if (typeof value === 'string') return ['1', 'on', 'true', 'yes'].includes(value.toLowerCase());
  return Boolean(value);
}

/** Python's `int(str)`; undefined where Python raises ValueError. */
export function pyInt(value: OptionValue): number | undefined {
  if (typeof value === 'number') return Math.trunc(value);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return undefined;
  const s = pyStrip(value);
  if (!/^[+-]?\d+(?:_\d+)*$/.test(s)) return undefined;
  return Number(s.replaceAll('_', ''));
}

/** Converts by type; throws a ConfigError (Python's ValueError) for an int that is not one. */
export function convertValue(type: OptionType, value: OptionValue): OptionValue {
  if (type === 'bool') return pyBool(value);
  if (type === 'int') {
    const n = pyInt(value);
    if (n === undefined) {
      throw new ConfigError('E_NOT_INT', `invalid literal for int() with base 10: ${pyReprString(pyStr(value))}`);
    }
    return n;
  }
  return value;
}

export interface ReadOptionsArgs {
  readonly store: ConfigStore;
  readonly log: ConfigLog;
  readonly section: string;
  readonly specs: readonly OptionSpec[];
  readonly pOptions?: ReadonlyMap<string, OptionValue>;
  readonly shouldExist?: boolean;
  readonly convert?: boolean;
}

/**
 * `ConfigReaderUnshared.getOptions`: reads each option of `specs` from `section` (with `pOptions`
 * as interpolation vars, skipping options it already holds), converting types, logging and
 * defaulting where fail2ban does. Interpolation errors propagate.
 */
export function readOptions(args: ReadOptionsArgs): Map<string, OptionValue> {
  const { store, log, section, specs } = args;
  const pOptions = args.pOptions ?? new Map<string, OptionValue>();
  const vars: Vars = pOptions;
  const values = new Map<string, OptionValue>();
  for (const [name, type, fallback] of specs) {
    if (pOptions.has(name)) continue;
    const found = store.lookup(section, name, { vars });
    if ('missing' in found) {
      if (found.missing === 'section') {
        if (args.shouldExist) throw new NoSectionError(section);
        log.log('error', 'fail2ban.configreader', new NoSectionError(section).pythonMessage);
        values.set(name, fallback);
      } else if (fallback !== null) {
        log.log('warning', 'fail2ban.configreader', `'${name}' not defined in '${section}'. Using default one: ${pyReprOption(fallback)}`);
        values.set(name, fallback);
      }
      continue;
    }
    const v = found.value;
    values.set(name, v);
    if (args.convert === false || type === 'string' || v === null) continue;
    try {
      values.set(name, convertValue(type, v));
    } catch (e) {
      if (!(e instanceof ConfigError && e.code === 'E_NOT_INT')) throw e;
      log.log('warning', 'fail2ban.configreader', `Wrong value for '${name}' in '${section}'. Using default one: '${pyReprOption(fallback)}'`);
      values.set(name, fallback);
    }
  }
  return values;
}

/** Python's `repr()` of an option default. */
function pyReprOption(v: OptionValue): string {
  return typeof v === 'string' ? pyReprString(v) : pyStr(v);
}

/** `_merge_dicts(x, y)`: x's keys in order with y's values winning, then y's new keys. */
export function mergeMaps<V>(x: ReadonlyMap<string, V>, y: ReadonlyMap<string, V>): Map<string, V> {
  const out = new Map(x);
  for (const [k, v] of y) out.set(k, v);
  return out;
}
