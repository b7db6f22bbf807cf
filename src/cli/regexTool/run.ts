/**
 * The fail2ban-regex work-alike (client/fail2banregex.py 1.0.2): reads the filter or regex, runs
 * the log (a file, or the argument itself as one or more lines) through portcullis' filter engine
 * with fail2ban-regex's settings (every date accepted, all failregexes tried unless `-o`), and
 * prints its report or the `-o` values in the same layout.
 */
import * as os from 'node:os';
import { buildDateTemplates, createDateTemplateContext } from '../../filter/dateTemplates.js';
import { Filter, type Failure, type HostResolver } from '../../filter/filter.js';
import { FilterRegexError } from '../../filter/filterRegex.js';
import { validateTimeZone, type LocalZone } from '../../filter/strptime.js';
import { PortcullisError } from '../../shared/errors.js';
import { pyReprString } from '../../shared/pyvalue.js';
import { decoderFor, forEachLine, stripLineEnd } from '../../system/lines.js';
import type { CliIo } from '../io.js';
import type { RegexToolOptions } from '../regexOptions.js';
import { outputFormatter } from './out.js';
import { RegexReport } from './report.js';
import { readRegexSource, shortstr } from './source.js';
import { LineGuard, type SkippedLine } from './guard.js';

/** Everything the tool needs besides the CLI io. */
export interface RegexToolEnv {
  readonly zone: LocalZone;
  readonly hostname: () => string;
  /** The help text, printed before argument errors (`parser.print_help()`). */
  readonly help: () => string;
  /** Host names → addresses when `usedns` asks for lookups. */
  readonly resolver?: HostResolver;
  /** Per-line time budget in ms (a line whose regexes run longer is skipped and reported). */
  readonly lineBudgetMs?: number;
}

class Output {
  private buf = '';
  constructor(private readonly write: (s: string) => void) {}
  line(s: string): void {
    this.buf += s + '\n';
    if (this.buf.length > 65536) this.flush();
  }
  flush(): void {
    if (this.buf !== '') this.write(this.buf);
    this.buf = '';
  }
}

/** Runs fail2ban-regex with parsed options and positional arguments; returns the exit code. */
export function runRegexTool(options: RegexToolOptions, args: readonly string[], io: CliIo, env: RegexToolEnv): number {
  const errors: string[] = [];
  if (options.printNoMissed && options.printAllMissed) errors.push('ERROR: --print-no-missed and --print-all-missed are mutually exclusive.');
  if (options.printNoIgnored && options.printAllIgnored) errors.push('ERROR: --print-no-ignored and --print-all-ignored are mutually exclusive.');
  if (args.length !== 2 && args.length !== 3) errors.push('ERROR: provide both <LOG> and <REGEX>.');
  if (errors.length > 0) {
    io.stdout(env.help());
    io.stderr('\n' + errors.join('\n') + '\n');
    return 255;
  }
  const out = new Output(io.stdout);
  const quiet = options.out !== undefined && options.out !== '';
  const say = (s: string): void => { if (!quiet) out.line(s); };
  try {
    return start(options, args, io, env, out, say);
  } finally {
    out.flush();
  }
}

function start(options: RegexToolOptions, args: readonly string[], io: CliIo, env: RegexToolEnv, out: Output, say: (s: string) => void): number {
  say('');
  say('Running tests');
  say('=============');
  say('');
  if (!validLogLevel(options.logLevel)) {
    // fail2ban-regex dies here with a ValueError traceback (exit 1); the same exit, a plain message.
    out.flush();
    io.stderr(`ERROR: Invalid log level ${pyReprString(options.logLevel)}\n`);
    return 1;
  }
  const nowS = (): number => io.clock.nowMs() / 1000;
  const year = new Date(io.clock.nowMs()).getFullYear();
  const dates = createDateTemplateContext({ year });
  if (options.timezone) {
    try {
      validateTimeZone(options.timezone);
    } catch (e) {
      out.line(`ERROR: ${e instanceof Error ? e.message : String(e)}`);
      return 255;
    }
  }
  let maxlines: number | undefined;
  let datepattern: string | undefined;
  const setMaxLines = (v: number): void => {
    if (maxlines !== undefined) return;
    if (!Number.isInteger(v) || v <= 0) throw new PortcullisError('E_MAXLINES', `maxlines must be a positive integer, got ${v}`);
    maxlines = v;
    say(`Use         maxlines : ${v}`);
  };
  const setDatePattern = (p: string): void => {
    if (datepattern !== undefined) return;
    const templates = buildDateTemplates(dates, p);
    datepattern = p;
    const name = templates.length === 0 || templates.length > 2 ? 'Default Detectors' : (templates[0]?.name ?? '');
    say(`Use      datepattern : ${p} : ${name}`);
  };
  try {
    if (options.maxlines) setMaxLines(options.maxlines);
    if (options.datepattern) setDatePattern(options.datepattern);
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
    out.line(`ERROR: ${e.message}`);
    return 255;
  }
  const [cmdLog = '', cmdRegex = '', cmdIgnore] = args;
  const fail = readRegexSource(io.fs, cmdRegex, 'fail', options.config);
  if (fail.kind === 'error') {
    for (const l of fail.lines) out.line(l);
    return 255;
  }
  for (const h of fail.headers) say(h);
  let prefregex: string | undefined;
  const failregex: string[] = [];
  const ignoreregex: string[] = [];
  try {
    if (fail.kind === 'filter') {
      const s = fail.settings;
      prefregex = s.prefregex;
      if (s.maxlines !== undefined) setMaxLines(s.maxlines);
      if (s.datepattern !== undefined) setDatePattern(s.datepattern);
      failregex.push(...s.failregex);
      ignoreregex.push(...s.ignoreregex);
    } else failregex.push(fail.regex);
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
    out.line(`ERROR: Invalid value read from ${cmdRegex}: ${e.message}`);
    return 255;
  }
  // As fail2ban-regex: the failregexes are compiled before the IGNOREREGEX argument is read.
  let filter: Filter;
  try {
    filter = new Filter(
      {
        usedns: options.usedns ?? 'warn', prefregex, failregex, ignoreregex,
        ...(maxlines !== undefined ? { maxlines } : {}), datepattern, logtimezone: options.timezone,
      },
      { now: nowS, realClock: nowS, zone: env.zone, dates, ...(env.resolver ? { resolver: env.resolver } : {}) },
      { checkFindTime: false, returnRawHost: options.raw, checkAllRegex: options.checkAllRegex && !options.out, ignorePending: Boolean(options.out) },
    );
    if (cmdIgnore !== undefined) {
      const ign = readRegexSource(io.fs, cmdIgnore, 'ignore', options.config);
      if (ign.kind === 'error') {
        for (const l of ign.lines) out.line(l);
        return 255;
      }
      for (const h of ign.headers) say(h);
      if (ign.kind === 'line') {
        filter.addIgnoreRegex(ign.regex);
        ignoreregex.push(ign.regex);
      }
    }
  } catch (e) {
    if (e instanceof FilterRegexError) {
      out.line(`ERROR: ${e.pythonMessage}`);
      return 255;
    }
    throw e;
  }
  const report = new RegexReport(filter, options, failregex, ignoreregex, env.zone, nowS);
  const format = options.out ? outputFormatter(options.out, { now: nowS, hostname: env.hostname }, (l) => out.line(l)) : undefined;
  const guard = new LineGuard(env.lineBudgetMs ?? 10000);
  const t0 = io.clock.nowMs();
  const handle = (line: string): void => {
    const { ret, ignored, dbgLine } = report.test(line);
    if (format) {
      if (ret.length > 0 && !ignored) format(ret);
      return;
    }
    report.count(line, ret, ignored, dbgLine);
  };
  const skip = (s: SkippedLine): void => report.skipped(s);
  let pending: string[] = [];
  const flush = (): void => {
    if (pending.length === 0) return;
    guard.runBatch(pending, handle, skip);
    pending = [];
  };
  const processLine = (raw: string): void => {
    const line = stripLineEnd(raw);
    if (line.startsWith('#') || line === '') return;
    pending.push(line);
    if (pending.length >= 4096) flush();
  };
  if (io.fs.stat(cmdLog)?.isFile) {
    const decode = decoderFor(options.encoding);
    if (!decode) {
      out.line(`ERROR: unknown encoding: ${options.encoding}`);
      return 255;
    }
    say(`Use         log file : ${cmdLog}`);
    say(`Use         encoding : ${options.encoding}`);
    say('');
    const ok = forEachLine(io.fs, cmdLog, decode, (l) => { processLine(l); });
    flush();
    if (!ok) {
      out.line(`[Errno 13] Permission denied: '${cmdLog}'`);
      return 255;
    }
  } else if (cmdLog.startsWith('systemd-journal')) {
    out.line('Error: systemd library not found. Exiting...');
    return 255;
  } else {
    let lines: string[];
    if (filter.maxlines <= 1 && !cmdLog.includes('\n')) {
      say(`Use      single line : ${shortstr(cmdLog.replace(/\n/g, '\\n'))}`);
      lines = [cmdLog];
    } else {
      lines = cmdLog.split('\n');
      say(`Use      multi line : ${lines.length} line(s)`);
      for (let i = 0; i < lines.length; i++) {
        if (i >= 5) {
          say('| ...');
          break;
        }
        say(`| ${String(i + 1).padStart(2).slice(0, 2)}: ${shortstr(lines[i] ?? '')}`);
      }
      say('`-');
    }
    say('');
    for (const l of lines) processLine(l);
    flush();
  }
  const elapsed = (io.clock.nowMs() - t0) / 1000;
  if (!options.out) for (const l of report.render(elapsed)) out.line(l);
  else for (const l of report.skippedReport()) io.stderr(l + '\n');
  return 0;
}

/** Levels `str2LogLevel` accepts: digits, or a level name of Python's logging and fail2ban's additions. */
const LOG_LEVELS = new Set(['CRITICAL', 'FATAL', 'ERROR', 'WARN', 'WARNING', 'NOTICE', 'INFO', 'MSG', 'DEBUG', 'TRACEDEBUG', 'HEAVYDEBUG', 'NOTSET']);

function validLogLevel(v: string): boolean {
  return /^[0-9]+$/.test(v) || LOG_LEVELS.has(v.toUpperCase());
}

/** The host's name for `<fq-hostname>` / `<sh-hostname>`. */
export function hostName(): string {
  return os.hostname();
}

export type { Failure };
