/**
 * `portcullis regex`: counts and per-regex hits side by side with Debian's fail2ban-regex (single-
 * and multi-line filters), the text report (colour, samples, top ids), JSON, argument errors and
 * exit codes, the progress line, and forEachLine's chunk callback.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { runPortcullis, type PortcullisEnv } from '../../src/cli/portcullis.js';
import { parseRegexCommandArgs } from '../../src/cli/regexCommand/args.js';
import { formatProgress, ProgressMeter } from '../../src/cli/regexCommand/progress.js';
import { RegexStats } from '../../src/cli/regexCommand/stats.js';
import { findToken, group, visible } from '../../src/cli/regexCommand/text.js';
import { intlZone, UTC_ZONE, type LocalZone } from '../../src/filter/strptime.js';
import type { FileSystem } from '../../src/system/fs.js';
import { decoderFor, forEachLine } from '../../src/system/lines.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { GetentResolver } from '../../src/system/resolver.js';
import { MemoryFileSystem } from '../../src/testing/memoryFs.js';
import { recordingIo, type RecordingIo } from '../helpers/io.js';
import { makeTree, oracleAvailable, removeTree, ROOT } from '../helpers/oracle.js';

const LOGS = '/usr/lib/python3/dist-packages/fail2ban/tests/files/logs';
const ORACLE = '/usr/bin/fail2ban-regex';

function localZone(): LocalZone {
  try {
    return intlZone(Intl.DateTimeFormat().resolvedOptions().timeZone);
  } catch {
    return UTC_ZONE;
  }
}

const baseEnv: PortcullisEnv = {
  builtinConfigDir: path.join(ROOT, 'config'),
  zone: localZone(),
  resolver: new GetentResolver(),
  stderrIsTty: false,
  envVars: {},
};

interface Ran {
  readonly code: number;
  readonly io: RecordingIo;
}

function regex(args: readonly string[], env: Partial<PortcullisEnv> = {}, io: RecordingIo = recordingIo()): Ran {
  const code = runPortcullis(['regex', ...args], io, { ...baseEnv, ...env });
  return { code, io };
}

interface JsonRegex {
  index: number;
  regex: string;
  hits: number;
  samples: Array<{ lineNumber: number; line: string; id: string | null }>;
}

interface JsonReport {
  log: string;
  filter: { argument: string; kind: string; files: string[]; maxlines: number };
  lines: { read: number; matched: number; ignored: number; missed: number; skipped: number };
  elapsedSeconds: number;
  linesPerSecond: number | null;
  failregex: JsonRegex[];
  ignoreregex: JsonRegex[];
  dateTemplates: Array<{ name: string; hits: number }>;
  topIds: Array<{ id: string; failures: number }>;
  distinctIds: number;
  otherIds: number;
  skipped: Array<{ lineNumber: number; line: string; reason: string }>;
}

function json(args: readonly string[], env: Partial<PortcullisEnv> = {}): JsonReport {
  const r = regex(['--json', ...args], env);
  assert.equal(r.code, 0, r.io.err);
  assert.equal(r.io.err, '');
  return JSON.parse(r.io.out) as JsonReport;
}

/** The counts and failregex hits of the real fail2ban-regex's report. */
function oracleReport(log: string, filter: string): { lines: Record<string, number>; hits: Map<number, number> } {
  const r = spawnSync(ORACLE, [log, filter], { encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8' } });
  assert.equal(r.status, 0, r.stderr);
  const m = /^Lines: (\d+) lines, (\d+) ignored, (\d+) matched, (\d+) missed$/m.exec(r.stdout);
  assert.ok(m, r.stdout);
  const block = r.stdout.slice(r.stdout.indexOf('\nFailregex:'), r.stdout.indexOf('\nIgnoreregex:'));
  const hits = new Map<number, number>();
  for (const row of block.matchAll(/^\|\s+(\d+)\) \[(\d+)\] /gm)) hits.set(Number(row[1]), Number(row[2]));
  assert.ok(hits.size > 0, block);
  return { lines: { read: Number(m[1]), ignored: Number(m[2]), matched: Number(m[3]), missed: Number(m[4]) }, hits };
}

function sameAsOracle(log: string, filter: string): JsonReport {
  const real = oracleReport(log, filter);
  const ours = json([log, filter]);
  const { read, ignored, matched, missed } = ours.lines;
  assert.deepEqual({ read, ignored, matched, missed }, real.lines);
  assert.equal(ours.lines.skipped, 0);
  const nonzero = new Map(ours.failregex.filter((r) => r.hits > 0).map((r) => [r.index, r.hits]));
  assert.deepEqual(nonzero, real.hits);
  return ours;
}

describe('portcullis regex: the same counts as fail2ban-regex', () => {
  test('sshd sample log, filter sshd', (t) => {
    if (!oracleAvailable('fail2ban-regex')) return t.skip(`no ${ORACLE}`);
    const ours = sameAsOracle(path.join(LOGS, 'sshd'), 'sshd');
    assert.equal(ours.filter.kind, 'filter');
    assert.deepEqual(ours.filter.files, ['/etc/fail2ban/filter.d/sshd.conf']);
    assert.ok(ours.failregex.length > 1);
  });

  test('multi-line filter: mongodb-auth (maxlines 10)', (t) => {
    if (!oracleAvailable('fail2ban-regex')) return t.skip(`no ${ORACLE}`);
    const ours = sameAsOracle(path.join(LOGS, 'mongodb-auth'), 'mongodb-auth');
    assert.equal(ours.filter.maxlines, 10);
  });

  test('multi-line filter: guacamole (maxlines 2)', (t) => {
    if (!oracleAvailable('fail2ban-regex')) return t.skip(`no ${ORACLE}`);
    sameAsOracle(path.join(LOGS, 'guacamole'), 'guacamole');
  });
});

const P = 'Jan  1 00:00:00 host sshd[1]: ';
const IDS_LOG = [
  `${P}Invalid user a from 192.0.2.1`,
  `${P}Invalid user b from 192.0.2.2`,
  '# a comment',
  '',
  `${P}Invalid user c from 192.0.2.3`,
  `${P}Invalid user d from 192.0.2.2`,
  `${P}Invalid user e from 192.0.2.3`,
  `${P}Invalid user f from 192.0.2.2`,
  `${P}Invalid user g from 192.0.2.3`,
  `${P}Invalid user h from 192.0.2.1`,
  `${P}Connection closed by 192.0.2.9`,
  `${P}something else`,
  '',
].join('\n');
const IDS_REGEX = 'Invalid user \\S+ from <HOST>$';

function withLog<T>(content: string | Uint8Array, fn: (log: string, dir: string) => T): T {
  const dir = makeTree({ 'test.log': content });
  try {
    return fn(path.join(dir, 'test.log'), dir);
  } finally {
    removeTree(dir);
  }
}

describe('portcullis regex: the text report', () => {
  test('without colour: header, summary line, samples and no escape codes', () => {
    const log = path.join(LOGS, 'sshd');
    const r = regex([log, 'sshd']);
    assert.equal(r.code, 0, r.io.err);
    assert.ok(!r.io.out.includes('\x1b['), 'no escape codes');
    assert.match(r.io.out, new RegExp(`^Log: +${log}$`, 'm'));
    assert.match(r.io.out, /^Filter: sshd \(\/etc\/fail2ban\/filter\.d\/sshd\.conf\)$/m);
    assert.match(r.io.out, /^Lines: 148 read, 64 matched, 42 ignored, 42 missed, 0 skipped in \d+\.\d\d s/m);
    // Regex 1 hits 8 lines: the default --samples 3 shows the first three of them.
    const block = r.io.out.slice(r.io.out.indexOf('\n   1) [8] '), r.io.out.indexOf('\n   2) '));
    assert.deepEqual([...block.matchAll(/^ {6}line (\d+): /gm)].map((m) => Number(m[1])), [5, 9, 79]);
    assert.match(r.io.out, /^Date templates used:\n {2}\[144\] \{\^LN-BEG\}/m);
    assert.match(r.io.out, /^Top failure ids: 10 of 40 ids\n {2}127\.0\.0\.1 +8 failures$/m);
  });

  test('thousands separators', () => {
    assert.equal(group(0), '0');
    assert.equal(group(999), '999');
    assert.equal(group(1000), '1,000');
    assert.equal(group(1234567), '1,234,567');
    assert.equal(group(-12345), '-12,345');
  });

  test('--color: escapes, counts coloured and the failure id highlighted in the sample', () => {
    withLog(IDS_LOG, (log) => {
      const r = regex(['--color', log, IDS_REGEX]);
      assert.equal(r.code, 0, r.io.err);
      assert.ok(r.io.out.includes('\x1b['));
      assert.ok(r.io.out.includes('\x1b[32m8 matched\x1b[0m'), r.io.out);
      assert.ok(r.io.out.includes(`line 1: ${P}Invalid user a from \x1b[1;36m192.0.2.1\x1b[0m\n`), r.io.out);
    });
  });

  test('colour by default only on a terminal without NO_COLOR', () => {
    withLog(IDS_LOG, (log) => {
      const tty = (): RecordingIo => Object.assign(recordingIo(), { isTty: true });
      const a = regex([log, IDS_REGEX], {}, tty());
      const b = regex([log, IDS_REGEX], { envVars: { NO_COLOR: '1' } }, tty());
      const c = regex(['--no-color', log, IDS_REGEX], {}, tty());
      const d = regex([log, IDS_REGEX]);
      for (const r of [a, b, c, d]) assert.equal(r.code, 0, r.io.err);
      assert.ok(!d.io.out.includes('\x1b['), 'not a terminal: none');
      assert.ok(a.io.out.includes('\x1b['), 'terminal: colour');
      assert.ok(!b.io.out.includes('\x1b['), 'NO_COLOR: none');
      assert.ok(!c.io.out.includes('\x1b['), '--no-color: none');
    });
  });

  test('--samples 0 shows no sample lines; --samples 1 one per regex', () => {
    withLog(IDS_LOG, (log) => {
      const none = regex(['--samples', '0', log, IDS_REGEX]);
      assert.equal(none.code, 0, none.io.err);
      assert.match(none.io.out, /^ {2}1\) \[8\] /m);
      assert.doesNotMatch(none.io.out, /^ +line \d+: /m);
      const one = regex(['--samples=1', log, IDS_REGEX]);
      assert.deepEqual([...one.io.out.matchAll(/^ +line (\d+): /gm)].map((m) => m[1]), ['1']);
    });
  });

  test('top ids: most failures first, ties in the order first seen; --top limits them', () => {
    withLog(IDS_LOG, (log) => {
      const r = regex([log, IDS_REGEX]);
      assert.equal(r.code, 0, r.io.err);
      const top = r.io.out.slice(r.io.out.indexOf('Top failure ids:'));
      assert.deepEqual([...top.matchAll(/^ {2}(\S+) +(\d+) failures?$/gm)].map((m) => `${m[1]}=${m[2]}`), ['192.0.2.2=3', '192.0.2.3=3', '192.0.2.1=2']);
      const data = json(['--top', '2', log, IDS_REGEX]);
      assert.deepEqual(data.topIds, [{ id: '192.0.2.2', failures: 3 }, { id: '192.0.2.3', failures: 3 }]);
      assert.equal(data.distinctIds, 3);
      assert.equal(data.otherIds, 0);
      // Physical line numbers: the comment and the empty line are counted but not tested.
      assert.deepEqual(data.failregex[0]?.samples.map((s) => [s.lineNumber, s.id]), [[1, '192.0.2.1'], [2, '192.0.2.2'], [5, '192.0.2.3']]);
      assert.deepEqual(data.lines, { read: 10, matched: 8, ignored: 0, missed: 2, skipped: 0 });
    });
  });

  test('IGNOREREGEX: ignored lines and ignoreregex hits with samples', () => {
    withLog(IDS_LOG, (log) => {
      const data = json([log, IDS_REGEX, 'user [ab] from']);
      assert.deepEqual(data.lines, { read: 10, matched: 6, ignored: 2, missed: 2, skipped: 0 });
      assert.equal(data.ignoreregex[0]?.hits, 2);
      assert.deepEqual(data.ignoreregex[0]?.samples.map((s) => s.lineNumber), [1, 2]);
      assert.equal(data.filter.kind, 'regex');
      const text = regex([log, IDS_REGEX, 'user [ab] from']).io.out;
      assert.match(text, /^Ignoreregex: 2 hits from 1 of 1 regex\n {2}1\) \[2\] user \[ab\] from$/m);
    });
  });

  test('control characters in log lines are shown, not sent to the terminal', () => {
    assert.equal(visible('a\x1b[31mb\tc\x07'), 'a\\x1b[31mb\tc\\x07');
    withLog(`${P}Invalid user \x1b[2J from 192.0.2.7\n`, (log) => {
      const r = regex([log, IDS_REGEX]);
      assert.ok(!r.io.out.includes('\x1b'), r.io.out);
      assert.ok(r.io.out.includes('Invalid user \\x1b[2J from 192.0.2.7'));
    });
  });

  test('findToken prefers a whole token', () => {
    assert.deepEqual(findToken('from 11.2.3.45 and 1.2.3.4 x', '1.2.3.4'), [19, 26]);
    assert.deepEqual(findToken('x1.2.3.4y', '1.2.3.4'), [1, 8]);
    assert.equal(findToken('nothing', '1.2.3.4'), undefined);
  });
});

describe('portcullis regex --json', () => {
  test('one object with the keys in a stable order', () => {
    const data = json([path.join(LOGS, 'sshd'), 'sshd']);
    assert.deepEqual(Object.keys(data), [
      'log', 'filter', 'lines', 'elapsedSeconds', 'linesPerSecond', 'failregex', 'ignoreregex', 'dateTemplates', 'topIds', 'distinctIds', 'otherIds', 'skipped',
    ]);
    assert.deepEqual(Object.keys(data.lines), ['read', 'matched', 'ignored', 'missed', 'skipped']);
    assert.deepEqual(Object.keys(data.failregex[0] ?? {}), ['index', 'regex', 'hits', 'samples']);
    assert.equal(data.failregex[0]?.index, 1);
    assert.ok(data.dateTemplates.every((d) => d.hits > 0));
    assert.equal(data.dateTemplates.reduce((n, d) => n + d.hits, 0), 146);
    assert.equal(data.topIds.length, 10);
    assert.ok(!JSON.stringify(data).includes('\\u001b'));
  });

  test('a line over its time budget is skipped and reported; the run goes on', () => {
    withLog(`${'a'.repeat(40)}b !\n${'a'.repeat(3)}b 192.0.2.9\n`, (log) => {
      const data = json([log, '^(?:a+)+b <HOST>$'], { lineBudgetMs: 300 });
      assert.deepEqual(data.lines, { read: 2, matched: 1, ignored: 0, missed: 0, skipped: 1 });
      assert.equal(data.skipped.length, 1);
      assert.equal(data.skipped[0]?.lineNumber, 1);
      assert.match(data.skipped[0]?.reason ?? '', /time budget/);
      assert.deepEqual(data.topIds, [{ id: '192.0.2.9', failures: 1 }]);
    });
  });
});

describe('portcullis regex: arguments and exit codes', () => {
  test('--help exits 0; portcullis --help lists the command', () => {
    const r = regex(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.io.out, /^Usage: portcullis regex \[options\] LOG FILTER \[IGNOREREGEX\]/);
    const top = recordingIo();
    assert.equal(runPortcullis(['--help'], top, baseEnv), 0);
    assert.match(top.out, /^ {2}regex LOG FILTER \[IGNOREREGEX\]/m);
    assert.match(top.out, /fail2ban-regex \(works fully\)/);
  });

  const log = path.join(LOGS, 'sshd');
  const cases: Array<[string, readonly string[], number, RegExp]> = [
    ['no arguments', [], 64, /missing LOG and FILTER/],
    ['no FILTER', [log], 64, /missing FILTER/],
    ['too many', [log, 'sshd', 'x', 'y'], 64, /too many arguments/],
    ['unknown option', ['--bogus', log, 'sshd'], 64, /unknown option "--bogus"/],
    ['missing value', [log, 'sshd', '--samples'], 64, /--samples needs a value/],
    ['not a number', ['--top', 'ten', log, 'sshd'], 64, /--top needs a whole number of at least 0, got "ten"/],
    ['negative number', ['--samples', '-1', log, 'sshd'], 64, /--samples needs a whole number/],
    ['bad time zone', ['--timezone', 'Mars/Olympus', log, 'sshd'], 64, /--timezone "Mars\/Olympus"/],
    ['missing log', ['/nonexistent/x.log', 'sshd'], 66, /cannot read log "\/nonexistent\/x\.log": no such file .*use fail2ban-regex/],
    ['log is a directory', [LOGS, 'sshd'], 66, /not a file/],
    ['bad regex', [log, 'sshd['], 78, /cannot load filter "sshd\["/],
  ];
  for (const [name, args, code, message] of cases) {
    test(`${name} → ${code}`, () => {
      const r = regex(args);
      assert.equal(r.code, code, r.io.err);
      assert.match(r.io.err, message);
      assert.match(r.io.err, /^portcullis regex: .*\n$/);
      assert.equal(r.io.out, '');
    });
  }

  test('a filter file with a broken regex → 78, naming the filter', () => {
    const dir = makeTree({ 'filter.d/broken.conf': '[Definition]\nfailregex = ^(unclosed <HOST>\n' });
    try {
      const r = regex(['-c', dir, log, 'broken']);
      assert.equal(r.code, 78, r.io.err);
      assert.match(r.io.err, /^portcullis regex: cannot load filter "broken": /);
    } finally {
      removeTree(dir);
    }
  });

  test('a filter with malformed arguments → 78', () => {
    const r = regex([log, 'sshd[mode=aggressive']);
    assert.equal(r.code, 78, r.io.err);
  });

  test('an unreadable log → 66', () => {
    const real = new NodeFileSystem();
    const fs: FileSystem = {
      readFile: (p) => (p === log ? undefined : real.readFile(p)),
      stat: (p) => real.stat(p),
      lexists: (p) => real.lexists(p),
      readDir: (p) => real.readDir(p),
      readChunks: (p, n) => (p === log ? undefined : real.readChunks(p, n)),
    };
    const r = regex([log, 'sshd'], {}, recordingIo(fs));
    assert.equal(r.code, 66);
    assert.match(r.io.err, /cannot read log .*unreadable/);
  });

  test('the parser keeps options and positionals apart', () => {
    const p = parseRegexCommandArgs(['-c', '/x', '--json', 'log', '--', '-filter-']);
    assert.equal(p.kind, 'ok');
    if (p.kind !== 'ok') return;
    assert.equal(p.options.conf, '/x');
    assert.equal(p.options.json, true);
    assert.equal(p.options.log, 'log');
    assert.equal(p.options.filter, '-filter-');
    assert.equal(p.options.samples, 3);
    assert.equal(p.options.top, 10);
    assert.equal(p.options.color, undefined);
  });
});

describe('portcullis regex: progress', () => {
  test('formatProgress: bar, percent, lines and rate', () => {
    assert.equal(formatProgress({ bytes: 0, totalBytes: 100, lines: 0, elapsedMs: 0 }), `[${'.'.repeat(30)}]   0.0%  0 lines`);
    assert.equal(formatProgress({ bytes: 50, totalBytes: 100, lines: 12345, elapsedMs: 2000 }), `[${'#'.repeat(15)}${'.'.repeat(15)}]  50.0%  12,345 lines  6,173 lines/s`);
    assert.equal(formatProgress({ bytes: 100, totalBytes: 100, lines: 1, elapsedMs: 1 }), `[${'#'.repeat(30)}] 100.0%  1 lines  1,000 lines/s`);
    assert.match(formatProgress({ bytes: 999, totalBytes: 1000, lines: 0, elapsedMs: 0 }), / 99\.9%/);
    assert.match(formatProgress({ bytes: 200, totalBytes: 100, lines: 0, elapsedMs: 0 }), /100\.0%/);
  });

  test('ProgressMeter draws at most once per interval and clears its line', () => {
    let now = 1000;
    let out = '';
    const meter = new ProgressMeter(100, () => now, (s) => void (out += s));
    meter.update(10, 5);
    assert.match(out, /^\r\[###\.+\] +10\.0% {2}5 lines$/);
    const first = out;
    now += 100;
    meter.update(20, 10);
    assert.equal(out, first, 'no redraw within 250 ms');
    now += 200;
    meter.update(30, 15);
    assert.equal(out.split('\r').length - 1, 2);
    assert.match(out, /30\.0% {2}15 lines {2}50 lines\/s$/);
    out = '';
    meter.clear();
    assert.match(out, /^\r +\r$/);
    out = '';
    meter.clear();
    assert.equal(out, '');
  });

  function tickingIo(): RecordingIo {
    const io = recordingIo();
    let t = Date.UTC(2026, 0, 1);
    return Object.assign(io, { clock: { nowMs: () => (t += 300) } });
  }

  test('a log over the threshold with a terminal on stderr gets a progress line, cleared at the end', () => {
    const log = path.join(LOGS, 'sshd');
    const io = tickingIo();
    const r = regex([log, 'sshd'], { progressThresholdBytes: 1000, stderrIsTty: true }, io);
    assert.equal(r.code, 0);
    assert.match(io.err, /^\r\[[#.]{30}\] +\d+\.\d% {2}[\d,]+ lines/);
    assert.match(io.err, /100\.0% {2}148 lines/);
    assert.match(io.err, /\r +\r$/);
    assert.match(io.out, /^Lines: 148 read/m);
  });

  test('no progress line: under the threshold, stderr not a terminal, or --json', () => {
    const log = path.join(LOGS, 'sshd');
    assert.equal(regex([log, 'sshd'], { stderrIsTty: true }, tickingIo()).io.err, '');
    assert.equal(regex([log, 'sshd'], { progressThresholdBytes: 1000, stderrIsTty: false }, tickingIo()).io.err, '');
    assert.equal(regex(['--json', log, 'sshd'], { progressThresholdBytes: 1000, stderrIsTty: true }, tickingIo()).io.err, '');
  });
});

describe('forEachLine onChunk', () => {
  const decode = decoderFor('UTF-8') ?? ((b: Uint8Array): string => new TextDecoder().decode(b));

  test('the chunk sizes add up to the file size, in several chunks; the lines are unchanged', () => {
    const line = 'x'.repeat(99) + '\n';
    const content = line.repeat(30000) + 'tail without newline';
    withLog(content, (log) => {
      const fs = new NodeFileSystem();
      const chunks: number[] = [];
      const withChunks: string[] = [];
      const without: string[] = [];
      assert.equal(forEachLine(fs, log, decode, (l) => void withChunks.push(l), true, (n) => chunks.push(n)), true);
      forEachLine(fs, log, decode, (l) => void without.push(l), true);
      assert.ok(chunks.length > 1, `${chunks.length} chunks`);
      assert.equal(chunks.reduce((a, b) => a + b, 0), fs.stat(log)?.size);
      assert.equal(fs.stat(log)?.size, Buffer.byteLength(content));
      assert.deepEqual(withChunks, without);
      assert.equal(withChunks.length, 30001);
    });
  });

  test('a file system without readChunks: one chunk of the whole file', () => {
    const fs = new MemoryFileSystem({ '/l.log': 'a\nbé\n' });
    const chunks: number[] = [];
    forEachLine(fs, '/l.log', decode, () => undefined, false, (n) => chunks.push(n));
    assert.deepEqual(chunks, [6]);
    assert.equal(fs.stat('/l.log')?.size, 6);
  });
});

describe('RegexStats', () => {
  test('distinct ids are capped; failures of further ids count as other ids', () => {
    const s = new RegexStats(['r'], [], { samples: 1, maxIds: 2, maxSkipped: 1 });
    const line = (n: number, ids: string[]): void => {
      s.beginLine(n, `line ${n}`);
      for (const id of ids) s.failHit(0, id, [id]);
      s.endLine(ids.length > 0 ? 'matched' : 'missed', ids);
    };
    line(1, ['a']);
    line(2, ['b', 'b']);
    line(3, ['c']);
    line(4, ['a']);
    line(5, ['d']);
    line(6, []);
    s.skipped(7, 'x', 'slow');
    s.skipped(8, 'y', 'slow');
    assert.deepEqual(s.topIds(10), [{ id: 'a', failures: 2 }, { id: 'b', failures: 1 }]);
    assert.equal(s.otherIds, 2);
    assert.equal(s.distinctIds, 2);
    assert.deepEqual(s.lines, { read: 8, matched: 5, ignored: 0, missed: 1, skipped: 2 });
    assert.equal(s.skippedSamples.length, 1);
    const r = s.failregex[0];
    assert.equal(r?.hits, 6);
    assert.equal(r?.samples.length, 1);
  });
});
