/** `portcullis regex [options] LOG FILTER [IGNOREREGEX]`: the arguments, parsed without side effects. */

export const EX_USAGE = 64;
export const EX_NOINPUT = 66;
export const EX_CONFIG = 78;

export const REGEX_HELP = `Usage: portcullis regex [options] LOG FILTER [IGNOREREGEX]

Runs every line of the log file LOG through a fail2ban filter and reports, for people, what
matched: line counts, hits per regex with sample lines, the date formats found and the ids
that failed most. FILTER is a filter name from DIR/filter.d, with arguments if wanted
(sshd[mode=aggressive]), a filter file, or a regular expression; IGNOREREGEX adds an
ignoreregex. LOG must be a file (to test a log line given as text, use fail2ban-regex).

Options:
  -c, --conf DIR             configuration directory for filter names (default: /etc/fail2ban,
                             or portcullis' built-in configuration when that does not exist)
  -d, --datepattern PATTERN  date pattern to use instead of the filter's
      --timezone TZ          time zone for dates without one (as logtimezone)
      --samples N            matched lines shown per regex (default 3; 0 = none)
      --top N                most frequent failure ids shown (default 10)
      --json                 one JSON object instead of the text report
      --color, --no-color    colour the report (default: when stdout is a terminal and
                             NO_COLOR is not set)
  -h, --help                 print this help
`;

export interface RegexCommandOptions {
  readonly log: string;
  readonly filter: string;
  readonly ignoreregex: string | undefined;
  readonly conf: string | undefined;
  readonly json: boolean;
  /** true / false when asked for, undefined for the default (terminal and no NO_COLOR). */
  readonly color: boolean | undefined;
  readonly samples: number;
  readonly top: number;
  readonly datepattern: string | undefined;
  readonly timezone: string | undefined;
}

export type ParsedRegexArgs =
  | { readonly kind: 'help' }
  | { readonly kind: 'error'; readonly message: string }
  | { readonly kind: 'ok'; readonly options: RegexCommandOptions };

const VALUE_OPTIONS: Readonly<Record<string, string>> = {
  '-c': 'conf', '--conf': 'conf', '-d': 'datepattern', '--datepattern': 'datepattern',
  '--timezone': 'timezone', '--samples': 'samples', '--top': 'top',
};

/** A count option's value: a whole number ≥ 0 written in decimal digits. */
function count(name: string, v: string): number | string {
  if (!/^\d{1,9}$/.test(v)) return `${name} needs a whole number of at least 0, got "${v}"`;
  return Number(v);
}

/** Parses the arguments after `regex`. */
export function parseRegexCommandArgs(args: readonly string[]): ParsedRegexArgs {
  const values = new Map<string, string>();
  const positional: string[] = [];
  let json = false;
  let color: boolean | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (a === '-h' || a === '--help') return { kind: 'help' };
    if (a === '--json') json = true;
    else if (a === '--color' || a === '--colour') color = true;
    else if (a === '--no-color' || a === '--no-colour') color = false;
    else if (a.startsWith('--') && a.includes('=') && VALUE_OPTIONS[a.slice(0, a.indexOf('='))] !== undefined) {
      const eq = a.indexOf('=');
      values.set(VALUE_OPTIONS[a.slice(0, eq)] ?? '', a.slice(eq + 1));
    } else if (VALUE_OPTIONS[a] !== undefined) {
      const v = args[++i];
      if (v === undefined) return { kind: 'error', message: `${a} needs a value` };
      values.set(VALUE_OPTIONS[a] ?? '', v);
    } else if (a.startsWith('-') && a !== '-') return { kind: 'error', message: `unknown option "${a}"` };
    else positional.push(a);
  }
  if (positional.length < 2) return { kind: 'error', message: positional.length === 0 ? 'missing LOG and FILTER' : 'missing FILTER' };
  if (positional.length > 3) return { kind: 'error', message: `too many arguments (expected LOG FILTER [IGNOREREGEX]), got ${positional.length}` };
  const samples = count('--samples', values.get('samples') ?? '3');
  if (typeof samples === 'string') return { kind: 'error', message: samples };
  const top = count('--top', values.get('top') ?? '10');
  if (typeof top === 'string') return { kind: 'error', message: top };
  const [log = '', filter = '', ignoreregex] = positional;
  if (log === '') return { kind: 'error', message: 'LOG is empty' };
  if (filter === '') return { kind: 'error', message: 'FILTER is empty' };
  return {
    kind: 'ok',
    options: {
      log, filter, ignoreregex, conf: values.get('conf'), json, color, samples, top,
      datepattern: values.get('datepattern'), timezone: values.get('timezone'),
    },
  };
}
