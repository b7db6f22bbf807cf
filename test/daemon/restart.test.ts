/**
 * The daemon across restarts, crashes and log rotations, against the real server process:
 *
 * 1. `stop` then a new server on the same directory: bans restored from the database (`Restore
 *    Ban`, the action run again with `<restored>` = 1, listed by `status`), log positions resumed
 *    (old lines not counted again, lines appended while the server was down read).
 * 2. `kill -9` in the middle of a flood of failures: every IP whose `Ban` line was logged before
 *    the kill is in the database and banned again by the next server.
 * 3. Rotation (rename+create, copytruncate, truncate) while lines are written: every failure
 *    counted exactly once.
 *
 * Each for the `pyinotify` and the `polling` backend.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendLines, failLine, loggedBans, recordedBans, serverLog, sqliteRows, statusNumber, writeTree } from '../helpers/daemonTree.js';
import { cleanup, sleep, startServer, waitFor, type RunningServer, tempDir } from '../helpers/servers.js';

const BACKENDS = ['pyinotify', 'polling'] as const;


const status = (s: RunningServer, jail: string): string => s.client(['status', jail]).stdout;

/** `get JAIL banip` → the banned IPs (space separated in Debian's client output). */
function bannedIps(s: RunningServer, jail: string): Set<string> {
  const r = s.client(['get', jail, 'banip']);
  assert.equal(r.status, 0, `get ${jail} banip: ${r.stdout}${r.stderr}`);
  return new Set(r.stdout.split(/\s+/).filter((w) => w !== ''));
}

for (const backend of BACKENDS) {
  test(`restart (${backend}): bans restored, log positions resumed`, { timeout: 180000 }, async (t) => {
    const dir = tempDir('pc-rob-restart-');
    const servers: RunningServer[] = [];
    cleanup(t, dir, servers);
    writeTree(dir, [{ name: 'j1', backend, maxretry: 2 }]);
    const log = path.join(dir, 'j1.log');

    const first = await startServer('ours', dir);
    servers.push(first);
    appendLines(log, [
      failLine('192.0.2.1', 'a1'),
      failLine('192.0.2.1', 'a2'),
      failLine('192.0.2.2', 'b1'),
      failLine('192.0.2.3', 'c1'), // one failure only: not banned
      failLine('192.0.2.2', 'b2'),
    ]);
    await waitFor('two bans and five failures', () => {
      const st = status(first, 'j1');
      return statusNumber(st, 'Currently banned') === 2 && statusNumber(st, 'Total failed') === 5;
    });
    await waitFor('both bans recorded', () => recordedBans(dir, 'j1').length === 2);
    await first.stop();
    assert.ok(first.child.exitCode !== null || first.child.signalCode !== null, 'the first server exited');

    // While the server is down: a new IP reaches maxretry; one line too old to count (2 h ago).
    appendLines(log, [failLine('192.0.2.4', 'd1'), failLine('192.0.2.5', 'old', Date.now() - 7200_000), failLine('192.0.2.4', 'd2')]);

    const second = await startServer('ours', dir);
    servers.push(second);
    await waitFor('restored bans and the new ban in the log', () => {
      const text = serverLog(dir);
      return loggedBans(text, 'j1', true).length >= 2 && loggedBans(text, 'j1').includes('192.0.2.4');
    });
    const text = serverLog(dir);
    assert.deepEqual(new Set(loggedBans(text, 'j1', true)), new Set(['192.0.2.1', '192.0.2.2']), 'Restore Ban lines');
    await waitFor('the action saw the bans again', () => recordedBans(dir, 'j1').length >= 5);
    const recs = recordedBans(dir, 'j1');
    const restored = recs.filter((r) => r.restored === '1').map((r) => r.ip);
    assert.deepEqual(new Set(restored), new Set(['192.0.2.1', '192.0.2.2']), 'actions run with <restored> = 1');
    assert.equal(restored.length, 2, 'each ban restored once');
    assert.deepEqual(
      recs.filter((r) => r.restored === '0').map((r) => r.ip),
      ['192.0.2.1', '192.0.2.2', '192.0.2.4'],
      'new (not restored) bans: the two before the restart, the one from the lines written while down',
    );
    assert.deepEqual(bannedIps(second, 'j1'), new Set(['192.0.2.1', '192.0.2.2', '192.0.2.4']), 'get j1 banip');
    let st = status(second, 'j1');
    assert.match(st, /Banned IP list:\t.*192\.0\.2\.1/);
    assert.equal(statusNumber(st, 'Currently banned'), 3, st);
    // Only the two recent lines written while the server was down count: the five old lines are
    // not read again, the line older than findtime is not a failure.
    assert.equal(statusNumber(st, 'Total failed'), 2, `old lines were counted again or down-time lines missed:\n${st}`);
    assert.ok(!bannedIps(second, 'j1').has('192.0.2.3'), 'the single old failure of 192.0.2.3 was not re-read');

    // One more failure of 192.0.2.3: counted once (1 in this run), not banned (its old failure is gone with the restart).
    appendLines(log, [failLine('192.0.2.3', 'c2')]);
    await waitFor('third failure counted', () => statusNumber(status(second, 'j1'), 'Total failed') === 3);
    st = status(second, 'j1');
    assert.equal(statusNumber(st, 'Currently failed'), 1, st);
    assert.equal(statusNumber(st, 'Currently banned'), 3, st);
    await second.stop();
  });

  test(`kill -9 mid-flood (${backend}): every logged ban is in the database and restored`, { timeout: 300000 }, async (t) => {
    const dir = tempDir('pc-rob-kill-');
    const servers: RunningServer[] = [];
    cleanup(t, dir, servers);
    writeTree(dir, [{ name: 'j1', backend, maxretry: 2, bantime: 3600 }]);
    const log = path.join(dir, 'j1.log');
    const N = 300;
    const ips = Array.from({ length: N }, (_, i) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`);

    const first = await startServer('ours', dir);
    servers.push(first);
    // The flood: one IP's 2 failures per append, an append every 10 ms.
    let written = 0;
    const writer = (async () => {
      for (const ip of ips) {
        appendLines(log, [failLine(ip, 'u' + ip), failLine(ip, 'v' + ip)]);
        written++;
        await sleep(10);
      }
    })();
    await waitFor('some bans logged', () => loggedBans(serverLog(dir), 'j1').length >= 20, 60000);
    first.child.kill('SIGKILL');
    const writtenAtKill = written;
    await waitFor('the server died', () => first.child.exitCode !== null || first.child.signalCode !== null);
    assert.equal(first.child.signalCode, 'SIGKILL');
    const before = new Set(loggedBans(serverLog(dir), 'j1'));
    await writer;
    t.diagnostic(`${before.size} bans logged before SIGKILL, ${writtenAtKill} of ${N} IPs written by then`);
    assert.ok(before.size < N, `the kill came after the flood was over (${before.size} bans logged): not a mid-flood kill`);

    // The database (read with Python's sqlite3, as a crash left it: WAL included) has every logged ban.
    const rows = sqliteRows(path.join(dir, 'f2b.sqlite3'), "SELECT ip FROM bans WHERE jail = 'j1'");
    const inDb = new Set(rows.map((r) => String(r[0])));
    const missingDb = [...before].filter((ip) => !inDb.has(ip));
    assert.deepEqual(missingDb, [], 'bans logged before the kill but not in the database');

    const second = await startServer('ours', dir);
    servers.push(second);
    await waitFor('every logged ban restored', () => {
      const banned = bannedIps(second, 'j1');
      return [...before].every((ip) => banned.has(ip));
    }, 60000);
    const restoredLogged = new Set(loggedBans(serverLog(dir), 'j1', true));
    assert.deepEqual([...before].filter((ip) => !restoredLogged.has(ip)), [], 'IPs banned before the kill without a Restore Ban line');
    // The rest of the flood is read by the second server: in the end all N IPs are banned.
    await waitFor('all IPs banned in the end', () => bannedIps(second, 'j1').size === N, 120000);
    const rows2 = sqliteRows(path.join(dir, 'f2b.sqlite3'), "SELECT COUNT(DISTINCT ip), COUNT(*) FROM bans WHERE jail = 'j1'");
    assert.equal(Number(rows2[0]?.[0]), N, 'distinct IPs in the bans table');
    await second.stop();
  });

  test(`rotation mid-stream (${backend}): every failure counted exactly once`, { timeout: 300000 }, async (t) => {
    const dir = tempDir('pc-rob-rot-');
    const servers: RunningServer[] = [];
    cleanup(t, dir, servers);
    writeTree(dir, [{ name: 'j1', backend, maxretry: 1, bantime: 3600 }]);
    const log = path.join(dir, 'j1.log');
    const s = await startServer('ours', dir);
    servers.push(s);

    let n = 0;
    const expected: string[] = [];
    /** `count` lines, each a failure of a new IP with a new user number, 10 per append, 5 ms apart. */
    const stream = async (count: number): Promise<void> => {
      for (let k = 0; k < count; k += 10) {
        const lines: string[] = [];
        for (let j = 0; j < 10 && k + j < count; j++) {
          const ip = `10.2.${Math.floor(n / 250)}.${(n % 250) + 1}`;
          expected.push(ip);
          lines.push(failLine(ip, `user${n}`));
          n++;
        }
        appendLines(log, lines);
        await sleep(5);
      }
    };
    const total = (): number => statusNumber(status(s, 'j1'), 'Total failed');
    const caughtUp = (what: string): Promise<void> => waitFor(`${what}: ${n} failures counted`, () => total() >= n, 60000);

    await stream(100);
    // logrotate `create`: rename, new empty file, writing goes on at once (the rest of the old file must still be read).
    fs.renameSync(log, log + '.1');
    fs.writeFileSync(log, '');
    await stream(100);
    await caughtUp('after rename+create');
    // copytruncate: copy, truncate in place, writing goes on at once.
    await stream(50);
    await caughtUp('before copytruncate');
    fs.copyFileSync(log, log + '.2');
    fs.truncateSync(log, 0);
    await stream(100);
    await caughtUp('after copytruncate');
    // truncate (no copy) and the writer at once writes more than the old size back.
    await stream(50);
    await caughtUp('before truncate');
    fs.truncateSync(log, 0);
    await stream(150);
    // A sentinel last: when its ban is recorded, every line before it has been through the filter.
    appendLines(log, [failLine('198.51.100.250', 'sentinel')]);
    expected.push('198.51.100.250');
    await waitFor('sentinel banned', () => recordedBans(dir, 'j1').some((r) => r.ip === '198.51.100.250'), 60000);

    const st = status(s, 'j1');
    const recs = recordedBans(dir, 'j1');
    const ips = recs.map((r) => r.ip);
    const missing = expected.filter((ip) => !ips.includes(ip));
    const dup = ips.filter((ip, i) => ips.indexOf(ip) !== i);
    assert.deepEqual(missing, [], 'failures never banned (lines lost across a rotation)');
    assert.deepEqual(dup, [], 'IPs banned twice');
    assert.equal(recs.length, expected.length, 'BAN records');
    assert.equal(statusNumber(st, 'Total failed'), expected.length, `lines counted twice or lost:\n${st}`);
    assert.equal(statusNumber(st, 'Total banned'), expected.length, st);
    assert.doesNotMatch(serverLog(dir), /already banned/, 'a line was read twice');
    // The user numbers reached the action unchanged, each once.
    const users = recs.filter((r) => r.user !== 'sentinel').map((r) => Number(r.user.slice(4)));
    assert.deepEqual(users.sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i), 'user numbers');
    await s.stop();
  });
}
