/**
 * fail2ban-regex's command line: the optparse work-alike and the option table, against fail2ban
 * 1.0.2 itself. Fixed expectations were recorded from Debian's fail2ban (its `get_opt_parser()`
 * under /usr/bin/python3 3.11, and /usr/bin/fail2ban-regex); the side-by-side tests run the real
 * parser and the real program next to ours.
 */
import assert from 'node:assert/strict';
import { spawn as spawnChild } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { optparseInt, helpWidth, OptionParser } from '../../src/cli/optparse.js';
import { pyTextWrap } from '../../src/cli/textwrap.js';
import { parseRegexArgs, preferredEncoding, regexHelp, type RegexToolOptions } from '../../src/cli/regexOptions.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { MemoryFileSystem } from '../../src/testing/memoryFs.js';
import { recordingIo } from '../helpers/io.js';
import { makeTree, needOracle, removeTree, ROOT } from '../helpers/oracle.js';
import { PYTHON, NO_PYTHON, runPython } from '../helpers/python.js';
import { prng } from '../helpers/random.js';

const ARGV0 = '/usr/bin/fail2ban-regex';
/** No locale in the environment: Python's UTF-8 mode, 'utf-8' whatever the machine. */
const NO_LOCALE = {};

const DEFAULTS: RegexToolOptions = {
  config: '/etc/fail2ban',
  datepattern: undefined,
  timezone: undefined,
  encoding: 'utf-8',
  raw: false,
  usedns: undefined,
  maxlines: 0,
  journalmatch: undefined,
  logLevel: 'critical',
  verbose: 0,
  verboseDate: false,
  debuggex: false,
  checkAllRegex: true,
  out: undefined,
  printNoMissed: false,
  printNoIgnored: false,
  printAllMatched: false,
  printAllMissed: false,
  printAllIgnored: false,
  logTraceback: false,
  fullTraceback: false,
};

function parse(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = NO_LOCALE) {
  const io = recordingIo();
  const r = parseRegexArgs(ARGV0, argv, io, env);
  return { r, out: io.out, err: io.err };
}

/** Recorded with fail2ban 1.0.2's `get_opt_parser().parse_args(argv)`. */
const RECORDED: ReadonlyArray<readonly [argv: readonly string[], changed: Partial<RegexToolOptions>, args: readonly string[]]> = [
  [[], {}, []],
  [['-v', '-v', '--verbosity', '3', '-v', 'log', 're'], { verbose: 4 }, ['log', 're']],
  [['-vvv', 'a'], { verbose: 3 }, ['a']],
  [['--verbosity=0x10'], { verbose: 16 }, []],
  [['--verbosity', '010', '-v'], { verbose: 9 }, []],
  [['--verbosity', '-2', '-vv'], { verbose: 0 }, []],
  [['-L0b101', 'x', '-rD'], { maxlines: 5, raw: true, debuggex: true }, ['x']],
  [['-rc/etc/f2b', 'a', 'b', 'c'], { raw: true, config: '/etc/f2b' }, ['a', 'b', 'c']],
  [['-c', '-d', 'x'], { config: '-d' }, ['x']],
  [['--conf=', '--datep', '%Y', '--TZ=UTC', '--enc', 'latin-1'], { config: '', datepattern: '%Y', timezone: 'UTC', encoding: 'latin-1' }, []],
  [['--no-check-all', '-o', 'id', '--out=ip'], { checkAllRegex: false, out: 'ip' }, []],
  [
    ['--print-no-m', '--print-no-i', '--print-all-ma', '--print-all-mi', '--print-all-i'],
    { printNoMissed: true, printNoIgnored: true, printAllMatched: true, printAllMissed: true, printAllIgnored: true },
    [],
  ],
  [
    ['-t', '--full', '--VD', '--usedns', 'no', '-m', '_SYSTEMD_UNIT=sshd.service', '-l', 'debug'],
    { logTraceback: true, fullTraceback: true, verboseDate: true, usedns: 'no', journalmatch: '_SYSTEMD_UNIT=sshd.service', logLevel: 'debug' },
    [],
  ],
  [['--log-l', 'info', '--journalm=x', '--maxl', '5', '--verbose-d', '--debug'], { logLevel: 'info', journalmatch: 'x', maxlines: 5, verboseDate: true, debuggex: true }, []],
  [['a', '-v', 'b', '--', '-v', '--bogus'], { verbose: 1 }, ['a', 'b', '-v', '--bogus']],
  [['-', '-v', '--'], { verbose: 1 }, ['-']],
  [['--timezone', '-03:00', '--max=7'], { timezone: '-03:00', maxlines: 7 }, []],
  [['-e', '', '-d', ''], { encoding: '', datepattern: '' }, []],
];

const USAGE = `Usage: ${ARGV0} [OPTIONS] <LOG> <REGEX> [IGNOREREGEX]\n\n`;

/** Recorded from /usr/bin/fail2ban-regex: stderr after the usage, exit 2. */
const ERRORS: ReadonlyArray<readonly [argv: readonly string[], message: string]> = [
  [['--bogus'], 'no such option: --bogus'],
  [['-x'], 'no such option: -x'],
  [['-rvx'], 'no such option: -x'],
  [['-L', 'x', 'a', 'b'], "option -L: invalid integer value: 'x'"],
  [['-L', '08', 'a', 'b'], "option -L: invalid integer value: '08'"],
  [['--verbosity=x'], "option --verbosity: invalid integer value: 'x'"],
  [['-c'], '-c option requires 1 argument'],
  [['--verbosity'], '--verbosity option requires 1 argument'],
  [['--usedns'], '--usedns option requires 1 argument'],
  [['--raw=1'], '--raw option does not take a value'],
  [['--pr'], 'ambiguous option: --pr (--print-all-ignored, --print-all-matched, --print-all-missed, --print-no-ignored, --print-no-missed?)'],
  [['--print-all'], 'ambiguous option: --print-all (--print-all-ignored, --print-all-matched, --print-all-missed?)'],
  [['--verb', '3', 'a'], 'ambiguous option: --verb (--verbose, --verbose-date, --verbosity?)'],
  [
    ['--=x'],
    'ambiguous option: -- (--TZ, --VD, --config, --datepattern, --debuggex, --encoding, --full-traceback, --help, --journalmatch, --log-level, ' +
      '--log-traceback, --maxlines, --no-check-all, --out, --print-all-ignored, --print-all-matched, --print-all-missed, --print-no-ignored, ' +
      '--print-no-missed, --raw, --timezone, --usedns, --verbose, --verbose-date, --verbosity, --version?)',
  ],
  [['--bogus', '-h'], 'no such option: --bogus'],
  [['-L', 'x', '-V'], "option -L: invalid integer value: 'x'"],
];

describe('fail2ban-regex options: what fail2ban 1.0.2 parses (recorded)', () => {
  for (const [argv, changed, args] of RECORDED) {
    test(`${JSON.stringify(argv)}`, () => {
      const { r, out, err } = parse(argv);
      assert.deepEqual(r, { kind: 'run', options: { ...DEFAULTS, ...changed }, args });
      assert.equal(out + err, '');
    });
  }

  for (const [argv, message] of ERRORS) {
    test(`error: ${JSON.stringify(argv)}`, () => {
      const { r, out, err } = parse(argv);
      assert.deepEqual(r, { kind: 'exit', code: 2 });
      assert.equal(out, '');
      assert.equal(err, `${USAGE}fail2ban-regex: error: ${message}\n`);
    });
  }

  test('help, version and -V print and exit 0 where they come; an earlier error wins', () => {
    const help = parse(['-h', '--bogus']);
    assert.deepEqual(help.r, { kind: 'exit', code: 0 });
    assert.equal(help.out, regexHelp(ARGV0, NO_LOCALE));
    assert.ok(help.out.startsWith(`Usage: ${ARGV0} [OPTIONS] <LOG> <REGEX> [IGNOREREGEX]\n\nFail2Ban  reads log file`));
    assert.equal(parse(['--he']).out, help.out);
    assert.deepEqual(parse(['-V', '--bogus']), { r: { kind: 'exit', code: 0 }, out: '1.0.2\n', err: '' });
    assert.deepEqual(parse(['-vV']), { r: { kind: 'exit', code: 0 }, out: '1.0.2\n', err: '' });
    // %prog is the basename of sys.argv[0].
    assert.deepEqual(parse(['--vers']), { r: { kind: 'exit', code: 0 }, out: 'fail2ban-regex 1.0.2\n', err: '' });
    const io = recordingIo();
    assert.deepEqual(parseRegexArgs('./bin/f2b-regex', ['--version'], io, NO_LOCALE), { kind: 'exit', code: 0 });
    assert.equal(io.out, 'f2b-regex 1.0.2\n');
  });

  test('the help: option lines as IndentedHelpFormatter lays them out (COLUMNS unset: 78 columns)', () => {
    const help = regexHelp(ARGV0, NO_LOCALE);
    assert.ok(help.includes('\nOptions:\n  --version             show program\'s version number and exit\n  -h, --help            show this help message and exit\n'));
    assert.ok(help.includes('  -c CONFIG, --config=CONFIG\n                        set alternate config directory\n'));
    assert.ok(help.includes("  --usedns=USEDNS       DNS specified replacement of tags <HOST> in regexp\n                        ('yes' - matches all form of hosts, 'no' - IP\n                        addresses only)\n"));
    assert.ok(help.endsWith('by default)\n\n\nReport bugs to https://github.com/fail2ban/fail2ban/issues\n\nCopyright (c) 2004-2008 Cyril Jaquier, 2008- Fail2Ban Contributors\n' +
      'Copyright of modifications held by their respective authors.\nLicensed under the GNU General Public License v2 (GPL).\n\n' +
      'Written by Cyril Jaquier <cyril.jaquier@fail2ban.org>.\nMany contributions by Yaroslav O. Halchenko, Steven Hiscocks, Sergey G. Brester (sebres).\n'));
    // Narrow: help at column 4, text wrapped to 11 columns at least, compound words split after their hyphen.
    assert.ok(regexHelp(ARGV0, { COLUMNS: '30' }).includes('  -L MAXLINES, --maxlines=MAXLINES\n        maxlines for multi-\n        line regex.\n'));
  });
});

describe('optparse work-alike (recorded from Python 3.11)', () => {
  test("int options: optparse's _parse_int (radix from the prefix, then int(text, radix))", () => {
    const cases: ReadonlyArray<readonly [string, bigint | undefined]> = [
      ['0', 0n], ['00', 0n], ['08', undefined], ['010', 8n], ['0x10', 16n], ['0X1f', 31n], ['0x', undefined], ['0b', 0n],
      ['0B11', 3n], ['0b2', undefined], ['0o17', 15n], ['0O17', 15n], ['-1', -1n], ['+3', 3n], [' 3 ', 3n], ['3_000', 3000n],
      ['_3', undefined], ['3_', undefined], ['3__0', undefined], ['0x_1f', 31n], ['0_7', 7n], ['-0x10', undefined], ['1e3', undefined],
      ['３', 3n], ['٣', 3n], ['\t4\n', 4n], ['', undefined], ['  ', undefined], ['0b_1', undefined], ['0o_7', 7n], ['07_7', 63n],
      ['9'.repeat(25), 9999999999999999999999999n], ['-0', 0n], ['0x-1', undefined], ['0b-1', -1n], ['+0x1', undefined], ['1 2', undefined],
      ['\x0b5\x0c', 5n], ['\u00a05', 5n], ['\u20035', 5n], ['\u30005', 5n], ['\x1c5', undefined], ['\x855', 5n],
      ['9'.repeat(4300), 10n ** 4300n - 1n], ['9'.repeat(4301), undefined],
    ];
    for (const [text, expected] of cases) assert.equal(optparseInt(text), expected, JSON.stringify(text));
  });

  test('textwrap.wrap', () => {
    const cases: ReadonlyArray<readonly [string, number, readonly string[]]> = [
      ['maxlines for multi-line regex.', 11, ['maxlines', 'for multi-', 'line regex.']],
      ['journalctl style matches overriding filter file. "systemd-journal" only', 18, ['journalctl style', 'matches overriding', 'filter file.', '"systemd-journal"', 'only']],
      ['Look, goof-ball -- use the -b option!', 12, ['Look, goof-', 'ball -- use', 'the -b', 'option!']],
      ['a-very-long-hyphenated-compound-word', 10, ['a-very-', 'long-hyphe', 'nated-', 'compound-', 'word']],
      ['tabs\there\tand\nnewlines', 9, ['tabs', 'here', 'and', 'newlines']],
      ['--------x', 4, ['----', '----', 'x']],
      ['x'.repeat(25), 10, ['xxxxxxxxxx', 'xxxxxxxxxx', 'xxxxx']],
      ['  leading and trailing  ', 7, ['leading', 'and tra', 'iling']],
      ['self-contained e-mail', 6, ['self-c', 'ontain', 'ed', 'e-mail']],
      ['', 5, []],
      ['Either to make the tracebacks full, not compressed (as by default)', 54, ['Either to make the tracebacks full, not compressed (as', 'by default)']],
    ];
    for (const [text, width, lines] of cases) assert.deepEqual(pyTextWrap(text, width), lines, JSON.stringify([text, width]));
  });

  test('help width: int($COLUMNS) - 2, else 78', () => {
    assert.equal(helpWidth(undefined), 78);
    assert.equal(helpWidth('abc'), 78);
    assert.equal(helpWidth(''), 78);
    assert.equal(helpWidth(' 5_0 '), 48);
    assert.equal(helpWidth('-5'), -7);
  });

  test('a generic parser: store, store_false, store_true sharing a dest, interspersed args, options without help', () => {
    const p = new OptionParser({ argv0: '/x/prog', usage: '%prog [options] FILE' });
    p.addOption(['-n', '--number'], { type: 'int', default: 3 });
    p.addOption(['-q', '--quiet'], { action: 'store_false', dest: 'verbose', default: true });
    p.addOption(['--loud'], { action: 'store_true', dest: 'verbose' });
    const io = recordingIo();
    const r = p.parseArgs(['f', '-qn', '0x2', 'g', '--lo'], io);
    assert.deepEqual(r, { kind: 'ok', values: new Map<string, unknown>([['number', 2], ['verbose', true]]), args: ['f', 'g'] });
    assert.deepEqual(p.parseArgs(['--nu'], io), { kind: 'exit', code: 2 });
    assert.equal(io.err, 'Usage: prog [options] FILE\n\nprog: error: --number option requires 1 argument\n');
    assert.deepEqual(p.parseArgs(['-h'], io), { kind: 'exit', code: 0 });
    assert.equal(io.out, 'Usage: prog [options] FILE\n\nOptions:\n  -h, --help            show this help message and exit\n  -n NUMBER, --number=NUMBER\n  -q, --quiet           \n  --loud                \n');
  });
});

describe('the default encoding (Python 3.11 locale start-up, glibc locale lookup)', () => {
  /** An LC_CTYPE data file with just the header and the codeset name (item 14). */
  function ctype(codeset: string): Uint8Array {
    const name = new TextEncoder().encode(`${codeset}\0`);
    const head = 8 + 15 * 4;
    const buf = new Uint8Array(head + name.length);
    const v = new DataView(buf.buffer);
    v.setUint32(0, 0x20090720, true);
    v.setUint32(4, 15, true);
    for (let i = 0; i < 15; i++) v.setUint32(8 + i * 4, head, true);
    buf.set(name, head);
    return buf;
  }

  /** A glibc locale-archive with the given locales (name → codeset). */
  function archive(locales: Readonly<Record<string, string>>): Uint8Array {
    const entries = Object.entries(locales);
    const header = 56;
    const hashAt = header;
    const recAt = hashAt + entries.length * 12;
    const recSize = 4 + 13 * 8;
    let at = recAt + entries.length * recSize;
    const parts: Array<{ at: number; bytes: Uint8Array }> = [];
    const layout = entries.map(([name, codeset]) => {
      const n = new TextEncoder().encode(`${name}\0`);
      const c = ctype(codeset);
      const nameAt = at;
      at += n.length;
      const ctypeAt = at;
      at += c.length;
      parts.push({ at: nameAt, bytes: n }, { at: ctypeAt, bytes: c });
      return { nameAt, ctypeAt, ctypeLen: c.length };
    });
    const out = new Uint8Array(at);
    const v = new DataView(out.buffer);
    v.setUint32(0, 0xde020109, true);
    v.setUint32(8, hashAt, true);
    v.setUint32(12, entries.length, true);
    v.setUint32(16, entries.length, true);
    layout.forEach((l, i) => {
      v.setUint32(hashAt + i * 12 + 4, l.nameAt, true);
      v.setUint32(hashAt + i * 12 + 8, recAt + i * recSize, true);
      v.setUint32(recAt + i * recSize + 4, l.ctypeAt, true);
      v.setUint32(recAt + i * recSize + 8, l.ctypeLen, true);
    });
    for (const p of parts) out.set(p.bytes, p.at);
    return out;
  }

  const debianMinimal = (): MemoryFileSystem => new MemoryFileSystem({ '/usr/lib/locale/C.utf8/LC_CTYPE': ctype('UTF-8') });

  test('on a system with only C.utf8 (Debian without locales); recorded from /usr/bin/fail2ban-regex', () => {
    const fsys = debianMinimal();
    const cases: ReadonlyArray<readonly [Readonly<Record<string, string>>, string]> = [
      [{}, 'utf-8'],
      [{ LANG: 'C.UTF-8' }, 'UTF-8'],
      [{ LANG: 'C' }, 'utf-8'],
      [{ LANG: 'POSIX' }, 'utf-8'],
      [{ LANG: 'en_US.UTF-8' }, 'utf-8'],
      [{ LC_CTYPE: 'C', LANG: 'C.UTF-8' }, 'utf-8'],
      [{ LC_ALL: 'C.UTF-8', LANG: 'C' }, 'UTF-8'],
      [{ LC_ALL: '', LANG: 'C.UTF-8' }, 'UTF-8'],
      [{ LANG: 'C.utf8' }, 'UTF-8'],
      [{ LANG: 'C.UTF-8@euro' }, 'UTF-8'],
      [{ LANG: 'C_XX.UTF-8' }, 'UTF-8'],
      [{ LANG: 'C.ISO-8859-1' }, 'utf-8'],
      [{ LANG: 'c.utf8' }, 'utf-8'],
      [{ LANG: '/usr/lib/locale/C.utf8' }, 'utf-8'],
      [{ PYTHONUTF8: '1', LANG: 'C.UTF-8' }, 'utf-8'],
      [{ PYTHONUTF8: '0', LANG: 'C' }, 'UTF-8'],
      [{ PYTHONUTF8: '0', LANG: 'en_US.UTF-8' }, 'UTF-8'],
      [{ PYTHONUTF8: '0', LC_ALL: 'C' }, 'ascii'],
      [{ PYTHONUTF8: '0', LC_ALL: 'C', PYTHONIOENCODING: 'latin-1' }, 'iso8859-1'],
      [{ PYTHONUTF8: '0', PYTHONCOERCECLOCALE: '0' }, 'ascii'],
      [{ PYTHONUTF8: '0', PYTHONCOERCECLOCALE: '0', PYTHONIOENCODING: 'UTF8' }, 'utf-8'],
    ];
    for (const [env, expected] of cases) assert.equal(preferredEncoding(env, fsys), expected, JSON.stringify(env));
  });

  test('locale directories: fallbacks, the codeset check, aliases, LOCPATH (recorded with localedef-built locales)', () => {
    const fsys = debianMinimal();
    fsys.write('/loc/en_US.UTF-8/LC_CTYPE', ctype('UTF-8'));
    fsys.write('/loc/de_DE/LC_CTYPE', ctype('ISO-8859-1'));
    fsys.write('/loc/fr_FR@euro/LC_CTYPE', ctype('ISO-8859-15'));
    fsys.write('/loc/ja_JP.eucJP/LC_CTYPE', ctype('EUC-JP'));
    fsys.write('/usr/share/locale/locale.alias', '# aliases\ngerman\t\tde_DE.ISO-8859-1\nja_JP\t\tja_JP.eucJP\n');
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['en_US.UTF-8', 'UTF-8'], ['en_US.utf8', 'utf-8'], ['en_US', 'utf-8'], ['en_US.UTF-8@x', 'UTF-8'], ['en.UTF-8', 'utf-8'],
      ['de_DE', 'ISO-8859-1'], ['de_DE.ISO-8859-1', 'ISO-8859-1'], ['de_DE.iso88591', 'ISO-8859-1'], ['de_DE.UTF-8', 'utf-8'],
      ['de_DE@euro', 'ISO-8859-1'], ['fr_FR@euro', 'ISO-8859-15'], ['fr_FR', 'utf-8'], ['fr_FR.ISO-8859-15@euro', 'ISO-8859-15'],
      ['ja_JP.eucJP', 'EUC-JP'], ['ja_JP.EUC-JP', 'utf-8'], ['ja_JP', 'EUC-JP'], ['german', 'ISO-8859-1'], ['GERMAN', 'ISO-8859-1'],
      ['C.UTF-8', 'UTF-8'],
    ];
    for (const [lang, expected] of cases) assert.equal(preferredEncoding({ LOCPATH: '/loc', LANG: lang }, fsys), expected, lang);
    assert.equal(preferredEncoding({ LOCPATH: '/nonexistent:/loc', LANG: 'de_DE' }, fsys), 'ISO-8859-1');
    assert.equal(preferredEncoding({ LOCPATH: '/loc', LANG: 'en_US.UTF-8', LC_CTYPE: 'de_DE' }, fsys), 'ISO-8859-1');
    assert.equal(preferredEncoding({ LOCPATH: '/loc', LC_ALL: 'de_DE', PYTHONUTF8: '0' }, fsys), 'ISO-8859-1');
    assert.equal(preferredEncoding({ LOCPATH: '/loc', LANG: 'de_DE', PYTHONUTF8: '1' }, fsys), 'utf-8');
  });

  test('the locale archive (names with normalized codesets), used when LOCPATH is not set', () => {
    const fsys = debianMinimal();
    fsys.write('/usr/lib/locale/locale-archive', archive({ 'en_US.utf8': 'UTF-8', de_DE: 'ISO-8859-1', 'de_DE.iso88591': 'ISO-8859-1' }));
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['en_US.UTF-8', 'UTF-8'], ['en_US.utf8', 'UTF-8'], ['en_US.UTF8', 'UTF-8'], ['en_US', 'utf-8'], ['de_DE', 'ISO-8859-1'],
      ['de_DE.ISO-8859-1', 'ISO-8859-1'], ['de_DE.UTF-8', 'utf-8'], ['C.UTF-8', 'UTF-8'], ['xx', 'utf-8'],
    ];
    for (const [lang, expected] of cases) assert.equal(preferredEncoding({ LANG: lang }, fsys), expected, lang);
    assert.equal(preferredEncoding({ LANG: 'en_US.UTF-8', LOCPATH: '/nowhere' }, fsys), 'utf-8');
  });

  test('-e wins; without it the default comes from the environment', () => {
    const io = recordingIo(debianMinimal());
    const a = parseRegexArgs(ARGV0, ['x', 'y'], io, { LANG: 'C.UTF-8' });
    const b = parseRegexArgs(ARGV0, ['-e', 'latin-1', 'x', 'y'], io, { LANG: 'C.UTF-8' });
    assert.equal(a.kind === 'run' && a.options.encoding, 'UTF-8');
    assert.equal(b.kind === 'run' && b.options.encoding, 'latin-1');
  });
});

// ---------------------------------------------------------------------------------------------
// Side by side

interface Run {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
}

const BIN = path.join(ROOT, 'bin');
const NODE_DIR = path.dirname(process.execPath);

/** Runs a program to its end (asynchronously, so the slow Python runs overlap). */
function spawn(cmd: string, args: readonly string[], env: Readonly<Record<string, string | undefined>>, cwd = '/tmp', clean = false): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawnChild(cmd, args, { cwd, env: clean ? env : { ...process.env, LANG: 'C.UTF-8', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => void (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => void (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ stdout, stderr, status }));
  });
}

/** Both programs by absolute path; each one's path is replaced by PROG before comparing. */
async function sideBySide(args: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): Promise<{ real: Run; ours: Run }> {
  const norm = (r: Run, prog: string): Run => ({ stdout: r.stdout.split(prog).join('PROG'), stderr: r.stderr.split(prog).join('PROG'), status: r.status });
  const ourProg = path.join(BIN, 'fail2ban-regex');
  const [real, ours] = await Promise.all([spawn('/usr/bin/fail2ban-regex', args, env), spawn(process.execPath, [ourProg, ...args], env)]);
  return { real: norm(real, '/usr/bin/fail2ban-regex'), ours: norm(ours, ourProg) };
}

const SAME_AS_REAL: ReadonlyArray<readonly [args: readonly string[], env?: Readonly<Record<string, string | undefined>>]> = [
  [['-h']],
  [['-h'], { COLUMNS: '60' }],
  [['-h'], { COLUMNS: '200' }],
  [['-h'], { COLUMNS: '30' }],
  [['--help']],
  [['--version']],
  [['-V']],
  [['--bogus']],
  [['-c']],
  [['-L', 'x', 'a', 'b']],
  [['--pr']],
  [['--verb', '3']],
];

describe('fail2ban-regex command line, side by side with /usr/bin/fail2ban-regex', { concurrency: 8 }, () => {
  for (const [args, env] of SAME_AS_REAL) {
    test(`${env ? `${Object.entries(env).map(([k, v]) => `${k}=${v ?? ''}`).join(' ')} ` : ''}fail2ban-regex ${args.join(' ')}`, async (t) => {
      if (!needOracle(t, 'fail2ban-regex')) return;
      const { real, ours } = await sideBySide(args, env);
      assert.equal(ours.stdout, real.stdout);
      assert.equal(ours.stderr, real.stderr);
      assert.equal(ours.status, real.status);
    });
  }

  test('found through PATH, the usage line shows the full path (as Python\'s sys.argv[0])', async (t) => {
    if (!needOracle(t, 'fail2ban-regex')) return;
    const ourPath = { PATH: `${BIN}:${NODE_DIR}:/usr/bin:/bin` };
    const [real, ours, realHelp, ourHelp] = await Promise.all([
      spawn('fail2ban-regex', ['--bogus'], { PATH: '/usr/bin:/bin' }),
      spawn('fail2ban-regex', ['--bogus'], ourPath),
      spawn('fail2ban-regex', ['-h'], { PATH: '/usr/bin:/bin' }),
      spawn('fail2ban-regex', ['-h'], ourPath),
    ]);
    assert.equal(real.stderr, 'Usage: /usr/bin/fail2ban-regex [OPTIONS] <LOG> <REGEX> [IGNOREREGEX]\n\nfail2ban-regex: error: no such option: --bogus\n');
    assert.equal(ours.stderr, real.stderr.replace('/usr/bin/fail2ban-regex', path.join(BIN, 'fail2ban-regex')));
    assert.equal(ours.status, real.status);
    assert.equal(ourHelp.stdout, realHelp.stdout.replace('/usr/bin/fail2ban-regex', path.join(BIN, 'fail2ban-regex')));
  });

  test('run from a shell by a relative path, both show that path', async (t) => {
    if (!needOracle(t, 'fail2ban-regex')) return;
    if (!fs.existsSync('/bin/bash')) return t.skip('no /bin/bash');
    for (const args of ['--bogus', '-h']) {
      const [real, ours] = await Promise.all([
        spawn('/bin/bash', ['-c', `./fail2ban-regex ${args}`], { PATH: '/usr/bin:/bin' }, '/usr/bin'),
        spawn('/bin/bash', ['-c', `./fail2ban-regex ${args}`], { PATH: `${NODE_DIR}:/usr/bin:/bin` }, BIN),
      ]);
      assert.ok(real.stdout.startsWith('Usage: ./fail2ban-regex ') || real.stderr.startsWith('Usage: ./fail2ban-regex '));
      assert.deepEqual(ours, real);
    }
  });

  test('the default encoding in the header (Use encoding), with real locale directories through LOCPATH', async (t) => {
    if (!needOracle(t, 'fail2ban-regex')) return;
    const cUtf8 = '/usr/lib/locale/C.utf8/LC_CTYPE';
    if (!fs.existsSync(cUtf8)) return t.skip(`no ${cUtf8}`);
    const ctype = fs.readFileSync(cUtf8);
    const dir = makeTree({ 'loc/xx_YY.UTF-8/LC_CTYPE': ctype, 'loc/zz_ZZ/LC_CTYPE': ctype, 'one.log': 'x 192.0.2.1\n' });
    try {
      const envs: ReadonlyArray<Readonly<Record<string, string>>> = [
        {}, { LANG: 'C.UTF-8' }, { LANG: 'en_US.UTF-8' }, { LC_CTYPE: 'C', LANG: 'C.UTF-8' }, { PYTHONUTF8: '0', LANG: 'C' },
        { PYTHONUTF8: '0', PYTHONCOERCECLOCALE: '0' }, { LOCPATH: `${dir}/loc`, LANG: 'xx_YY.UTF-8' }, { LOCPATH: `${dir}/loc`, LANG: 'xx_YY.utf8' },
        { LOCPATH: `${dir}/loc`, LANG: 'zz_ZZ' }, { LOCPATH: `${dir}/loc`, LANG: 'zz_ZZ.ISO-8859-1' },
      ];
      // As clean as `env -i`: only PATH and the variables under test.
      const runs = await Promise.all(envs.map((env) => spawn('/usr/bin/fail2ban-regex', [`${dir}/one.log`, '<HOST>'], { PATH: '/usr/bin:/bin', ...env }, '/tmp', true)));
      envs.forEach((env, i) => {
        const real = /^Use {9}encoding : (.*)$/m.exec(runs[i]?.stdout ?? '')?.[1];
        assert.equal(preferredEncoding(env, new NodeFileSystem()), real, JSON.stringify(env));
      });
    } finally {
      removeTree(dir);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Against fail2ban's own parser, many argument lists at once

/** Runs fail2ban's `get_opt_parser().parse_args(argv)` for each case, capturing output and exit. */
const PY_PARSE = `
import io, os, contextlib
sys.argv = [DATA['argv0']]
from fail2ban.client.fail2banregex import get_opt_parser
res = []
for case in DATA['cases']:
    if case['columns'] is None: os.environ.pop('COLUMNS', None)
    else: os.environ['COLUMNS'] = case['columns']
    out, err = io.StringIO(), io.StringIO()
    r = {'code': None, 'values': None, 'args': None}
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            opts, args = get_opt_parser().parse_args(case['argv'])
            r['values'] = vars(opts); r['args'] = args
        except SystemExit as e:
            r['code'] = e.code
    r['out'] = out.getvalue(); r['err'] = err.getvalue()
    res.append(r)
print(json.dumps(res))
`;

interface PyParse {
  readonly code: number | null;
  readonly values: Record<string, string | number | boolean | null> | null;
  readonly args: string[] | null;
  readonly out: string;
  readonly err: string;
}

function fromPython(v: Record<string, string | number | boolean | null>): RegexToolOptions {
  const s = (k: string): string | undefined => (v[k] === null || v[k] === undefined ? undefined : String(v[k]));
  const b = (k: string): boolean => Boolean(v[k]);
  return {
    config: String(v.config), datepattern: s('datepattern'), timezone: s('timezone'), encoding: String(v.encoding), raw: b('raw'),
    usedns: s('usedns'), maxlines: Number(v.maxlines), journalmatch: s('journalmatch'), logLevel: String(v.log_level),
    verbose: Number(v.verbose), verboseDate: b('verbose_date'), debuggex: b('debuggex'), checkAllRegex: b('checkAllRegex'), out: s('out'),
    printNoMissed: b('print_no_missed'), printNoIgnored: b('print_no_ignored'), printAllMatched: b('print_all_matched'),
    printAllMissed: b('print_all_missed'), printAllIgnored: b('print_all_ignored'), logTraceback: b('log_traceback'), fullTraceback: b('full_traceback'),
  };
}

const TOKENS = [
  '-c', '-d', '-e', '-r', '-L', '-m', '-l', '-v', '-D', '-o', '-t', '-rv', '-rvD', '-rL3', '-Lx', '-L0x1f', '-vvc/x', '-tx', '-é', '-', '--',
  '--config', '--conf=/e', '--datepattern=%s', '--timezone', '--TZ=UTC', '--encoding', '--raw', '--raw=1', '--usedns', '--maxlines=0b11',
  '--maxlines', '--journalmatch', '--log-level=info', '--verbose', '--verbosity', '--verbosity=4', '--verbose-date', '--VD', '--debuggex',
  '--no-check-all', '--no-check-all=', '--out=id', '--print-no-missed', '--print-all-missed', '--print-all-ign', '--full-traceback',
  '--log-traceback', '--verb', '--verbo', '--pr', '--print-all', '--x', '--=x', '---', '--deb', '--ve', '--log', '--no',
  'x', '0', '010', '0x1f', '08', '-1', ' 3', '', '=', 'a=b', 'é', '3_0', '/var/log/auth.log', 'sshd[mode=aggressive]',
];
const RARE = ['-h', '--help', '--version', '-V', '--he', '--vers'];

describe('fail2ban-regex options against fail2ban\'s own get_opt_parser (python3)', () => {
  test('random argument lists: same values, positional arguments, output and exit code', (t) => {
    if (PYTHON === undefined) return t.skip(NO_PYTHON);
    const rnd = prng(20251122);
    const cases: Array<{ argv: string[]; columns: string | null }> = [];
    for (let i = 0; i < 600; i++) {
      const argv: string[] = [];
      const n = rnd(7);
      for (let k = 0; k < n; k++) argv.push(rnd(40) === 0 ? (RARE[rnd(RARE.length)] ?? '') : (TOKENS[rnd(TOKENS.length)] ?? ''));
      cases.push({ argv, columns: [null, '40', '100', 'x'][rnd(4)] ?? null });
    }
    const argv0 = '/opt/f2b/bin/fail2ban-regex';
    const expected = runPython<PyParse[]>(PY_PARSE, { argv0, cases });
    const fsys = new NodeFileSystem();
    cases.forEach((c, i) => {
      const py = expected[i];
      assert.ok(py);
      const io = recordingIo(fsys);
      const env = { ...process.env, COLUMNS: c.columns ?? undefined };
      const r = parseRegexArgs(argv0, c.argv, io, env);
      const what = JSON.stringify(c);
      if (py.values === null) assert.deepEqual(r, { kind: 'exit', code: py.code ?? 0 }, what);
      else assert.deepEqual(r, { kind: 'run', options: fromPython(py.values), args: py.args }, what);
      assert.equal(io.out, py.out, what);
      assert.equal(io.err, py.err, what);
    });
  });
});
