/**
 * One filter read on its own, as fail2ban-regex and fail2ban's sample tests do
 * (`FilterReader(name, jail, opts, basedir).read(); getOptions({}); convert()`): the filter's
 * command stream, and the regex settings from it in stream order.
 */
import type { FileSystem } from '../system/fs.js';
import { ConfigFiles } from './ini/files.js';
import { pyStr, type OptionValue } from './ini/store.js';
import type { ConfigLog } from './log.js';
import { FilterReader, type StreamCommand } from './readers/filter.js';
import { ConfigError } from '../shared/errors.js';

/** The regex settings of a filter, in the order the stream sets them. */
export interface FilterSettings {
  /** The filter file's name (`filter.d/<name>`). */
  readonly name: string;
  readonly prefregex: string | undefined;
  readonly failregex: string[];
  readonly ignoreregex: string[];
  readonly maxlines: number | undefined;
  readonly datepattern: string | undefined;
  readonly usedns: string | undefined;
  readonly journalmatch: string[][];
  /** The commands exactly as fail2ban's reader produces them. */
  readonly stream: StreamCommand[];
}

/**
 * Reads `filter.d/<name>` below `basedir` with the `[k=v]` arguments `opts`. Throws
 * {@link ConfigError} `E_FILTER_MISSING` when no file of that name exists.
 */
export function readFilterSettings(
  fs: FileSystem,
  basedir: string,
  name: string,
  opts: ReadonlyMap<string, OptionValue>,
  log: ConfigLog,
  jail = 'fail2ban-regex-jail',
): FilterSettings {
  const files = new ConfigFiles(fs, basedir.replace(/\/+$/, '') || '/', log);
  const reader = new FilterReader(files, name, jail, new Map(opts));
  if (!reader.read()) {
    throw new ConfigError('E_FILTER_MISSING', `filter '${name}' not found: no ${basedir}/filter.d/${name}.conf or .local`, { file: `${basedir}/filter.d/${name}.conf`, jail });
  }
  reader.getOptions(new Map());
  const stream = reader.convert();
  return settingsFromStream(name, stream);
}

/** The regex settings in a filter's part of the command stream. */
export function settingsFromStream(name: string, stream: StreamCommand[]): FilterSettings {
  let prefregex: string | undefined;
  let maxlines: number | undefined;
  let datepattern: string | undefined;
  let usedns: string | undefined;
  const failregex: string[] = [];
  const ignoreregex: string[] = [];
  const journalmatch: string[][] = [];
  for (const cmd of stream) {
    const [kind, , opt, ...rest] = cmd;
    const values = kind === 'multi-set' ? (rest[0] as OptionValue[]) : rest.length === 1 ? [rest[0] as OptionValue] : [];
    switch (typeof opt === 'string' ? opt : '') {
      case 'prefregex': prefregex = pyStr(values[0] ?? null); break;
      case 'addfailregex': for (const v of values) failregex.push(pyStr(v)); break;
      case 'addignoreregex': for (const v of values) ignoreregex.push(pyStr(v)); break;
      case 'maxlines': maxlines = Number(pyStr(values[0] ?? null)); break;
      case 'datepattern': datepattern = pyStr(values[0] ?? null); break;
      case 'usedns': usedns = pyStr(values[0] ?? null); break;
      case 'addjournalmatch': journalmatch.push(rest.map((v) => pyStr(v as OptionValue))); break;
      default: break;
    }
  }
  return { name, prefregex, failregex, ignoreregex, maxlines, datepattern, usedns, journalmatch, stream };
}
