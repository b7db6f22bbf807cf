/**
 * fail2ban's sample-log harness, as data: which filter combinations see which log line with which
 * expectations (`# failJSON:` annotations, `filterOptions`, `fileOptions`, `addFILE`, conditions
 * and constraints), exactly in the order fail2ban's own test walks them. The filter engine's
 * compatibility tests replay this list.
 */
import { PortcullisError } from '../shared/errors.js';
import type { FileSystem } from '../system/fs.js';

export type JsonObject = Record<string, unknown>;

/** One log line as one filter combination processes it. */
export interface SampleCase {
  readonly test: string;
  /** fail2ban's cache name of the combination: `sshd`, `sshd{'mode': 'aggressive'}`. */
  readonly combo: string;
  /** The combination's options (filter arguments plus `test.*` keys). */
  readonly opts: JsonObject;
  readonly file: string;
  /** 1-based line number of the log line. */
  readonly ln: number;
  readonly line: string;
  /** The failJSON expectation; `{}` for an unannotated line (it must not match). */
  readonly faildata: JsonObject;
  /** True when the case's `constraint` excludes this combination. */
  readonly skipped: boolean;
}

export class SampleLogError extends PortcullisError {
  constructor(message: string) {
    super('E_SAMPLE_LOG', message);
  }
}

// Python's `.` matches "\r" (CRLF sample files); JavaScript's does not: spelled out.
const ANNOTATION = /^#+ ?(failJSON|(?:file|filter)Options|addFILE):([^\n]+)$/;
const CONDITION = /^\s*(name|opts\.get\('([^']*)'\))\s*(==|!=)\s*'([^']*)'\s*$/;

/**
 * Evaluates the Python expressions the stock logs use (`name == 'sshd'`,
 * `opts.get('mode') != 'aggressive'`); anything else is an error, never a guess.
 */
export function evalCondition(expr: string, name: string, opts: JsonObject): boolean {
  const m = CONDITION.exec(expr);
  if (!m) throw new SampleLogError(`Unsupported condition ${JSON.stringify(expr)}`);
  const left = m[1] === 'name' ? name : opts[m[2] ?? ''];
  return (left === m[4]) === (m[3] === '==');
}

/** Python's `repr()` of a flat options dict, as fail2ban names a combination. */
function pyDictRepr(d: JsonObject): string {
  const r = (v: unknown): string => (typeof v === 'string' ? `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'` : JSON.stringify(v));
  return '{' + Object.entries(d).map(([k, v]) => `${r(k)}: ${r(v)}`).join(', ') + '}';
}

function comboName(test: string, opts: JsonObject): string {
  const name = opts['test.filter-name'];
  if (typeof name === 'string' && name !== '') return test + name;
  const fltOpts = Object.fromEntries(Object.entries(opts).filter(([k]) => !k.startsWith('test.')));
  return Object.keys(fltOpts).length > 0 ? test + pyDictRepr(fltOpts) : test;
}

interface Combo {
  readonly combo: string;
  readonly opts: JsonObject;
}

/** Lines as fail2ban's FileContainer yields them: split on "\n", no final empty line. */
function fileLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Every case of one sample test, in fail2ban's order. */
export function sampleCases(fs: FileSystem, logDir: string, test: string): SampleCase[] {
  const cases: SampleCase[] = [];
  const files = [test];
  let commonOpts: JsonObject = {};
  let combos: Combo[] | undefined;
  for (let f = 0; f < files.length; f++) {
    const file = files[f] ?? '';
    let ignoreBlock = false;
    const bytes = fs.readFile(`${logDir}/${file}`);
    if (!bytes) throw new SampleLogError(`Sample log ${logDir}/${file} cannot be read`);
    const lines = fileLines(new TextDecoder('utf-8').decode(bytes));
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i] ?? '';
      const m = ANNOTATION.exec(raw);
      let faildata: JsonObject = {};
      let lineNo = i + 1;
      let line = raw;
      if (m) {
        const value = JSON.parse(m[2] ?? 'null') as unknown;
        if (m[1] === 'fileOptions') {
          commonOpts = value as JsonObject;
          continue;
        }
        if (m[1] === 'filterOptions') {
          ({ combos, ignoreBlock } = filterOptions(test, commonOpts, value));
          continue;
        }
        if (m[1] === 'addFILE') {
          files.push(value as string);
          continue;
        }
        faildata = value as JsonObject;
        i++;
        lineNo = i + 1;
        line = lines[i] ?? '';
      } else if (ignoreBlock || raw.startsWith('#') || raw.trim() === '') continue;
      if (ignoreBlock) continue;
      line = line.replace(/[\r\n]+$/, '');
      const active = combos && combos.length > 0 ? combos : [{ combo: test, opts: {} }];
      for (const c of active) {
        const constraint = faildata.constraint;
        const skipped = typeof constraint === 'string' && !evalCondition(constraint, test, c.opts);
        cases.push({ test, combo: c.combo, opts: c.opts, file, ln: lineNo, line, faildata, skipped });
      }
    }
  }
  return cases;
}

function filterOptions(test: string, commonOpts: JsonObject, value: unknown): { combos: Combo[]; ignoreBlock: boolean } {
  const combos: Combo[] = [];
  let ignoreBlock = false;
  for (const d of Array.isArray(value) ? (value as JsonObject[]) : [value as JsonObject]) {
    const opts = { ...commonOpts, ...d };
    const cond = opts['test.condition'];
    if (typeof cond === 'string' && cond !== '') ignoreBlock = !evalCondition(cond, test, opts);
    if (!ignoreBlock) combos.push({ combo: comboName(test, opts), opts });
  }
  return { combos, ignoreBlock };
}

/** The sample tests: every filter file not ending in `common.conf` (and not hidden) that has a log. */
export function sampleTests(fs: FileSystem, filterDir: string, logDir: string): string[] {
  return fs
    .readDir(filterDir)
    .filter((n) => n.endsWith('.conf') && !n.endsWith('common.conf') && !n.startsWith('.'))
    .map((n) => n.slice(0, -'.conf'.length))
    .filter((n) => fs.stat(`${logDir}/${n}`)?.isFile === true)
    .sort();
}
