/** `fail2ban.conf` / `.local` / `fail2ban.d` (fail2ban's `Fail2banReader`): the server's own options. */
import { ConfigError, type SourceLocation } from '../../shared/errors.js';
import { PyDict, pyReprString } from '../../shared/pyvalue.js';
import type { ConfigFiles } from '../ini/files.js';
import { pyStr, type ConfigStore, type OptionValue } from '../ini/store.js';
import { readOptions, type OptionSpec } from './convert.js';
import type { StreamCommand } from './filter.js';

export const EARLY_OPTIONS: readonly OptionSpec[] = [
  ['socket', 'string', '/var/run/fail2ban/fail2ban.sock'],
  ['pidfile', 'string', '/var/run/fail2ban/fail2ban.pid'],
  ['loglevel', 'string', 'INFO'],
  ['logtarget', 'string', '/var/log/fail2ban.log'],
  ['syslogsocket', 'string', 'auto'],
];

const SERVER_OPTIONS: readonly OptionSpec[] = [
  ['loglevel', 'string', 'INFO'],
  ['logtarget', 'string', 'STDERR'],
  ['syslogsocket', 'string', 'auto'],
  ['allowipv6', 'string', 'auto'],
  ['dbfile', 'string', '/var/lib/fail2ban/fail2ban.sqlite3'],
  ['dbmaxmatches', 'int', null],
  ['dbpurgeage', 'string', '1d'],
];

const STREAM_ORDER: Readonly<Record<string, number>> = {
  thread: 0,
  syslogsocket: 11,
  loglevel: 12,
  logtarget: 13,
  allowipv6: 14,
  dbfile: 50,
  dbmaxmatches: 51,
  dbpurgeage: 51,
};

const LEVELS: Readonly<Record<string, number>> = {
  CRITICAL: 50, ERROR: 40, WARNING: 30, WARN: 30, NOTICE: 25, INFO: 20, MSG: 18, DEBUG: 10,
  TRACEDEBUG: 7, TRACE: 7, HEAVYDEBUG: 5, HEAVY: 5, NOTSET: 0, FATAL: 50,
};

/** `str2LogLevel`: a level name or number; throws ConfigError "Invalid log level" otherwise. */
export function logLevelValue(value: OptionValue, location?: SourceLocation): number {
  const text = pyStr(value).toUpperCase();
  const n = /^\d+$/.test(text) ? Number(text) : LEVELS[text];
  if (n === undefined) {
    const python = `Invalid log level ${pyReprString(pyStr(value))}`;
    throw new ConfigError('E_LOGLEVEL', `${python}; use CRITICAL, ERROR, WARNING, NOTICE, INFO, DEBUG, TRACEDEBUG, HEAVYDEBUG or a number`, location, { pythonMessage: python });
  }
  return n;
}

export class Fail2banReader {
  private store: ConfigStore | undefined;
  readonly opts = new Map<string, OptionValue | Map<string, OptionValue>>();

  constructor(private readonly files: ConfigFiles) {}

  read(): boolean {
    const entry = this.files.storeFor('fail2ban');
    this.store = entry.store;
    return entry.read;
  }

  private get cfg(): ConfigStore {
    return (this.store ??= this.files.storeFor('fail2ban').store);
  }

  getEarlyOptions(): Map<string, OptionValue> {
    return readOptions({ store: this.cfg, log: this.files.log, section: 'Definition', specs: EARLY_OPTIONS });
  }

  /** Reads the server options; `overrides` (command-line values) replace them. */
  getOptions(overrides: ReadonlyMap<string, OptionValue> = new Map()): void {
    this.opts.clear();
    for (const [k, v] of readOptions({ store: this.cfg, log: this.files.log, section: 'Definition', specs: SERVER_OPTIONS })) this.opts.set(k, v);
    for (const [k, v] of overrides) this.opts.set(k, v);
    const where = this.cfg.originOf('Definition', 'loglevel');
    logLevelValue((this.opts.get('loglevel') as OptionValue | undefined) ?? 0, where && { ...where, option: 'loglevel' });
    if (this.cfg.hasSection('Thread')) {
      const thread = readOptions({ store: this.cfg, log: this.files.log, section: 'Thread', specs: [['stacksize', 'int', null]] });
      if (thread.size > 0) this.opts.set('thread', thread);
    }
  }

  convert(): StreamCommand[] {
    const entries: Array<[number, string, StreamCommand]> = [];
    for (const [opt, value] of this.opts) {
      const order = STREAM_ORDER[opt];
      if (order === undefined) continue;
      const v = value instanceof Map ? pyDict(value) : value;
      entries.push([order, opt, ['set', opt, v]]);
    }
    entries.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    return entries.map((e) => e[2]);
  }
}

function pyDict(map: ReadonlyMap<string, OptionValue>): PyDict {
  return new PyDict([...map]);
}
