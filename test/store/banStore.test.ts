import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BanStore, StoreError, backupName } from '../../src/store/index.js';
import type { DbBan, MergedBans, StoredBan } from '../../src/store/index.js';
import { pyJsonDumps } from '../../src/store/pyjson.js';
import { PyDict, PyFloat } from '../../src/shared/pyvalue.js';
import { LEVEL } from '../../src/system/log.js';
import { MemoryLog } from '../../src/testing/memoryLog.js';
import { PYTHON, NO_PYTHON, runPython } from '../helpers/python.js';
import { PY_UNTAG, tagPy } from '../helpers/pytag.js';

const skip = PYTHON === undefined ? NO_PYTHON : false;
const NOW = 1_795_313_685;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'pc-store-'));
}

function open(file: string, log = new MemoryLog(), now = NOW): BanStore {
  return BanStore.open(file, { log, now: () => now });
}

// ---- values tagged with their Python type (ints, floats, dict order cross intact) ----

/** The fail2ban side: fake jails as database.py expects them, tagged values, and the reads as JSON. */
const PY_LIB = `
from fail2ban.server.database import Fail2BanDb
from fail2ban.server.ticket import BanTicket
from fail2ban.server.mytime import MyTime
${PY_UNTAG}class Actions:
    def __init__(self, bt): self.bt = bt
    def getBanTime(self): return self.bt
class Jail:
    def __init__(self, name, bt=600):
        self.name = name; self.actions = Actions(bt); self.database = None
    def getMaxBanTime(self): return self.actions.getBanTime()
class Container:
    def __init__(self, path, h, pos): self.path, self.h, self.pos = path, h, pos
    def getFileName(self): return self.path
    def getHash(self): return self.h
    def getPos(self): return self.pos
def jail(name, bt=600):
    return None if name is None else Jail(name, bt)
def tick(t):
    return None if t is None else {'ip': str(t.getID()), 'time': t.getTime(), 'bantime': t.getBanTime(), 'bancount': t.getBanCount(),
        'matches': t.getMatches(), 'failures': t.getAttempt(), 'data': json.dumps(t.getData(), ensure_ascii=False)}
def run_ops(db, ops):
    out = []
    for op in ops:
        k = op[0]
        if k == 'jail': db.addJail(jail(op[1]))
        elif k == 'deljail': db.delJail(jail(op[1]))
        elif k == 'alljails': db.delAllJails()
        elif k == 'addlog': out.append(db.addLog(jail(op[1]), Container(op[2], op[3], op[4])))
        elif k == 'updlog': db.updateLog(jail(op[1]), Container(op[2], op[3], op[4]))
        elif k == 'journal': out.append(db.getJournalPos(jail(op[1]), 'systemd-journal', op[3], op[2]))
        elif k == 'updjournal': db.updateJournal(jail(op[1]), 'systemd-journal', op[3], op[2])
        elif k == 'ban':
            b = op[2]
            t = BanTicket(b['ip'], b['time'], data=un(b['data']))
            if b['bantime'] is not None: t.setBanTime(b['bantime'])
            t.setBanCount(b['bancount'])
            db.addBan(jail(op[1]), t)
        elif k == 'delban': db.delBan(jail(op[1]), *op[2])
        elif k == 'delall': db.delBan(jail(op[1]))
        elif k == 'maxmatches': db.maxMatches = op[1]
        elif k == 'purge':
            MyTime.setTime(op[1]); db._purgeAge = op[2]; db.purge(); MyTime.setTime(DATA['now'])
        else: raise ValueError(k)
    return out
def read(db, q):
    k = q[0]
    if k == 'current':
        o = q[2]
        corr = o['correct'] if o['correct'] is not None else False
        return [tick(t) for t in db.getCurrentBans(jail=jail(q[1], o.get('jailbt', 600)), forbantime=o['forbantime'],
            fromtime=o['now'], correctBanTime=corr, maxmatches=o.get('maxmatches'))]
    if k == 'getban':
        r = db.getBan(q[1], jail(q[2]), overalljails=q[2] is None)
        return list(r[0]) if r else None
    if k == 'merged':
        return tick(db.getBansMerged(ip=q[1], jail=jail(q[2])))
    raise ValueError(k)
def tables(f):
    import sqlite3
    c = sqlite3.connect(f)
    q = {
      'master': 'SELECT type, name, tbl_name, sql FROM sqlite_master',
      'version': 'SELECT version FROM fail2banDb',
      'jails': 'SELECT name, enabled FROM jails ORDER BY rowid',
      'logs': 'SELECT jail, path, firstlinemd5, lastfilepos, typeof(lastfilepos) FROM logs ORDER BY jail, path',
      'bans': 'SELECT jail, ip, timeofban, bantime, bancount, hex(data), typeof(data), typeof(timeofban), typeof(bantime) FROM bans ORDER BY rowid',
      'bips': 'SELECT ip, jail, timeofban, bantime, bancount, hex(data), typeof(data) FROM bips ORDER BY ip, jail',
    }
    r = {k: [list(x) for x in c.execute(s)] for k, s in q.items()}
    r['dump'] = list(c.iterdump())
    c.close()
    return r
MyTime.setTime(DATA['now'])
`;

type Op = readonly unknown[];
type Read = readonly unknown[];
interface TickOut {
  ip: string;
  time: number;
  bantime: number | null;
  bancount: number;
  matches: string[];
  failures: number;
  data: string;
}

/** The same operations through portcullis. */
function runOps(store: BanStore, ops: readonly Op[]): Array<number | null> {
  const out: Array<number | null> = [];
  for (const op of ops) {
    const [k, a, b, c, d] = op as [string, string, string, string | null, number | null];
    switch (k) {
      case 'jail':
        store.addJail(a);
        break;
      case 'deljail':
        store.delJail(a);
        break;
      case 'alljails':
        store.delAllJails();
        break;
      case 'addlog':
        out.push(store.addLog(a, b, c, d) ?? null);
        break;
      case 'updlog':
        store.updateLog(a, b, c, d);
        break;
      case 'journal':
        out.push(store.addLog(a, 'systemd-journal', b, c as unknown as number) ?? null);
        break;
      case 'updjournal':
        store.updateLog(a, 'systemd-journal', b, c as unknown as number);
        break;
      case 'ban': {
        const x = op[2] as { ip: string; time: number; bantime: number | null; bancount: number; data: PyDict };
        const ban: StoredBan = { ip: x.ip, timeOfBan: x.time, banTime: x.bantime ?? 600, banCount: x.bancount, data: x.data };
        store.addBan(a, ban);
        break;
      }
      case 'delban':
        store.delBan(a, op[2] as string[]);
        break;
      case 'delall':
        store.delAllBans(a);
        break;
      case 'maxmatches':
        store.maxMatches = op[1] as number;
        break;
      case 'purge':
        store.purge(op[1] as number, op[2] as number);
        break;
      default:
        throw new Error(k);
    }
  }
  return out;
}

function tickOf(t: DbBan | MergedBans | undefined): TickOut | null {
  if (t === undefined) return null;
  return {
    ip: t.ip,
    time: t.timeOfBan,
    bantime: 'banTime' in t ? t.banTime : null,
    bancount: 'banCount' in t ? t.banCount : 0,
    matches: [...t.matches],
    failures: t.failures,
    data: pyJsonDumps(t.data),
  };
}

interface CurrentOpts {
  now: number;
  forbantime: number | null;
  correct: number | null;
  jailbt?: number;
  maxmatches?: number;
}

/** The same reads through portcullis, shaped as the Python side prints them. */
function readAll(store: BanStore, reads: readonly Read[]): unknown[] {
  return reads.map((q) => {
    const [k, a, b] = q as [string, string, unknown];
    if (k === 'current') {
      const o = b as CurrentOpts;
      const bans = store.getCurrentBans({
        jail: a,
        now: o.now,
        forbantime: o.forbantime,
        correctBanTime: o.correct,
        jailBanTime: o.jailbt ?? 600,
        ...(o.maxmatches === undefined ? {} : { maxmatches: o.maxmatches }),
      });
      // fail2ban's getBanTime() of a restored ticket is the corrected bantime; bancount as stored
      return bans.map(tickOf);
    }
    if (k === 'getban') {
      const r = store.getBan(a, b as string | null);
      return r === undefined ? null : [r.banCount, r.timeOfBan, r.banTime];
    }
    return tickOf(store.getBansMerged(a, b as string | null));
  });
}

// ---- the scenario: every kind of value and ban fail2ban stores ----

const m = (...xs: unknown[]): PyDict => new PyDict(xs as never);
const FIRST = ['', 'Nov 22 02:14:25', ' host sshd: fail from 192.0.2.1 user bøb \x01\t"q"\\ 中 😀'];
const MANY = Array.from({ length: 15 }, (_, i) => `line ${i} from 2001:db8::1`);

function ban(ip: string, time: number, bantime: number | null, bancount: number, data: PyDict): Record<string, unknown> {
  return { ip, time, bantime, bancount, data };
}
function tagBans(ops: readonly Op[]): Op[] {
  return ops.map((op) => (op[0] === 'ban' ? ['ban', op[1], { ...(op[2] as object), data: tagPy((op[2] as { data: PyDict }).data) }] : op));
}

const OPS: Op[] = [
  ['jail', 'sshd'],
  ['jail', 'recidive'],
  ['jail', 'old'],
  ['deljail', 'old'],
  ['jail', 'sshd'],
  ['jail', 'again'],
  ['deljail', 'again'],
  ['jail', 'again'],
  ['addlog', 'sshd', '/var/log/auth.log', 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3', 1234],
  ['addlog', 'sshd', '/var/log/auth.log', 'a94a8fe5ccb19ba61c4c0873d391e987982fbbd3', 99],
  ['addlog', 'sshd', '/var/log/auth.log', 'other', 99],
  ['updlog', 'sshd', '/var/log/auth.log', 'b94a8fe5ccb19ba61c4c0873d391e987982fbbd3', 5678],
  ['addlog', 'sshd', '/var/log/empty.log', null, 0],
  ['addlog', 'sshd', '/var/log/empty.log', '', 0],
  ['updlog', 'recidive', '/var/log/fail2ban.log', '', 0],
  ['journal', 'recidive', '2026-11-22T02:14:25.250000', 1795313665.25],
  ['updjournal', 'recidive', '2026-11-22T02:15:25.500000', 1795313725.5],
  ['ban', 'sshd', ban('192.0.2.1', NOW - 100.5, 600, 1, m(['matches', [FIRST, 'Nov 22 02:14:26 x é\x1f', 'line 3']], ['failures', 3], ['user', 'bøb'], ['rate', new PyFloat(2.0)]))],
  ['ban', 'sshd', ban('192.0.2.2', NOW - 100_000, -1, 4, m(['matches', []], ['failures', 0]))],
  ['ban', 'sshd', ban('192.0.2.3', NOW - 1000, 600, 1, m(['matches', ['expired']], ['failures', 1]))],
  ['ban', 'sshd', ban('192.0.2.4', NOW - 5000, 600, 1, m(['matches', ['a1', 'a2']], ['failures', 2]))],
  ['ban', 'sshd', ban('192.0.2.4', NOW - 3000, 1200, 2, m(['matches', ['b1']], ['failures', 5], ['user', 'x']))],
  ['ban', 'sshd', ban('192.0.2.4', NOW - 50, 2400, 3, m(['matches', ['c1', 'c2', 'c3']], ['failures', 3]))],
  ['ban', 'recidive', ban('192.0.2.4', NOW - 40, 604800, 1, m(['matches', ['r1']], ['failures', 5]))],
  ['ban', 'sshd', ban('2001:db8::1', NOW - 10, null, 1, m(['matches', MANY], ['failures', 15]))],
  ['ban', 'sshd', ban('192.0.2.5', NOW - 20, 7200, 2, m(['matches', ['to be removed']], ['failures', 1]))],
  ['ban', 'sshd', ban('192.0.2.6', NOW - 20, 86400, 1, m(['matches', ['kept']], ['failures', 1]))],
  ['delban', 'sshd', ['192.0.2.5', '192.0.2.99']],
  ['maxmatches', 0],
  ['ban', 'recidive', ban('192.0.2.7', NOW - 30, 600, 1, m(['matches', ['dropped']], ['failures', 1]))],
  ['maxmatches', 10],
];

const READS: Read[] = [
  ['current', 'sshd', { now: NOW, forbantime: null, correct: null }],
  ['current', 'sshd', { now: NOW, forbantime: 600, correct: 600 }],
  ['current', 'sshd', { now: NOW, forbantime: null, correct: 1800, maxmatches: 2 }],
  ['current', 'sshd', { now: NOW, forbantime: null, correct: -1, maxmatches: 0 }],
  ['current', 'recidive', { now: NOW, forbantime: 604800, correct: 604800 }],
  ['getban', '192.0.2.4', 'sshd'],
  ['getban', '192.0.2.4', null],
  ['getban', '192.0.2.1', 'recidive'],
  ['getban', '192.0.2.2', null],
  ['merged', '192.0.2.4', 'sshd'],
  ['merged', '192.0.2.4', null],
  ['merged', '192.0.2.1', null],
  ['merged', '2001:db8::1', 'sshd'],
  ['merged', '192.0.2.7', 'recidive'],
  ['merged', '192.0.2.5', 'sshd'],
];

interface Tables {
  master: unknown[][];
  version: unknown[][];
  jails: unknown[][];
  logs: unknown[][];
  bans: unknown[][];
  bips: unknown[][];
  dump: string[];
}

function pyWrite(file: string, ops: readonly Op[]): Array<number | null> {
  return runPython<Array<number | null>>(PY_LIB + 'db = Fail2BanDb(DATA["file"])\nr = run_ops(db, DATA["ops"])\ndb.close()\nprint(json.dumps(r))', {
    now: NOW,
    file,
    ops: tagBans(ops),
  });
}

function pyRead(files: readonly string[], reads: readonly Read[]): { tables: Tables[]; reads: unknown[][] } {
  return runPython(
    PY_LIB +
      'tabs = [tables(f) for f in DATA["files"]]\nres = []\nfor f in DATA["files"]:\n    db = Fail2BanDb(f)\n    res.append([read(db, q) for q in DATA["reads"]])\n    db.close()\nprint(json.dumps({"tables": tabs, "reads": res}))',
    { now: NOW, files, reads },
  );
}

function pcWrite(file: string, ops: readonly Op[]): Array<number | null> {
  const store = open(file);
  try {
    return runOps(store, ops);
  } finally {
    store.close();
  }
}

function pcRead(file: string, reads: readonly Read[]): unknown[] {
  const store = open(file);
  try {
    return readAll(store, reads);
  } finally {
    store.close();
  }
}

test('a new database has exactly the DDL fail2ban creates, mode 0600, and fail2ban\'s log lines', { skip }, () => {
  const dir = tmp();
  try {
    const ours = join(dir, 'sub', 'pc.sqlite3');
    const log = new MemoryLog();
    const store = open(ours, log);
    assert.equal(statSync(ours).mode & 0o777, 0o600);
    store.addJail('x');
    store.delAllJails();
    assert.equal(statSync(ours + '-wal').mode & 0o777, 0o600);
    store.close();
    assert.equal(statSync(join(dir, 'sub')).mode & 0o777, 0o700);
    assert.deepEqual(
      log.records.filter((r) => r.level >= LEVEL.INFO).map((r) => [r.name, r.level, r.message]),
      [
        ['fail2ban.database', LEVEL.INFO, `Connected to fail2ban persistent database '${ours}'`],
        ['fail2ban.database', LEVEL.WARNING, "New database created. Version '4'"],
        ['fail2ban.database', LEVEL.INFO, 'Connection to database closed.'],
      ],
    );
    const theirs = join(dir, 'f2b.sqlite3');
    pyWrite(theirs, [['jail', 'x'], ['alljails']]);
    const [a, b] = pyRead([ours, theirs], []).tables;
    assert.ok(a && b);
    assert.deepEqual(a.master, b.master);
    assert.deepEqual(a.dump, b.dump);
    assert.equal(a.master.length, 17); // 5 tables, 12 indexes (5 automatic)
    // reopening an existing database creates nothing and logs no warning
    const log2 = new MemoryLog();
    open(ours, log2).close();
    assert.deepEqual(log2.messages(LEVEL.WARNING), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('both directions: the same operations give the same rows, and every read agrees (fail2ban ↔ portcullis)', { skip }, () => {
  const dir = tmp();
  try {
    const f2b = join(dir, 'f2b.sqlite3');
    const pc = join(dir, 'pc.sqlite3');
    const pyLogResults = pyWrite(f2b, OPS);
    const pcLogResults = pcWrite(pc, OPS);
    assert.deepEqual(pcLogResults, pyLogResults);
    assert.deepEqual(pcLogResults, [null, 1234, null, null, null, null]);

    const py = pyRead([f2b, pc], READS);
    const [tf, tp] = py.tables;
    assert.ok(tf && tp);
    for (const key of ['master', 'version', 'jails', 'logs', 'bans', 'bips'] as const) assert.deepEqual(tp[key], tf[key], `table ${key}`);
    assert.deepEqual(tp.dump, tf.dump);

    // fail2ban reads the file portcullis wrote exactly as the file it wrote itself
    const [pyOnF2b, pyOnPc] = py.reads;
    assert.deepEqual(pyOnPc, pyOnF2b);
    // portcullis reads both files as fail2ban does, field by field
    const pcOnF2b = pcRead(f2b, READS);
    const pcOnPc = pcRead(pc, READS);
    READS.forEach((q, i) => {
      assert.deepEqual(pcOnF2b[i], pyOnF2b?.[i], `read ${JSON.stringify(q)} on fail2ban's file`);
      assert.deepEqual(pcOnPc[i], pyOnF2b?.[i], `read ${JSON.stringify(q)} on portcullis' file`);
    });
    checkScenario(pcOnPc, tp);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** What the scenario must show, independent of the oracle (so a shared mistake cannot pass). */
function checkScenario(reads: unknown[], t: Tables): void {
  const cur = reads[0] as TickOut[];
  assert.deepEqual(
    cur.map((b) => [b.ip, b.time, b.bantime, b.bancount]),
    [
      ['192.0.2.1', NOW - 101, 600, 1], // int(round(NOW - 100.5)): halves go to the even neighbour
      ['192.0.2.2', NOW - 100_000, -1, 4], // permanent
      ['192.0.2.4', NOW - 50, 2400, 3], // bips keeps the last of three
      ['192.0.2.6', NOW - 20, 86400, 1],
      ['2001:db8::1', NOW - 10, 600, 1], // the jail's bantime stored
    ],
  );
  const first = cur[0];
  assert.ok(first);
  assert.equal(first.matches[0], FIRST.join(''));
  assert.equal(first.failures, 3);
  assert.equal(first.data, `{"matches": [${JSON.stringify(FIRST).replace(/,/g, ', ')}, "Nov 22 02:14:26 x é\\u001f", "line 3"], "failures": 3, "user": "bøb", "rate": 2.0}`);
  assert.deepEqual(cur[4]?.matches, MANY.slice(-10)); // stored truncated to dbmaxmatches 10
  // restricted to the jail bantime: the permanent ban cut to 600, older than 600 s dropped
  assert.deepEqual((reads[1] as TickOut[]).map((b) => [b.ip, b.bantime]), [
    ['192.0.2.1', 600],
    ['192.0.2.4', 600],
    ['192.0.2.6', 600],
    ['2001:db8::1', 600],
  ]);
  assert.deepEqual((reads[3] as TickOut[]).map((b) => b.data.includes('"matches"')), [false, false, false, false, false]);
  assert.deepEqual(reads[5], [3, NOW - 50, 2400]);
  assert.deepEqual(reads[6], [4, NOW - 40, 2400 + 604800]); // overalljails: sums, latest time
  assert.equal(reads[7], null);
  const merged = reads[9] as TickOut;
  assert.deepEqual([merged.time, merged.failures, merged.matches], [NOW - 5000, 10, ['a1', 'a2', 'b1', 'c1', 'c2', 'c3']]);
  const mergedAll = reads[10] as TickOut;
  assert.equal(mergedAll.failures, 15);
  assert.deepEqual(mergedAll.matches.slice(-3), ['c2', 'c3', 'r1']);
  assert.equal(mergedAll.matches.length, 7);
  assert.equal((reads[13] as TickOut).data, '{"matches": [], "failures": 1}'); // dbmaxmatches 0: key removed when stored
  assert.equal(reads[14], null); // unbanned
  assert.deepEqual(t.jails, [['sshd', 1], ['recidive', 1], ['old', 0], ['again', 1]]);
  assert.deepEqual(t.logs.find((r) => r[1] === 'systemd-journal'), ['recidive', 'systemd-journal', '2026-11-22T02:15:25.500000', 1795313725.5, 'real']);
  assert.ok(t.bans.every((r) => r[6] === 'blob'));
}

test('purge deletes what fail2ban deletes (old history, outdated bips, never permanent bans, disabled empty jails)', { skip }, () => {
  const dir = tmp();
  try {
    const ops: Op[] = [
      ['jail', 'a'],
      ['jail', 'b'],
      ['jail', 'gone'],
      ['ban', 'a', ban('10.0.0.1', NOW - 200_000, 600, 1, m(['matches', []], ['failures', 1]))],
      ['ban', 'a', ban('10.0.0.2', NOW - 200_000, -1, 1, m(['matches', []], ['failures', 1]))],
      ['ban', 'a', ban('10.0.0.3', NOW - 100_000, 40_000, 1, m(['matches', []], ['failures', 1]))],
      ['ban', 'b', ban('10.0.0.4', NOW - 100, 600, 1, m(['matches', []], ['failures', 1]))],
      ['ban', 'b', ban('10.0.0.5', NOW - 90_000, 600, 1, m(['matches', []], ['failures', 1]))],
      ['deljail', 'gone'],
      ['deljail', 'b'],
      ['purge', NOW + 0.5, 86400],
    ];
    const f2b = join(dir, 'f2b.sqlite3');
    const pc = join(dir, 'pc.sqlite3');
    pyWrite(f2b, ops);
    pcWrite(pc, ops);
    const [tf, tp] = pyRead([f2b, pc], []).tables;
    assert.ok(tf && tp);
    for (const key of ['jails', 'bans', 'bips'] as const) assert.deepEqual(tp[key], tf[key], `table ${key}`);
    assert.deepEqual(tp.jails, [['a', 1], ['b', 0]]);
    assert.deepEqual(tp.bans.map((r) => r[1]), ['10.0.0.4']);
    // 10.0.0.5: older than purgeage and than 3 × its bantime; 10.0.0.3 is not (3 × 40000 s)
    assert.deepEqual(tp.bips.map((r) => r[0]), ['10.0.0.2', '10.0.0.3', '10.0.0.4']);
    const store = open(pc);
    assert.equal(store.countBans(), 1);
    assert.equal(store.countBans('a'), 0);
    store.delAllBans('b');
    assert.equal(store.getBan('10.0.0.4', 'b'), undefined);
    store.delBan(null, ['10.0.0.2']);
    assert.equal(store.getBan('10.0.0.2', null), undefined);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- upgrades of older versions ----

const V1 = `CREATE TABLE fail2banDb(version INTEGER);
INSERT INTO fail2banDb VALUES(1);
CREATE TABLE jails(name TEXT NOT NULL UNIQUE, enabled INTEGER NOT NULL DEFAULT 1);
INSERT INTO jails VALUES('pam-generic',1);
CREATE TABLE logs(jail TEXT NOT NULL, path TEXT, firstlinemd5 TEXT, lastfilepos INTEGER DEFAULT 0, FOREIGN KEY(jail) REFERENCES jails(name) ON DELETE CASCADE, UNIQUE(jail, path));
INSERT INTO logs VALUES('pam-generic','/var/log/auth.log','6c187bc8cb287130973fd01e9a2433e7',46771);
CREATE TABLE bans(jail TEXT NOT NULL, ip TEXT, timeofban INTEGER NOT NULL, data JSON, FOREIGN KEY(jail) REFERENCES jails(name) );
INSERT INTO bans VALUES('pam-generic','1.2.3.7',1417595494,'{"matches": ["Dec  3 09:31:08 a", "Dec  3 09:31:32 b"], "failures": 2}');
INSERT INTO bans VALUES('pam-generic','1.2.3.8',1417596235,'{"matches": ["Dec  3 09:43:49 c"], "failures": 3}');
INSERT INTO bans VALUES('pam-generic','1.2.3.8',1417596100,'{"failures": 1}');
CREATE INDEX jails_name ON jails(name);
CREATE INDEX logs_path ON logs(path);
CREATE INDEX logs_jail_path ON logs(jail, path);
CREATE INDEX bans_jail_timeofban_ip ON bans(jail, timeofban);
CREATE INDEX bans_jail_ip ON bans(jail, ip);
CREATE INDEX bans_ip ON bans(ip);`;
const V2 = V1.replace('VALUES(1)', 'VALUES(2)').replace('UNIQUE(jail, path));', 'UNIQUE(jail, path),UNIQUE(jail, path, firstlinemd5));');
const V3 = V2.replace('VALUES(2)', 'VALUES(3)')
  .replace('timeofban INTEGER NOT NULL, data JSON', 'timeofban INTEGER NOT NULL, bantime INTEGER NOT NULL, bancount INTEGER NOT NULL default 1, data JSON')
  .replace(/1417595494,/, '1417595494,3600,2,')
  .replace(/1417596235,/, '1417596235,-1,3,')
  .replace(/1417596100,/, '1417596100,600,1,');

for (const [version, ddl] of [
  [1, V1],
  [2, V2],
  [3, V3],
] as const) {
  test(`a version ${version} database is upgraded as fail2ban upgrades it (backup first)`, { skip }, () => {
    const dir = tmp();
    try {
      const orig = join(dir, 'orig.sqlite3');
      const raw = new Database(orig);
      raw.exec(ddl);
      raw.close();
      const f2b = join(dir, 'f2b.sqlite3');
      const pc = join(dir, 'pc.sqlite3');
      copyFileSync(orig, f2b);
      copyFileSync(orig, pc);
      const now = 1417596235 + 100;
      runPython(PY_LIB + 'MyTime.setTime(DATA["t"])\nFail2BanDb(DATA["file"]).close()\nprint("0")', { now, t: now, file: f2b });
      const log = new MemoryLog();
      const store = open(pc, log, now);
      const backup = backupName(pc, now);
      assert.deepEqual(log.messages(LEVEL.INFO).slice(1), [
        `Upgrade database: ${backup} from version '${version}'`,
        `  Database backup created: ${backup}`,
        `Database updated from '${version}' to '4'`,
      ]);
      assert.deepEqual(readFileSync(backup), readFileSync(orig));
      assert.ok(existsSync(backupName(f2b, now)), 'fail2ban made its backup with the same name');
      const current = readAll(store, [['current', 'pam-generic', { now, forbantime: null, correct: null, jailbt: 600 }]]);
      store.close();
      const py = runPython<{ tables: Tables[]; reads: unknown[][] }>(
        PY_LIB +
          'tabs = [tables(f) for f in DATA["files"]]\ndb = Fail2BanDb(DATA["files"][0])\nr = [read(db, q) for q in DATA["reads"]]\ndb.close()\nprint(json.dumps({"tables": tabs, "reads": [r]}))',
        { now, files: [f2b, pc], reads: [['current', 'pam-generic', { now, forbantime: null, correct: null, jailbt: 600 }]] },
      );
      const [tf, tp] = py.tables;
      assert.ok(tf && tp);
      for (const key of ['master', 'version', 'jails', 'logs', 'bans', 'bips'] as const) assert.deepEqual(tp[key], tf[key], `table ${key}`);
      assert.deepEqual(current, py.reads[0]);
      // v<3: bantime unknown (-2) → the jail's bantime at restore; v3: the stored -1 stays permanent
      const want =
        version < 3
          ? [['1.2.3.8', 1417596235, 600, 1]]
          : [
              ['1.2.3.7', 1417595494, 3600, 2],
              ['1.2.3.8', 1417596235, -1, 3],
            ];
      assert.deepEqual((current[0] as TickOut[]).map((b) => [b.ip, b.time, b.bantime, b.bancount]), want);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// ---- failures are typed errors ----

function assertStoreError(fn: () => unknown, code: string, ...texts: string[]): StoreError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof StoreError, `expected a StoreError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const t of texts) assert.ok(caught.message.includes(t), `"${caught.message}" lacks "${t}"`);
  return caught;
}

test('a garbage file is refused with a typed error naming it, or moved aside on request', () => {
  const dir = tmp();
  try {
    const file = join(dir, 'db.sqlite3');
    const garbage = Buffer.from('this is not a database at all, just text '.repeat(200));
    writeFileSync(file, garbage);
    assertStoreError(() => open(file), 'E_STORE_CORRUPT', file, 'not a database');
    assert.deepEqual(readFileSync(file), garbage, 'left untouched');
    const log = new MemoryLog();
    const store = BanStore.open(file, { log, now: () => NOW, recoverCorrupt: true });
    store.addJail('sshd');
    assert.deepEqual(store.getJailNames(), ['sshd']);
    store.close();
    const aside = `${file}.corrupt-${backupName('', NOW).slice(1)}`;
    assert.deepEqual(readFileSync(aside), garbage);
    assert.ok(log.records.some((r) => r.level === LEVEL.ERROR && r.message.includes(aside)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a damaged database: every failure is a StoreError, never a raw SQLite error', () => {
  const dir = tmp();
  try {
    const file = join(dir, 'db.sqlite3');
    const store = open(file);
    store.addJail('j');
    for (let i = 0; i < 2000; i++) store.addBan('j', { ip: `10.0.${i >> 8}.${i & 255}`, timeOfBan: NOW, banTime: 600, banCount: 1, data: { matches: ['x'.repeat(200)], failures: 1 } });
    store.close();
    const bytes = readFileSync(file);
    for (let p = 4096; p < bytes.length; p += 4096) bytes.fill(0xa5, p + 8, p + 200); // trash page headers and cells
    writeFileSync(file, bytes);
    // the damage may show at open or at the first read; both must be typed
    try {
      const s = open(file);
      s.getCurrentBans({ jail: 'j', now: NOW, forbantime: null, correctBanTime: null });
      s.getBansMerged('10.0.0.1', null);
      s.addBan('j', { ip: '10.9.9.9', timeOfBan: NOW, banTime: 600, banCount: 1, data: {} });
      s.close();
      assert.fail('the damage went unnoticed');
    } catch (err) {
      assert.ok(err instanceof StoreError, `raw error: ${String(err)}`);
      assert.equal(err.code, 'E_STORE_CORRUPT');
      assert.ok(err.message.includes(file));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an unusable location is a typed error naming the file', () => {
  const dir = tmp();
  try {
    const notDir = join(dir, 'plain');
    writeFileSync(notDir, '');
    assertStoreError(() => open(join(notDir, 'db.sqlite3')), 'E_STORE_OPEN', join(notDir, 'db.sqlite3'));
    assertStoreError(() => open(join(dir, 'a', 'b', 'db.sqlite3')), 'E_STORE_OPEN', 'ENOENT');
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'ro');
      open(join(dir, 'ro', 'x.sqlite3')).close();
      chmodSync(ro, 0o500);
      assertStoreError(() => open(join(ro, 'db.sqlite3')), 'E_STORE_OPEN', 'EACCES');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database of a newer version is refused, and a closed store says so', () => {
  const dir = tmp();
  try {
    const file = join(dir, 'db.sqlite3');
    open(file).close();
    const raw = new Database(file);
    raw.exec('UPDATE fail2banDb SET version = 5');
    raw.close();
    assertStoreError(() => open(file), 'E_STORE_VERSION', file, "'5'", "'4'");
    const mem = open(':memory:');
    mem.close();
    mem.close();
    assertStoreError(() => mem.addJail('x'), 'E_STORE_CLOSED', ':memory:', 'add jail');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('constraint failures are typed: a ban or log for an unknown jail', () => {
  const store = open(':memory:');
  assertStoreError(() => store.addBan('nojail', { ip: '10.0.0.1', timeOfBan: NOW, banTime: 1, banCount: 1, data: {} }), 'E_STORE_QUERY', 'add ban', 'FOREIGN KEY');
  assertStoreError(() => store.updateLog('nojail', '/x', null, 1), 'E_STORE_QUERY', 'update log');
  assert.equal(store.countBans(), 0, 'the failed transaction left nothing behind');
  store.addJail('j');
  store.updateLog('j', '/x', 'h', 7);
  assert.deepEqual(store.getLog('j', '/x'), { hash: 'h', pos: 7 });
  assert.deepEqual(store.getLogPaths('j'), ['/x']);
  store.delLog('j', '/x');
  assert.equal(store.getLog('j', '/x'), undefined);
  store.close();
});

// ---- durability: kill -9 right after "done" ----

const STORE_URL = new URL('../../src/store/index.js', import.meta.url).href;

function child(file: string, count: number): ReturnType<typeof spawn> {
  const script = `
import { BanStore } from ${JSON.stringify(STORE_URL)};
const s = BanStore.open(process.argv[1], { log: { log() {}, isEnabledFor: () => false }, now: () => ${NOW} });
s.addJail('sshd');
for (let i = 0; i < ${count}; i++) {
  s.addBan('sshd', { ip: '10.' + (i >> 16) + '.' + ((i >> 8) & 255) + '.' + (i & 255), timeOfBan: ${NOW}, banTime: 600, banCount: 1, data: { matches: ['m' + i], failures: 1 } });
  process.stdout.write('done ' + i + '\\n');
}
setInterval(() => {}, 1000);
`;
  return spawn(process.execPath, ['--input-type=module', '-e', script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
}

/** Runs the child, kills it with SIGKILL once `killAfter` "done" lines arrived; the indices it reported. */
function runAndKill(file: string, count: number, killAfter: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const proc = child(file, count);
    const done: number[] = [];
    let buf = '';
    let killed = false;
    proc.stdout?.on('data', (chunk: Buffer) => {
      buf += chunk.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) if (l.startsWith('done ')) done.push(Number(l.slice(5)));
      if (!killed && done.length >= killAfter) {
        killed = true;
        proc.kill('SIGKILL');
      }
    });
    proc.on('error', reject);
    proc.on('close', (_code, signal) => (signal === 'SIGKILL' ? resolve(done) : reject(new Error(`child ended without kill: ${String(signal)}`))));
  });
}

function ipOf(i: number): string {
  return `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`;
}

test('a ban reported as done survives kill -9 (single ban, kill on "done")', async () => {
  const dir = tmp();
  try {
    const file = join(dir, 'db.sqlite3');
    const done = await runAndKill(file, 1, 1);
    assert.deepEqual(done, [0]);
    const store = open(file);
    assert.deepEqual(store.getBan('10.0.0.0', 'sshd'), { banCount: 1, timeOfBan: NOW, banTime: 600 });
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kill -9 mid-loop: every ban whose "done" arrived is stored, the file is intact, fail2ban reads it', async () => {
  const dir = tmp();
  try {
    const file = join(dir, 'db.sqlite3');
    const done = await runAndKill(file, 1_000_000, 300);
    assert.ok(done.length >= 300);
    assert.ok(existsSync(file + '-wal'), 'killed with the WAL still open');
    const store = open(file);
    const stored = new Set(store.getCurrentBans({ jail: 'sshd', now: NOW, forbantime: null, correctBanTime: null }).map((b) => b.ip));
    const missing = done.filter((i) => !stored.has(ipOf(i)));
    assert.deepEqual(missing, []);
    assert.ok(stored.size >= done.length && stored.size <= done.length + 1, `stored ${stored.size}, reported ${done.length}`);
    const count = store.countBans('sshd');
    store.close();
    if (PYTHON !== undefined) {
      const r = runPython<{ n: number; ok: string }>(
        PY_LIB + 'import sqlite3\nc = sqlite3.connect(DATA["file"])\nok = c.execute("PRAGMA integrity_check").fetchone()[0]\nc.close()\ndb = Fail2BanDb(DATA["file"])\nn = len(db.getCurrentBans(jail=jail("sshd"), fromtime=DATA["now"]))\ndb.close()\nprint(json.dumps({"n": n, "ok": ok}))',
        { now: NOW, file },
      );
      assert.deepEqual(r, { n: count, ok: 'ok' });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
