/**
 * One jail section (fail2ban's `JailReader`): its options, its filter and actions, and its part of
 * the command stream. Problems of the jail's own definition mark it `config-error` (the other
 * jails go on); other errors abort the load, exactly where fail2ban's do.
 */
import { ConfigError, type SourceLocation } from '../../shared/errors.js';
import { pyReprString } from '../../shared/pyvalue.js';
import { FAIL2BAN_VERSION } from '../../shared/version.js';
import type { ConfigFiles } from '../ini/files.js';
import { pyGlob } from '../ini/glob.js';
import { pyJoin, pyStripExt } from '../ini/pypath.js';
import { pyStr, type ConfigStore, type OptionValue } from '../ini/store.js';
import { extractOptions, OptionSyntaxError, splitWithOptions, splitWords } from '../options.js';
import { ActionReader } from './action.js';
import { readOptions, type OptionSpec } from './convert.js';
import { FILTER_OPTIONS, fillFilterStream, FilterReader, type StreamCommand } from './filter.js';
import { pyJsonDumps } from './json.js';
import { pyStrip } from '../ini/pytext.js';

const LOGGER = 'fail2ban.jailreader';

const FIRST_PASS: readonly OptionSpec[] = [
  ['enabled', 'bool', false],
  ['backend', 'string', 'auto'],
  ['filter', 'string', ''],
];

/** Every jail option fail2ban reads, in its order (which is the order of the stream). */
export const JAIL_OPTIONS: readonly OptionSpec[] = [
  ['enabled', 'bool', false],
  ['backend', 'string', 'auto'],
  ['maxretry', 'int', null],
  ['maxmatches', 'int', null],
  ['findtime', 'string', null],
  ['bantime', 'string', null],
  ['bantime.increment', 'bool', null],
  ['bantime.factor', 'string', null],
  ['bantime.formula', 'string', null],
  ['bantime.multipliers', 'string', null],
  ['bantime.maxtime', 'string', null],
  ['bantime.rndtime', 'string', null],
  ['bantime.overalljails', 'bool', null],
  ['ignorecommand', 'string', null],
  ['ignoreself', 'bool', null],
  ['ignoreip', 'string', null],
  ['ignorecache', 'string', null],
  ['filter', 'string', ''],
  ['logtimezone', 'string', null],
  ['logencoding', 'string', null],
  ['logpath', 'string', null],
  ['action', 'string', ''],
  ...FILTER_OPTIONS,
];

const NOT_SENT = new Set(['action', 'filter', 'enabled', ...FILTER_OPTIONS.map(([n]) => n)]);

/** A problem in one jail's own definition: the jail is skipped, the others go on. */
export class JailDefError extends ConfigError {
  constructor(message: string, location: SourceLocation | undefined, readable?: string) {
    super('E_JAIL_DEF', readable ?? message, location, { pythonMessage: message });
  }
}

export type ActionEntry = ActionReader | StreamCommand;

/** configparser's exceptions print their message as their repr; everything else is a ValueError. */
const CONFIGPARSER_CODES = /^E_(?:INI_|INTERPOLATION_|NO_SECTION|NO_OPTION)/;

/** Python's `repr(e)` of an error raised while reading an action. */
function pythonRepr(e: unknown): string {
  if (e instanceof ConfigError && CONFIGPARSER_CODES.test(e.code)) return e.pythonMessage;
  const msg = e instanceof ConfigError ? e.pythonMessage : e instanceof Error ? e.message : String(e);
  return `ValueError(${pyReprString(msg)})`;
}

export class JailReader {
  private opts = new Map<string, OptionValue>();
  filter: FilterReader | undefined;
  readonly actions: ActionEntry[] = [];
  error: ConfigError | undefined;

  constructor(
    private readonly files: ConfigFiles,
    private readonly store: ConfigStore,
    readonly name: string,
    private readonly forceEnable = false,
  ) {}

  get options(): ReadonlyMap<string, OptionValue> {
    return this.opts;
  }

  isEnabled(): boolean {
    return this.forceEnable || this.opts.get('enabled') === true;
  }

  /** The option's text as written (interpolated), for messages; undefined if it cannot be read. */
  rawText(option: string): string | undefined {
    const found = this.store.lookup(this.name, option);
    return 'value' in found && found.value !== null ? pyStr(found.value) : undefined;
  }

  /** Where an option of this jail was written (its section, or DEFAULT). */
  locate(option: string): SourceLocation {
    const origin = this.store.originOf(this.name, option);
    return origin ? { ...origin, jail: this.name, option } : { file: pyJoin(this.files.basedir, 'jail.conf'), jail: this.name, option };
  }

  /** `getOptions`: true when the jail is usable (or disabled), false when it is a config error. */
  getOptions(): boolean {
    this.store.mergeDefaults({ fail2ban_version: FAIL2BAN_VERSION, fail2ban_confpath: this.files.basedir });
    const log = this.files.log;
    try {
      this.opts = readOptions({ store: this.store, log, section: this.name, specs: FIRST_PASS, shouldExist: true });
      if (!this.isEnabled()) return true;
      this.readFilter();
      this.opts = readOptions({ store: this.store, log, section: this.name, specs: JAIL_OPTIONS });
      this.filter?.getOptions(this.opts);
      this.readActions();
      if (this.actions.length === 0) log.log('warning', LOGGER, `No actions were defined for ${this.name}`);
    } catch (e) {
      if (!(e instanceof JailDefError)) throw e;
      log.log('error', LOGGER, e.pythonMessage);
      this.opts.set('config-error', e.pythonMessage);
      this.error = e;
      return false;
    }
    return true;
  }

  private readFilter(): void {
    const flt = this.opts.get('filter');
    if (!flt) {
      this.filter = undefined;
      this.files.log.log('warning', LOGGER, `No filter set for jail ${this.name}`);
      return;
    }
    const text = pyStr(flt);
    let parsed;
    try {
      parsed = extractOptions(text);
    } catch (e) {
      if (!(e instanceof OptionSyntaxError)) throw e;
      throw new JailDefError(
        `Invalid filter definition ${pyReprString(text)}: ${e.message}`,
        this.locate('filter'),
        `Jail "${this.name}": filter = ${text} is not valid (${e.message}); write name or name[key=value, key="a value, with commas"], without spaces around "="`,
      );
    }
    this.filter = new FilterReader(this.files, parsed.name, this.name, new Map(parsed.options));
    if (!this.filter.read()) {
      throw new JailDefError(
        `Unable to read the filter ${pyReprString(parsed.name)}`,
        this.locate('filter'),
        `Jail "${this.name}": filter "${parsed.name}" not found (no ${pyJoin(this.files.basedir, `filter.d/${parsed.name}.conf`)} or .local)`,
      );
    }
    this.filter.applyAutoOptions(pyStr(this.opts.get('backend') ?? ''));
    this.filter.getOptions(this.opts, true);
    const combined = this.filter.getCombined();
    this.store.mergeSection(this.name, new Map([...combined].map(([k, v]) => [k, { value: v }])), 'known/');
  }

  private readActions(): void {
    for (const raw of splitWithOptions(pyStr(this.opts.get('action') ?? ''))) {
      const act = pyStrip(raw);
      if (act === '') continue;
      try {
        this.readAction(act);
      } catch (e) {
        if (e instanceof JailDefError) throw e;
        const located = e instanceof ConfigError ? e.location : undefined;
        throw new ConfigError('E_ACTION', `Error in action definition ${pyReprString(act)}: ${pythonRepr(e)}`, located ?? this.locate('action'), {
          cause: e,
        });
      }
    }
  }

  private readAction(act: string): void {
    let parsed;
    try {
      parsed = extractOptions(act);
    } catch (e) {
      if (!(e instanceof OptionSyntaxError)) throw e;
      throw new JailDefError(
        `Invalid action definition ${pyReprString(act)}: ${e.message}`,
        this.locate('action'),
        `Jail "${this.name}": action ${act} is not valid (${e.message}); write name or name[key=value, key="a value, with commas"], without spaces around "="`,
      );
    }
    const { name, options } = parsed;
    if (name.endsWith('.py')) {
      const actname = options.get('actname') ?? pyStripExt(name);
      options.delete('actname');
      this.actions.push(['set', this.name, 'addaction', actname, pyJoin(pyJoin(this.files.basedir, 'action.d'), name), pyJsonDumps(options)]);
      return;
    }
    const action = new ActionReader(this.files, name, this.name, new Map(options));
    if (!action.read()) {
      throw new JailDefError(
        `Unable to read action ${pyReprString(name)}`,
        this.locate('action'),
        `Jail "${this.name}": action "${name}" not found (no ${pyJoin(this.files.basedir, `action.d/${name}.conf`)} or .local)`,
      );
    }
    action.getOptions(this.opts);
    this.actions.push(action);
  }

  /** `convert`: this jail's commands; throws when no log file is found unless `allowNoFiles`. */
  convert(allowNoFiles: boolean): StreamCommand[] {
    const err = this.opts.get('config-error');
    if (err) return [['config-error', `Jail '${this.name}' skipped, because of wrong configuration: ${pyStr(err)}`]];
    const stream: StreamCommand[] = this.filter ? this.filter.convert() : [];
    fillFilterStream(stream, this.opts, this.name);
    const logStream: StreamCommand[] = [];
    let backend: OptionValue = 'auto';
    for (const [opt, value] of this.opts) {
      if (opt === 'logpath') {
        if (pyStr(this.opts.get('backend') ?? '').startsWith('systemd')) continue;
        logStream.push(...this.logPathCommands(pyStr(value), allowNoFiles));
      } else if (opt === 'backend') backend = value;
      else if (opt === 'ignoreip') stream.push(['set', this.name, 'addignoreip', ...splitWords(value === null ? null : pyStr(value))]);
      else if (!NOT_SENT.has(opt)) stream.push(['set', this.name, opt, value]);
    }
    stream.push(...logStream);
    for (const action of this.actions) {
      if (action instanceof ActionReader) stream.push(...action.convert());
      else stream.push(action);
    }
    stream.unshift(['add', this.name, backend]);
    return stream;
  }

  private logPathCommands(value: string, allowNoFiles: boolean): StreamCommand[] {
    const out: StreamCommand[] = [];
    for (const line of value.split('\n')) {
      const cut = line.lastIndexOf(' ');
      const [path, tail] = cut === -1 ? [line, 'head'] : [line.slice(0, cut), line.slice(cut + 1)];
      const found = pyGlob(this.files.fs, path).filter((p) => {
        if (this.files.fs.stat(p)) return true;
        this.files.log.log('warning', LOGGER, `File ${p} is a dangling link, thus cannot be monitored`);
        return false;
      });
      if (found.length === 0) this.files.log.log('notice', LOGGER, `No file(s) found for glob ${path}`);
      for (const p of found) out.push(['set', this.name, 'addlogpath', p, tail]);
    }
    if (out.length === 0) {
      const msg = `Have not found any log file for ${this.name} jail`;
      if (!allowNoFiles) throw new ConfigError('E_NO_LOGFILE', msg, this.locate('logpath'));
      this.files.log.log('warning', LOGGER, msg);
    }
    return out;
  }
}
