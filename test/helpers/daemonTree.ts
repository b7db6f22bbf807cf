/**
 * A configuration tree for daemon tests (one server per directory): fail2ban.conf with the log
 * target, socket, pid file and database inside the directory, a jail.conf with one or more jails
 * on log files in the directory, the filter `t1` (`<date> host test: fail from <HOST> user <F-USER>`)
 * and the recording action `rec`, which appends one line per ban/unban with its tags to a file.
 * Plus small readers for what the tests look at: the recorded bans, the server log, the database.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { logTime } from './servers.js';

export const REC_ACTION = `[Definition]
actionstart = printf 'START\\n' >> <recfile>
actionstop = printf 'STOP\\n' >> <recfile>
actioncheck =
actionban = printf 'BAN ip=%%s restored=%%s failures=%%s user=%%s|\\n' "<ip>" "<restored>" "<failures>" "<F-USER>" >> <recfile>
actionunban = printf 'UNBAN ip=%%s\\n' "<ip>" >> <recfile>

[Init]
recfile = /dev/null
`;

/** The date is cut out first; the user is everything up to the end of the line. */
export const FILTER = `[Definition]\nfailregex = ^\\s*\\S+ test: fail from <HOST> user <F-USER>.+</F-USER>$\n`;

export interface JailSpec {
  readonly name: string;
  readonly backend?: string;
  readonly maxretry?: number;
  readonly findtime?: number;
  readonly bantime?: number;
  /** Extra `key = value` lines for the jail section. */
  readonly extra?: string;
  /** Default: `rec[recfile="<dir>/rec-<name>.txt"]`. */
  readonly action?: string;
}

/** Writes the tree into `dir` (created if need be); every jail reads `<dir>/<name>.log` (created empty). */
export function writeTree(dir: string, jails: readonly JailSpec[], files: Readonly<Record<string, string>> = {}): void {
  const jailConf = ['[DEFAULT]', 'backend = polling', 'maxretry = 3', 'findtime = 600', 'bantime = 600', ''];
  for (const j of jails) {
    jailConf.push(`[${j.name}]`, 'enabled = true', 'filter = t1', `logpath = ${dir}/${j.name}.log`);
    if (j.backend !== undefined) jailConf.push(`backend = ${j.backend}`);
    if (j.maxretry !== undefined) jailConf.push(`maxretry = ${j.maxretry}`);
    if (j.findtime !== undefined) jailConf.push(`findtime = ${j.findtime}`);
    if (j.bantime !== undefined) jailConf.push(`bantime = ${j.bantime}`);
    jailConf.push(`action = ${j.action ?? `rec[recfile="${dir}/rec-${j.name}.txt"]`}`);
    if (j.extra !== undefined) jailConf.push(j.extra);
    jailConf.push('');
  }
  const all: Record<string, string> = {
    'fail2ban.conf': `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\nsocket = ${dir}/f2b.sock\npidfile = ${dir}/f2b.pid\ndbfile = ${dir}/f2b.sqlite3\n`,
    'jail.conf': jailConf.join('\n'),
    'filter.d/t1.conf': FILTER,
    'action.d/rec.conf': REC_ACTION,
    ...files,
  };
  for (const j of jails) if (!fs.existsSync(path.join(dir, `${j.name}.log`))) all[`${j.name}.log`] = '';
  for (const [name, body] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
}

/** One failure line as the filter `t1` matches it, dated now (or `ms`). */
export function failLine(ip: string, user: string, ms = Date.now()): string {
  return `${logTime(ms)} host test: fail from ${ip} user ${user}`;
}

export function appendLines(file: string, lines: readonly string[]): void {
  fs.appendFileSync(file, lines.map((l) => l + '\n').join(''));
}

export interface BanRecord {
  readonly ip: string;
  readonly restored: string;
  readonly failures: string;
  readonly user: string;
}

/** The BAN lines the recording action wrote for `jail` in `dir`. */
export function recordedBans(dir: string, jail: string): BanRecord[] {
  const file = path.join(dir, `rec-${jail}.txt`);
  if (!fs.existsSync(file)) return [];
  const out: BanRecord[] = [];
  for (const m of fs.readFileSync(file, 'utf8').matchAll(/^BAN ip=(\S*) restored=(\S*) failures=(\S*) user=([^]*?)\|$/gm)) {
    out.push({ ip: m[1] ?? '', restored: m[2] ?? '', failures: m[3] ?? '', user: m[4] ?? '' });
  }
  return out;
}

export function readIf(file: string): string {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

/** The server's log file (logtarget). */
export function serverLog(dir: string): string {
  return readIf(path.join(dir, 'f2b.log'));
}

/** The IPs of `NOTICE  [jail] Ban <ip>` (or `Restore Ban`) lines in `text`. */
export function loggedBans(text: string, jail: string, restore = false): string[] {
  const re = new RegExp(`NOTICE\\s+\\[${jail}\\] ${restore ? 'Restore ' : ''}Ban (\\S+)$`, 'gm');
  return [...text.matchAll(re)].map((m) => m[1] ?? '');
}

/** Rows of a query on the database with Python's sqlite3 module (JSON through stdout). */
export function sqliteRows(dbfile: string, sql: string): unknown[][] {
  const py = `import sqlite3, json, sys\nc = sqlite3.connect(sys.argv[1])\nprint(json.dumps([list(r) for r in c.execute(sys.argv[2])]))\n`;
  const r = spawnSync('/usr/bin/python3', ['-c', py, dbfile, sql], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`sqlite3 query failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown[][];
}

/** `Total failed:` / `Currently banned:` / `Total banned:` … of `status JAIL` output. */
export function statusNumber(statusOut: string, label: string): number {
  const m = new RegExp(`${label}:\\s*(\\d+)`).exec(statusOut);
  return m ? Number(m[1]) : NaN;
}
