/**
 * fail2ban-regex's command line (client/fail2banregex.py 1.0.2, `get_opt_parser`): its options as
 * optparse parses them, its help text (fail2ban overrides `format_help` with the full usage), and
 * the default of `-e/--encoding`, Python's preferred encoding worked out from the environment.
 */
import { FAIL2BAN_VERSION } from '../shared/version.js';
import type { FileSystem } from '../system/fs.js';
import type { CliIo } from './io.js';
import { OptionParser, type OptValue } from './optparse.js';

export interface RegexToolOptions {
  readonly config: string;
  readonly datepattern: string | undefined;
  readonly timezone: string | undefined;
  readonly encoding: string;
  readonly raw: boolean;
  readonly usedns: string | undefined;
  readonly maxlines: number;
  readonly journalmatch: string | undefined;
  readonly logLevel: string;
  readonly verbose: number;
  readonly verboseDate: boolean;
  readonly debuggex: boolean;
  readonly checkAllRegex: boolean;
  readonly out: string | undefined;
  readonly printNoMissed: boolean;
  readonly printNoIgnored: boolean;
  readonly printAllMatched: boolean;
  readonly printAllMissed: boolean;
  readonly printAllIgnored: boolean;
  readonly logTraceback: boolean;
  readonly fullTraceback: boolean;
}

export type RegexParse =
  | { readonly kind: 'run'; readonly options: RegexToolOptions; readonly args: string[] }
  | { readonly kind: 'exit'; readonly code: number };

export type Env = Readonly<Record<string, string | undefined>>;

// ---------------------------------------------------------------------------------------------
// The help text around optparse's option list

const DOC = `
Fail2Ban  reads log file that contains password failure report
and bans the corresponding IP addresses using firewall rules.

This tools can test regular expressions for "fail2ban".
`;

const ARGUMENTS = `
LOG:
  string                a string representing a log line
  filename              path to a log file (/var/log/auth.log)
  systemd-journal       search systemd journal (systemd-python required),
                        optionally with backend parameters, see \`man jail.conf\`
                        for usage and examples (systemd-journal[journalflags=1]).

REGEX:
  string                a string representing a 'failregex'
  filter                name of filter, optionally with options (sshd[mode=aggressive])
  filename              path to a filter file (filter.d/sshd.conf)

IGNOREREGEX:
  string                a string representing an 'ignoreregex'
  filename              path to a filter file (filter.d/sshd.conf)

`;

const COPYRIGHT = `Copyright (c) 2004-2008 Cyril Jaquier, 2008- Fail2Ban Contributors
Copyright of modifications held by their respective authors.
Licensed under the GNU General Public License v2 (GPL).

Written by Cyril Jaquier <cyril.jaquier@fail2ban.org>.
Many contributions by Yaroslav O. Halchenko, Steven Hiscocks, Sergey G. Brester (sebres).`;

/** The usage line: fail2ban puts `sys.argv[0]` in it, the path as invoked (not `%prog`). */
const usage = (argv0: string): string => `${argv0} [OPTIONS] <LOG> <REGEX> [IGNOREREGEX]`;

/** `_f2bOptParser`: the help is the full usage around optparse's option list. */
class RegexOptionParser extends OptionParser {
  override formatHelp(): string {
    // fail2ban clears the usage here, so optparse's own help does not repeat it.
    this.usage = '';
    return `Usage: ${usage(this.argv0)}\n${DOC}${ARGUMENTS}${super.formatHelp()}\n\nReport bugs to https://github.com/fail2ban/fail2ban/issues\n\n${COPYRIGHT}\n`;
  }
}

function regexParser(argv0: string, env: Env): RegexOptionParser {
  const p = new RegexOptionParser({ argv0, usage: usage(argv0), version: `%prog ${FAIL2BAN_VERSION}`, columns: env.COLUMNS });
  p.addOption(['-c', '--config'], { default: '/etc/fail2ban', help: 'set alternate config directory' });
  p.addOption(['-d', '--datepattern'], { help: 'set custom pattern used to match date/times' });
  p.addOption(['--timezone', '--TZ'], { help: 'set time-zone used by convert time format' });
  // The default (Python's preferred encoding) is filled in after parsing, only when needed.
  p.addOption(['-e', '--encoding'], { help: 'File encoding. Default: system locale' });
  p.addOption(['-r', '--raw'], { action: 'store_true', default: false, help: "Raw hosts, don't resolve dns" });
  p.addOption(['--usedns'], {
    help: "DNS specified replacement of tags <HOST> in regexp ('yes' - matches all form of hosts, 'no' - IP addresses only)",
  });
  p.addOption(['-L', '--maxlines'], { type: 'int', default: 0, help: 'maxlines for multi-line regex.' });
  p.addOption(['-m', '--journalmatch'], { help: 'journalctl style matches overriding filter file. "systemd-journal" only' });
  p.addOption(['-l', '--log-level'], { dest: 'log_level', default: 'critical', help: 'Log level for the Fail2Ban logger to use' });
  p.addOption(['-V'], {
    action: 'callback',
    callback: (parser, _opt, out) => {
      out.stdout(`${FAIL2BAN_VERSION}\n`);
      parser.exit(0);
    },
    help: 'get version in machine-readable short format',
  });
  p.addOption(['-v', '--verbose'], { action: 'count', dest: 'verbose', default: 0, help: 'Increase verbosity' });
  p.addOption(['--verbosity'], { dest: 'verbose', type: 'int', help: 'Set numerical level of verbosity (0..4)' });
  p.addOption(['--verbose-date', '--VD'], { action: 'store_true', help: 'Verbose date patterns/regex in output' });
  p.addOption(['-D', '--debuggex'], { action: 'store_true', help: 'Produce debuggex.com urls for debugging there' });
  p.addOption(['--no-check-all'], { action: 'store_false', dest: 'checkAllRegex', default: true, help: "Disable check for all regex's" });
  p.addOption(['-o', '--out'], {
    dest: 'out',
    help: 'Set token to print failure information only (row, id, ip, msg, host, ip4, ip6, dns, matches, ...)',
  });
  p.addOption(['--print-no-missed'], { action: 'store_true', help: 'Do not print any missed lines' });
  p.addOption(['--print-no-ignored'], { action: 'store_true', help: 'Do not print any ignored lines' });
  p.addOption(['--print-all-matched'], { action: 'store_true', help: 'Print all matched lines' });
  p.addOption(['--print-all-missed'], { action: 'store_true', help: 'Print all missed lines, no matter how many' });
  p.addOption(['--print-all-ignored'], { action: 'store_true', help: 'Print all ignored lines, no matter how many' });
  p.addOption(['-t', '--log-traceback'], { action: 'store_true', help: 'Enrich log-messages with compressed tracebacks' });
  p.addOption(['--full-traceback'], { action: 'store_true', help: 'Either to make the tracebacks full, not compressed (as by default)' });
  return p;
}

/** The full `-h` text; `argv0` is the program as invoked (Python's `sys.argv[0]`). */
export function regexHelp(argv0: string, env: Env): string {
  return regexParser(argv0, env).formatHelp();
}

/**
 * Parses fail2ban-regex's arguments as optparse does. `argv0` is the program as invoked (Python's
 * `sys.argv[0]`: the usage line shows it whole, `--version` and errors its basename). Help,
 * version and errors are printed here and come back as `{ kind: 'exit' }`.
 */
export function parseRegexArgs(argv0: string, argv: readonly string[], io: CliIo, env: Env): RegexParse {
  const r = regexParser(argv0, env).parseArgs(argv, io);
  if (r.kind === 'exit') return r;
  const v = r.values;
  const str = (k: string): string | undefined => {
    const x = v.get(k);
    return x === null || x === undefined ? undefined : String(x);
  };
  const flag = (k: string): boolean => truthy(v.get(k));
  const int = (k: string): number => {
    const x = v.get(k);
    return typeof x === 'number' ? x : typeof x === 'boolean' ? Number(x) : 0;
  };
  const options: RegexToolOptions = {
    config: str('config') ?? '',
    datepattern: str('datepattern'),
    timezone: str('timezone'),
    encoding: str('encoding') ?? preferredEncoding(env, io.fs),
    raw: flag('raw'),
    usedns: str('usedns'),
    maxlines: int('maxlines'),
    journalmatch: str('journalmatch'),
    logLevel: str('log_level') ?? '',
    verbose: int('verbose'),
    verboseDate: flag('verbose_date'),
    debuggex: flag('debuggex'),
    checkAllRegex: flag('checkAllRegex'),
    out: str('out'),
    printNoMissed: flag('print_no_missed'),
    printNoIgnored: flag('print_no_ignored'),
    printAllMatched: flag('print_all_matched'),
    printAllMissed: flag('print_all_missed'),
    printAllIgnored: flag('print_all_ignored'),
    logTraceback: flag('log_traceback'),
    fullTraceback: flag('full_traceback'),
  };
  return { kind: 'run', options, args: r.args };
}

/** Python's truth of an option value. */
function truthy(x: OptValue | undefined): boolean {
  return x !== null && x !== undefined && x !== false && x !== 0 && x !== '';
}

// ---------------------------------------------------------------------------------------------
// The default encoding: fail2ban's PREFER_ENC under Debian's Python 3.11 and glibc

const LOCALE_DIR = '/usr/lib/locale';
const LOCALE_ARCHIVE = '/usr/lib/locale/locale-archive';
const LOCALE_ALIAS = '/usr/share/locale/locale.alias';

/**
 * `PREFER_ENC` of fail2ban.helpers: `locale.getpreferredencoding()`, corrected when it is ASCII.
 * Python 3.11 at start-up sets LC_CTYPE from the environment (LC_ALL, LC_CTYPE, LANG); if the
 * locale is C or POSIX, or cannot be loaded, UTF-8 mode is on (PYTHONUTF8 overrides) and the
 * answer is 'utf-8'. Otherwise it is the locale's codeset ('UTF-8' for C.UTF-8, en_US.UTF-8 …);
 * an unloadable or C locale without UTF-8 mode is coerced to C.UTF-8 (unless LC_ALL is set or
 * PYTHONCOERCECLOCALE=0); failing that the encoding is ASCII, which fail2ban replaces with
 * stdout's encoding ('ascii', or PYTHONIOENCODING's).
 */
export function preferredEncoding(env: Env, fs: FileSystem): string {
  const nonEmpty = (k: string): string | undefined => (env[k] !== undefined && env[k] !== '' ? env[k] : undefined);
  const name = nonEmpty('LC_ALL') ?? nonEmpty('LC_CTYPE') ?? nonEmpty('LANG') ?? 'C';
  const loader = new LocaleLoader(fs, nonEmpty('LOCPATH'));
  const codeset = loader.codeset(name);
  const utf8Mode = env.PYTHONUTF8 === '1' ? true : env.PYTHONUTF8 === '0' ? false : codeset === undefined;
  if (utf8Mode) return 'utf-8';
  if (codeset !== undefined) return codeset;
  if (env.PYTHONCOERCECLOCALE !== '0' && nonEmpty('LC_ALL') === undefined) {
    for (const target of ['C.UTF-8', 'C.utf8', 'UTF-8']) {
      const c = loader.codeset(target);
      if (c !== undefined) return c;
    }
  }
  const io = (env.PYTHONIOENCODING ?? '').split(':')[0] ?? '';
  return io === '' ? 'ascii' : pyCodecName(io);
}

/** The name Python's codec registry gives an encoding (the common ones; others lowercased). */
function pyCodecName(name: string): string {
  const n = name.toLowerCase().replace(/[-\s]/g, '_');
  const known: Readonly<Record<string, string>> = {
    utf8: 'utf-8', utf_8: 'utf-8', u8: 'utf-8', utf: 'utf-8', cp65001: 'utf-8',
    latin_1: 'iso8859-1', latin1: 'iso8859-1', iso8859_1: 'iso8859-1', iso_8859_1: 'iso8859-1', l1: 'iso8859-1', '8859': 'iso8859-1', cp819: 'iso8859-1', latin: 'iso8859-1',
    ascii: 'ascii', us_ascii: 'ascii', '646': 'ascii', 'ansi_x3.4_1968': 'ascii',
  };
  return known[n] ?? name.toLowerCase();
}

/** glibc's `_nl_normalize_codeset`: letters lowercased, digits kept, the rest dropped; "iso" before all-digit names. */
function normalizeCodeset(codeset: string): string {
  const kept = codeset.replace(/[^A-Za-z0-9]/g, '').toLowerCase();
  return /^[0-9]*$/.test(kept) ? `iso${kept}` : kept;
}

/** Whether glibc's `setlocale(LC_CTYPE, name)` succeeds, and the codeset it then has. */
class LocaleLoader {
  private archive: Map<string, string | undefined> | undefined;
  private aliases: Map<string, string> | undefined;

  constructor(
    private readonly fs: FileSystem,
    private readonly locpath: string | undefined,
  ) {}

  /** The codeset of a loadable locale that is not C/POSIX; undefined for C, POSIX or a failure. */
  codeset(requested: string): string | undefined {
    if (requested === 'C' || requested === 'POSIX') return undefined;
    if (requested.length > 255 || requested.includes('/')) return undefined;
    const alias = this.alias(requested);
    if (this.locpath === undefined) {
      const archived = this.fromArchive(requested) ?? (alias === undefined ? undefined : this.fromArchive(alias));
      if (archived !== undefined) return archived;
    }
    const name = alias ?? requested;
    const dirs = [...(this.locpath?.split(':').filter((d) => d !== '') ?? []), LOCALE_DIR];
    const m = /^([^_.@]*)(?:_([^.@]*))?(?:\.([^@]*))?(?:@(.*))?$/.exec(name);
    if (m === null) return undefined;
    const [, language = '', territory, codeset, modifier] = m;
    const norm = codeset ? normalizeCodeset(codeset) : undefined;
    // _nl_make_l10nflist: every combination of the name's parts, most specific first.
    const MODIFIER = 8, TERRITORY = 4, CODESET = 2, NORM = 1;
    let mask = 0;
    if (modifier) mask |= MODIFIER;
    if (territory) mask |= TERRITORY;
    if (codeset) mask |= CODESET;
    if (norm !== undefined && norm !== codeset) mask |= NORM;
    for (let cnt = mask; cnt >= 0; cnt--) {
      if ((cnt & ~mask) !== 0 || ((cnt & CODESET) !== 0 && (cnt & NORM) !== 0)) continue;
      const combo =
        language +
        ((cnt & TERRITORY) !== 0 ? `_${territory ?? ''}` : '') +
        ((cnt & CODESET) !== 0 ? `.${codeset ?? ''}` : '') +
        ((cnt & NORM) !== 0 ? `.${norm ?? ''}` : '') +
        ((cnt & MODIFIER) !== 0 ? `@${modifier ?? ''}` : '');
      for (const dir of dirs) {
        const data = this.fs.readFile(`${dir}/${combo}/LC_CTYPE`);
        const found = data === undefined ? undefined : ctypeCodeset(data, 0);
        if (found === undefined) continue;
        // A locale loaded for a name with a codeset must have that codeset.
        if (norm !== undefined && normalizeCodeset(found) !== norm) return undefined;
        return found;
      }
    }
    return undefined;
  }

  /** `/usr/share/locale/locale.alias`. */
  private alias(name: string): string | undefined {
    if (this.aliases === undefined) {
      this.aliases = new Map();
      const data = this.fs.readFile(LOCALE_ALIAS);
      for (const line of data === undefined ? [] : new TextDecoder('latin1').decode(data).split('\n')) {
        const m = /^[ \t]*([^ \t#]+)[ \t]+([^ \t\n]+)/.exec(line);
        if (m?.[1] !== undefined && m[2] !== undefined && !this.aliases.has(m[1].toLowerCase())) this.aliases.set(m[1].toLowerCase(), m[2]);
      }
    }
    // glibc compares alias names case-insensitively.
    return this.aliases.get(name.toLowerCase());
  }

  /** The archive (`locale-archive`) holds names with normalized codesets (`en_US.utf8`). */
  private fromArchive(name: string): string | undefined {
    const dot = name.indexOf('.');
    let key = name;
    if (dot !== -1 && name[dot + 1] !== undefined && name[dot + 1] !== '@') {
      const at = name.indexOf('@', dot);
      const end = at === -1 ? name.length : at;
      key = name.slice(0, dot + 1) + normalizeCodeset(name.slice(dot + 1, end)) + name.slice(end);
    }
    this.archive ??= readArchive(this.fs.readFile(LOCALE_ARCHIVE));
    return this.archive.get(key);
  }
}

/** The codeset name in an LC_CTYPE data file (item 14, `_NL_CTYPE_CODESET_NAME`). */
function ctypeCodeset(data: Uint8Array, base: number, size = data.length - base): string | undefined {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (size < 8 + 15 * 4 || view.getUint32(base, true) !== 0x20090720) return undefined;
  const count = view.getUint32(base + 4, true);
  if (count <= 14) return undefined;
  const start = base + view.getUint32(base + 8 + 14 * 4, true);
  let end = start;
  while (end < data.length && data[end] !== 0) end++;
  return new TextDecoder('latin1').decode(data.subarray(start, end));
}

/** The names in a glibc locale archive and the codeset of each one's LC_CTYPE. */
function readArchive(data: Uint8Array | undefined): Map<string, string | undefined> {
  const names = new Map<string, string | undefined>();
  if (data === undefined || data.length < 56) return names;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const u32 = (at: number): number => (at + 4 <= data.length ? view.getUint32(at, true) : 0);
  if (u32(0) !== 0xde020109) return names;
  const hashOffset = u32(8);
  const hashSize = u32(16);
  for (let i = 0; i < hashSize; i++) {
    const entry = hashOffset + i * 12;
    const nameOffset = u32(entry + 4);
    const recOffset = u32(entry + 8);
    if (nameOffset === 0 || nameOffset >= data.length) continue;
    let end = nameOffset;
    while (end < data.length && data[end] !== 0) end++;
    const name = new TextDecoder('latin1').decode(data.subarray(nameOffset, end));
    // locrecent: refs, then (offset, len) per category; LC_CTYPE is category 0.
    const ctypeOffset = u32(recOffset + 4);
    const ctypeLen = u32(recOffset + 8);
    names.set(name, ctypeOffset > 0 && ctypeOffset + ctypeLen <= data.length ? ctypeCodeset(data, ctypeOffset, ctypeLen) : undefined);
  }
  return names;
}
