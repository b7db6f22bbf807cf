/**
 * `portcullis`: the project's own command line. Exit codes follow sysexits: 64 usage,
 * 66 a log that cannot be read (regex), 78 configuration errors, 70 internal.
 */
import { checkConfiguration, DEFAULT_BASEDIR, defaultConfigDir } from '../config/index.js';
import { PORTCULLIS_VERSION, FAIL2BAN_VERSION } from '../shared/version.js';
import { formatDump, formatProblems } from './configReport.js';
import type { CliIo } from './io.js';
import { runRegexCommand, type RegexCommandEnv } from './regexCommand/run.js';

export const EX_USAGE = 64;
export const EX_CONFIG = 78;

const HELP = `Usage: portcullis <command> [options]

portcullis is a drop-in replacement for fail2ban: it reads fail2ban's configuration
(/etc/fail2ban) unchanged.

Commands:
  config check [-c DIR]          read the configuration and list every problem with its
                                 file, line and jail; exit 0 when there is no error, 78 if any
  config dump [-c DIR] [--json]  print the resolved server settings and enabled jails
  regex LOG FILTER [IGNOREREGEX] run a log file through a filter and report the hits, sample
                                 lines, date formats and top failure ids (--json for JSON;
                                 see portcullis regex --help)
  version                        print the version
  help                           print this help

Options:
  -c, --conf DIR   configuration directory (default: ${DEFAULT_BASEDIR}, or portcullis'
                   built-in configuration when that does not exist)
  -h, --help       print this help
  -V, --version    print the version

The fail2ban work-alikes are separate programs: fail2ban-client (-d, --dp, -t, --str2sec,
-V, -h work now), fail2ban-regex (works fully) and fail2ban-server (help and version only,
so far).
`;

/** What `portcullis` needs from the composition root: what its commands need (`regex` needs the most). */
export type PortcullisEnv = RegexCommandEnv;

function parseConfArgs(args: readonly string[]): { dir?: string; json: boolean; error?: string } {
  const out: { dir?: string; json: boolean; error?: string } = { json: false };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '-c' || a === '--conf') {
      const v = args[++i];
      if (v === undefined) return { ...out, error: `${a} needs a directory` };
      out.dir = v;
    } else if (a.startsWith('--conf=')) out.dir = a.slice(7);
    else if (a === '--json') out.json = true;
    else return { ...out, error: `unknown argument "${a}"` };
  }
  return out;
}

function runConfig(sub: string | undefined, args: readonly string[], io: CliIo, env: PortcullisEnv): number {
  if (sub !== 'check' && sub !== 'dump') {
    io.stderr(`portcullis config: expected "check" or "dump"${sub ? `, got "${sub}"` : ''}\n`);
    return EX_USAGE;
  }
  const opts = parseConfArgs(args);
  if (opts.error !== undefined || (sub === 'check' && opts.json)) {
    io.stderr(`portcullis config ${sub}: ${opts.error ?? '--json goes with dump'}\n`);
    return EX_USAGE;
  }
  const dir = opts.dir ?? defaultConfigDir(io.fs, env.builtinConfigDir);
  const checked = checkConfiguration(io.fs, dir);
  const errors = checked.problems.filter((p) => p.severity === 'error').length;
  if (sub === 'check') io.stdout(formatProblems(checked));
  else if (opts.json) io.stdout(JSON.stringify(checked, null, 2) + '\n');
  else {
    io.stdout(formatDump(checked));
    if (checked.problems.length > 0) io.stderr(formatProblems(checked));
  }
  return errors > 0 ? EX_CONFIG : 0;
}

/** Runs `portcullis ARGS`; returns the exit code. */
export function runPortcullis(args: readonly string[], io: CliIo, env: PortcullisEnv): number {
  const [cmd, sub, ...rest] = args;
  if (cmd === undefined || cmd === 'help' || cmd === '-h' || cmd === '--help') {
    io.stdout(HELP);
    return cmd === undefined ? EX_USAGE : 0;
  }
  if (cmd === 'version' || cmd === '-V' || cmd === '--version') {
    io.stdout(`portcullis ${PORTCULLIS_VERSION} (fail2ban ${FAIL2BAN_VERSION} compatible)\n`);
    return 0;
  }
  if (cmd === 'config') return runConfig(sub, rest, io, env);
  if (cmd === 'regex') return runRegexCommand(args.slice(1), io, env);
  io.stderr(`portcullis: unknown command "${cmd}"; see portcullis --help\n`);
  return EX_USAGE;
}
