/**
 * The server process (fail2ban's `Server.start` … `quit`): log target, pid file, the control
 * socket, signals, the configuration stream when the server reads it itself, the hourly purge,
 * and the orderly shutdown (jails stopped — actions flushed and stopped, positions saved — store
 * closed, socket and pid file removed). Everything real is assembled here.
 */
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { CommandLock } from '../action/commandLock.js';
import { NativeBackendPool } from '../action/firewall/backends.js';
import { ticketValueText } from '../action/actionInfo.js';
import { substituteDynamic } from '../action/dynamicTags.js';
import { ControlServer, ControlServerError, PyExceptionError } from '../control/server.js';
import { createDateTemplateContext } from '../filter/dateTemplates.js';
import type { LocalZone } from '../filter/strptime.js';
import type { IpAddress } from '../shared/ip.js';
import { pyStr, type PyException, type PyValue } from '../shared/pyvalue.js';
import { FAIL2BAN_VERSION } from '../shared/version.js';
import { SystemClock } from '../system/clock.js';
import { ShellRunner } from '../system/exec.js';
import { NodeProcessSpawner } from '../system/interactive.js';
import { LEVEL } from '../system/log.js';
import { GetentResolver } from '../system/resolver.js';
import type { ServerOptions } from '../cli/fail2banServer.js';
import { actionFactory, JailIncrement, logControl, StoreAdapter, storeFactory } from './adapters.js';
import { ServerLogger } from './logTarget.js';
import { Server } from './server.js';
import { sourceFactory } from './sources.js';
import { listenTrap } from '../system/tcpTrap.js';
import { Transmitter } from './transmitter.js';

export interface RunDeps {
  readonly zone: LocalZone;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /**
   * Re-reads the configuration for SIGHUP (a `reload --all` stream), undefined when it fails.
   * fail2ban 1.0.2 has no SIGHUP handler (a daemon ignores the signal, a foreground server dies of
   * it); portcullis reloads, as admins expect of a daemon and as `systemctl reload` may send.
   */
  readonly reloadStream?: () => readonly PyValue[] | undefined;
}

const PURGE_INTERVAL_MS = 3600 * 1000;

/** Runs the server until `stop` or a signal; resolves to the exit code. */
export async function runServer(opts: ServerOptions, stream: readonly (readonly unknown[])[] | undefined, deps: RunDeps): Promise<number> {
  process.umask(0o077);
  const clock = new SystemClock();
  const now = (): number => clock.nowMs() / 1000;
  const logger = new ServerLogger({ pid: process.pid, stdout: { write: deps.stdout }, stderr: { write: deps.stderr }, verbose: opts.verbose });
  logger.setSyslogSocket(opts.syslogsocket);
  logger.setLevel(opts.loglevel);
  logger.setTarget(opts.logtarget);
  const log = logger;
  log.log('fail2ban.server', LEVEL.INFO, '-'.repeat(50));
  log.log('fail2ban.server', LEVEL.INFO, `Starting Fail2ban v${FAIL2BAN_VERSION}`);
  if (opts.daemon) log.log('fail2ban.server', LEVEL.INFO, 'Daemon started');

  const resolver = new GetentResolver(now, 10000, log);
  const runner = new ShellRunner();
  const backends = new NativeBackendPool(new NodeProcessSpawner());
  const host = hostname();
  const hostnameOf = (fqdn: boolean): string => (fqdn ? host : (host.split('.')[0] ?? host));
  let selfIps: { ips: IpAddress[]; until: number } | undefined;
  const getServer = (): Server => server;
  const server: Server = new Server({
    log,
    logControl: logControl(logger),
    now,
    filterEnv: {
      now,
      realClock: now,
      zone: deps.zone,
      dates: createDateTemplateContext({ year: new Date().getFullYear() }),
      resolver,
    },
    sources: sourceFactory({
      log,
      clock,
      positions: () => {
        const db = getServer().database;
        return db instanceof StoreAdapter ? db : undefined;
      },
    }),
    stores: storeFactory(log, now),
    trapListen: listenTrap,
    actions: actionFactory(getServer, { runner, lock: new CommandLock(), log, hostname: hostnameOf, allowIpv6: () => getServer().ipv6Allowed(), now }, {}, backends),
    ignoreEnv: {
      selfIps: () => {
        if (!selfIps || selfIps.until < now()) {
          const ips = [...resolver.resolve('localhost'), ...resolver.resolve(hostnameOf(false)), ...resolver.resolve(hostnameOf(true))];
          selfIps = { ips, until: now() + 300 };
        }
        return selfIps.ips;
      },
      resolve: (name) => resolver.resolve(name),
      readList: (path) => {
        try {
          return readFileSync(path, 'utf8');
        } catch {
          return undefined;
        }
      },
      runCommand: async (command, id, ticket) => {
        // <ip>, <fid> and the failure's <F-*> groups, as fail2ban's ignorecommand gets them (values as arguments, never in the text)
        const fdata = new Map([...(ticket?.data ?? [])].map(([k, v]) => [k, ticketValueText(v)] as const));
        const cmd = substituteDynamic(command, (tag) => (tag === 'ip' || tag === 'fid' ? id.text : undefined), fdata, { hostname: hostnameOf });
        const r = await runner.run(cmd, 60000);
        if (r.code === 0) return true;
        if (r.code === 1) return false;
        log.log('fail2ban.utils', LEVEL.ERROR, `ignorecommand failed (${r.code ?? r.signal ?? r.spawnError}): ${command}`);
        return undefined;
      },
    },
    increment: (_jail, srv) => new JailIncrement(log, () => srv.database),
  });
  const transmitter = new Transmitter(server);

  try {
    mkdirSync(dirname(opts.pidfile), { recursive: true });
    writeFileSync(opts.pidfile, `${process.pid}\n`, { mode: 0o600 });
  } catch (e) {
    log.log('fail2ban.server', LEVEL.ERROR, `Unable to create PID file: ${String(e)}`);
  }

  const control = new ControlServer({
    socketPath: opts.socket,
    force: opts.force,
    log,
    handler: async (args) => {
      const r = await transmitter.proceed(args);
      if (r.code === 1) throw new PyExceptionError(r.value as PyException);
      return r.value;
    },
  });
  try {
    mkdirSync(dirname(opts.socket), { recursive: true });
    if (opts.force) log.log('fail2ban.server', LEVEL.WARNING, 'Forcing execution of the server');
    await control.listen();
  } catch (e) {
    const text = e instanceof ControlServerError ? e.message : String(e);
    log.log('fail2ban.server', LEVEL.ERROR, `Could not start server: ${text}`);
    rmSync(opts.pidfile, { force: true });
    logger.close();
    return 255;
  }

  const done = new Promise<void>((resolve) => (getServer().onQuit = resolve));
  const onTerm = (): void => void getServer().quit();
  const onUsr1 = (): void => void logger.flushLogs();
  const onHup = (): void => {
    logger.log('fail2ban.server', LEVEL.INFO, 'Reloading the configuration on SIGHUP');
    const s = deps.reloadStream?.();
    if (s) void transmitter.proceed(['reload', '--all', [], s]);
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  process.on('SIGUSR1', onUsr1);
  process.on('SIGHUP', onHup);
  const purge = setInterval(() => getServer().purge(), PURGE_INTERVAL_MS);
  purge.unref();

  if (stream) {
    const r = await transmitter.proceed(['server-stream', stream as PyValue]);
    if (r.code === 1) log.log('fail2ban.server', LEVEL.ERROR, `Failed during configuration: ${pyStr(r.value)}`);
  }

  await done;
  clearInterval(purge);
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onTerm);
  process.off('SIGUSR1', onUsr1);
  process.off('SIGHUP', onHup);
  await control.close();
  await backends.close();
  rmSync(opts.pidfile, { force: true });
  log.log('fail2ban.server', LEVEL.INFO, 'Exiting Fail2ban');
  logger.close();
  return 0;
}
