/**
 * The `-h` / `--help` text of `fail2ban-client` and `fail2ban-server`, reproduced byte for byte
 * from fail2ban 1.0.2 (`Fail2banCmdLine.dispUsage` and `protocol.printFormatted`), including a
 * faithful port of the parts of Python's `textwrap.wrap` that the command table relies on.
 */

import { CLIENT_PROTOCOL } from './clientProtocolTable.js';
import { pyLen, pyTextWrap } from './textwrap.js';

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
    for (const n of pyTextWrap(text, WIDTH, false)) {
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
