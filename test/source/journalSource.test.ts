/**
 * JournalSource over real journal files (written with systemd-journal-remote, read by the real
 * journalctl): start at now - findtime, inOperation, following appended entries, matches, resume
 * from the saved position, batches; and over a fake journalctl that prints garbage and dies.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import type { JournalPositionStore, JournalSourceEntry, JournalSourceOptions } from '../../src/source/journalSource.js';
import { JournalSource } from '../../src/source/journalSource.js';
import { LEVEL } from '../../src/system/log.js';
import { MemoryLog } from '../../src/testing/memoryLog.js';

const REMOTE = '/lib/systemd/systemd-journal-remote';
const JOURNALCTL = ['/usr/bin/journalctl', '/bin/journalctl'].find((p) => existsSync(p));
const JCTL = JOURNALCTL ?? 'journalctl';
const NO_TOOLS = existsSync(REMOTE) && JOURNALCTL !== undefined ? false : 'systemd-journal-remote / journalctl not installed';
const BOOT = 'fedcba9876543210fedcba9876543210';
const LOGGER = 'fail2ban.filtersystemd';

const dir = mkdtempSync(join(tmpdir(), 'pc-jsrc-'));
const sources: JournalSource[] = [];
after(async () => {
  for (const s of sources) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A source that is stopped at the end of the file even when a test fails half-way. */
function source(opts: JournalSourceOptions): JournalSource {
  const s = new JournalSource(opts);
  sources.push(s);
  return s;
}

/** Appends entries (field lists; plain text values) to a journal file via the export format. */
let mono = 1000000;
function append(file: string, entries: ReadonlyArray<{ readonly sec: number; readonly fields: Record<string, string> }>): void {
  let text = '';
  for (const e of entries) {
    mono += 1000;
    text += `__REALTIME_TIMESTAMP=${Math.round(e.sec * 1e6)}\n__MONOTONIC_TIMESTAMP=${mono}\n_BOOT_ID=${BOOT}\n`;
    for (const [k, v] of Object.entries(e.fields)) text += `${k}=${v}\n`;
    text += '\n';
  }
  const r = spawnSync(REMOTE, [`--output=${file}`, '-'], { input: text });
  assert.equal(r.status, 0, r.stderr.toString());
}

function sshd(sec: number, n: number, unit = 'sshd.service'): { sec: number; fields: Record<string, string> } {
  return { sec, fields: { _HOSTNAME: 'h', SYSLOG_IDENTIFIER: 'sshd', _PID: String(100 + n), _SYSTEMD_UNIT: unit, MESSAGE: `Failed password for root from 192.0.2.${n} port 22 ssh2` } };
}

async function waitFor(what: string, cond: () => boolean, ms = 20000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

class MemoryStore implements JournalPositionStore {
  row: { cursor?: string; iso: string; time: number } | undefined;
  saves = 0;
  getJournalPosition(): { cursor?: string; time: number } | undefined {
    if (!this.row) return undefined;
    return this.row.cursor === undefined ? { time: this.row.time } : { cursor: this.row.cursor, time: this.row.time };
  }
  saveJournalPosition(_jail: string, cursor: string | undefined, iso: string, time: number): void {
    this.saves++;
    this.row = cursor === undefined ? { iso, time } : { cursor, iso, time };
  }
}

interface Received {
  readonly entries: JournalSourceEntry[];
  readonly batches: { size: number; inOperation: boolean }[];
}

function receiver(): Received & { onLines: (e: readonly JournalSourceEntry[], op: boolean) => void } {
  const entries: JournalSourceEntry[] = [];
  const batches: { size: number; inOperation: boolean }[] = [];
  return {
    entries,
    batches,
    onLines(e, op) {
      entries.push(...e);
      batches.push({ size: e.length, inOperation: op });
    },
  };
}

const NOW = Math.floor(Date.now() / 1000);
const clock = { nowMs: () => NOW * 1000 };

test('reads from now - findtime, goes in operation at the last entry, follows appended entries, resumes without repeats', { skip: NO_TOOLS }, async () => {
  const file = join(dir, 'follow.journal');
  append(file, [sshd(NOW - 5000, 1), sshd(NOW - 700, 2), sshd(NOW - 300, 3), sshd(NOW - 100, 4, 'other.service')]);
  const store = new MemoryStore();
  const log = new MemoryLog();
  const rx = receiver();
  const src = source({ jail: 'sshd', journal: { journalfiles: file }, journalmatch: [], findtime: 600, onLines: rx.onLines, store, log, clock, command: JCTL, utcOffsetSeconds: 0 });
  await src.start();
  await waitFor('backlog', () => rx.entries.length >= 2);
  assert.deepEqual(rx.entries.map((e) => e.line), ['h sshd[103]: Failed password for root from 192.0.2.3 port 22 ssh2', 'h sshd[104]: Failed password for root from 192.0.2.4 port 22 ssh2']);
  assert.deepEqual(rx.entries.map((e) => e.time), [NOW - 300, NOW - 100]);
  assert.ok(rx.batches.every((b) => !b.inOperation));
  assert.equal(src.inOperation, true);
  const notice = log.records.find((r) => r.level === LEVEL.NOTICE);
  assert.equal(notice?.name, LOGGER);
  assert.match(notice?.message ?? '', /^\[sshd\] Jail started without 'journalmatch' set\. Jail regexs will be checked against all journal entries/);
  assert.ok(log.records.some((r) => r.name === LOGGER && r.level === LEVEL.INFO && r.message === '[sshd] Jail is in operation now (process new journal entries)'));

  append(file, [sshd(NOW, 5), sshd(NOW, 6)]);
  await waitFor('appended entries', () => rx.entries.length >= 4);
  assert.deepEqual(rx.entries.slice(2).map((e) => e.line.slice(-22)), ['192.0.2.5 port 22 ssh2', '192.0.2.6 port 22 ssh2']);
  assert.ok(rx.batches.slice(-1)[0]?.inOperation);

  await src.stop();
  assert.ok(store.row?.cursor?.startsWith('s='));
  assert.equal(store.row?.time, NOW);
  assert.equal(store.row?.iso, new Date(NOW * 1000).toISOString().slice(0, 19) + '+00:00 ');

  // Entries written while stopped arrive once after a restart; none of the earlier ones again.
  append(file, [sshd(NOW, 7), sshd(NOW, 8)]);
  const rx2 = receiver();
  const src2 = source({ jail: 'sshd', journal: { journalfiles: file }, journalmatch: [], findtime: 600, onLines: rx2.onLines, store, clock, command: JCTL, utcOffsetSeconds: 0 });
  await src2.start();
  await waitFor('resumed entries', () => rx2.entries.length >= 2);
  append(file, [sshd(NOW, 9)]);
  await waitFor('entry after resume', () => rx2.entries.length >= 3);
  await src2.stop();
  assert.deepEqual(rx2.entries.map((e) => e.line.slice(-22)), ['192.0.2.7 port 22 ssh2', '192.0.2.8 port 22 ssh2', '192.0.2.9 port 22 ssh2']);
});

test('a row written by fail2ban (time only) resumes from that time', { skip: NO_TOOLS }, async () => {
  const file = join(dir, 'timeonly.journal');
  append(file, [sshd(NOW - 400, 1), sshd(NOW - 200, 2), sshd(NOW - 50, 3)]);
  const store = new MemoryStore();
  store.row = { iso: 'x', time: NOW - 200 };
  const rx = receiver();
  const src = source({ jail: 'j', journal: { journalfiles: file }, journalmatch: [['_SYSTEMD_UNIT=sshd.service']], findtime: 600, onLines: rx.onLines, store, clock, command: JCTL, utcOffsetSeconds: 0 });
  await src.start();
  await waitFor('entries', () => rx.entries.length >= 1);
  await src.stop();
  // As fail2ban's seek to the stored time and one step back: the entry at exactly that time was read before the stop.
  assert.deepEqual(rx.entries.map((e) => e.time), [NOW - 50]);
});

test('journalmatch selects entries; an empty selection is in operation at once', { skip: NO_TOOLS }, async () => {
  const file = join(dir, 'match.journal');
  append(file, [sshd(NOW - 10, 1), sshd(NOW - 9, 2, 'other.service'), { sec: NOW - 8, fields: { _COMM: 'sshd', MESSAGE: 'by comm' } }, sshd(NOW - 7, 4, 'x.service')]);
  const rx = receiver();
  const src = source({ jail: 'j', journal: { journalfiles: file }, journalmatch: [['_SYSTEMD_UNIT=sshd.service', '+', '_COMM=sshd']], findtime: 600, onLines: rx.onLines, clock, command: JCTL, utcOffsetSeconds: 0 });
  assert.equal(src.matchText, '_SYSTEMD_UNIT=sshd.service + _COMM=sshd');
  await src.start();
  await waitFor('matched entries', () => rx.entries.length >= 2);
  await src.stop();
  assert.deepEqual(rx.entries.map((e) => e.line), ['h sshd[101]: Failed password for root from 192.0.2.1 port 22 ssh2', 'sshd: by comm']);

  const log = new MemoryLog();
  const rx2 = receiver();
  const none = source({ jail: 'j', journal: { journalfiles: file }, journalmatch: [['_SYSTEMD_UNIT=nothing.service']], findtime: 600, onLines: rx2.onLines, log, clock, command: JCTL, utcOffsetSeconds: 0 });
  await none.start();
  assert.equal(none.inOperation, true);
  assert.deepEqual(log.messages(), ['[j] Jail is in operation now (process new journal entries)']);
  await none.stop();
});

test('entries come in batches of at most 100', { skip: NO_TOOLS }, async () => {
  const file = join(dir, 'batch.journal');
  append(file, Array.from({ length: 250 }, (_, i) => sshd(NOW - 500 + i, i % 250)));
  const rx = receiver();
  const store = new MemoryStore();
  const src = source({ jail: 'j', journal: { journalpath: dir, journalfiles: file }, journalmatch: [], findtime: 600, onLines: rx.onLines, store, clock, command: JCTL, utcOffsetSeconds: 0 });
  await src.start();
  await waitFor('all entries', () => rx.entries.length >= 250);
  await src.stop();
  assert.equal(rx.entries.length, 250);
  assert.ok(rx.batches.every((b) => b.size <= 100 && b.size > 0));
  assert.ok(rx.batches.length >= 3);
  assert.equal(store.row?.time, NOW - 500 + 249);
});

/** A fake journalctl: the probe prints one entry; each follow run appends its arguments to a file and prints `run<N>.out`. */
function fakeJournalctl(runs: readonly string[]): { command: string; argsFile: string } {
  const fdir = mkdtempSync(join(dir, 'fake-'));
  const argsFile = join(fdir, 'args');
  runs.forEach((out, i) => writeFileSync(join(fdir, `run${i}.out`), out));
  const script = `#!/bin/sh
D='${fdir}'
case " $* " in *" --follow "*) ;; *)
  echo '{"__CURSOR":"tail","__REALTIME_TIMESTAMP":"${NOW * 1000000}","MESSAGE":"t"}'; exit 0;;
esac
n=$(cat "$D/n" 2>/dev/null || echo 0); echo $((n + 1)) > "$D/n"
printf '%s\\n' "$*" >> "$D/args"
if [ -f "$D/run$n.out" ]; then cat "$D/run$n.out"; else exec sleep 1000; fi
if [ "$n" = 0 ]; then head -c 300000 /dev/zero | tr '\\0' a; echo; echo 'journal corrupted, giving up' >&2; exit 1; fi
exec sleep 1000
`;
  const command = join(fdir, 'journalctl');
  writeFileSync(command, script);
  chmodSync(command, 0o755);
  return { command, argsFile };
}

function jsonEntry(cursor: string, sec: number, message: string): string {
  return JSON.stringify({ __CURSOR: cursor, __REALTIME_TIMESTAMP: String(sec * 1000000), _HOSTNAME: 'h', SYSLOG_IDENTIFIER: 'sshd', MESSAGE: message }) + '\n';
}

test('garbage and huge lines are counted and skipped; a journalctl that dies is restarted after the last entry', async () => {
  const run0 = 'not json\n[1,2]\n"str"\n{"MESSAGE":"no time"}\n{"__CURSOR":"c1","__REALTIME_TIMESTAMP":"1\n' + jsonEntry('c1', NOW - 5, 'one') + '\n' + '{"broken": \n' + jsonEntry('c2', NOW - 4, 'two');
  const run1 = jsonEntry('c3', NOW, 'three');
  const fake = fakeJournalctl([run0, run1]);
  const log = new MemoryLog();
  const rx = receiver();
  const src = source({ jail: 'j', journal: {}, journalmatch: [['A=1']], findtime: 600, onLines: rx.onLines, log, clock, command: fake.command, maxLineBytes: 100000, restartDelayMs: 10 });
  await src.start();
  await waitFor('entry after restart', () => rx.entries.length >= 3);
  await src.stop();
  assert.deepEqual(rx.entries.map((e) => e.line), ['h sshd: one', 'h sshd: two', 'h sshd: three']);
  // The probe's last entry is at NOW too but has another cursor: "three" switches by its time (>= now - 1).
  assert.deepEqual(rx.batches.flatMap((b) => Array<boolean>(b.size).fill(b.inOperation)), [false, false, true]);
  const s = src.stats();
  assert.equal(s.malformed, 6);
  assert.equal(s.oversized, 1);
  assert.equal(s.restarts, 1);
  assert.equal(s.delivered, 3);
  const args = readFileSync(fake.argsFile, 'utf8').trim().split('\n');
  assert.equal(args.length, 2);
  assert.match(args[0] ?? '', /^--merge --system --output=json --all --no-pager --quiet --follow --no-tail --since=@\d+\.\d{6} -- A=1$/);
  assert.match(args[1] ?? '', / --after-cursor=c2 -- A=1$/);
  assert.ok(log.records.some((r) => r.name === LOGGER && r.level === LEVEL.ERROR && r.message === '[j] journalctl exited (code 1): journal corrupted, giving up'));
});

test('a journalctl that cannot start is retried with back-off and stop() ends it', async () => {
  const log = new MemoryLog();
  const rx = receiver();
  const src = source({ jail: 'j', journal: {}, journalmatch: [], findtime: 600, onLines: rx.onLines, log, clock, command: join(dir, 'does-not-exist'), restartDelayMs: 5, maxRestartDelayMs: 20 });
  await src.start();
  await waitFor('a few restarts', () => src.stats().restarts >= 3);
  await src.stop();
  const n = src.stats().restarts;
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(src.stats().restarts, n);
  assert.ok(log.records.some((r) => r.level === LEVEL.ERROR && r.message.includes('ENOENT')));
});
