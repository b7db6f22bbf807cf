/**
 * `fail2ban-client` work-alike: the options and texts of fail2ban 1.0.2's client. Exit code 0 on
 * success and 255 on any failure, as fail2ban's.
 */
import { pythonText, Configurator, DEFAULT_BASEDIR, readConfigStream } from '../config/configurator.js';
import type { OptionValue } from '../config/ini/store.js';
import { EARLY_OPTIONS, logLevelValue } from '../config/readers/fail2ban.js';
import { str2seconds } from '../shared/duration.js';
import { PortcullisError } from '../shared/errors.js';
import { pyPformat } from '../shared/pprint.js';
import { pyNumber, pyRepr, pyStr } from '../shared/pyvalue.js';
import { FAIL2BAN_VERSION } from '../shared/version.js';
import { fail2banUsage } from './clientHelp.js';
import { runClientCommand, type ClientEnv, type ClientSettings } from './clientFlow.js';
import { ClientLog } from './clientLog.js';
import { getopt, GetoptError, type ParsedOption } from './getopt.js';
import type { CliIo } from './io.js';

const SHORT = 'hc:s:p:xfbdtviqV';
const LONG: readonly string[] = ['loglevel=', 'logtarget=', 'syslogsocket=', 'test', 'async', 'conf=', 'pidfile=', 'pname=', 'socket=', 'timeout=', 'str2sec=', 'help', 'version', 'dp', 'dump-pretty'];
const CONFIG_PARAMS = ['socket', 'pidfile', 'logtarget', 'loglevel', 'syslogsocket'] as const;
export const EXIT_FAILURE = 255;

interface ClientConf {
  basedir: string;
  verbose: number;
  dump: 0 | 1 | 2;
  test: boolean;
  force: boolean;
  interactive: boolean;
  background: boolean;
  timeoutSec: number;
  params: Map<string, OptionValue>;
}

/** fail2ban's `MAX_WAITTIME`: how long `start` waits for the server by default. */
const DEFAULT_TIMEOUT_SEC = 30;

/** Outcome of reading the options: a finished exit code, or the settings to go on with. */
type OptionsOutcome = { exit: number } | { conf: ClientConf };

function applyOptions(prog: string, opts: readonly ParsedOption[], io: CliIo): OptionsOutcome {
  const conf: ClientConf = {
    basedir: DEFAULT_BASEDIR,
    verbose: 1,
    dump: 0,
    test: false,
    force: false,
    interactive: false,
    background: true,
    timeoutSec: DEFAULT_TIMEOUT_SEC,
    params: new Map(),
  };
  for (const [o, v] of opts) {
    if (o === '-c' || o === '--conf') conf.basedir = v;
    else if (o === '-s' || o === '--socket') conf.params.set('socket', v);
    else if (o === '-p' || o === '--pidfile') conf.params.set('pidfile', v);
    else if (o === '-d') conf.dump = 1;
    else if (o === '--dp' || o === '--dump-pretty') conf.dump = 2;
    else if (o === '-t' || o === '--test') conf.test = true;
    else if (o === '-v') conf.verbose++;
    else if (o === '-q') conf.verbose--;
    else if (o === '-x') conf.force = true;
    else if (o === '-i') conf.interactive = true;
    else if (o === '-b' || o === '-f') conf.background = o === '-b';
    else if (o === '--str2sec') {
      io.stdout(pyRepr(str2seconds(v)) + '\n');
      return { exit: 0 };
    } else if (o === '-h' || o === '--help') {
      io.stdout(fail2banUsage(prog));
      return { exit: 0 };
    } else if (o === '-V' || o === '--version') {
      io.stdout((o === '-V' ? FAIL2BAN_VERSION : `Fail2Ban v${FAIL2BAN_VERSION}`) + '\n');
      return { exit: 0 };
    } else if (o === '--timeout') {
      conf.timeoutSec = pyNumber(str2seconds(v));
    } else if (o === '--async') continue;
    else if (o.startsWith('--')) conf.params.set(o.slice(2), v);
  }
  return { conf };
}

function dumpStream(io: CliIo, stream: readonly (readonly unknown[])[], pretty: boolean): void {
  let out = '';
  for (const cmd of stream) out += (pretty ? pyPformat(cmd as never, 1000, 2) : pyRepr(cmd as never)) + '\n';
  io.stdout(out);
}

type ConfigReader = (jail?: string) => ReturnType<typeof readConfigStream>;

/** fail2ban's `readConfig(jail)`: a full load, its failure logged as fail2ban logs it. */
function configReader(conf: ClientConf, configurator: Configurator, log: ClientLog): ConfigReader {
  const overrides = new Map([...conf.params].filter(([k]) => k === 'loglevel' || k === 'logtarget' || k === 'syslogsocket'));
  return (jail) => {
    const opts = { overrides, ignoreWrong: !conf.test, allowNoFiles: conf.dump !== 0, extensions: conf.dump === 0 };
    const r = readConfigStream(configurator, jail === undefined ? opts : { ...opts, jail });
    if (r.error !== undefined) log.error(`Failed during configuration: ${pythonText(r.error)}`);
    return r;
  };
}

/** Fills socket, pidfile and the log settings not given on the command line from fail2ban.conf. */
function readEarlyParams(conf: ClientConf, configurator: Configurator): void {
  if (CONFIG_PARAMS.some((p) => !conf.params.has(p))) {
    configurator.readEarly();
    const early = configurator.getEarlyOptions();
    for (const [name] of EARLY_OPTIONS) if (!conf.params.has(name) && early.has(name)) conf.params.set(name, early.get(name) ?? null);
  }
  logLevelValue(conf.params.get('loglevel') ?? 'INFO');
}

/** Runs -d / --dp / -t; returns an exit code, or undefined to go on. */
function configCommands(conf: ClientConf, args: readonly string[], io: CliIo, log: ClientLog, read: ConfigReader): number | undefined {
  let result: ReturnType<typeof readConfigStream> | undefined;
  if (conf.dump !== 0) {
    result = read();
    if (result.stream) dumpStream(io, result.stream, conf.dump === 2);
    else io.stdout('ERROR: The configuration stream failed because of the invalid syntax.\n');
    if (!conf.test) return result.ok ? 0 : failInit(log);
  }
  if (conf.test) {
    result ??= read();
    if (!result.ok) {
      log.error('ERROR: test configuration failed');
      return EXIT_FAILURE;
    }
    if (args.length === 0) {
      io.stdout('OK: configuration test is successful\n');
      return 0;
    }
  }
  return undefined;
}

function failInit(log: ClientLog): number {
  log.error('Init of command line failed');
  return EXIT_FAILURE;
}

/**
 * fail2ban's common command line (client and server share fail2bancmdline.py): the options and
 * the rest, or — for an unknown option — the usage printed, the failure logged and exit 255.
 */
export function parseCommandLine(prog: string, argv: readonly string[], io: CliIo, log: ClientLog): ReturnType<typeof getopt> | { exit: number } {
  try {
    return getopt(argv, SHORT, LONG);
  } catch (e) {
    if (!(e instanceof GetoptError)) throw e;
    io.stdout(fail2banUsage(prog));
    return { exit: failInit(log) };
  }
}

/** The settings the command flows need, from the options and fail2ban.conf. */
function clientSettings(conf: ClientConf): ClientSettings {
  const param = (name: string): string => {
    const v = conf.params.get(name) ?? EARLY_OPTIONS.find(([n]) => n === name)?.[2] ?? null;
    return pyStr(v);
  };
  return {
    socket: param('socket'),
    pidfile: param('pidfile'),
    loglevel: param('loglevel'),
    logtarget: param('logtarget'),
    syslogsocket: param('syslogsocket'),
    verbose: conf.verbose,
    force: conf.force,
    background: conf.background,
    interactive: conf.interactive,
    timeoutSec: conf.timeoutSec,
  };
}

/** Runs `fail2ban-client ARGS`; returns the exit code. `env` carries the socket, the server launcher and `-i`'s input. */
export async function runFail2banClient(prog: string, argv: readonly string[], io: CliIo, env: ClientEnv): Promise<number> {
  const log = new ClientLog(io);
  const parsed = parseCommandLine(prog, argv, io, log);
  if ('exit' in parsed) return parsed.exit;
  let outcome: OptionsOutcome;
  try {
    outcome = applyOptions(prog, parsed.opts, io);
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
    io.stdout(`ERROR: ${pythonText(e)}\n`);
    return failInit(log);
  }
  if ('exit' in outcome) return outcome.exit;
  const { conf } = outcome;
  log.setUp(conf.verbose);
  const configurator = new Configurator(io.fs, conf.basedir, log);
  let read: ConfigReader;
  try {
    readEarlyParams(conf, configurator);
    read = configReader(conf, configurator, log);
    const code = configCommands(conf, parsed.rest, io, log, read);
    if (code !== undefined) return code;
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
    io.stdout(`ERROR: ${pythonText(e)}\n`);
    return failInit(log);
  }
  if (parsed.rest.length === 0 && !conf.interactive) {
    io.stdout(fail2banUsage(prog));
    return EXIT_FAILURE;
  }
  return runClientCommand(parsed.rest, { settings: clientSettings(conf), io, log, env, readConfig: read, usage: () => fail2banUsage(prog) });
}
