/**
 * The validated, typed configuration the rest of portcullis consumes. Nothing downstream sees
 * "10m" or an unparsed action argument: durations are seconds, flags are booleans, lists are arrays.
 */
import type { SourceLocation } from '../shared/errors.js';

export type UseDns = 'yes' | 'warn' | 'no' | 'raw';
export type BackendKind = 'auto' | 'polling' | 'pyinotify' | 'gamin' | 'systemd';

export interface LogPathPattern {
  /** As written: a path or a glob (`*`, `?`, `[…]`). */
  readonly pattern: string;
  readonly tail: boolean;
}

export interface LogPathConfig {
  /** A file the glob matched now. */
  readonly path: string;
  /** Start at the end of the file (`tail`) rather than the beginning (`head`). */
  readonly tail: boolean;
}

export interface FilterConfig {
  /** The filter file name as the jail names it (`sshd`), with its `[k=v]` arguments. */
  readonly name: string;
  readonly args: Readonly<Record<string, string>>;
  readonly usedns: UseDns;
  readonly prefregex: string | undefined;
  readonly failregex: readonly string[];
  readonly ignoreregex: readonly string[];
  readonly maxlines: number;
  readonly datepattern: string | undefined;
  /** Each line of `journalmatch`, split into its `FIELD=value` / `+` tokens. */
  readonly journalmatch: ReadonlyArray<readonly string[]>;
}

export interface BanTimeIncrement {
  readonly enabled: boolean;
  readonly factor: number | undefined;
  readonly formula: string | undefined;
  readonly multipliers: readonly number[];
  readonly maxtimeSec: number | undefined;
  readonly rndtimeSec: number | undefined;
  readonly overalljails: boolean;
}

export interface ActionConfig {
  /** The action's unique name in the jail (`iptables-multiport`, `sendmail-whois-lines`…). */
  readonly name: string;
  readonly kind: 'command' | 'python';
  /** For command actions: every option and argument with its resolved value. */
  readonly properties: Readonly<Record<string, string | boolean | number | null>>;
  /** For Python actions: the file and its JSON arguments. */
  readonly pythonFile?: string;
  readonly pythonArgs?: string;
}

export interface JailConfig {
  readonly name: string;
  readonly backend: BackendKind;
  /** `backend` arguments, e.g. `systemd[journalflags=1]`. */
  readonly backendArgs: string;
  readonly filter: FilterConfig | undefined;
  readonly maxretry: number;
  readonly maxmatches: number;
  readonly findtimeSec: number;
  /** Ban duration in seconds; negative means permanent. */
  readonly bantimeSec: number;
  readonly bantimeIncrement: BanTimeIncrement;
  readonly ignoreip: readonly string[];
  readonly ignoreself: boolean;
  readonly ignorecommand: string;
  readonly ignorecache: string | undefined;
  /** The files the globs match now. */
  readonly logpaths: readonly LogPathConfig[];
  /** The `logpath` lines as written, for files that appear later (empty for journal backends). */
  readonly logpathPatterns: readonly LogPathPattern[];
  readonly logencoding: string;
  readonly logtimezone: string | undefined;
  readonly actions: readonly ActionConfig[];
  /** Where the jail's section starts. */
  readonly source: SourceLocation | undefined;
}

export interface ServerConfig {
  readonly loglevel: string;
  readonly logtarget: string;
  readonly syslogsocket: string;
  readonly socket: string;
  readonly pidfile: string;
  readonly allowipv6: string;
  /** null when the database is disabled (`dbfile = None`). */
  readonly dbfile: string | null;
  readonly dbmaxmatches: number;
  readonly dbpurgeageSec: number;
}

export type Severity = 'error' | 'warning';

/** One problem found in the configuration: what is wrong, what would be accepted, and where. */
export interface Problem {
  readonly severity: Severity;
  readonly code: string;
  readonly message: string;
  readonly location: SourceLocation | undefined;
}

export interface CheckedConfiguration {
  readonly basedir: string;
  readonly server: ServerConfig;
  readonly jails: readonly JailConfig[];
  readonly problems: readonly Problem[];
}
