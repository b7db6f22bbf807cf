/**
 * `portcullis regex LOG FILTER [IGNOREREGEX]`: the filter engine over a log file, reported for
 * people (or as JSON). Glue between the arguments, the filter, the per-line time budget, the
 * counters, the progress line and the report.
 */
import { defaultConfigDir } from '../../config/index.js';
import type { HostResolver } from '../../filter/filter.js';
import { UTC_ZONE, type LocalZone } from '../../filter/strptime.js';
import { decoderFor, forEachLine, stripLineEnd } from '../../system/lines.js';
import type { CliIo } from '../io.js';
import { LineGuard, type SkippedLine } from '../regexTool/guard.js';
import { EX_NOINPUT, EX_USAGE, parseRegexCommandArgs, REGEX_HELP, type RegexCommandOptions } from './args.js';
import { PROGRESS_THRESHOLD_BYTES, ProgressMeter } from './progress.js';
import { renderJson, renderText, type RegexCommandReport } from './render.js';
import { setupFilter } from './setup.js';
import { DEFAULT_MAX_IDS, RegexStats } from './stats.js';
import { LineTester } from './tester.js';

/** What the command needs from the composition root besides the CLI io. */
export interface RegexCommandEnv {
  /** The built-in configuration, used when /etc/fail2ban does not exist. */
  readonly builtinConfigDir: string;
  /** The local time zone (dates without a zone); UTC when not given. */
  readonly zone?: LocalZone | undefined;
  /** Host names → addresses when the filter's `usedns` asks for lookups. */
  readonly resolver?: HostResolver | undefined;
  /** Whether stderr is a terminal (the progress line is drawn only there). */
  readonly stderrIsTty?: boolean | undefined;
  /** The process environment (NO_COLOR). */
  readonly envVars?: Readonly<Record<string, string | undefined>> | undefined;
  /** Logs bigger than this get a progress line (default 50 MiB). */
  readonly progressThresholdBytes?: number | undefined;
  /** Per-line regex time budget in ms (default 10 s). */
  readonly lineBudgetMs?: number | undefined;
}

const BATCH = 4096;
const MAX_SKIPPED = 20;

/** One line on stderr (a multi-line reason, such as a regex compiler's, is joined). */
function fail(io: CliIo, code: number, message: string): number {
  io.stderr(`portcullis regex: ${message.replace(/\s*\n\s*/g, ' ')}${code === EX_USAGE ? '; see portcullis regex --help' : ''}\n`);
  return code;
}

function useColor(opts: RegexCommandOptions, io: CliIo, env: RegexCommandEnv): boolean {
  if (opts.color !== undefined) return opts.color;
  const noColor = env.envVars?.NO_COLOR;
  return io.isTty === true && (noColor === undefined || noColor === '');
}

/** Runs `portcullis regex ARGS`; returns the exit code. */
export function runRegexCommand(args: readonly string[], io: CliIo, env: RegexCommandEnv): number {
  const parsed = parseRegexCommandArgs(args);
  if (parsed.kind === 'help') {
    io.stdout(REGEX_HELP);
    return 0;
  }
  if (parsed.kind === 'error') return fail(io, EX_USAGE, parsed.message);
  const opts = parsed.options;
  if (opts.conf === '') return fail(io, EX_USAGE, '--conf needs a directory');
  const confDir = opts.conf ?? defaultConfigDir(io.fs, env.builtinConfigDir);
  const nowS = (): number => io.clock.nowMs() / 1000;
  const setup = setupFilter(io.fs, opts, confDir, { zone: env.zone ?? UTC_ZONE, resolver: env.resolver, nowS });
  if (setup.kind === 'error') return fail(io, setup.code, setup.message);
  const st = io.fs.stat(opts.log);
  const asText = 'LOG must be a file; to test log lines given as text, use fail2ban-regex';
  if (!st) return fail(io, EX_NOINPUT, `cannot read log ${JSON.stringify(opts.log)}: no such file (${asText})`);
  if (!st.isFile) return fail(io, EX_NOINPUT, `cannot read log ${JSON.stringify(opts.log)}: not a file (${asText})`);

  const { filter, failregex, ignoreregex } = setup;
  const stats = new RegexStats(failregex, ignoreregex, { samples: opts.samples, maxIds: DEFAULT_MAX_IDS, maxSkipped: MAX_SKIPPED });
  const tester = new LineTester(filter, stats);
  const guard = new LineGuard(env.lineBudgetMs ?? 10000);
  const threshold = env.progressThresholdBytes ?? PROGRESS_THRESHOLD_BYTES;
  const nowMs = (): number => io.clock.nowMs();
  const t0 = nowMs();
  const meter = !opts.json && env.stderrIsTty === true && (st.size ?? 0) > threshold ? new ProgressMeter(st.size ?? 0, nowMs, io.stderr, t0) : undefined;

  let lineNumber = 0;
  let bytes = 0;
  let done = 0;
  let pending: string[] = [];
  let numbers: number[] = [];
  let cursor = 0;
  const handle = (line: string): void => {
    tester.test(numbers[cursor] ?? 0, line);
    cursor++;
    done++;
  };
  const skip = (s: SkippedLine): void => {
    stats.skipped(numbers[cursor] ?? 0, s.item, s.reason);
    cursor++;
    done++;
  };
  const flush = (): void => {
    if (pending.length === 0) return;
    cursor = 0;
    guard.runBatch(pending, handle, skip);
    pending = [];
    numbers = [];
    meter?.update(bytes, done);
  };
  const onLine = (raw: string): void => {
    lineNumber++;
    const line = stripLineEnd(raw);
    if (line.startsWith('#') || line === '') return;
    pending.push(line);
    numbers.push(lineNumber);
    if (pending.length >= BATCH) flush();
  };
  const onChunk = (size: number): void => {
    bytes += size;
    meter?.update(bytes, done);
  };
  let ok: boolean;
  try {
    ok = forEachLine(io.fs, opts.log, decoderFor('UTF-8') ?? ((b) => new TextDecoder().decode(b)), onLine, false, onChunk);
    flush();
  } finally {
    meter?.clear();
  }
  if (!ok) return fail(io, EX_NOINPUT, `cannot read log ${JSON.stringify(opts.log)}: permission denied or unreadable`);

  const elapsed = (nowMs() - t0) / 1000;
  const lines = stats.lines;
  const report: RegexCommandReport = {
    log: opts.log,
    filter: setup.info,
    lines,
    elapsedSeconds: Math.round(elapsed * 1000) / 1000,
    linesPerSecond: elapsed > 0 ? Math.round(lines.read / elapsed) : null,
    failregex: stats.failregex,
    ignoreregex: stats.ignoreregex,
    dateTemplates: filter.dateDetector.usage.filter((t) => t.hits > 0).map((t) => ({ name: t.name, hits: t.hits })),
    topIds: stats.topIds(opts.top),
    distinctIds: stats.distinctIds,
    otherIds: stats.otherIds,
    skipped: stats.skippedSamples,
  };
  io.stdout(opts.json ? renderJson(report) : renderText(report, useColor(opts, io, env)));
  return 0;
}
