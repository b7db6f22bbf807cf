/**
 * `portcullis`: the project's own command line. Exit codes follow sysexits: 64 usage,
 * 66 a log that cannot be read (regex), 69 the server is not running, 70 internal,
 * 77 no permission on the socket, 78 configuration errors.
 */
import { checkConfiguration, DEFAULT_BASEDIR, defaultConfigDir } from '../config/index.js';
import { PORTCULLIS_VERSION, FAIL2BAN_VERSION } from '../shared/version.js';
import { formatDump, formatProblems } from './configReport.js';
import type { CliIo } from './io.js';
import { runRegexCommand, type RegexCommandEnv } from './regexCommand/run.js';
import { DAEMON_COMMANDS, runDaemonCommand, type DaemonEnv } from './portcullisDaemon.js';
import { runDemo } from './demo.js';
import type { DemoLab } from '../system/demoLab.js';

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
  demo                           see it work: a real sshd in a throw-away network namespace,
                                 an attacker banned live and unbanned, then everything removed
                                 (needs root, openssh-server, rsyslog, nftables; ~15 s)
  version                        print the version
  help                           print this help

The server (these talk to it through its socket):
  server [-f] [-x] [-c DIR] [-s SOCK] [-p PID]
                                 run the server, as fail2ban-server does (in the background
                                 unless -f; -x removes a stale socket)
  start [-f] [-x]                start the server and send it the configuration
                                 (fail2ban-client start)
  stop                           stop the server and wait until it is gone
  reload [JAIL]                  read the configuration again and apply it (all jails, or one)
  status [JAIL] [--json]         every jail: failures now and in total, bans now and in total,
                                 its log files or journal matches; or one jail in detail
  bans [--json]                  one row per banned address: address, jail, since, until, ban count
                                 (end of ban or "permanent"), in the server's local time
  ban IP [--jail JAIL]           ban an address; --jail is needed when there is more than one
  unban IP [--jail JAIL]         lift a ban (in every jail without --jail)
  unban --all                    lift every ban in every jail

  JSON: status --json gives {"jails": [JAIL…]}, status JAIL --json one JAIL, where JAIL is
    {"name", "failed": {"current", "total"}, "banned": {"current", "total", "addresses": [ip…]},
     "files": [path…], "journal": "matches" or null (null for a jail that reads files)};
  bans --json gives {"bans": [{"ip", "jail", "since", "until", "bantimeSec"}…]}, times as
    "YYYY-mm-dd HH:MM:SS" in the server's local time, "until" null and bantimeSec -1 for a
    permanent ban.

Options:
  -c, --conf DIR   configuration directory (default: ${DEFAULT_BASEDIR}, or portcullis'
                   built-in configuration when that does not exist)
  -s, --socket SOCK  the server's socket (default: "socket" in DIR/fail2ban.conf)
  -h, --help       print this help
  -V, --version    print the version

Exit codes: 0 done, 64 usage (also an unknown jail or an invalid address), 69 the server is
not running, 70 internal error, 77 no permission on the socket, 78 configuration errors.

The fail2ban work-alikes are separate programs: fail2ban-client, fail2ban-regex (works fully)
and fail2ban-server.
`;

/**
 * What `portcullis` needs from the composition root: what its commands need (`regex` needs the
 * most; the server commands need `daemon`: the socket transport and the server runner).
 */
export type PortcullisEnv = RegexCommandEnv & { readonly daemon?: DaemonEnv; readonly demo?: () => DemoLab };

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

/**
 * Runs `portcullis ARGS`; returns the exit code. The server commands answer asynchronously (a
 * promise) and need `env.daemon`: the first signature is the composition root's. An environment
 * typed without a `daemon` (the tests of the local commands) gets a plain number: there the server
 * commands fail at once (70) — unless a `daemon` is present after all.
 */
export function runPortcullis(args: readonly string[], io: CliIo, env: PortcullisEnv & { readonly daemon: DaemonEnv }): number | Promise<number>;
export function runPortcullis(args: readonly string[], io: CliIo, env: PortcullisEnv): number;
export function runPortcullis(args: readonly string[], io: CliIo, env: PortcullisEnv): number | Promise<number> {
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
  if (cmd === 'demo') {
    if (sub !== undefined) {
      io.stderr(`portcullis demo: unexpected argument "${sub}"; see portcullis --help\n`);
      return EX_USAGE;
    }
    // like the server commands, only the composition root's environment (with a daemon) runs it
    if (env.daemon && env.demo) return runDemo(io, env.demo());
    io.stderr('portcullis: "demo" cannot run from here\n');
    return 70;
  }
  if (DAEMON_COMMANDS.has(cmd)) {
    if (env.daemon) return runDaemonCommand(cmd, args.slice(1), io, env.builtinConfigDir, env.daemon);
    io.stderr(`portcullis: "${cmd}" cannot reach a server from here\n`);
    return 70;
  }
  io.stderr(`portcullis: unknown command "${cmd}"; see portcullis --help\n`);
  return EX_USAGE;
}
