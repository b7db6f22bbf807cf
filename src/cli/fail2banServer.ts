/**
 * `fail2ban-server` (and `portcullis server`): fail2ban 1.0.2's server options. With `-f` the
 * server runs in this process and, without `--async`, reads the configuration itself (as
 * fail2ban's in-process client does). With `-b` (the default) a detached copy of this program
 * runs the server: `--async -b` (what `fail2ban-client start` launches) returns once the socket
 * answers and the client sends the configuration; plain `-b` does the client's whole `start`
 * (checks, configuration, `Server ready`), as fail2ban's does. Arguments after the options make
 * it a client (`fail2ban-server status`), as fail2ban's does. SIGHUP: see daemon/run.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Configurator, DEFAULT_BASEDIR, pythonText, readConfigStream } from '../config/configurator.js';
import type { OptionValue } from '../config/ini/store.js';
import { EARLY_OPTIONS } from '../config/readers/fail2ban.js';
import { PortcullisError } from '../shared/errors.js';
import { FAIL2BAN_VERSION } from '../shared/version.js';
import { fail2banUsage } from './clientHelp.js';
import { ClientLog } from './clientLog.js';
import { parseCommandLine } from './fail2banClient.js';
import type { CliIo } from './io.js';

/** What the server process needs: everything the options and fail2ban.conf decide. */
export interface ServerOptions {
  readonly basedir: string;
  readonly socket: string;
  readonly pidfile: string;
  readonly loglevel: string;
  readonly logtarget: string;
  readonly syslogsocket: string;
  /** `-x`: remove a stale socket. */
  readonly force: boolean;
  /** Started by a client (`--async`): wait for the configuration over the socket. */
  readonly async: boolean;
  /** Running detached (the `-b` child): logs "Daemon started". */
  readonly daemon: boolean;
  readonly verbose: number;
}

/** Runs a server in this process until it stops; resolves to the exit code. */
export type ServerRunner = (
  opts: ServerOptions,
  stream: readonly (readonly unknown[])[] | undefined,
  io: CliIo,
  /** Reads the configuration again (SIGHUP); undefined when it cannot be read. */
  reloadStream: () => readonly (readonly unknown[])[] | undefined,
) => Promise<number>;

export interface ServerCliEnv {
  readonly run: ServerRunner;
  /** `fail2ban-server CMD…` acts as the client. */
  readonly client: (argv: readonly string[]) => Promise<number>;
  /** This program's command line prefix for a detached copy (`node dist/cli.mjs fail2ban-server`). */
  readonly selfArgv: readonly string[];
  /** Whether something answers on the socket. */
  readonly ping: (socket: string, timeoutMs: number) => Promise<boolean>;
}

const DEFAULT_SOCKET = '/var/run/fail2ban/fail2ban.sock';

/** Marks the detached child of `-b`, so that it runs in the foreground itself. */
const DAEMON_ENV = 'PORTCULLIS_SERVER_DAEMON';

export async function runFail2banServerCli(prog: string, argv: readonly string[], io: CliIo, env: ServerCliEnv): Promise<number> {
  const log = new ClientLog(io);
  const parsed = parseCommandLine(prog, argv, io, log);
  if ('exit' in parsed) return parsed.exit;
  let basedir = DEFAULT_BASEDIR;
  let background = true;
  let force = false;
  let asyncMode = false;
  let verbose = 1;
  const params = new Map<string, OptionValue>();
  for (const [o, v] of parsed.opts) {
    if (o === '-h' || o === '--help') {
      io.stdout(fail2banUsage(prog));
      return 0;
    }
    if (o === '-V') {
      io.stdout(`${FAIL2BAN_VERSION}\n`);
      return 0;
    }
    if (o === '--version') {
      io.stdout(`Fail2Ban v${FAIL2BAN_VERSION}\n`);
      return 0;
    }
    if (o === '-c' || o === '--conf') basedir = v;
    else if (o === '-s' || o === '--socket') params.set('socket', v);
    else if (o === '-p' || o === '--pidfile') params.set('pidfile', v);
    else if (o === '-f') background = false;
    else if (o === '-b') background = true;
    else if (o === '-x') force = true;
    else if (o === '--async') asyncMode = true;
    else if (o === '-v') verbose++;
    else if (o === '-q') verbose--;
    else if (o === '--loglevel' || o === '--logtarget' || o === '--syslogsocket') params.set(o.slice(2), v);
  }
  if (parsed.rest.length > 0 && !(parsed.rest.length === 1 && parsed.rest[0] === 'start')) return env.client(argv);
  log.setUp(verbose);
  const daemonChild = process.env[DAEMON_ENV] === '1';
  // The daemon's own children (action commands) must not inherit the mark.
  if (daemonChild) delete process.env[DAEMON_ENV];
  if (background && !daemonChild && !asyncMode) return startInBackground(argv, parsed.rest.length > 0, socketOf(io, basedir, params), env, log);

  const configurator = new Configurator(io.fs, basedir, log);
  let stream: readonly (readonly unknown[])[] | undefined;
  try {
    configurator.readEarly();
    const early = configurator.getEarlyOptions();
    for (const [name] of EARLY_OPTIONS) if (!params.has(name) && early.has(name)) params.set(name, early.get(name) ?? null);
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
    log.error(`Failed during configuration: ${pythonText(e)}`);
    return 255;
  }
  const str = (k: string, d: string): string => {
    const v = params.get(k);
    return typeof v === 'string' ? v : d;
  };
  const opts: ServerOptions = {
    basedir,
    socket: str('socket', DEFAULT_SOCKET),
    pidfile: str('pidfile', '/var/run/fail2ban/fail2ban.pid'),
    loglevel: str('loglevel', 'INFO'),
    logtarget: str('logtarget', '/var/log/fail2ban.log'),
    syslogsocket: str('syslogsocket', 'auto'),
    force,
    async: asyncMode,
    daemon: daemonChild,
    verbose,
  };

  if (background && !daemonChild) return detach(argv, opts, env, log);

  const overrides = new Map([...params].filter(([k]) => k === 'loglevel' || k === 'logtarget' || k === 'syslogsocket'));
  const read = (): readonly (readonly unknown[])[] | undefined => {
    const r = readConfigStream(configurator, { overrides, ignoreWrong: true, allowNoFiles: false, extensions: true });
    if (r.error !== undefined) log.error(`Failed during configuration: ${pythonText(r.error)}`);
    return r.stream;
  };
  if (!asyncMode) {
    stream = read();
    if (!stream) return 255;
  }
  return env.run(opts, stream, io, read);
}

/**
 * `-b` without `--async` (fail2ban's `configureServer` beside a daemonising server): what
 * `fail2ban-client start` does — the same checks, the configuration read here, the server started
 * with `--async -b`, then configured over the socket, `Server ready` printed. When the
 * configuration never reached a server fail2ban adds "Async configuration of server failed".
 */
async function startInBackground(argv: readonly string[], hasStart: boolean, socket: string, env: ServerCliEnv, log: ClientLog): Promise<number> {
  const wasRunning = await env.ping(socket, 100);
  const code = await env.client(hasStart ? argv : [...argv, 'start']);
  if (code !== 0 && (wasRunning || !(await env.ping(socket, 500)))) log.error('Async configuration of server failed');
  return code;
}

/** The socket `-s` or fail2ban.conf names, read quietly (the client run reports what is wrong). */
function socketOf(io: CliIo, basedir: string, params: ReadonlyMap<string, OptionValue>): string {
  const given = params.get('socket');
  if (typeof given === 'string') return given;
  const configurator = new Configurator(io.fs, basedir, new ClientLog({ ...io, stderr: () => undefined }));
  try {
    configurator.readEarly();
    const v = configurator.getEarlyOptions().get('socket');
    if (typeof v === 'string') return v;
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
  }
  return DEFAULT_SOCKET;
}

/** `-b`: a detached copy runs the server (own session, cwd `/`, no terminal); we wait until it answers. */
async function detach(argv: readonly string[], opts: ServerOptions, env: ServerCliEnv, log: ClientLog): Promise<number> {
  if (existsSync(opts.socket) && !opts.force && (await env.ping(opts.socket, 500))) {
    log.error('Server already running');
    return 255;
  }
  const [cmd, ...pre] = env.selfArgv;
  const child = spawn(cmd as string, [...pre, ...argv, '-f'], {
    cwd: '/',
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, [DAEMON_ENV]: '1' },
  });
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code));
  child.unref();
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    if (exited !== undefined) {
      log.error('Could not start server');
      return 255;
    }
    if (await env.ping(opts.socket, 500)) return 0;
    await new Promise((r) => setTimeout(r, 50));
  }
  log.error('Could not start server: timeout waiting for the socket');
  return 255;
}
