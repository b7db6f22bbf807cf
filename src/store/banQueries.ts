/**
 * The ban reads of BanStore: the bans still in force for a restore (with fail2ban's bantime
 * corrections and match limits), the last-ban look-up of bantime.increment, and an ip's history
 * merged for `<ipmatches>`/`<ipfailures>`.
 */
import type { PyValue } from '../shared/pyvalue.js';
import type { ServerLog } from '../system/log.js';
import type { BanHistory, BanRow, CurrentBansQuery, DbBan, MergedBans } from './banTypes.js';
import type { StoreSql } from './storeSql.js';
import { joinMatches, listOf, numberOf, parseData, ticketData } from './ticketData.js';

/** §2.7 restore: the bans of the jail still in force, with fail2ban's corrections. */
export function getCurrentBans(db: StoreSql, q: CurrentBansQuery, maxMatches: number, log: ServerLog): DbBan[] {
  let sql = 'SELECT ip, timeofban, bantime, bancount, data FROM bips WHERE jail=?';
  const args: Array<string | number> = [q.jail];
  if (q.ip !== undefined) {
    sql += ' AND ip=?';
    args.push(q.ip);
  }
  sql += ' AND (timeofban + bantime > ? OR bantime <= -1)';
  args.push(q.now);
  if (q.forbantime !== null && q.forbantime !== -1) {
    sql += ' AND timeofban > ?';
    args.push(q.now - q.forbantime);
  }
  sql += q.ip === undefined ? ' GROUP BY ip ORDER BY ip, timeofban DESC' : ' ORDER BY timeofban DESC LIMIT 1';
  const rows = db.run('get current bans', () => db.stmt(sql).all(...args) as BanRow[]);
  const out: DbBan[] = [];
  for (const row of rows) {
    const ban = currentBan(row, q, maxMatches, log);
    if (ban) out.push(ban);
  }
  return out;
}

function currentBan(row: BanRow, q: CurrentBansQuery, maxMatches: number, log: ServerLog): DbBan | undefined {
  if (row.ip === '' || typeof row.ip !== 'string') return undefined;
  const correct = q.correctBanTime === -1 ? null : q.correctBanTime;
  let banTime = row.bantime;
  if (banTime === -2) banTime = q.jailBanTime ?? (correct ? correct : 600);
  else if (correct !== null && correct > 0 && (banTime === -1 || banTime > correct)) banTime = correct;
  if (banTime !== -1 && row.timeofban + banTime <= q.now) return undefined;
  const data = ticketData(row.data, row.ip, log);
  const max = q.maxmatches ?? maxMatches;
  let matches = joinMatches(listOf(data.get('matches')));
  if (!max) {
    data.delete('matches');
    matches = [];
  } else if (matches.length > max) {
    matches = matches.slice(-max);
    data.set('matches', matches);
  }
  return { ip: row.ip, timeOfBan: row.timeofban, banTime, banCount: row.bancount, data, matches, failures: numberOf(data.get('failures'), 0) };
}

/**
 * bantime.increment's look-up (§2.4): count, time and bantime of the last ban of `ip` in `jail`,
 * or with `jail` null (overalljails) summed over every jail (`max(timeofban)`).
 */
export function getBan(db: StoreSql, now: () => number, ip: string, jail: string | null, opts: { forbantime?: number; fromtime?: number }): BanHistory | undefined {
  let sql = jail === null ? 'SELECT sum(bancount), max(timeofban), sum(bantime) FROM bips' : 'SELECT bancount, timeofban, bantime FROM bips';
  sql += ' WHERE ip = ?';
  const args: Array<string | number> = [ip];
  if (jail !== null) {
    sql += ' AND jail=?';
    args.push(jail);
  }
  if (opts.forbantime !== undefined) {
    sql += ' AND timeofban > ?';
    args.push(now() - opts.forbantime);
  }
  if (opts.fromtime !== undefined) {
    sql += ' AND timeofban > ?';
    args.push(opts.fromtime);
  }
  if (jail === null) sql += ' GROUP BY ip ORDER BY timeofban DESC LIMIT 1';
  const row = db.run('get ban', () => db.stmt(sql).raw().get(...args) as [number, number, number] | undefined);
  return row === undefined ? undefined : { banCount: row[0], timeOfBan: row[1], banTime: row[2] };
}

/**
 * `<ipmatches>`/`<ipfailures>` (jail null: every jail) and `<ipjailmatches>`/`<ipjailfailures>`:
 * the history of `ip` merged, newest rows read first; undefined when there is none.
 */
export function getBansMerged(db: StoreSql, log: ServerLog, ip: string, jail: string | null, maxmatches: number): MergedBans | undefined {
  const sql = `SELECT ip, timeofban, data FROM bans WHERE 1${jail === null ? '' : ' AND jail=?'} AND ip=? ORDER BY ip, timeofban desc`;
  const rows = db.run('get bans merged', () => db.stmt(sql).all(...(jail === null ? [ip] : [jail, ip])) as BanRow[]);
  const last = rows[rows.length - 1];
  if (last === undefined) return undefined;
  let matches: unknown[] = [];
  let failures = 0;
  const merged = new Map<string, PyValue>();
  for (const row of rows) {
    const data = parseData(row.data, row.ip, log);
    const m = listOf(data.get('matches'));
    const room = maxmatches - matches.length;
    if (room > 0) matches = [...(m.length <= room ? m : m.slice(-room)), ...matches];
    failures += numberOf(data.get('failures'), 1);
    for (const [k, v] of data) merged.set(k, v);
    merged.set('failures', failures);
    merged.set('matches', matches as PyValue[]);
  }
  const data = ticketData(null, ip, log);
  for (const [k, v] of merged) if (v !== null) data.set(k, v);
  return { ip: last.ip, timeOfBan: last.timeofban, failures, matches: joinMatches(matches), data };
}
