/**
 * `fail2ban-regex` entry: parses the arguments (./regexOptions) and wires the host facts (local
 * time zone, host name, DNS through getent, help text) into the work-alike in ./regexTool.
 */
import { intlZone, UTC_ZONE, type LocalZone } from '../filter/strptime.js';
import type { CliIo } from './io.js';
import { GetentResolver } from '../system/resolver.js';
import { parseRegexArgs, regexHelp, type RegexToolOptions } from './regexOptions.js';
import { hostName, runRegexTool as run } from './regexTool/run.js';

/** The process' local zone as `time.mktime` sees it (TZ, else /etc/localtime through ICU). */
export function processZone(): LocalZone {
  try {
    return intlZone(Intl.DateTimeFormat().resolvedOptions().timeZone);
  } catch {
    return UTC_ZONE;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Per-line regex time budget: `PORTCULLIS_REGEX_BUDGET_MS` (default 10 s, far above any sane line). */
function lineBudget(env: Env): number {
  const v = Number(env.PORTCULLIS_REGEX_BUDGET_MS);
  return Number.isFinite(v) && v > 0 ? v : 10000;
}

/** Runs with parsed options. */
export function runRegexTool(prog: string, options: RegexToolOptions, args: readonly string[], io: CliIo, env: Env = {}): number {
  return run(options, args, io, {
    zone: processZone(),
    hostname: hostName,
    resolver: new GetentResolver(() => io.clock.nowMs() / 1000),
    help: () => regexHelp(prog, env),
    lineBudgetMs: lineBudget(env),
  });
}

/**
 * fail2ban-regex: `argv0` is the program as invoked (Python's `sys.argv[0]`, shown whole in the
 * usage line); `env` gives COLUMNS (the help width) and the locale (the default encoding).
 */
export function runFail2banRegex(argv0: string, args: readonly string[], io: CliIo, env: Env = {}): number {
  const parsed = parseRegexArgs(argv0, args, io, env);
  if (parsed.kind === 'exit') return parsed.code;
  return runRegexTool(argv0, parsed.options, parsed.args, io, env);
}
