/**
 * A work-alike of Python 3.11's `optparse` as fail2ban-regex uses it: options with short and long
 * names; the actions store (types `string` and `int`), store_true, store_false, count, callback,
 * help and version; `dest` shared between options; long options abbreviated to a unique prefix;
 * `--opt=value`, `--opt value`, `-xVALUE`, `-x VALUE`, clustered flags, `--`, positional
 * arguments interspersed with options; errors as optparse prints them (usage, then
 * `prog: error: msg`, exit 2); and the help of `IndentedHelpFormatter`, wrapped like `textwrap`.
 */
import { pyReprString } from '../shared/pyvalue.js';
import { pyLen, pyTextWrap } from './textwrap.js';

// ---------------------------------------------------------------------------------------------
// Python text helpers

/** Python's `str.isspace()` / `Py_UNICODE_ISSPACE` set. */
const PY_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/u;

/** The value of a Unicode decimal digit (category Nd): digits come in contiguous runs of ten. */
function decimalValue(cp: number): number | undefined {
  const isNd = (c: number): boolean => /^\p{Nd}$/u.test(String.fromCodePoint(c));
  if (!isNd(cp)) return undefined;
  let start = cp;
  while (start > 0 && isNd(start - 1)) start--;
  return (cp - start) % 10;
}

const PREFIX: Readonly<Record<number, string>> = { 16: 'x', 8: 'o', 2: 'b' };
/** CPython's limit on decimal digits converted by `int()` (`sys.int_info.default_max_str_digits`). */
const MAX_STR_DIGITS = 4300;

/**
 * Python's `int(text, base)` for base 2, 8, 10 or 16; undefined where Python raises ValueError.
 * Accepts what CPython does: surrounding whitespace, a sign, the base's prefix (`0x`…), single
 * underscores between digits (and right after a prefix), and non-ASCII decimal digits.
 */
export function pyInt(text: string, base: 2 | 8 | 10 | 16): bigint | undefined {
  // Non-ASCII whitespace becomes a space, non-ASCII decimal digits their ASCII digit.
  let s = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 127) s += ch;
    else if (PY_SPACE.test(ch)) s += ' ';
    else {
      const d = decimalValue(cp);
      s += d === undefined ? '?' : String(d);
    }
  }
  s = s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
  let negative = false;
  if (s.startsWith('+') || s.startsWith('-')) {
    negative = s.startsWith('-');
    s = s.slice(1);
  }
  const prefix = PREFIX[base];
  let afterPrefix = false;
  if (prefix !== undefined && s.length >= 2 && s[0] === '0' && s[1]?.toLowerCase() === prefix) {
    s = s.slice(2);
    afterPrefix = true;
  }
  if (afterPrefix && s.startsWith('_')) s = s.slice(1);
  const digit = base === 16 ? '[0-9a-fA-F]' : base === 10 ? '[0-9]' : base === 8 ? '[0-7]' : '[01]';
  if (!new RegExp(`^${digit}+(?:_${digit}+)*$`).test(s)) return undefined;
  const digits = s.replace(/_/g, '');
  if (base === 10 && digits.length > MAX_STR_DIGITS) return undefined;
  const value = BigInt(base === 10 ? digits : `0${prefix ?? ''}${digits}`);
  return negative ? -value : value;
}

/** optparse's `_parse_int`: the radix from the prefix (`0x`, `0b`, a leading `0` for octal). */
export function optparseInt(value: string): bigint | undefined {
  const head = value.slice(0, 2).toLowerCase();
  if (head === '0x') return pyInt(value, 16);
  if (head === '0b') return pyInt(value.slice(2) || '0', 2);
  if (value.startsWith('0')) return pyInt(value, 8);
  return pyInt(value, 10);
}

// ---------------------------------------------------------------------------------------------
// Options

/** A parsed value: Python's str, int, bool or None (null). */
export type OptValue = string | number | boolean | null;
export type OptType = 'string' | 'int';
export type OptAction = 'store' | 'store_true' | 'store_false' | 'count' | 'callback' | 'help' | 'version';

export interface OptionAttrs {
  readonly action?: OptAction;
  /** For `store`: `string` (the default) or `int` (optparse's `_parse_int`). */
  readonly type?: OptType;
  readonly dest?: string;
  readonly default?: OptValue;
  readonly metavar?: string;
  readonly help?: string;
  /** For `callback`: runs when the option is seen; may end the program with `parser.exit()`. */
  readonly callback?: (parser: OptionParser, opt: string, out: ParserOutput) => void;
}

export class OptionSpecError extends Error {}

export class Option {
  readonly shortOpts: readonly string[];
  readonly longOpts: readonly string[];
  readonly action: OptAction;
  readonly type: OptType | undefined;
  readonly dest: string | undefined;
  readonly hasDefault: boolean;
  readonly default: OptValue;
  readonly metavar: string | undefined;
  readonly help: string | undefined;
  readonly callback: ((parser: OptionParser, opt: string, out: ParserOutput) => void) | undefined;

  constructor(optStrings: readonly string[], attrs: OptionAttrs = {}) {
    const short: string[] = [];
    const long: string[] = [];
    for (const s of optStrings) {
      if (pyLen(s) < 2) throw new OptionSpecError(`invalid option string ${pyReprString(s)}: must be at least two characters long`);
      if (pyLen(s) === 2 && s[0] === '-' && s[1] !== '-') short.push(s);
      else if (s.startsWith('--') && s[2] !== '-') long.push(s);
      else throw new OptionSpecError(`invalid option string ${pyReprString(s)}: must be -x or --xxx`);
    }
    if (short.length + long.length === 0) throw new OptionSpecError('at least one option string must be supplied');
    this.shortOpts = short;
    this.longOpts = long;
    this.action = attrs.action ?? 'store';
    this.type = this.action === 'store' ? (attrs.type ?? 'string') : attrs.type;
    if (this.type !== undefined && this.action !== 'store') throw new OptionSpecError(`must not supply a type for action ${pyReprString(this.action)}`);
    if (this.action === 'callback' && attrs.callback === undefined) throw new OptionSpecError('callback not callable: None');
    const storing = this.action === 'store' || this.action === 'store_true' || this.action === 'store_false' || this.action === 'count';
    this.dest = attrs.dest ?? (storing ? (long[0] !== undefined ? long[0].slice(2).replace(/-/g, '_') : (short[0] ?? '').slice(1)) : undefined);
    this.hasDefault = attrs.default !== undefined;
    this.default = attrs.default ?? null;
    this.metavar = attrs.metavar;
    this.help = attrs.help;
    this.callback = attrs.callback;
  }

  takesValue(): boolean {
    return this.action === 'store';
  }

  /** `get_opt_string()`: the first long option, else the first short one. */
  optString(): string {
    return this.longOpts[0] ?? this.shortOpts[0] ?? '';
  }

  /** `check_value`: converts a value of type int; throws OptionValueError as optparse does. */
  checkValue(opt: string, value: string): OptValue {
    if (this.type !== 'int') return value;
    const n = optparseInt(value);
    if (n === undefined) throw new OptionValueError(`option ${opt}: invalid integer value: ${pyReprString(value)}`);
    return Number(n);
  }
}

/** optparse's BadOptionError / AmbiguousOptionError / OptionValueError: reported by `error()`. */
class OptionValueError extends Error {}

/** Raised by `parser.exit()`; `parseArgs` turns it into `{ kind: 'exit' }`. */
class ParserExit extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

// ---------------------------------------------------------------------------------------------
// IndentedHelpFormatter

/** `int(os.environ['COLUMNS'])`, else 80; minus 2. */
export function helpWidth(columns: string | undefined): number {
  const n = columns === undefined ? undefined : pyInt(columns, 10);
  return (n === undefined ? 80 : Number(n)) - 2;
}

const pad = (n: number): string => ' '.repeat(Math.max(0, n));

export class IndentedHelpFormatter {
  readonly width: number;
  readonly maxHelpPosition: number;
  readonly indentIncrement = 2;
  helpPosition: number;
  currentIndent = 0;
  helpWidth = 0;
  private readonly optionStrings = new Map<Option, string>();

  constructor(width: number, maxHelpPosition = 24) {
    this.width = width;
    this.maxHelpPosition = Math.min(maxHelpPosition, Math.max(width - 20, this.indentIncrement * 2));
    this.helpPosition = this.maxHelpPosition;
  }

  indent(): void {
    this.currentIndent += this.indentIncrement;
  }

  dedent(): void {
    this.currentIndent -= this.indentIncrement;
  }

  formatUsage(usage: string): string {
    return `Usage: ${usage}\n`;
  }

  formatHeading(heading: string): string {
    return `${pad(this.currentIndent)}${heading}:\n`;
  }

  /** A paragraph at the current indentation (`_format_text`). */
  formatText(text: string): string {
    const indent = pad(this.currentIndent);
    const width = Math.max(this.width - this.currentIndent, 11);
    return pyTextWrap(text, width - this.currentIndent)
      .map((l) => indent + l)
      .join('\n');
  }

  storeOptionStrings(options: readonly Option[]): void {
    this.indent();
    let maxLen = 0;
    for (const o of options) {
      const s = this.formatOptionStrings(o);
      this.optionStrings.set(o, s);
      maxLen = Math.max(maxLen, pyLen(s) + this.currentIndent);
    }
    this.dedent();
    this.helpPosition = Math.min(maxLen + 2, this.maxHelpPosition);
    this.helpWidth = Math.max(this.width - this.helpPosition, 11);
  }

  formatOptionStrings(o: Option): string {
    let short: readonly string[] = o.shortOpts;
    let long: readonly string[] = o.longOpts;
    if (o.takesValue()) {
      const metavar = o.metavar ?? (o.dest ?? '').toUpperCase();
      short = short.map((s) => `${s} ${metavar}`);
      long = long.map((l) => `${l}=${metavar}`);
    }
    return [...short, ...long].join(', ');
  }

  formatOption(o: Option, defaults: ReadonlyMap<string, OptValue>): string {
    let opts = this.optionStrings.get(o) ?? this.formatOptionStrings(o);
    const optWidth = this.helpPosition - this.currentIndent - 2;
    let indentFirst: number;
    if (pyLen(opts) > optWidth) {
      opts = `${pad(this.currentIndent)}${opts}\n`;
      indentFirst = this.helpPosition;
    } else {
      opts = `${pad(this.currentIndent)}${opts}${pad(optWidth - pyLen(opts))}  `;
      indentFirst = 0;
    }
    let result = opts;
    if (o.help) {
      const lines = pyTextWrap(expandDefault(o, defaults), this.helpWidth);
      result += `${pad(indentFirst)}${lines[0] ?? ''}\n`;
      for (const l of lines.slice(1)) result += `${pad(this.helpPosition)}${l}\n`;
    } else if (!opts.endsWith('\n')) result += '\n';
    return result;
  }
}

/** Python's `str()` of an option value. */
function pyStr(v: OptValue): string {
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  return String(v);
}

/** `%default` in a help text: the option's default, or "none". */
function expandDefault(o: Option, defaults: ReadonlyMap<string, OptValue>): string {
  const help = o.help ?? '';
  const d = o.dest === undefined ? null : (defaults.get(o.dest) ?? null);
  return help.split('%default').join(d === null ? 'none' : pyStr(d));
}

// ---------------------------------------------------------------------------------------------
// OptionParser

export interface ParserOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export interface OptionParserConfig {
  /** `sys.argv[0]`: the program as invoked; `%prog` is its basename. */
  readonly argv0: string;
  readonly usage?: string;
  readonly version?: string;
  readonly description?: string;
  readonly epilog?: string;
  readonly addHelpOption?: boolean;
  /** `$COLUMNS` (the help width is its integer value minus 2, else 78). */
  readonly columns?: string | undefined;
}

export type ParseResult =
  | { readonly kind: 'ok'; readonly values: ReadonlyMap<string, OptValue>; readonly args: string[] }
  | { readonly kind: 'exit'; readonly code: number };

/** `os.path.basename`. */
export function basename(p: string): string {
  return p.slice(p.lastIndexOf('/') + 1);
}

export class OptionParser {
  usage: string;
  readonly version: string | undefined;
  readonly description: string | undefined;
  readonly epilog: string | undefined;
  readonly argv0: string;
  readonly formatter: IndentedHelpFormatter;
  readonly optionList: Option[] = [];
  readonly defaults = new Map<string, OptValue>();
  private readonly shortOpt = new Map<string, Option>();
  private readonly longOpt = new Map<string, Option>();
  private out: ParserOutput | undefined;

  constructor(config: OptionParserConfig) {
    this.argv0 = config.argv0;
    this.usage = config.usage ?? '%prog [options]';
    this.version = config.version;
    this.description = config.description;
    this.epilog = config.epilog;
    this.formatter = new IndentedHelpFormatter(helpWidth(config.columns));
    if (this.version !== undefined && this.version !== '') {
      this.addOption(['--version'], { action: 'version', help: "show program's version number and exit" });
    }
    if (config.addHelpOption ?? true) this.addOption(['-h', '--help'], { action: 'help', help: 'show this help message and exit' });
  }

  addOption(optStrings: readonly string[], attrs: OptionAttrs = {}): Option {
    const o = new Option(optStrings, attrs);
    for (const s of [...o.shortOpts, ...o.longOpts]) {
      if (this.shortOpt.has(s) || this.longOpt.has(s)) throw new OptionSpecError(`conflicting option string(s): ${s}`);
    }
    this.optionList.push(o);
    for (const s of o.shortOpts) this.shortOpt.set(s, o);
    for (const s of o.longOpts) this.longOpt.set(s, o);
    if (o.dest !== undefined) {
      if (o.hasDefault) this.defaults.set(o.dest, o.default);
      else if (!this.defaults.has(o.dest)) this.defaults.set(o.dest, null);
    }
    return o;
  }

  getProgName(): string {
    return basename(this.argv0);
  }

  expandProgName(s: string): string {
    return s.split('%prog').join(this.getProgName());
  }

  getUsage(): string {
    return this.usage ? this.formatter.formatUsage(this.expandProgName(this.usage)) : '';
  }

  getVersion(): string {
    return this.version ? this.expandProgName(this.version) : '';
  }

  formatOptionHelp(): string {
    const f = this.formatter;
    f.storeOptionStrings(this.optionList);
    const parts = [f.formatHeading('Options')];
    f.indent();
    if (this.optionList.length > 0) {
      parts.push(this.optionList.map((o) => f.formatOption(o, this.defaults)).join(''));
      parts.push('\n');
    }
    f.dedent();
    return parts.slice(0, -1).join('');
  }

  formatHelp(): string {
    let result = '';
    if (this.usage) result += `${this.getUsage()}\n`;
    if (this.description) result += `${this.formatter.formatText(this.expandProgName(this.description))}\n\n`;
    result += this.formatOptionHelp();
    if (this.epilog) result += `\n${this.formatter.formatText(this.epilog)}\n`;
    return result;
  }

  private output(): ParserOutput {
    if (this.out === undefined) throw new Error('optparse: output used outside parseArgs');
    return this.out;
  }

  printHelp(): void {
    this.output().stdout(this.formatHelp());
  }

  printUsage(to: 'stdout' | 'stderr' = 'stdout'): void {
    if (this.usage) this.output()[to](`${this.getUsage()}\n`);
  }

  printVersion(): void {
    if (this.version) this.output().stdout(`${this.getVersion()}\n`);
  }

  /** Ends parsing (as `sys.exit`), writing `msg` to stderr first. */
  exit(code = 0, msg?: string): never {
    if (msg) this.output().stderr(msg);
    throw new ParserExit(code);
  }

  /** The usage on stderr, then `prog: error: msg`, exit 2. */
  error(msg: string): never {
    this.printUsage('stderr');
    return this.exit(2, `${this.getProgName()}: error: ${msg}\n`);
  }

  /** Parses the arguments, writing help, version and errors to `out`. */
  parseArgs(argv: readonly string[], out: ParserOutput): ParseResult {
    this.out = out;
    try {
      const values = new Map(this.defaults);
      for (const o of this.optionList) {
        const d = o.dest === undefined ? undefined : values.get(o.dest);
        if (o.dest !== undefined && typeof d === 'string') values.set(o.dest, o.checkValue(o.optString(), d));
      }
      const largs: string[] = [];
      const rargs = [...argv];
      try {
        this.processArgs(largs, rargs, values);
      } catch (e) {
        if (e instanceof OptionValueError) this.error(e.message);
        throw e;
      }
      return { kind: 'ok', values, args: [...largs, ...rargs] };
    } catch (e) {
      if (e instanceof ParserExit) return { kind: 'exit', code: e.code };
      throw e;
    } finally {
      this.out = undefined;
    }
  }

  private processArgs(largs: string[], rargs: string[], values: Map<string, OptValue>): void {
    while (rargs.length > 0) {
      const arg = rargs[0] ?? '';
      if (arg === '--') {
        rargs.shift();
        return;
      }
      if (arg.startsWith('--')) this.processLongOpt(rargs, values);
      else if (arg.startsWith('-') && arg.length > 1) this.processShortOpts(rargs, values);
      else largs.push(rargs.shift() ?? '');
    }
  }

  /** `_match_abbrev`: the exact option, or the only one it is a prefix of. */
  private matchLongOpt(s: string): string {
    if (this.longOpt.has(s)) return s;
    const candidates = [...this.longOpt.keys()].filter((w) => w.startsWith(s));
    if (candidates.length === 1) return candidates[0] ?? s;
    if (candidates.length === 0) throw new OptionValueError(`no such option: ${s}`);
    candidates.sort(compareCodePoints);
    throw new OptionValueError(`ambiguous option: ${s} (${candidates.join(', ')}?)`);
  }

  private processLongOpt(rargs: string[], values: Map<string, OptValue>): void {
    const arg = rargs.shift() ?? '';
    const eq = arg.indexOf('=');
    let opt = arg;
    const explicit = eq !== -1;
    if (explicit) {
      opt = arg.slice(0, eq);
      rargs.unshift(arg.slice(eq + 1));
    }
    opt = this.matchLongOpt(opt);
    const option = this.longOpt.get(opt);
    if (option === undefined) throw new Error(`optparse: ${opt} vanished`);
    let value: string | undefined;
    if (option.takesValue()) {
      if (rargs.length < 1) this.error(`${opt} option requires 1 argument`);
      value = rargs.shift();
    } else if (explicit) this.error(`${opt} option does not take a value`);
    this.process(option, opt, value, values);
  }

  private processShortOpts(rargs: string[], values: Map<string, OptValue>): void {
    const chars = Array.from(rargs.shift() ?? '');
    for (let i = 1; i < chars.length; i++) {
      const opt = `-${chars[i] ?? ''}`;
      const option = this.shortOpt.get(opt);
      if (option === undefined) throw new OptionValueError(`no such option: ${opt}`);
      let value: string | undefined;
      let stop = false;
      if (option.takesValue()) {
        if (i + 1 < chars.length) {
          rargs.unshift(chars.slice(i + 1).join(''));
          stop = true;
        }
        if (rargs.length < 1) this.error(`${opt} option requires 1 argument`);
        value = rargs.shift();
      }
      this.process(option, opt, value, values);
      if (stop) break;
    }
  }

  /** `Option.process`: convert the value, then take the action. */
  private process(option: Option, opt: string, raw: string | undefined, values: Map<string, OptValue>): void {
    const value = raw === undefined ? null : option.checkValue(opt, raw);
    const dest = option.dest ?? '';
    switch (option.action) {
      case 'store':
        values.set(dest, value);
        break;
      case 'store_true':
        values.set(dest, true);
        break;
      case 'store_false':
        values.set(dest, false);
        break;
      case 'count': {
        const current = values.get(dest);
        values.set(dest, (typeof current === 'number' ? current : typeof current === 'boolean' ? Number(current) : 0) + 1);
        break;
      }
      case 'callback':
        option.callback?.(this, opt, this.output());
        break;
      case 'help':
        this.printHelp();
        this.exit();
        break;
      case 'version':
        this.printVersion();
        this.exit();
        break;
    }
  }
}

/** Python's string ordering (by code point; JS compares UTF-16 units). */
function compareCodePoints(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i]?.codePointAt(0) ?? 0) - (y[i]?.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
