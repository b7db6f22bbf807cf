/**
 * The filter for `portcullis regex`: FILTER (a filter name with arguments, a filter file or a
 * regex) and IGNOREREGEX read as fail2ban-regex reads them, built into the project's Filter with
 * fail2ban-regex's behaviour (all failregexes tried, every date accepted).
 */
import * as path from 'node:path';
import { buildDateTemplates, createDateTemplateContext } from '../../filter/dateTemplates.js';
import { Filter, type HostResolver } from '../../filter/filter.js';
import { FilterRegexError } from '../../filter/filterRegex.js';
import { validateTimeZone, type LocalZone } from '../../filter/strptime.js';
import { extractOptions } from '../../config/options.js';
import { PortcullisError } from '../../shared/errors.js';
import type { FileSystem } from '../../system/fs.js';
import { readRegexSource, type RegexSource } from '../regexTool/source.js';
import { EX_CONFIG, EX_USAGE, type RegexCommandOptions } from './args.js';
import type { RegexCommandReport } from './render.js';

export interface FilterSetupEnv {
  readonly zone: LocalZone;
  readonly resolver?: HostResolver | undefined;
  /** "Now" in seconds (the injected clock). */
  readonly nowS: () => number;
}

export type FilterSetup =
  | { readonly kind: 'error'; readonly code: number; readonly message: string }
  | {
    readonly kind: 'ok';
    readonly filter: Filter;
    readonly failregex: readonly string[];
    readonly ignoreregex: readonly string[];
    readonly info: RegexCommandReport['filter'];
  };

function errorText(e: unknown): string {
  if (e instanceof FilterRegexError) return e.pythonMessage;
  return e instanceof Error ? e.message : String(e);
}

/** The one-line reason from readRegexSource's error lines (its "Use …" headers left out). */
function sourceError(src: Extract<RegexSource, { kind: 'error' }>): string {
  return src.lines
    .filter((l) => !l.startsWith('Use ') && !l.startsWith('ERROR: failed to load filter'))
    .map((l) => l.replace(/^ERROR: /, '').trim())
    .filter((l) => l !== '')
    .join('; ');
}

/** The filter files FILTER names (the .conf and .local that exist), as readRegexSource finds them. */
function filterFiles(fs: FileSystem, confDir: string, argument: string): string[] {
  let name: string;
  try {
    name = extractOptions(argument).name;
  } catch {
    return [];
  }
  if (name.includes('/')) return fs.stat(name)?.isFile ? [name] : [];
  const dir = path.basename(confDir) === 'filter.d' ? confDir : path.join(confDir, 'filter.d');
  const stem = name.replace(/\.(conf|local)$/, '');
  return [`${stem}.conf`, `${stem}.local`].map((f) => path.join(dir, f)).filter((p) => fs.stat(p)?.isFile === true);
}

/** Reads FILTER and IGNOREREGEX and builds the filter; errors come with their exit code. */
export function setupFilter(fs: FileSystem, opts: RegexCommandOptions, confDir: string, env: FilterSetupEnv): FilterSetup {
  const usage = (message: string): FilterSetup => ({ kind: 'error', code: EX_USAGE, message });
  const config = (message: string): FilterSetup => ({ kind: 'error', code: EX_CONFIG, message });
  const dates = createDateTemplateContext({ year: new Date(env.nowS() * 1000).getFullYear() });
  if (opts.timezone !== undefined) {
    try {
      validateTimeZone(opts.timezone);
    } catch (e) {
      return usage(`--timezone ${JSON.stringify(opts.timezone)}: ${errorText(e)}`);
    }
  }
  if (opts.datepattern !== undefined) {
    try {
      buildDateTemplates(dates, opts.datepattern);
    } catch (e) {
      return usage(`--datepattern ${JSON.stringify(opts.datepattern)}: ${errorText(e)}`);
    }
  }
  const src = readRegexSource(fs, opts.filter, 'fail', confDir);
  if (src.kind === 'error') return config(`cannot load filter ${JSON.stringify(opts.filter)}: ${sourceError(src)}`);
  const s = src.kind === 'filter' ? src.settings : undefined;
  const failregex = s ? s.failregex : [src.kind === 'line' ? src.regex : ''];
  const ignoreregex = s ? [...s.ignoreregex] : [];
  if (opts.ignoreregex !== undefined) {
    const ign = readRegexSource(fs, opts.ignoreregex, 'ignore', confDir);
    if (ign.kind === 'error') return config(`cannot read IGNOREREGEX: ${sourceError(ign)}`);
    if (ign.kind === 'line') ignoreregex.push(ign.regex);
  }
  const maxlines = s?.maxlines;
  if (maxlines !== undefined && (!Number.isInteger(maxlines) || maxlines <= 0)) {
    return config(`filter ${JSON.stringify(opts.filter)}: maxlines must be a positive integer, got ${maxlines}`);
  }
  let filter: Filter;
  try {
    filter = new Filter(
      {
        usedns: s?.usedns ?? 'warn',
        prefregex: s?.prefregex,
        failregex,
        ignoreregex,
        ...(maxlines !== undefined ? { maxlines } : {}),
        datepattern: opts.datepattern ?? s?.datepattern,
        logtimezone: opts.timezone,
      },
      { now: env.nowS, realClock: env.nowS, zone: env.zone, dates, ...(env.resolver ? { resolver: env.resolver } : {}) },
      { checkFindTime: false, returnRawHost: false, checkAllRegex: true, ignorePending: false },
    );
  } catch (e) {
    if (e instanceof PortcullisError || e instanceof RangeError || e instanceof SyntaxError) return config(`cannot load filter ${JSON.stringify(opts.filter)}: ${errorText(e)}`);
    throw e;
  }
  const info = {
    argument: opts.filter,
    kind: src.kind === 'filter' ? ('filter' as const) : ('regex' as const),
    files: src.kind === 'filter' ? filterFiles(fs, confDir, opts.filter) : [],
    maxlines: filter.maxlines,
  };
  return { kind: 'ok', filter, failregex, ignoreregex, info };
}
