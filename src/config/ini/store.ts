/**
 * The merged configuration of one reader (fail2ban's `SafeConfigParserWithIncludes` after all its
 * files are read): `[DEFAULT]`, sections in order of first appearance, `KNOWN/<section>` holding
 * values that later files replaced, and lazy `%(…)s` interpolation with fail2ban's additions
 * (`%(__name__)s`, `%(section/option)s`, `%(known/option)s`, `%(default/option)s`).
 */
import type { SourceLocation } from '../../shared/errors.js';
import { PyFloat, pyReprFloat, pyReprString as reprPy } from '../../shared/pyvalue.js';
import { InterpolationDepthError, InterpolationMissingError, InterpolationSyntaxError, NoOptionError, NoSectionError } from './errors.js';
import { ConfigError } from '../../shared/errors.js';

/** A stored value: text, or a typed value merged in by the jail reader; null is Python's None. */
export type OptionValue = string | number | boolean | PyFloat | null;

export interface StoredOption {
  readonly value: OptionValue;
  readonly file?: string;
  readonly line?: number;
}

export type Section = Map<string, StoredOption>;

/** Values passed as `vars` to `get` (the jail's options when a filter or action is read). */
export type Vars = ReadonlyMap<string, OptionValue> | Readonly<Record<string, OptionValue>>;

const MAX_DEPTH = 10;
const SECTION_OPT_SUBST = /%\(([\p{L}\p{N}_-]+\/([^)]+))\)s/gu;
const SECTION_OPT_NAME = /^([\p{L}\p{N}_-]+)\/([^\s>]+)$/u;

/** Python's `str(value)`. */
export function pyStr(value: OptionValue): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (value instanceof PyFloat) return pyReprFloat(value.value);
  return String(value);
}

/** One level of ConfigParser's ChainMap(vars, section, defaults); sections are read in place. */
interface Layer {
  get(key: string): OptionValue | undefined;
  has(key: string): boolean;
}

class SectionLayer implements Layer {
  constructor(private readonly section: Section | undefined) {}
  get(key: string): OptionValue | undefined {
    return this.section?.get(key)?.value;
  }
  has(key: string): boolean {
    return this.section?.has(key) ?? false;
  }
}

const EMPTY_LAYER: Layer = new Map<string, OptionValue>();

class Chain {
  constructor(readonly layers: readonly Layer[]) {}

  get(key: string): OptionValue | undefined {
    for (const layer of this.layers) {
      const v = layer.get(key);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  has(key: string): boolean {
    return this.layers.some((l) => l.has(key));
  }
}

const varsLayers = new WeakMap<object, Layer>();

/** The lowercased, stringified vars as a layer; cached per vars object (the readers reuse theirs). */
function varsLayer(vars: Vars | undefined): Layer {
  if (!vars) return EMPTY_LAYER;
  const cached = varsLayers.get(vars);
  if (cached) return cached;
  const layer = buildVarsLayer(vars);
  varsLayers.set(vars, layer);
  return layer;
}

function buildVarsLayer(vars: Vars): Layer {
  const entries: Array<[string, OptionValue]> = vars instanceof Map ? [...(vars as ReadonlyMap<string, OptionValue>)] : Object.entries(vars as Readonly<Record<string, OptionValue>>);
  if (entries.length === 0) return EMPTY_LAYER;
  const out = new Map<string, OptionValue>();
  for (const [k, v] of entries) out.set(k.toLowerCase(), v === null ? null : pyStr(v));
  return out;
}

/** What a lookup found: the value, or which of section and option was missing. */
export type Lookup = { readonly value: OptionValue } | { readonly missing: 'section' | 'option' };

export class ConfigStore {
  readonly defaults: Section = new Map();
  readonly sections = new Map<string, Section>();

  /** Section names in order, without the hidden `KNOWN/…` ones. */
  sectionNames(): string[] {
    return [...this.sections.keys()].filter((n) => !n.startsWith('KNOWN/'));
  }

  hasSection(name: string): boolean {
    return this.sections.has(name);
  }

  /** `has_option`; with `withDefault` false only the section's own keys count. */
  hasOption(section: string, option: string, withDefault = true): boolean {
    if (!withDefault) return this.sections.get(section)?.has(option) ?? false;
    if (section === '' || section === 'DEFAULT') return this.defaults.has(option);
    const s = this.sections.get(section);
    return s !== undefined && (s.has(option) || this.defaults.has(option));
  }

  /** Option names of a section; with `withDefault`, DEFAULT's too (without duplicates). */
  options(section: string, withDefault: boolean): string[] {
    const s = this.sections.get(section);
    if (!s) throw new NoSectionError(section);
    if (!withDefault) return [...s.keys()];
    return [...new Set([...s.keys(), ...this.defaults.keys()])];
  }

  /** Where an option of a section (or DEFAULT, as fallback) was written. */
  originOf(section: string, option: string): SourceLocation | undefined {
    const entry = this.sections.get(section)?.get(option) ?? this.defaults.get(option);
    if (!entry?.file) return undefined;
    return entry.line === undefined ? { file: entry.file } : { file: entry.file, line: entry.line };
  }

  mergeDefaults(values: Readonly<Record<string, OptionValue>>): void {
    for (const [k, v] of Object.entries(values)) this.defaults.set(k, { value: v });
  }

  /** `merge_section`: adds options to a section (created if needed), each name prefixed by `pref`. */
  mergeSection(name: string, options: ReadonlyMap<string, StoredOption>, pref = ''): void {
    let sec = this.sections.get(name);
    if (!sec) this.sections.set(name, (sec = new Map<string, StoredOption>()));
    for (const [k, v] of options) {
      if (pref === '') sec.set(k, v);
      else if (!k.startsWith(pref) && k !== '__name__') sec.set(pref + k, v);
    }
  }

  /** `get(section, option, raw, vars)`: throws NoSectionError / NoOptionError / interpolation errors. */
  get(section: string, option: string, opts: { raw?: boolean; vars?: Vars } = {}): OptionValue {
    const found = this.lookup(section, option, opts);
    if ('value' in found) return found.value;
    if (found.missing === 'section') throw new NoSectionError(section);
    throw new NoOptionError(option.toLowerCase(), section, this.locate(section));
  }

  /** Like `get`, but a missing section or option is a value, not an exception (hot paths). */
  lookup(section: string, option: string, opts: { raw?: boolean; vars?: Vars } = {}): Lookup {
    const sec = this.sections.get(section);
    if (!sec && section !== 'DEFAULT') return { missing: 'section' };
    const key = option.toLowerCase();
    const vars = varsLayer(opts.vars);
    // The ChainMap lookup, done directly: this runs thousands of times per load.
    // (Not `??`: a None value found in an earlier layer stops the search, as in a ChainMap.)
    let value = vars.get(key);
    if (value === undefined) value = sec?.get(key)?.value;
    if (value === undefined) value = this.defaults.get(key)?.value;
    if (value === undefined) return { missing: 'option' };
    if (opts.raw || value === null) return { value };
    const text = pyStr(value);
    // Without a "%" interpolation cannot change the text (and cannot fail): skip its set-up.
    if (!text.includes('%')) return { value: text };
    const chain = new Chain([vars, new SectionLayer(sec), new SectionLayer(this.defaults)]);
    const accum: string[] = [];
    this.interpolateSome(section, key, accum, text, chain, 1);
    return { value: accum.join('') };
  }

  /** `get_ex` without exceptions for absent options: `sec/opt` names read another section. */
  lookupEx(section: string, option: string, opts: { raw?: boolean; vars?: Vars } = {}): Lookup {
    const m = option.includes('/') ? SECTION_OPT_NAME.exec(option) : null;
    if (m) {
      const sec = m[1] ?? '';
      const opt = m[2] ?? '';
      const lower = sec.toLowerCase();
      const candidates = lower === 'known' ? [`KNOWN/${section}`, section] : [lower === 'default' ? 'DEFAULT' : sec];
      for (const c of candidates) {
        const found = this.lookup(c, opt, opts.raw === undefined ? {} : { raw: opts.raw });
        if ('value' in found) return found;
      }
    }
    return this.lookup(section, option, opts);
  }

  /** `get_ex`: like get, but `sec/opt` names read another section (`known/`, `default/`, or any). */
  getEx(section: string, option: string, opts: { raw?: boolean; vars?: Vars } = {}): OptionValue {
    const found = this.lookupEx(section, option, opts);
    if ('value' in found) return found.value;
    if (found.missing === 'section') throw new NoSectionError(section);
    throw new NoOptionError(option.toLowerCase(), section, this.locate(section));
  }

  private locate(section: string, option?: string): SourceLocation | undefined {
    const origin = option === undefined ? undefined : this.originOf(section, option);
    if (origin) return { ...origin, section, option: option ?? '' };
    const first = this.sections.get(section)?.values().next().value;
    return first?.file ? { file: first.file, section } : undefined;
  }

  private rawFallback(section: string, option: string, rest: string): string {
    const v = this.sections.get(section)?.get(option)?.value ?? this.defaults.get(option)?.value;
    return v === undefined || v === null ? rest : pyStr(v);
  }

  private interpolateSome(section: string, option: string, accum: string[], restIn: string, chainIn: Chain, depth: number): void {
    const extra = new Map<string, OptionValue>([['__name__', section]]);
    const chain = new Chain([extra, ...chainIn.layers]);
    this.mapSectionOptions(section, restIn, chain, extra);
    if (depth > MAX_DEPTH) throw new InterpolationDepthError(option, section, this.rawFallback(section, option, restIn), this.locate(section, option));
    let rest = restIn;
    while (rest !== '') {
      const p = rest.indexOf('%');
      if (p < 0) {
        accum.push(rest);
        return;
      }
      if (p > 0) {
        accum.push(rest.slice(0, p));
        rest = rest.slice(p);
      }
      const c = rest[1];
      if (c === '%') {
        accum.push('%');
        rest = rest.slice(2);
      } else if (c === '(') {
        const m = /^%\(([^)]+)\)s/.exec(rest);
        if (!m) throw new InterpolationSyntaxError(option, section, `bad interpolation variable reference ${reprPy(rest)}`, this.locate(section, option));
        const name = (m[1] ?? '').toLowerCase();
        rest = rest.slice(m[0].length);
        const v = chain.get(name);
        if (v === undefined) throw new InterpolationMissingError(option, section, this.rawFallback(section, option, restIn), name, this.locate(section, option));
        if (v === null) throw new ConfigError('E_INTERPOLATION_NONE', `argument of type 'NoneType' is not iterable`, this.locate(section, option));
        const text = pyStr(v);
        if (text.includes('%')) this.interpolateSome(section, option, accum, text, chain, depth + 1);
        else accum.push(text);
      } else {
        throw new InterpolationSyntaxError(option, section, `'%' must be followed by '%' or '(', found: ${reprPy(rest)}`, this.locate(section, option));
      }
    }
  }

  /** fail2ban's `_map_section_options`: makes `%(sec/opt)s` resolvable by mapping it in first. */
  private mapSectionOptions(section: string, rest: string, chain: Chain, extra: Map<string, OptionValue>): void {
    if (!rest.includes('/') || !rest.includes('%(')) return;
    for (const m of rest.matchAll(SECTION_OPT_SUBST)) {
      const sopt = m[1] ?? '';
      const opt = m[2] ?? '';
      if (chain.has(sopt)) continue;
      const sec = sopt.slice(0, sopt.length - opt.length - 1);
      const lower = sec.toLowerCase();
      let value: OptionValue | undefined;
      if (lower === 'known') value = this.sections.get(`KNOWN/${section}`)?.get(opt)?.value;
      else if (lower !== 'default') {
        const s = this.sections.get(sec);
        if (!s) continue;
        value = s.get(opt)?.value;
      }
      value ??= this.defaults.get(opt)?.value;
      if (value === undefined) continue;
      extra.set(sopt, value);
    }
  }
}

