/**
 * The common reader of filter and action files (fail2ban's `DefinitionInitConfigReader`):
 * `[Definition]` options read with the jail's options as vars, `[Init]` defaults that the
 * `name[k=v]` arguments override, and the combined, tag-substituted result.
 */
import type { ConfigFiles } from '../ini/files.js';
import { pyStr, type ConfigStore, type OptionValue } from '../ini/store.js';
import { substituteTags, TagRecursionError } from '../tags.js';
import { ConfigError } from '../../shared/errors.js';
import { convertValue, mergeMaps, readOptions, type OptionSpec } from './convert.js';

const CONDITIONAL_KEY = /^([\p{L}\p{N}_]+)(\?[^\n]+)$/u;

export abstract class DefinitionReader {
  /** The `[...]` arguments, then `[Init]` values and `known/…` copies; mutated as fail2ban does. */
  readonly initOpts: Map<string, OptionValue>;
  protected opts = new Map<string, OptionValue>();
  protected pOpts = new Map<string, OptionValue>();
  private readonly defCache = new Map<string, OptionValue | undefined>();
  private storeEntry: { store: ConfigStore; read: boolean } | undefined;

  protected constructor(
    protected readonly files: ConfigFiles,
    /** Path below basedir without extension, e.g. `filter.d/sshd`. */
    readonly file: string,
    readonly jailName: string,
    initOpts: Map<string, OptionValue>,
    protected readonly configOpts: readonly OptionSpec[],
  ) {
    this.initOpts = initOpts;
  }

  /** Reads the files (once per name for the whole load); false if none exists. */
  read(): boolean {
    this.storeEntry = this.files.storeFor(this.file);
    return this.storeEntry.read;
  }

  get store(): ConfigStore {
    this.storeEntry ??= this.files.storeFor(this.file);
    return this.storeEntry.store;
  }

  /** `getOptions(pOpts, all)`. */
  getOptions(pOptsIn: ReadonlyMap<string, OptionValue> | undefined, all = false): void {
    let pOpts = new Map(pOptsIn ?? []);
    if (this.initOpts.size > 0) pOpts = mergeMaps(pOpts, this.initOpts);
    this.opts = readOptions({ store: this.store, log: this.files.log, section: 'Definition', specs: this.configOpts, pOptions: pOpts, convert: false });
    this.pOpts = pOpts;
    if (this.store.hasSection('Init')) {
      for (const opt of this.store.options('Init', false)) {
        if (opt === '__name__') continue;
        let v: OptionValue | undefined;
        if (!opt.startsWith('known/')) {
          v = this.store.get('Init', opt);
          this.initOpts.set(`known/${opt}`, v);
        }
        if (!this.initOpts.has(opt)) this.initOpts.set(opt, v ?? this.store.get('Init', opt));
      }
    }
    if (all && this.store.hasSection('Definition')) {
      for (const opt of this.store.options('Definition', true)) {
        if (opt === '__name__' || this.opts.has(opt)) continue;
        this.opts.set(opt, this.store.get('Definition', opt));
      }
    }
  }

  /** `getCombOption`: a Definition option (or `sec/opt`) with the reader's vars, cached; undefined if absent. */
  getCombOption(name: string): OptionValue | undefined {
    if (this.defCache.has(name)) return this.defCache.get(name);
    const found = this.store.lookupEx('Definition', name, { vars: this.pOpts });
    const v = 'value' in found ? found.value : undefined;
    this.defCache.set(name, v);
    return v;
  }

  /** `getCombined(ignore)`: options and init options, tags substituted, types converted. */
  getCombined(ignore: readonly string[] = []): Map<string, OptionValue> {
    const combined = this.initOpts.size > 0 ? mergeMaps(this.opts, this.initOpts) : this.opts;
    if (combined.size === 0) return new Map();
    const ignored = new Set(ignore);
    for (const n of combined.keys()) {
      const cond = CONDITIONAL_KEY.exec(n);
      if (cond) ignored.add(cond[1] ?? n);
    }
    let opts: Map<string, OptionValue>;
    try {
      opts = substituteTags(combined, { ignore: ignored, lookup: (t) => this.getCombOption(t) });
    } catch (e) {
      if (!(e instanceof TagRecursionError)) throw e;
      const where = this.store.originOf('Definition', e.tag) ?? { file: `${this.files.basedir}/${this.file}.conf` };
      throw new ConfigError('E_TAG_RECURSION', `Tags in ${this.file} refer to themselves ("<${e.tag}>"): ${e.message}`, { ...where, jail: this.jailName, option: e.tag }, {
        pythonMessage: e.message,
        cause: e,
      });
    }
    for (const [name, type, fallback] of this.configOpts) {
      if (type === 'string') continue;
      const v = opts.get(name);
      if (v === undefined || v === null) continue;
      try {
        opts.set(name, convertValue(type, v));
      } catch {
        this.files.log.log('warning', 'fail2ban.configreader', `Wrong ${type} value ${JSON.stringify(v)} for '${name}'. Using default one: ${pyStr(fallback)}`);
        opts.set(name, fallback);
      }
    }
    return opts;
  }
}
