/**
 * journalctl arguments and the entry → line conversion, against fail2ban's own `FilterSystemd`
 * (Debian 1.0.2 with python3-systemd) reading the very same journal file, written here with
 * systemd-journal-remote from the export format.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import {
  formatJournalEntry,
  journalFollowArgs,
  journalIsoDate,
  journalLastEntryArgs,
  journalMatchArgs,
  journalMatchGroups,
  JournalMatchError,
  journalMatchText,
  journalSelectionArgs,
  journalStart,
  pyBytesRepr,
} from '../../src/source/journalArgs.js';
import { asciiJson, NO_PYTHON, PYTHON } from '../helpers/python.js';

const REMOTE = '/lib/systemd/systemd-journal-remote';
const JOURNALCTL = ['/usr/bin/journalctl', '/bin/journalctl'].find((p) => existsSync(p));
const NO_JOURNAL_TOOLS = existsSync(REMOTE) && JOURNALCTL !== undefined ? false : 'systemd-journal-remote / journalctl not installed';
const BOOT = '0123456789abcdef0123456789abcdef';

type Field = readonly [string, string | Buffer];

/** The journal export format: text fields as `F=v`, anything with control bytes or not a string length-prefixed. */
function exportEntries(entries: ReadonlyArray<readonly Field[]>): Buffer {
  const parts: Buffer[] = [];
  for (const fields of entries) {
    for (const [k, v] of fields) {
      const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
      if (typeof v === 'string' && !/[\u0000-\u001f]/.test(v)) parts.push(Buffer.from(`${k}=${v}\n`, 'utf8'));
      else {
        const len = Buffer.alloc(8);
        len.writeBigUInt64LE(BigInt(b.length));
        parts.push(Buffer.from(`${k}\n`), len, b, Buffer.from('\n'));
      }
    }
    parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** Appends entries to a journal file (created when absent). */
function writeJournal(file: string, entries: ReadonlyArray<readonly Field[]>): void {
  const r = spawnSync(REMOTE, [`--output=${file}`, '-'], { input: exportEntries(entries) });
  assert.equal(r.status, 0, r.stderr.toString());
}

let seq = 0;
/** An entry at `sec` seconds (+ `us`) with boot id and monotonic time filled in. */
function entry(sec: number, fields: readonly Field[], us = 0): Field[] {
  seq++;
  return [['__REALTIME_TIMESTAMP', String(sec * 1000000 + us)], ['__MONOTONIC_TIMESTAMP', String(1000000 + seq * 1000)], ['_BOOT_ID', BOOT], ...fields];
}

const dir = mkdtempSync(join(tmpdir(), 'pc-jrnl-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1700000000;
const SSHD = 'Failed password for invalid user admin from 192.0.2.7 port 4242 ssh2';
const ENTRIES: Field[][] = [
  entry(T0, [['_HOSTNAME', 'web1'], ['SYSLOG_IDENTIFIER', 'sshd'], ['SYSLOG_PID', '4242'], ['_PID', '17'], ['_COMM', 'sshd'], ['MESSAGE', SSHD], ['_SYSTEMD_UNIT', 'sshd.service']], 123456),
  entry(T0 + 1, [['_HOSTNAME', 'web1'], ['_COMM', 'sshd'], ['_PID', '99'], ['MESSAGE', SSHD]]),
  entry(T0 + 2, [['_HOSTNAME', 'web1'], ['SYSLOG_IDENTIFIER', 'kernel'], ['_SOURCE_MONOTONIC_TIMESTAMP', '12345678901'], ['MESSAGE', 'IN=eth0 SRC=192.0.2.8']]),
  entry(T0 + 3, [['_HOSTNAME', 'web1'], ['SYSLOG_IDENTIFIER', 'kernel'], ['MESSAGE', 'no source monotonic']]),
  entry(T0 + 4, [['_HOSTNAME', 'web1'], ['SYSLOG_IDENTIFIER', 'sshd'], ['_PID', '5'], ['MESSAGE', 'first line\nsecond line\n']]),
  entry(T0 + 5, [['_HOSTNAME', 'web1'], ['SYSLOG_IDENTIFIER', 'sshd'], ['MESSAGE', Buffer.from([0x62, 0xff, 0x20, 0xe2, 0x82, 0x20, 0xed, 0xa0, 0x80, 0x20, 0xc0, 0xaf, 0x20, 0xf4, 0x90, 0x80, 0x80, 0x20, 0xf0, 0x9f, 0x98])]]),
  entry(T0 + 6, [['_HOSTNAME', 'web1'], ['SYSLOG_IDENTIFIER', 'sshd'], ['_SOURCE_REALTIME_TIMESTAMP', String((T0 - 3600) * 1000000 + 500)], ['MESSAGE', 'source time']]),
  entry(T0 + 7, [['_HOSTNAME', 'web1'], ['SYSLOG_IDENTIFIER', 'app'], ['MESSAGE', 'one'], ['MESSAGE', 'two'], ['MESSAGE', Buffer.from([0x74, 0x68, 0xfe])]]),
  entry(T0 + 8, [['SYSLOG_IDENTIFIER', 'hex'], ['SYSLOG_PID', '0x1f'], ['MESSAGE', 'pid 0x1f']]),
  entry(T0 + 9, [['SYSLOG_IDENTIFIER', 'word'], ['SYSLOG_PID', "a'b\\"], ['MESSAGE', 'pid word']]),
  entry(T0 + 10, [['SYSLOG_IDENTIFIER', 'zero'], ['SYSLOG_PID', '0'], ['_PID', '77'], ['MESSAGE', 'pid 0 falls back']]),
  entry(T0 + 11, [['SYSLOG_IDENTIFIER', 'spaced'], ['SYSLOG_PID', ' 1_000 '], ['MESSAGE', 'pid spaced']]),
  entry(T0 + 12, [['SYSLOG_IDENTIFIER', 'lead'], ['SYSLOG_PID', '007'], ['MESSAGE', 'pid 007']]),
  entry(T0 + 13, [['SYSLOG_IDENTIFIER', 'bin'], ['SYSLOG_PID', Buffer.from([0x31, 0xff])], ['MESSAGE', 'pid bytes']]),
  entry(T0 + 14, [['SYSLOG_IDENTIFIER', 'rep'], ['SYSLOG_PID', '1'], ['SYSLOG_PID', 'x'], ['MESSAGE', 'pid repeated']]),
  entry(T0 + 15, [['_HOSTNAME', 'web1'], ['SYSLOG_IDENTIFIER', ''], ['_COMM', 'comm'], ['MESSAGE', 'empty identifier']]),
  entry(T0 + 16, [['_HOSTNAME', 'web1'], ['MESSAGE', 'no identifier at all']]),
  entry(T0 + 17, [['_HOSTNAME', 'web1'], ['SYSLOG_IDENTIFIER', 'ctl'], ['MESSAGE', 'bell \u0007 esc \u001b[1m tab\tend']]),
  entry(T0 + 18, [['_HOSTNAME', 'web1'], ['SYSLOG_IDENTIFIER', 'big'], ['MESSAGE', 'x'.repeat(9000) + ' from 192.0.2.9']]),
  entry(T0 + 19, [['_HOSTNAME', 'web1'], ['SYSLOG_IDENTIFIER', 'nomsg']]),
  entry(T0 + 20, [['_HOSTNAME', Buffer.from([0x68, 0xe9])], ['SYSLOG_IDENTIFIER', 'ünï'], ['_PID', '3'], ['MESSAGE', 'Grüße € 𝄞']]),
  entry(T0 + 21, [['_HOSTNAME', 'web1'], ['SYSLOG_IDENTIFIER', 'kernel'], ['SYSLOG_PID', '2'], ['MESSAGE', 'kernel with pid']]),
  entry(T0 + 22, [['_HOSTNAME', 'web2'], ['_COMM', 'sshd'], ['_SYSTEMD_UNIT', 'other.service'], ['MESSAGE', SSHD]], 999999),
];

const file = join(dir, 'system.journal');
if (NO_JOURNAL_TOOLS === false) writeJournal(file, ENTRIES);

const ZONE = 'Asia/Kolkata';
const ZONE_OFFSET = 19800;

interface Oracle {
  readonly date: string;
  readonly line: string;
  readonly time: number;
  readonly cursor: string;
}

/** fail2ban's FilterSystemd over the file, with `matches` (lists of tokens) added as addJournalMatch does. */
function oracle(matches: ReadonlyArray<readonly string[]>): Oracle[] {
  if (PYTHON === undefined) throw new Error(NO_PYTHON);
  const script = `import sys, json
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from fail2ban.server.filtersystemd import FilterSystemd
from fail2ban.tests.dummyjail import DummyJail
D = json.loads(sys.stdin.read())
f = FilterSystemd(DummyJail(), journalfiles=D['file'])
for m in D['matches']:
    f.addJournalMatch(m)
r = f.getJournalReader()
out = []
while True:
    e = r.get_next()
    if not e:
        break
    (l, tm) = f.formatJournalEntry(e)
    out.append({'date': l[1], 'line': l[2], 'time': tm, 'cursor': e['__CURSOR']})
print(json.dumps(out))
`;
  const r = spawnSync(PYTHON, ['-c', script], { input: asciiJson({ file, matches }), encoding: 'utf8', env: { ...process.env, TZ: ZONE, LANG: 'C.UTF-8' } });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Oracle[];
}

/** journalctl's JSON for the file with the matches (not following). */
function journalJson(matches: ReadonlyArray<readonly string[]>): Record<string, unknown>[] {
  const sel = journalSelectionArgs({ journalfiles: file });
  const groups = journalMatchGroups(matches);
  // The probe's arguments without its `--lines=1`: the same options the reader runs with.
  const args = journalLastEntryArgs(sel, groups).filter((a) => a !== '--lines=1');
  const r = spawnSync(JOURNALCTL ?? 'journalctl', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

function ours(matches: ReadonlyArray<readonly string[]>): Oracle[] {
  return journalJson(matches).map((e) => {
    const l = formatJournalEntry(e, { utcOffsetSeconds: ZONE_OFFSET });
    assert.ok(l);
    return { date: l.isoDate + ' ', line: l.line, time: l.time, cursor: l.cursor ?? '' };
  });
}

const skipOracle = NO_JOURNAL_TOOLS !== false ? NO_JOURNAL_TOOLS : PYTHON === undefined ? NO_PYTHON : false;

test('every entry becomes exactly the line, date and time fail2ban builds from it', { skip: skipOracle }, () => {
  const expected = oracle([]);
  assert.equal(expected.length, ENTRIES.length);
  const got = ours([]);
  assert.deepEqual(got, expected);
  // A few spelled out, so the comparison is visibly not vacuous.
  assert.equal(got[0]?.line, `web1 sshd[4242]: ${SSHD}`);
  assert.equal(got[0]?.date, '2023-11-15T03:43:20.123456+05:30 ');
  assert.equal(got[2]?.line, 'web1 kernel: [12345.678901] IN=eth0 SRC=192.0.2.8');
  assert.equal(got[4]?.line, 'web1 sshd[5]: first line\\nsecond line\\n');
  assert.equal(got[6]?.time, T0 - 3600 + 0.0005);
  assert.equal(got[9]?.line, `word[b"a'b\\\\"]: pid word`);
  assert.equal(got[14]?.line, "rep[[1, b'x']]: pid repeated");
  assert.ok(got[18]?.line.endsWith('x from 192.0.2.9'));
});

test('journalmatch groups select the same entries as fail2ban with the same matches', { skip: skipOracle }, () => {
  const cases: string[][][] = [
    [['_SYSTEMD_UNIT=sshd.service', '+', '_COMM=sshd']],
    [['_SYSTEMD_UNIT=sshd.service', '_COMM=sshd']],
    [['SYSLOG_IDENTIFIER=kernel', 'SYSLOG_IDENTIFIER=hex'], ['_HOSTNAME=web2']],
    [['_HOSTNAME=web1', 'SYSLOG_IDENTIFIER=sshd', '+', 'SYSLOG_PID=0x1f']],
  ];
  const counts: number[] = [];
  for (const m of cases) {
    const expected = oracle(m);
    assert.deepEqual(ours(m), expected, JSON.stringify(m));
    counts.push(expected.length);
  }
  assert.deepEqual(counts, [3, 1, 5, 5]);
});

test('python bytes repr', { skip: PYTHON === undefined ? NO_PYTHON : false }, () => {
  const samples = [[], [0x27], [0x22], [0x27, 0x22], [0x5c, 0x09, 0x0a, 0x0d, 0x00, 0x7f, 0x80, 0xff, 0x41], [0x27, 0x41]];
  const r = spawnSync(PYTHON ?? 'python3', ['-c', 'import sys, json\nprint(json.dumps([repr(bytes(b)) for b in json.loads(sys.stdin.read())]))'], { input: JSON.stringify(samples), encoding: 'utf8' });
  assert.deepEqual(samples.map((s) => pyBytesRepr(Uint8Array.from(s))), JSON.parse(r.stdout) as string[]);
});

test('journal file selection, flags and namespace', () => {
  assert.deepEqual(journalSelectionArgs({}), { args: ['--merge', '--system'], unmapped: [] });
  assert.deepEqual(journalSelectionArgs({}, '/', 1).args, []);
  assert.deepEqual(journalSelectionArgs({ journalflags: 5 }).args, ['--system']);
  assert.deepEqual(journalSelectionArgs({ journalflags: 8 }).args, ['--merge', '--user']);
  assert.deepEqual(journalSelectionArgs({ journalpath: '/var/log/journal' }).args, ['--directory=/var/log/journal']);
  assert.deepEqual(journalSelectionArgs({ journalpath: '/j', journalflags: 4 }).args, ['--directory=/j', '--system']);
  assert.deepEqual(journalSelectionArgs({ journalfiles: 'a.journal, /x/*.journal\n b' }, '/cwd').args, ['--file=/cwd/a.journal', '--file=/x/*.journal', '--file=/cwd/b']);
  assert.deepEqual(journalSelectionArgs({ namespace: 'ns' }).args, ['--merge', '--system', '--namespace=ns']);
  assert.deepEqual(journalSelectionArgs({ namespace: 'ns', journalflags: 64 + 1 }).args, ['--namespace=+ns']);
  assert.deepEqual(journalSelectionArgs({ journalflags: 32 + 1 }).args, ['--namespace=*']);
  const odd = journalSelectionArgs({ journalflags: 2 + 16 + 1 });
  assert.deepEqual(odd.args, []);
  assert.equal(odd.unmapped.length, 2);
});

test('journalmatch tokens become journalctl matches; anything else is refused', () => {
  const groups = journalMatchGroups([['_SYSTEMD_UNIT=sshd.service', '+', '_COMM=sshd'], ['+', 'A=1', 'B=x y', '+']]);
  assert.deepEqual(groups, [['_SYSTEMD_UNIT=sshd.service'], ['_COMM=sshd'], ['A=1', 'B=x y']]);
  assert.deepEqual(journalMatchArgs(groups), ['_SYSTEMD_UNIT=sshd.service', '+', '_COMM=sshd', '+', 'A=1', 'B=x y']);
  assert.equal(journalMatchText(groups), '_SYSTEMD_UNIT=sshd.service + _COMM=sshd + A=1 B=x y');
  for (const bad of ['--output=cat', '/usr/sbin/sshd', 'lower=1', '1A=2', 'NOEQUALS', '']) {
    assert.throws(() => journalMatchGroups([['A=1', bad]]), JournalMatchError, bad);
  }
  const sel = journalSelectionArgs({ journalpath: '/j' });
  const follow = journalFollowArgs(sel, groups, { kind: 'since', time: 1700000000.25 });
  assert.deepEqual(follow.slice(0, 8), ['--directory=/j', '--output=json', '--all', '--no-pager', '--quiet', '--follow', '--no-tail', '--since=@1700000000.250000']);
  assert.equal(follow[8], '--');
  assert.ok(journalFollowArgs(sel, [], { kind: 'cursor', cursor: 's=1;i=2' }).includes('--after-cursor=s=1;i=2'));
  assert.ok(journalLastEntryArgs(sel, []).includes('--lines=1'));
  assert.ok(!journalLastEntryArgs(sel, []).includes('--follow'));
});

test('start position: max(stored time, now - findtime), the cursor when it is recent enough', () => {
  assert.deepEqual(journalStart(undefined, 10000, 600), { kind: 'since', time: 9400 });
  assert.deepEqual(journalStart({ time: 9000 }, 10000, 600), { kind: 'since', time: 9400 });
  assert.deepEqual(journalStart({ time: 9500.5 }, 10000, 600), { kind: 'since', time: 9500.5 });
  assert.deepEqual(journalStart({ time: 9500, cursor: 'c' }, 10000, 600), { kind: 'cursor', cursor: 'c' });
  assert.deepEqual(journalStart({ time: 9000, cursor: 'c' }, 10000, 600), { kind: 'since', time: 9400 });
});

test('ISO dates as datetime.isoformat() with a fixed offset', () => {
  assert.equal(journalIsoDate(1700000000000000n, 0), '2023-11-14T22:13:20+00:00');
  assert.equal(journalIsoDate(1700000000000001n, -16200), '2023-11-14T17:43:20.000001-04:30');
  assert.equal(journalIsoDate(1700000000000000n, 3600 + 23), '2023-11-14T23:13:43+01:00:23');
  assert.equal(formatJournalEntry({ MESSAGE: 'x' }, { utcOffsetSeconds: 0 }), undefined);
  assert.equal(formatJournalEntry({ __REALTIME_TIMESTAMP: 'abc' }, { utcOffsetSeconds: 0 }), undefined);
  const l = formatJournalEntry({ __REALTIME_TIMESTAMP: '1700000000000000', _SOURCE_REALTIME_TIMESTAMP: 'junk', MESSAGE: null }, { utcOffsetSeconds: 0 });
  assert.deepEqual(l && [l.line, l.time], ['', 1700000000]);
});
