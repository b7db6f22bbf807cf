/** All jail sections of `jail.conf` and friends (fail2ban's `JailsReader`). */
import type { ConfigFiles } from '../ini/files.js';
import type { ConfigStore } from '../ini/store.js';
import { JailReader } from './jail.js';
import type { StreamCommand } from './filter.js';

const PORTTRAP = 'porttrap';

export class JailsReader {
  /** Enabled jails and jails in error, in section order. */
  readonly jails: JailReader[] = [];
  private store: ConfigStore | undefined;

  constructor(
    private readonly files: ConfigFiles,
    private readonly forceEnable = false,
  ) {}

  read(): boolean {
    const entry = this.files.storeFor('jail');
    this.store = entry.store;
    return entry.read;
  }

  /** Section names that are jails. */
  sectionNames(): string[] {
    return (this.store?.sectionNames() ?? []).filter((s) => s !== 'INCLUDES');
  }

  /**
   * Reads every jail (or only `section`). True as fail2ban's client counts success: with
   * `ignoreWrong`, when some jail is good; otherwise only when no jail is broken.
   */
  getOptions(section?: string, ignoreWrong = true): boolean {
    const store = this.store ?? this.files.storeFor('jail').store;
    let status = 0;
    for (const sec of section === undefined ? this.sectionNames() : [section]) {
      const jail = new JailReader(this.files, store, sec, this.forceEnable);
      if (jail.getOptions()) {
        if (jail.isEnabled()) {
          status |= 1;
          this.jails.push(jail);
        }
      } else {
        this.files.log.log('error', 'fail2ban.jailsreader', `Errors in jail '${sec}'.${ignoreWrong ? ' Skipping...' : ''}`);
        this.jails.push(jail);
        status |= 2;
      }
    }
    return (ignoreWrong && (status & 1) !== 0) || (status & 2) === 0;
  }

  /**
   * portcullis' own jail options (only `porttrap` so far), as `set JAIL OPTION VALUE` commands for
   * portcullis' server. Read from the jail's own section only: a `[DEFAULT]` port trap would have
   * every jail open the same port. Not part of fail2ban's stream (`-d` stays fail2ban's).
   */
  extensionCommands(): StreamCommand[] {
    const store = this.store;
    if (!store) return [];
    const out: StreamCommand[] = [];
    for (const jail of this.jails) {
      if (jail.options.get('config-error') || !store.sections.get(jail.name)?.has(PORTTRAP)) continue;
      const found = store.lookup(jail.name, PORTTRAP);
      if ('value' in found && found.value !== null) out.push(['set', jail.name, PORTTRAP, found.value]);
    }
    return out;
  }

  convert(allowNoFiles: boolean): StreamCommand[] {
    const stream: StreamCommand[] = [];
    for (const jail of this.jails) stream.push(...jail.convert(allowNoFiles));
    for (const jail of this.jails) if (!jail.options.get('config-error')) stream.push(['start', jail.name]);
    return stream;
  }
}
