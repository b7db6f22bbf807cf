/**
 * A `backend = systemd` jail end to end, side by side with Debian's fail2ban-server (which reads
 * the journal through python3-systemd, ours through journalctl). There is no journald here: each
 * side gets its own journal directory, written with systemd-journal-remote from the export format,
 * and both get the very same entries (same times, boot id, fields) while they run.
 *
 * 1. journalmatch with two groups, findtime at start (too old entries skipped, recent ones counted),
 *    entries of other units ignored, live entries banned; the recorded action tags, `status JAIL`
 *    (`Journal matches:`), `get/set JAIL …journalmatch` and the database row must be equal. Then both
 *    servers stop, entries are written while they are down, both start again on their databases:
 *    the entries written while down are counted once, the ones seen before not again — not even the
 *    last one, whose time is the stored position (fail2ban seeks there, steps back and reads on).
 * 2. `set JAIL addjournalmatch/deljournalmatch` on a running jail changes what is read at once.
 *
 * Both run for `journalpath=` (a directory) and `journalfiles=` (the file).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { needOracle } from '../helpers/oracle.js';
import { sqliteRows, statusNumber } from '../helpers/daemonTree.js';
import { cleanup, startServer, tempDir, waitFor, type RunningServer, type Side } from '../helpers/servers.js';

const REMOTE = '/lib/systemd/systemd-journal-remote';
const JOURNALCTL = ['/usr/bin/journalctl', '/bin/journalctl'].find((p) => fs.existsSync(p));
const NO_TOOLS = fs.existsSync(REMOTE) && JOURNALCTL !== undefined ? false : 'systemd-journal-remote / journalctl not installed';
const BOOT = '0f1e2d3c4b5a69780f1e2d3c4b5a6978';
const SIDES = ['real', 'ours'] as const;

const REC_ACTION = `[Definition]
actionstart = printf 'START\\n' >> <recfile>
actionstop = printf 'STOP\\n' >> <recfile>
actioncheck =
actionban = printf 'BAN ip=%%s failures=%%s restored=%%s bantime=%%s user=%%s\\n' "<ip>" "<failures>" "<restored>" "<bantime>" "<F-USER>" >> <recfile>
            printf 'MATCHES %%s\\n' "<matches>" >> <recfile>
actionunban = printf 'UNBAN ip=%%s\\n' "<ip>" >> <recfile>

[Init]
recfile = /dev/null
`;

/** The journal line is `host ident[pid]: message`; no date in it (the journal gives the time). */
const FILTER = `[Definition]\nfailregex = ^\\S+ \\S+: fail from <HOST> user <F-USER>\\S+</F-USER>$\n`;

type Backend = 'journalpath' | 'journalfiles';

function journalFile(dir: string): string {
  return path.join(dir, 'j', 'remote.journal');
}

function tree(dir: string, backend: Backend, jail: string): void {
  const spec = backend === 'journalpath' ? `journalpath=${path.join(dir, 'j')}` : `journalfiles=${journalFile(dir)}`;
  const files: Record<string, string> = {
    'fail2ban.conf': `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\nsocket = ${dir}/f2b.sock\npidfile = ${dir}/f2b.pid\ndbfile = ${dir}/f2b.sqlite3\n`,
    'jail.conf': `[DEFAULT]\nmaxretry = 3\nfindtime = 600\nbantime = 600\n\n[js]\nenabled = true\nbackend = systemd[${spec}]\nfilter = jt\naction = rec[recfile="${dir}/rec.txt"]\n${jail}\n`,
    'filter.d/jt.conf': FILTER,
    'action.d/rec.conf': REC_ACTION,
  };
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
  fs.mkdirSync(path.join(dir, 'j'), { recursive: true });
}

interface Entry {
  readonly sec: number;
  /** `unit` → `_SYSTEMD_UNIT`, `comm` → `_COMM`; SYSLOG_IDENTIFIER is always sshd. */
  readonly unit?: string;
  readonly comm?: string;
  readonly message: string;
}

let mono = 5_000_000;
/** The same entries appended to every side's journal file (the file is created when absent). */
function append(dirs: readonly string[], entries: readonly Entry[]): void {
  let text = '';
  for (const e of entries) {
    mono += 1000;
    text += `__REALTIME_TIMESTAMP=${e.sec * 1_000_000}\n__MONOTONIC_TIMESTAMP=${mono}\n_BOOT_ID=${BOOT}\n_HOSTNAME=web1\n`;
    if (e.unit !== undefined) text += `_SYSTEMD_UNIT=${e.unit}\n`;
    if (e.comm !== undefined) text += `_COMM=${e.comm}\n`;
    text += `SYSLOG_IDENTIFIER=sshd\n_PID=4242\nMESSAGE=${e.message}\n\n`;
  }
  for (const d of dirs) {
    const r = spawnSync(REMOTE, [`--output=${journalFile(d)}`, '-'], { input: text });
    assert.equal(r.status, 0, r.stderr.toString());
  }
}

/** A failure from sshd.service (matched by the first group), from `_COMM=sshd` (second group) or from elsewhere (no match). */
const bySshd = (sec: number, ip: string, user: string): Entry => ({ sec, unit: 'sshd.service', message: `fail from ${ip} user ${user}` });
const byComm = (sec: number, ip: string, user: string): Entry => ({ sec, comm: 'sshd', message: `fail from ${ip} user ${user}` });
const byOther = (sec: number, ip: string, user: string): Entry => ({ sec, unit: 'other.service', comm: 'bash', message: `fail from ${ip} user ${user}` });

function norm(text: string, dir: string): string {
  return text.split(dir).join('<DIR>');
}

const rec = (s: RunningServer): string => norm(fs.existsSync(path.join(s.dir, 'rec.txt')) ? fs.readFileSync(path.join(s.dir, 'rec.txt'), 'utf8') : '', s.dir);
const statusOf = (s: RunningServer): string => s.client(['status', 'js']).stdout;

/**
 * After a restart the restored bans and the bans from entries read at start race in both servers
 * (fail2ban restores in another thread), so their order is not defined: records (a BAN line with
 * its MATCHES line) and lists of banned IPs are compared sorted.
 */
function unorderedRecords(text: string): string[] {
  const recs: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('MATCHES') && recs.length > 0) recs[recs.length - 1] += '\n' + line;
    else recs.push(line);
  }
  return recs.sort();
}

function unorderedIps(clientOut: string): string {
  return clientOut.replace(/^((?:\s*`- Banned IP list:\t)?)([\d. ]+)$/gm, (_, head: string, ips: string) => head + ips.split(' ').sort().join(' '));
}

async function startBoth(dirs: Record<Side, string>, servers: RunningServer[]): Promise<[RunningServer, RunningServer]> {
  const started: RunningServer[] = [];
  for (const side of SIDES) {
    const s = await startServer(side, dirs[side]);
    servers.push(s);
    started.push(s);
  }
  return started as [RunningServer, RunningServer];
}

/** Waits until `status js` of every server has these numbers. */
async function waitNumbers(servers: readonly RunningServer[], want: Readonly<Record<string, number>>, what: string): Promise<void> {
  for (const s of servers) {
    await waitFor(`${s.side}: ${what} (${JSON.stringify(want)})`, () => {
      const st = statusOf(s);
      return Object.entries(want).every(([label, n]) => statusNumber(st, label) === n);
    }, 60000);
  }
}

function setup(t: { after(fn: () => Promise<void> | void): void }, prefix: string, backend: Backend, jail: string): { dirs: Record<Side, string>; servers: RunningServer[] } {
  const base = tempDir(prefix);
  const servers: RunningServer[] = [];
  cleanup(t, base, servers);
  const dirs: Record<Side, string> = { real: path.join(base, 'real'), ours: path.join(base, 'ours') };
  for (const d of Object.values(dirs)) tree(d, backend, jail);
  return { dirs, servers };
}

for (const backend of ['journalpath', 'journalfiles'] as const) {
  test(`systemd[${backend}=…]: same bans, tags, status and journal position as fail2ban, across a restart`, { skip: NO_TOOLS, timeout: 240000 }, async (t) => {
    if (!needOracle(t, 'fail2ban-server')) return;
    const { dirs, servers } = setup(t, 'pc-hjrn-jrnl-', backend, 'journalmatch = _SYSTEMD_UNIT=sshd.service + _COMM=sshd');
    const both = Object.values(dirs);
    const N = Math.floor(Date.now() / 1000);

    // Before start: two failures older than findtime (skipped), two recent ones (counted), one from
    // another unit (not matched) and a line of sshd that is no failure.
    append(both, [
      bySshd(N - 5000, '192.0.2.1', 'old1'),
      bySshd(N - 4999, '192.0.2.1', 'old2'),
      bySshd(N - 4998, '192.0.2.1', 'old3'),
      bySshd(N - 300, '192.0.2.2', 'p1'),
      byOther(N - 299, '192.0.2.2', 'other1'),
      byComm(N - 298, '192.0.2.2', 'p2'),
      { sec: N - 297, unit: 'sshd.service', message: 'session opened for user root' },
    ]);
    const [real, ours] = await startBoth(dirs, servers);
    await waitNumbers([real, ours], { 'Total failed': 2, 'Currently failed': 1 }, 'the recent entries before start');

    // Live: 192.0.2.2's third failure (banned), 192.0.2.3 twice (not banned), other units ignored.
    append(both, [byOther(N - 20, '192.0.2.3', 'other2'), bySshd(N - 19, '192.0.2.2', 'p3'), byComm(N - 18, '192.0.2.3', 'q1')]);
    append(both, [byOther(N - 17, '192.0.2.3', 'other3'), bySshd(N - 16, '192.0.2.3', 'q2'), byOther(N - 15, '192.0.2.3', 'other4')]);
    await waitNumbers([real, ours], { 'Total failed': 5, 'Currently banned': 1 }, 'live entries');
    await waitFor('both bans recorded', () => rec(real).includes('MATCHES') && rec(ours).includes('MATCHES'));
    assert.equal(rec(ours), rec(real), 'recorded action commands and tags');
    assert.match(rec(real), /^BAN ip=192\.0\.2\.2 failures=3 restored=0 bantime=600 user=p1$/m);

    const commands: string[][] = [
      ['status', 'js'],
      ['status', 'js', 'short'],
      ['status'],
      ['get', 'js', 'journalmatch'],
      ['get', 'js', 'logpath'],
      ['get', 'js', 'banip'],
      // Matches no entry of the journal, so what is read does not change (test 2 checks that).
      ['set', 'js', 'addjournalmatch', '_SYSTEMD_UNIT=nothing.service', '+', '_COMM=foo'],
      ['get', 'js', 'journalmatch'],
      ['status', 'js'],
      ['set', 'js', 'deljournalmatch', '_SYSTEMD_UNIT=nothing.service'],
      ['set', 'js', 'deljournalmatch', '_COMM=foo'],
      ['get', 'js', 'journalmatch'],
      ['set', 'js', 'addlogpath', '/nonexistent.log'],
      ['get', 'js', 'logpath'],
    ];
    for (const c of commands) {
      const r = real.client(c);
      const o = ours.client(c);
      assert.equal(norm(o.stdout, ours.dir), norm(r.stdout, real.dir), `stdout of ${c.join(' ')}`);
      assert.equal(o.status, r.status, `exit code of ${c.join(' ')}`);
    }
    assert.match(statusOf(real), /`- Journal matches:\t_SYSTEMD_UNIT=sshd\.service \+ _COMM=sshd\n/);

    // The last entry before the stop, alone in its second: its time becomes the stored position.
    append(both, [bySshd(N - 10, '192.0.2.9', 'm1')]);
    await waitNumbers([real, ours], { 'Total failed': 6 }, 'the marker entry');
    for (const s of [real, ours]) await s.stop();
    const dbRow = (s: RunningServer): unknown[][] => sqliteRows(path.join(s.dir, 'f2b.sqlite3'), "SELECT jail, path, firstlinemd5, lastfilepos FROM logs WHERE path = 'systemd-journal'");
    assert.deepEqual(dbRow(ours), dbRow(real), 'the journal position in the database');
    const [row] = dbRow(real);
    assert.equal(row?.[3], N - 10, 'fail2ban stores the time of the last entry read');
    assert.match(String(row?.[2]), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d $/, 'and its ISO date');

    // While both are down: 192.0.2.6 fails three times.
    append(both, [bySshd(N - 8, '192.0.2.6', 'd1'), byOther(N - 7, '192.0.2.6', 'other5'), byComm(N - 6, '192.0.2.6', 'd2'), bySshd(N - 5, '192.0.2.6', 'd3')]);
    const [real2, ours2] = await startBoth(dirs, servers);
    await waitNumbers([real2, ours2], { 'Total failed': 3, 'Currently banned': 2 }, 'the entries written while down, the restored ban');
    // A sentinel after everything: once it is counted, every earlier entry has been read (or skipped).
    append(both, [bySshd(N - 1, '198.51.100.1', 'sentinel')]);
    await waitNumbers([real2, ours2], { 'Total failed': 4 }, 'the sentinel');
    for (const c of [['status', 'js'], ['get', 'js', 'banip'], ['get', 'js', 'journalmatch']]) {
      assert.equal(unorderedIps(ours2.client(c).stdout), unorderedIps(real2.client(c).stdout), `stdout of ${c.join(' ')} after the restart`);
    }
    const st = statusOf(ours2);
    // 192.0.2.6 ×3 and the sentinel: the marker (at the stored time) and everything before it not again.
    assert.equal(statusNumber(st, 'Total failed'), 4, st);
    assert.equal(statusNumber(st, 'Currently failed'), 1, st);
    assert.match(st, /Banned IP list:\t.*192\.0\.2\.6/);
    await waitFor('ban after restart recorded', () => (rec(real2).match(/^BAN /gm) ?? []).length === 3 && (rec(ours2).match(/^BAN /gm) ?? []).length === 3);
    assert.deepEqual(unorderedRecords(rec(ours2)), unorderedRecords(rec(real2)), 'recorded action commands after the restart');
    assert.match(rec(ours2), /^BAN ip=192\.0\.2\.2 failures=3 restored=1 /m);
    assert.match(rec(ours2), /^BAN ip=192\.0\.2\.6 failures=3 restored=0 bantime=600 user=d1$/m);
    for (const s of [real2, ours2]) await s.stop();
    assert.deepEqual(unorderedRecords(rec(ours2)), unorderedRecords(rec(real2)), 'recorded action commands after the last stop');
  });
}

test('set JAIL addjournalmatch / deljournalmatch change what the running jail reads', { skip: NO_TOOLS, timeout: 180000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  const { dirs, servers } = setup(t, 'pc-hjrn-jmatch-', 'journalpath', 'maxretry = 100\njournalmatch = _SYSTEMD_UNIT=sshd.service');
  const both = Object.values(dirs);
  const N = Math.floor(Date.now() / 1000);
  append(both, [bySshd(N - 100, '192.0.2.1', 'a')]);
  const pair = await startBoth(dirs, servers);
  await waitNumbers(pair, { 'Total failed': 1 }, 'the first entry');
  let at = N - 90;
  /** One entry of another unit, then a sentinel of sshd.service: when the sentinel is counted, the other one was read or skipped. */
  const step = async (want: number, what: string): Promise<void> => {
    append(both, [byOther(at++, '192.0.2.4', 'o' + at), bySshd(at++, '198.51.100.1', 's' + at)]);
    await waitNumbers(pair, { 'Total failed': want }, what);
  };
  await step(2, 'before any change: the other unit is not read');
  for (const s of pair) assert.equal(s.client(['set', 'js', 'addjournalmatch', '_SYSTEMD_UNIT=other.service']).status, 0);
  await step(4, 'after addjournalmatch: the other unit is read');
  for (const s of pair) assert.equal(s.client(['set', 'js', 'deljournalmatch', '_SYSTEMD_UNIT=other.service']).status, 0);
  await step(5, 'after deljournalmatch: the other unit is not read');
  for (const s of pair) assert.equal(s.client(['set', 'js', 'deljournalmatch', '_SYSTEMD_UNIT=sshd.service']).status, 0);
  // No match left: every entry is read (fail2ban's empty filter).
  await step(7, 'after deleting every match: everything is read');
  const [real, ours] = pair;
  for (const c of [
    ['status', 'js'],
    ['set', 'js', 'deljournalmatch', '_SYSTEMD_UNIT=nothing.service'],
    ['set', 'js', 'addjournalmatch', '_SYSTEMD_UNIT=x.service', '_COMM=x', '+', '_COMM=y'],
    ['set', 'js', 'deljournalmatch', '_SYSTEMD_UNIT=x.service', '_COMM=x', '+', '_COMM=y'],
    ['set', 'js', 'deljournalmatch', '_SYSTEMD_UNIT=x.service', '_COMM=x'],
    ['get', 'js', 'journalmatch'],
  ]) {
    const r = real.client(c);
    const o = ours.client(c);
    assert.equal(o.stdout, r.stdout, `stdout of ${c.join(' ')}`);
    assert.equal(o.status, r.status, `exit code of ${c.join(' ')}`);
  }
});
