/**
 * The `-h` / `--help` text of `fail2ban-client` and `fail2ban-server`, reproduced byte for byte
 * from fail2ban 1.0.2 (`Fail2banCmdLine.dispUsage` and `protocol.printFormatted`), including a
 * faithful port of the parts of Python's `textwrap.wrap` that the command table relies on.
 */

import { CLIENT_PROTOCOL } from './clientProtocolTable.js';

import { FAIL2BAN_VERSION } from '../shared/version.js';

/** The `Options:` block of `dispUsage`, one entry per printed line. */
const OPTION_LINES: readonly string[] = [
  '    -c, --conf <DIR>        configuration directory',
  '    -s, --socket <FILE>     socket path',
  '    -p, --pidfile <FILE>    pidfile path',
  '    --pname <NAME>          name of the process (main thread) to identify instance (default fail2ban-server)',
  '    --loglevel <LEVEL>      logging level',
  '    --logtarget <TARGET>    logging target, use file-name or stdout, stderr, syslog or sysout.',
  '    --syslogsocket auto|<FILE>',
  '    -d                      dump configuration. For debugging',
  '    --dp, --dump-pretty     dump the configuration using more human readable representation',
  '    -t, --test              test configuration (can be also specified with start parameters)',
  '    -i                      interactive mode',
  '    -v                      increase verbosity',
  '    -q                      decrease verbosity',
  '    -x                      force execution of the server (remove socket file)',
  '    -b                      start server in background (default)',
  '    -f                      start server in foreground',
  "    --async                 start server in async mode (for internal usage only, don't read configuration)",
  "    --timeout               timeout to wait for the server (for internal usage only, don't read configuration)",
  '    --str2sec <STRING>      convert time abbreviation format to seconds',
  '    -h, --help              display this help message',
  '    -V, --version           print the version (-V returns machine-readable short format)',
];

// ---------------------------------------------------------------------------------------------
// textwrap.wrap(text, width, drop_whitespace=False) with the other TextWrapper defaults:
// expand_tabs=True, tabsize=8, replace_whitespace=True, fix_sentence_endings=False,
// break_long_words=True, break_on_hyphens=True, no indents, no max_lines.
// Lengths and slices are in code points, as Python's are.
// ---------------------------------------------------------------------------------------------

/** textwrap's `_whitespace`: the only characters it splits on and replaces with spaces. */
const WS = '[\\t\\n\\x0b\\x0c\\r ]';
const NWS = '[^\\t\\n\\x0b\\x0c\\r ]';
/** Python's Unicode `\w`, `[^\d\W]` (a letter) and textwrap's `word_punct`. */
const W = '[\\p{L}\\p{N}_]';
const LT = '[\\p{L}\\p{Nl}\\p{No}_]';
const WP = `[\\p{L}\\p{N}_!"'&.,?]`;

/** `TextWrapper.wordsep_re`, transcribed from CPython 3.11's `textwrap.py` (verbose mode removed). */
const WORDSEP_RE = new RegExp(
  '(' +
    `${WS}+` + // any whitespace
    `|(?<=${WP})-{2,}(?=${W})` + // em-dash between words
    `|${NWS}+?(?:` + // word, possibly hyphenated
    `-(?:(?<=${LT}{2}-)|(?<=${LT}-${LT}-))(?=${LT}-?${LT})` + // hyphenated word
    `|(?=${WS}|$)` + // end of word
    `|(?<=${WP})(?=-{2,}${W})` + // em-dash
    '))',
  'u',
);

/** Python's `len()` on a str: the number of code points. */
function pyLen(s: string): number {
  return Array.from(s).length;
}

/** `str.expandtabs(8)` followed by `_munge_whitespace`'s translation of whitespace to spaces. */
function mungeWhitespace(text: string): string {
  let out = '';
  let column = 0;
  for (const ch of text) {
    if (ch === '\t') {
      const pad = 8 - (column % 8);
      out += ' '.repeat(pad);
      column += pad;
    } else if (ch === '\n' || ch === '\r') {
      out += ' ';
      column = 0;
    } else {
      out += ch === '\x0b' || ch === '\x0c' ? ' ' : ch;
      column++;
    }
  }
  return out;
}

/** `TextWrapper._handle_long_word` with `break_long_words` and `break_on_hyphens` on. */
function handleLongWord(reversedChunks: string[], curLine: string[], curLen: number, width: number): void {
  const spaceLeft = width < 1 ? 1 : width - curLen;
  let end = spaceLeft;
  const chunk = Array.from(reversedChunks[reversedChunks.length - 1] ?? '');
  if (chunk.length > spaceLeft) {
    // chunk.rfind('-', 0, space_left): break after the last hyphen with non-hyphens before it.
    const hyphen = chunk.slice(0, Math.max(spaceLeft, 0)).lastIndexOf('-');
    if (hyphen > 0 && chunk.slice(0, hyphen).some((c) => c !== '-')) end = hyphen + 1;
  }
  curLine.push(chunk.slice(0, end).join(''));
  reversedChunks[reversedChunks.length - 1] = chunk.slice(end).join('');
}

/**
 * Python's `textwrap.wrap(text, width, drop_whitespace=False)`: splits `text` into chunks of
 * whitespace and (possibly hyphenated) words and packs them greedily into lines of at most
 * `width` code points, keeping the whitespace at the line ends.
 */
export function pyTextWrap(text: string, width: number): string[] {
  if (width <= 0) throw new RangeError(`invalid width ${width} (must be > 0)`);
  const chunks = mungeWhitespace(text)
    .split(WORDSEP_RE)
    .filter((c) => c !== '');
  chunks.reverse();
  const lines: string[] = [];
  while (chunks.length > 0) {
    const curLine: string[] = [];
    let curLen = 0;
    while (chunks.length > 0) {
      const l = pyLen(chunks[chunks.length - 1] ?? '');
      if (curLen + l > width) break;
      curLine.push(chunks.pop() ?? '');
      curLen += l;
    }
    if (chunks.length > 0 && pyLen(chunks[chunks.length - 1] ?? '') > width) {
      handleLongWord(chunks, curLine, curLen, width);
    }
    if (curLine.length > 0) lines.push(curLine.join(''));
  }
  return lines;
}

// ---------------------------------------------------------------------------------------------
// protocol.printFormatted and Fail2banCmdLine.dispUsage
// ---------------------------------------------------------------------------------------------

const INDENT = 4;
const MARGIN = 41;
const WIDTH = 34;

/** Python's `str.strip()` for the whitespace these texts can contain. */
function pyStrip(s: string): string {
  return s.trim();
}

/** The lines `protocol.printFormatted()` prints: fail2ban's command table, wrapped. */
export function formatProtocol(): string[] {
  const out: string[] = [];
  let firstHeading = false;
  for (const [command, description] of CLIENT_PROTOCOL) {
    if (command === '' && firstHeading) out.push('');
    firstHeading = true;
    const cmdLen = pyLen(command);
    const text = cmdLen >= MARGIN ? ' '.repeat(WIDTH) + description : description;
    let first = true;
    for (const n of pyTextWrap(text, WIDTH)) {
      if (first) {
        out.push(' '.repeat(INDENT) + command + ' '.repeat(Math.max(MARGIN - cmdLen, 0)) + pyStrip(n));
        first = false;
      } else {
        out.push(' '.repeat(INDENT + MARGIN) + pyStrip(n));
      }
    }
  }
  return out;
}

/**
 * The exact text `fail2ban-client -h` (fail2ban 1.0.2) prints, newline-terminated.
 *
 * As in fail2ban, the text depends on the program name: when it ends in `server`
 * (`fail2ban-server -h`) the usage line has no ` <COMMAND>` and the `Command:` table is omitted.
 *
 * @param programName the program's base name, as fail2ban takes it from `os.path.basename(argv[0])`.
 */
export function fail2banUsage(programName: string): string {
  const isServer = programName.endsWith('server');
  const lines: string[] = [
    'Usage: ' + programName + ' [OPTIONS]' + (isServer ? '' : ' <COMMAND>'),
    '',
    'Fail2Ban v' + FAIL2BAN_VERSION + ' reads log file that contains password failure report',
    'and bans the corresponding IP addresses using firewall rules.',
    '',
    'Options:',
    ...OPTION_LINES,
  ];
  if (!isServer) lines.push('', 'Command:', ...formatProtocol());
  lines.push('', 'Report bugs to https://github.com/fail2ban/fail2ban/issues');
  return lines.join('\n') + '\n';
}
