/**
 * `portcullis config check|dump`: the whole configuration read with fault isolation (one broken
 * jail or file does not hide the others), every problem located, and the typed result.
 */
import { ConfigError, PortcullisError, type SourceLocation } from '../shared/errors.js';
import { parseDurationSeconds } from '../shared/duration.js';
import type { FileSystem } from '../system/fs.js';
import { Configurator } from './configurator.js';
import { pyGlob } from './ini/glob.js';
import { pyJoin } from './ini/pypath.js';
import { pyStr, type OptionValue } from './ini/store.js';
import { CollectingLog } from './log.js';
import type { CheckedConfiguration, JailConfig, Problem, ServerConfig } from './model.js';
import { buildJailConfig } from './buildJail.js';
import { JailReader } from './readers/jail.js';

const CONFIG_GLOBS = ['*.conf', '*.local', '*.d/*.conf', '*.d/*.local', 'filter.d/*.d/*.conf', 'filter.d/*.d/*.local', 'action.d/*.d/*.conf', 'action.d/*.d/*.local'];

function problemFrom(e: unknown, jail?: string): Problem {
  const err = e instanceof ConfigError ? e : undefined;
  const loc: SourceLocation | undefined = err?.location ? { ...err.location, ...(jail === undefined ? {} : { jail }) } : jail === undefined ? undefined : { file: '', jail };
  const code = e instanceof PortcullisError ? e.code : 'E_INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  return { severity: 'error', code, message, location: loc };
}

/** Parses every configuration file on its own, so that each syntax error is reported. */
function syntaxProblems(configurator: Configurator, fs: FileSystem, basedir: string): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const g of CONFIG_GLOBS) {
    for (const path of pyGlob(fs, pyJoin(basedir, g)).sort()) {
      if (seen.has(path)) continue;
      seen.add(path);
      try {
        configurator.files.parseFile(path);
      } catch (e) {
        problems.push(problemFrom(e));
      }
    }
  }
  return problems;
}

function serverConfig(configurator: Configurator, problems: Problem[]): ServerConfig {
  const early = configurator.getEarlyOptions();
  configurator.fail2ban.getOptions(new Map([...early].filter(([k]) => k !== 'socket' && k !== 'pidfile')));
  const o = configurator.fail2ban.opts;
  const get = (k: string, d: string): string => pyStr((o.get(k) as OptionValue | undefined) ?? (early.get(k) ?? d));
  const file = pyJoin(configurator.basedir, 'fail2ban.conf');
  const purge = parseDurationSeconds(get('dbpurgeage', '1d'));
  if (purge === undefined) problems.push({ severity: 'error', code: 'E_BAD_TIME', message: `dbpurgeage = ${JSON.stringify(get('dbpurgeage', '1d'))} is not a time; use e.g. 1d or 86400`, location: { file } });
  const maxMatches = o.get('dbmaxmatches');
  const dbfile = get('dbfile', '/var/lib/fail2ban/fail2ban.sqlite3');
  return {
    loglevel: get('loglevel', 'INFO'),
    logtarget: get('logtarget', '/var/log/fail2ban.log'),
    syslogsocket: get('syslogsocket', 'auto'),
    socket: pyStr(early.get('socket') ?? '/var/run/fail2ban/fail2ban.sock'),
    pidfile: pyStr(early.get('pidfile') ?? '/var/run/fail2ban/fail2ban.pid'),
    allowipv6: get('allowipv6', 'auto'),
    dbfile: dbfile === 'None' ? null : dbfile,
    dbmaxmatches: typeof maxMatches === 'number' ? maxMatches : 10,
    dbpurgeageSec: purge ?? 86400,
  };
}

function checkJail(configurator: Configurator, name: string, problems: Problem[]): JailConfig | undefined {
  const store = configurator.files.storeFor('jail').store;
  const jail = new JailReader(configurator.files, store, name);
  try {
    if (!jail.getOptions()) {
      problems.push(problemFrom(jail.error, name));
      return undefined;
    }
    if (!jail.isEnabled()) return undefined;
    let stream;
    try {
      stream = jail.convert(false);
    } catch (e) {
      if (!(e instanceof ConfigError && e.code === 'E_NO_LOGFILE')) throw e;
      problems.push(problemFrom(e, name));
      stream = jail.convert(true);
    }
    const built = buildJailConfig(jail, stream, store.originOf(name, 'enabled') ?? jail.locate('enabled'));
    problems.push(...built.problems);
    return built.jail;
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
    problems.push(problemFrom(e, name));
    return undefined;
  }
}

/** fail2ban's own defaults, for a directory that cannot be read. */
const DEFAULT_SERVER: ServerConfig = {
  loglevel: 'INFO',
  logtarget: '/var/log/fail2ban.log',
  syslogsocket: 'auto',
  socket: '/var/run/fail2ban/fail2ban.sock',
  pidfile: '/var/run/fail2ban/fail2ban.pid',
  allowipv6: 'auto',
  dbfile: '/var/lib/fail2ban/fail2ban.sqlite3',
  dbmaxmatches: 10,
  dbpurgeageSec: 86400,
};

/** Reader log lines that the problems already say better (or that are fail2ban's normal chatter). */
const NOISE = /^'[\w.]+' not defined in 'Definition'\. Using default one|^Have not found any log file|^Errors in jail|^No file\(s\) found|^Found no accessible config files|^Wrong value for|^Unable to read (?:the filter|action)|^Invalid (?:filter|action) definition/;

/** Reads everything under `basedir`; never throws for a configuration problem. */
export function checkConfiguration(fs: FileSystem, basedir: string): CheckedConfiguration {
  const log = new CollectingLog();
  const configurator = new Configurator(fs, basedir, log);
  const problems: Problem[] = [];
  if (!fs.stat(configurator.basedir)?.isDirectory) {
    problems.push({ severity: 'error', code: 'E_NO_BASEDIR', message: `Configuration directory ${configurator.basedir} does not exist`, location: { file: configurator.basedir } });
  } else problems.push(...syntaxProblems(configurator, fs, configurator.basedir));
  let server: ServerConfig | undefined;
  const jails: JailConfig[] = [];
  try {
    configurator.readAll();
    try {
      server = serverConfig(configurator, problems);
    } catch (e) {
      if (!(e instanceof PortcullisError)) throw e;
      problems.push(problemFrom(e));
    }
    for (const name of configurator.jails.sectionNames()) {
      const jail = checkJail(configurator, name, problems);
      if (jail) jails.push(jail);
    }
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
    const p = problemFrom(e);
    if (!problems.some((q) => q.message === p.message)) problems.push(p);
  }
  for (const entry of log.entries) {
    if ((entry.level === 'warning' || entry.level === 'error') && !NOISE.test(entry.message) && !problems.some((p) => p.message.includes(entry.message))) {
      problems.push({ severity: entry.level, code: 'E_READER', message: entry.message, location: undefined });
    }
  }
  return { basedir: configurator.basedir, server: server ?? DEFAULT_SERVER, jails, problems };
}
