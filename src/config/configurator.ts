/**
 * One configuration load (fail2ban's `Configurator`): `fail2ban.*` and `jail.*` under a base
 * directory, every enabled jail with its filter and actions, and the command stream that
 * `fail2ban-client -d` prints and a server executes.
 */
import { ConfigError, PortcullisError } from '../shared/errors.js';
import type { FileSystem } from '../system/fs.js';
import { ConfigFiles } from './ini/files.js';
import type { OptionValue } from './ini/store.js';
import type { ConfigLog } from './log.js';
import { Fail2banReader } from './readers/fail2ban.js';
import type { StreamCommand } from './readers/filter.js';
import { JailsReader } from './readers/jails.js';

export const DEFAULT_BASEDIR = '/etc/fail2ban';

/** portcullis' default configuration: `/etc/fail2ban` when it exists, else the built-in one. */
export function defaultConfigDir(fs: FileSystem, builtinDir: string): string {
  return fs.stat(DEFAULT_BASEDIR)?.isDirectory ? DEFAULT_BASEDIR : builtinDir;
}

/** fail2ban's `str(exception)` for whatever a load threw. */
export function pythonText(e: unknown): string {
  if (e instanceof ConfigError) return e.pythonMessage;
  return e instanceof Error ? e.message : String(e);
}

/** Where Debian installs `nft`. */
const NFT_PATHS = ['/usr/sbin/nft', '/sbin/nft', '/usr/bin/nft', '/bin/nft'];
/** The built-in configuration's nftables defaults and their iptables equivalents. */
const FIREWALL_SWAPS: readonly (readonly [string, string, string])[] = [
  ['banaction', 'nftables-multiport', 'iptables-multiport'],
  ['banaction_allports', 'nftables-allports', 'iptables-allports'],
];

/** journalctl, and where journald keeps its files (persistent or volatile). */
const JOURNALCTL_PATHS = ['/usr/bin/journalctl', '/bin/journalctl'];
const JOURNAL_DIRS = ['/var/log/journal', '/run/log/journal'];
/** The built-in configuration's service jails read the journal where there is one, else the log files. */
const JOURNAL_SWAPS: readonly (readonly [string, string, string])[] = [['syslog_backend', 'systemd', 'auto']];

export class Configurator {
  files: ConfigFiles;
  fail2ban: Fail2banReader;
  jails: JailsReader;

  constructor(
    private readonly fs: FileSystem,
    basedir: string,
    private readonly log: ConfigLog,
    private readonly forceEnable = false,
  ) {
    this.files = new ConfigFiles(fs, basedir.replace(/\/+$/, ''), log);
    this.fail2ban = new Fail2banReader(this.files);
    this.jails = new JailsReader(this.files, forceEnable);
  }

  get basedir(): string {
    return this.files.basedir;
  }

  /**
   * Forgets what was read so that a new load sees changed files — except fail2ban.conf, which
   * fail2ban's client keeps once read (its reader outlives `Reload()`).
   */
  reload(): void {
    const server = this.files.stores.get('fail2ban');
    this.files = new ConfigFiles(this.fs, this.files.basedir, this.log);
    if (server) this.files.stores.set('fail2ban', server);
    this.fail2ban = new Fail2banReader(this.files);
    this.jails = new JailsReader(this.files, this.forceEnable);
  }

  readEarly(): void {
    this.fail2ban.read();
  }

  readAll(): void {
    this.readEarly();
    this.jails.read();
  }

  getEarlyOptions(): Map<string, OptionValue> {
    return this.fail2ban.getEarlyOptions();
  }

  getOptions(jail: string | undefined, overrides: ReadonlyMap<string, OptionValue>, ignoreWrong: boolean): boolean {
    this.fail2ban.getOptions(overrides);
    return this.jails.getOptions(jail, ignoreWrong);
  }

  convertToProtocol(allowNoFiles: boolean): StreamCommand[] {
    return [...this.fail2ban.convert(), ...this.jails.convert(allowNoFiles)];
  }

  /**
   * portcullis' defaults for a new machine: nftables where `nft` is installed, otherwise iptables;
   * the journal where journald keeps one, otherwise the log files. A `[DEFAULT]` value still at
   * the built-in configuration's (`banaction = nftables-multiport`, `syslog_backend = systemd`)
   * becomes the other, as if a jail.local said so; an explicit choice of anything else is left
   * alone. Returns what was changed, for the log.
   */
  preferInstalledFirewall(): string[] {
    const has = (paths: readonly string[]): boolean => paths.some((p) => this.fs.stat(p) !== undefined);
    const noNft = !has(NFT_PATHS);
    const noJournal = !(has(JOURNALCTL_PATHS) && has(JOURNAL_DIRS));
    const swaps = [...(noNft ? FIREWALL_SWAPS : []), ...(noJournal ? JOURNAL_SWAPS : [])];
    if (swaps.length === 0) return [];
    const defaults = this.files.storeFor('jail').store.defaults;
    const changed: string[] = [];
    for (const [opt, from, to] of swaps) {
      const cur = defaults.get(opt);
      if (cur?.value !== from) continue;
      defaults.set(opt, { ...cur, value: to });
      changed.push(`${opt} = ${to}`);
    }
    const why = [...(noNft ? ['nft is not installed'] : []), ...(noJournal ? ['there is no journal'] : [])].join(' and ');
    if (changed.length > 0) this.log.log('notice', 'portcullis.config', `${why}: using ${changed.join(', ')}`);
    return changed;
  }

  /** The stream with portcullis' own jail options set before the first jail starts. */
  withExtensions(stream: readonly StreamCommand[]): StreamCommand[] {
    const ext = this.jails.extensionCommands();
    const at = stream.findIndex((c) => c[0] === 'start');
    const cut = at < 0 ? stream.length : at;
    return [...stream.slice(0, cut), ...ext, ...stream.slice(cut)];
  }
}

export interface StreamResult {
  /** What fail2ban's client returns: false when the load failed or jails are broken. */
  readonly ok: boolean;
  /** The commands, or undefined when the load was aborted. */
  readonly stream: StreamCommand[] | undefined;
  /** The error that aborted the load. */
  readonly error?: unknown;
}

/** `readConfig`: a full load as `fail2ban-client -d/-t/start` does it. */
export function readConfigStream(
  configurator: Configurator,
  opts: { overrides: ReadonlyMap<string, OptionValue>; ignoreWrong: boolean; allowNoFiles: boolean; jail?: string; extensions?: boolean },
): StreamResult {
  try {
    configurator.reload();
    configurator.readAll();
    if (opts.extensions === true) configurator.preferInstalledFirewall();
    const ok = configurator.getOptions(opts.jail, opts.overrides, opts.ignoreWrong);
    const plain = configurator.convertToProtocol(opts.allowNoFiles);
    // portcullis' own options only go to a server (a `-d` dump stays byte-identical to fail2ban's)
    const stream = opts.extensions === true ? configurator.withExtensions(plain) : plain;
    return { ok, stream };
  } catch (e) {
    if (!(e instanceof PortcullisError)) throw e;
    return { ok: false, stream: undefined, error: e };
  }
}
