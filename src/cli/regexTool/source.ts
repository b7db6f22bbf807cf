/**
 * fail2ban-regex's REGEX argument (`readRegex`): a filter name with options (`sshd[mode=aggressive]`)
 * looked up in `<config>/filter.d`, a filter file path, or a regex string; with the header lines
 * it prints on the way.
 */
import * as path from 'node:path';
import { readFilterSettings, type FilterSettings } from '../../config/filterFile.js';
import { CollectingLog } from '../../config/log.js';
import { extractOptions } from '../../config/options.js';
import { PortcullisError } from '../../shared/errors.js';
import { pythonText } from '../../config/index.js';
import { pyReprString } from '../../shared/pyvalue.js';
import type { FileSystem } from '../../system/fs.js';

/** What the REGEX (or IGNOREREGEX) argument gives. */
export type RegexSource =
  | { readonly kind: 'filter'; readonly settings: FilterSettings; readonly headers: string[] }
  | { readonly kind: 'line'; readonly regex: string; readonly headers: string[] }
  | { readonly kind: 'error'; readonly lines: string[] };

const FILTER_NAME = /^\/{0,3}[\p{L}\p{N}_/\-.]+(?:\[[^]*\])?$/u;

/** `shortstr(s, l=53)`. */
export function shortstr(s: string, l = 53): string {
  const cps = [...s];
  return cps.length > l ? cps.slice(0, l - 3).join('') + '...' : s;
}

function pyDictRepr(m: ReadonlyMap<string, string>): string {
  return `{${[...m].map(([k, v]) => `${pyReprString(k)}: ${pyReprString(v)}`).join(', ')}}`;
}

/** Python's `name[~5:]`: the last six characters. */
function tail6(s: string): string {
  return s.slice(-6);
}

/** `os.path.splitext(name)[0]` of a base name (leading dots do not start an extension). */
function splitextBase(name: string): string {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || /^\.+$/.test(name.slice(0, dot + 1))) return name;
  return name.slice(0, dot);
}

/** Resolves the REGEX argument. */
export function readRegexSource(fs: FileSystem, value: string, type: 'fail' | 'ignore', configDir: string): RegexSource {
  const label = `${type}regex`.padStart(11);
  let basedir = configDir;
  let fltName = value;
  let fltFile: string | undefined;
  let fltOpt = new Map<string, string>();
  if (type === 'fail' && FILTER_NAME.test(value)) {
    try {
      const ex = extractOptions(value);
      fltName = ex.name;
      fltOpt = ex.options;
    } catch (e) {
      if (!(e instanceof PortcullisError)) throw e;
      return { kind: 'error', lines: [`ERROR: Wrong filter name or options: ${e.message}`, `       while parsing: ${value}`] };
    }
    const tryNames = tail6(fltName).includes('.') ? [fltName] : [fltName, `${fltName}.conf`, `${fltName}.local`];
    for (const name of tryNames) {
      let file = name;
      if (!name.includes('/')) file = path.basename(basedir) === 'filter.d' ? path.join(basedir, name) : path.join(basedir, 'filter.d', name);
      else basedir = path.dirname(name);
      if (fs.stat(file)?.isFile) {
        fltFile = file;
        break;
      }
    }
  }
  if (fltFile === undefined) return { kind: 'line', regex: value, headers: [`Use ${label} line : ${shortstr(value)}`] };
  const headers: string[] = [];
  if (!(basedir === configDir || path.basename(basedir) === 'filter.d' || (!tail6(fltName).includes('.') && !fltName.includes('/')))) {
    headers.push(`Use ${label} file : ${fltName}`);
    return readForeign(fs, path.resolve(fltName), value, headers, fltOpt);
  }
  if (path.basename(basedir) === 'filter.d') basedir = path.dirname(basedir);
  const readName = splitextBase(path.basename(fltName));
  const readDir = basedir;
  headers.push(`Use ${label} filter file : ${readName}, basedir: ${basedir}`);
  if (fltOpt.size > 0) headers.push(`Use   filter options : ${pyDictRepr(fltOpt)}`);
  try {
    const settings = readFilterSettings(fs, readDir, readName, fltOpt, new CollectingLog());
    return { kind: 'filter', settings, headers };
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
    return { kind: 'error', lines: [...headers, `Wrong config file: ${pythonText(e)}`, `ERROR: failed to load filter ${value}`] };
  }
}

/** A filter file outside any filter.d folder: read through a temporary view as `filter.d/<name>`. */
function readForeign(fs: FileSystem, abs: string, value: string, headers: string[], opts: Map<string, string>): RegexSource {
  const dir = path.dirname(abs);
  const base = path.basename(abs);
  const name = base.replace(/\.(conf|local)$/, '');
  const view: FileSystem = {
    readFile: (p) => fs.readFile(mapPath(p)),
    stat: (p) => fs.stat(mapPath(p)),
    lexists: (p) => fs.lexists(mapPath(p)),
    readDir: (p) => fs.readDir(mapPath(p)),
  };
  const virtual = '/\u0000foreign';
  function mapPath(p: string): string {
    if (p === `${virtual}/filter.d/${name}.conf`) return abs;
    if (p === `${virtual}/filter.d/${name}.local`) return base.endsWith('.local') ? abs : `${dir}/\u0000none`;
    if (p.startsWith(`${virtual}/filter.d/`)) return path.join(dir, p.slice(virtual.length + '/filter.d/'.length));
    if (p.startsWith(virtual)) return path.join(dir, p.slice(virtual.length));
    return p;
  }
  if (opts.size > 0) headers.push(`Use   filter options : ${pyDictRepr(opts)}`);
  try {
    const settings = readFilterSettings(view, virtual, name, opts, new CollectingLog());
    return { kind: 'filter', settings, headers };
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
    // Messages name the real files, not the temporary view.
    const real = pythonText(e)
      .replaceAll(`${virtual}/filter.d/${name}.conf`, abs)
      .replaceAll(`${virtual}/filter.d/`, `${dir}/`)
      .replaceAll(virtual, dir);
    return { kind: 'error', lines: [...headers, `Wrong config file: ${real}`, `ERROR: failed to load filter ${value}`] };
  }
}
