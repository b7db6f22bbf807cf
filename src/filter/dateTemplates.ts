/**
 * Date templates from `datepattern` values, as fail2ban's DateDetector builds them
 * (datedetector.py: `_getPatternTemplate`, `DateDetectorCache`, `DateDetector.appendTemplate`).
 * Pure: the "now" year (for `%ExY`) is a parameter; fail2ban's pattern cache is not modelled.
 */
import { directiveTables, type DirectiveTables } from './dateDirectives.js';
import { DateFlag, pyStrip, type DateTemplate } from './dateTemplate.js';
import { epochTemplate, patternTemplate, tai64nTemplate } from './dateTemplateKinds.js';
import { basePatterns, unboundPattern } from './dateDefaults.js';
import { DatePatternError } from './dateErrors.js';

export { DateFlag, type DateTemplate, type DateTemplateKind } from './dateTemplate.js';
export { DEFAULT_DATE_PATTERNS } from './dateDefaults.js';

/** Options for building templates. */
export interface DateTemplateOptions {
  /** The local calendar year fail2ban started in; decides the `%ExY` regex. */
  readonly year: number;
  /**
   * fail2ban caches templates by pattern and raises the cached `{^LN-BEG}` default copies to weight
   * 100 once the default list is built; a user pattern equal to one then shares weight 100.
   * Default true (the state of a running server).
   */
  readonly sharedAnchoredWeight?: boolean;
  /** Use newer fail2ban's base pattern #13 (`(?:-|T|  ?)%ExH:?%ExM:?%ExS`) instead of 1.0.2's. */
  readonly upstreamDefaults?: boolean;
}

/** Everything derived from the options: directive tables, the 17 base and 31 default templates. */
export interface DateTemplateContext {
  readonly tables: DirectiveTables;
  readonly base: readonly DateTemplate[];
  readonly defaults: readonly DateTemplate[];
  readonly anchoredKeys: ReadonlySet<string>;
  readonly sharedAnchoredWeight: boolean;
}

const EPOCH_PLACEHOLDER = /(?<!\\)\{L?EPOCH\}/i;
const DATE_PREMATCH = /(?<!\\)\{DATE\}/gi;

/** The cache key of a pattern: itself if it has a `%`, else upper-cased. */
export function patternKey(pattern: string): string {
  return pattern.includes('%') ? pattern : pattern.toUpperCase();
}

/** `_getPatternTemplate(pattern, key)` without the cache. */
function makeTemplate(tables: DirectiveTables, pattern: string, key: string): DateTemplate {
  if (key.includes('EPOCH')) {
    if (EPOCH_PLACEHOLDER.test(pattern)) return epochTemplate({ pattern, longForm: key.includes('LEPOCH') });
    if (key === 'EPOCH' || key === '{^LN-BEG}EPOCH' || key === '^EPOCH') return epochTemplate({ lineBeginOnly: key !== 'EPOCH' });
    if (key === 'LEPOCH' || key === '{^LN-BEG}LEPOCH' || key === '^LEPOCH') {
      return epochTemplate({ lineBeginOnly: key !== 'LEPOCH', longForm: true });
    }
  }
  if (key === 'TAI64N' || key === '{^LN-BEG}TAI64N' || key === '^TAI64N') return tai64nTemplate(key !== 'TAI64N' ? 'start' : false);
  return patternTemplate(tables, pattern);
}

/** The template for one pattern, with the shared weight of the anchored defaults applied. */
function templateFor(ctx: Pick<DateTemplateContext, 'tables' | 'anchoredKeys' | 'sharedAnchoredWeight'>, pattern: string, key = patternKey(pattern)): DateTemplate {
  const t = makeTemplate(ctx.tables, pattern, key);
  return ctx.sharedAnchoredWeight && ctx.anchoredKeys.has(key) ? { ...t, weight: 100 } : t;
}

/** `_getAnchoredTemplate(template, wrap)`: the same template rebuilt with a wrapped pattern or name. */
function wrapTemplate(ctx: DateTemplateContext, t: DateTemplate, wrap: (s: string) => string): DateTemplate {
  if (t.pattern !== undefined) return templateFor(ctx, wrap(t.pattern));
  return templateFor(ctx, wrap(t.name));
}

/** Builds the context: directive tables for the year, the base templates and the 31 defaults. */
export function createDateTemplateContext(opts: DateTemplateOptions): DateTemplateContext {
  const tables = directiveTables(opts.year);
  const plain = { tables, anchoredKeys: new Set<string>(), sharedAnchoredWeight: false };
  const base = basePatterns(opts.upstreamDefaults ?? false).map((p) => templateFor(plain, p));
  const anchored: DateTemplate[] = [];
  const anchoredKeys = new Set<string>();
  for (const t of base) {
    if (t.name.startsWith('{^LN-BEG}') || t.name.startsWith('^')) continue;
    const source = '{^LN-BEG}' + (t.pattern ?? t.name);
    const copy = templateFor(plain, source);
    if (copy.name === t.name) continue;
    anchored.push({ ...copy, weight: 100 });
    anchoredKeys.add(patternKey(source));
  }
  return { tables, base, defaults: [...anchored, ...base], anchoredKeys, sharedAnchoredWeight: opts.sharedAnchoredWeight ?? true };
}

/** The 31 default templates, in fail2ban's order. */
export function defaultDateTemplates(ctx: DateTemplateContext): readonly DateTemplate[] {
  return ctx.defaults;
}

/** The template of one plain datepattern line (no `{^LN-BEG}`, `{DEFAULT}` or `{DATE}`). */
export function singleDateTemplate(ctx: DateTemplateContext, line: string): DateTemplate {
  const key = patternKey(line);
  return key === '{NONE}' ? templateFor(ctx, '{UNB}^', key) : templateFor(ctx, line, key);
}

/** The templates `{DATE}` in `preMatch` expands to, one per base template. */
export function expandDatePlaceholder(ctx: DateTemplateContext, preMatch: string): DateTemplate[] {
  const wrap = (s: string): string => preMatch.replace(DATE_PREMATCH, () => unboundPattern(s));
  return ctx.base.map((t) => wrapTemplate(ctx, t, wrap));
}

/** The lines of a `datepattern` value as `Filter.setDatePattern` splits them. */
export function datePatternLines(value: string): string[] {
  return value.split(/\n+/).map(pyStrip).filter((l) => l !== '');
}

/**
 * The templates a `datepattern` value gives (`setDatePattern` + `appendTemplate` per line). An empty
 * result means "no templates yet": fail2ban then uses all {@link defaultDateTemplates}.
 * Throws {@link DatePatternError} where fail2ban raises.
 */
export function buildDateTemplates(ctx: DateTemplateContext, value: string | readonly string[]): DateTemplate[] {
  const lines = typeof value === 'string' ? datePatternLines(value) : value;
  const out: DateTemplate[] = [];
  const names = new Set<string>();
  const append = (t: DateTemplate, ignoreDup: boolean): void => {
    if (names.has(t.name)) {
      if (ignoreDup) return;
      throw new DatePatternError('ValueError', `There is already a template with name ${t.name}`);
    }
    names.add(t.name);
    out.push(t);
  };
  for (const line of lines) {
    const key = patternKey(line);
    const ignoreDup = out.length > 0;
    if (key === '{^LN-BEG}') {
      for (const t of ctx.defaults) if (t.flags & DateFlag.LINE_BEGIN) append(t, ignoreDup);
    } else if (key === '{DEFAULT}') {
      continue;
    } else if (key.includes('{DATE}')) {
      for (const t of expandDatePlaceholder(ctx, line)) append(t, ignoreDup);
    } else {
      append(singleDateTemplate(ctx, line), false);
    }
  }
  return out;
}
