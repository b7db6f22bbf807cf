/**
 * bantime.increment on the failure side (fail2ban's observer `failureFound`), side by side with
 * Debian's fail2ban-server: once an address has been banned, each later failure of it counts for
 * 2, 3, 5, 9 … attempts (by its ban count, at most maxretry), so a known offender is banned again
 * sooner. Both servers: the same lines, the same "Found …, bad" log lines, the same bans.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { needOracle } from '../helpers/oracle.js';
import { cleanup, logTime, startServer, tempDir, waitFor, type RunningServer, type Side } from '../helpers/servers.js';

const REC = `[Definition]
actionban = printf 'BAN %%s %%s\\n' "<ip>" "<bancount>" >> <recfile>
actionunban = printf 'UNBAN %%s\\n' "<ip>" >> <recfile>
[Init]
recfile = rec.txt
`;

function tree(dir: string): void {
  const files: Record<string, string> = {
    'fail2ban.conf': `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\ndbfile = ${dir}/f2b.sqlite3\n`,
    'jail.conf': `[t]
enabled = true
backend = polling
filter = t
logpath = ${dir}/t.log
maxretry = 5
findtime = 600
bantime = 5
bantime.increment = true
bantime.maxtime = 10
action = rec[recfile="${dir}/rec.txt"]
`,
    'filter.d/t.conf': '[Definition]\nfailregex = ^\\s*\\S+ test: fail from <HOST>$\n',
    'action.d/rec.conf': REC,
    't.log': '',
    'rec.txt': '',
  };
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
}

const IP = '192.0.2.40';
const rec = (s: RunningServer): string => fs.readFileSync(path.join(s.dir, 'rec.txt'), 'utf8');
const serverLog = (s: RunningServer): string => fs.readFileSync(path.join(s.dir, 'f2b.log'), 'utf8');
/** The observer's lines without time stamp and pid. */
const badLines = (s: RunningServer): string[] =>
  serverLog(s)
    .split('\n')
    .filter((l) => l.includes(' bad - '))
    .map((l) => l.replace(/^.*?\]: /, '').replace(/bad - \S+ \S+,/, 'bad - <time>,'));

test('a failure of an address banned before weighs more (failureFound)', { timeout: 240000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  const base = tempDir('pc-weight-');
  const servers: RunningServer[] = [];
  cleanup(t, base, servers);
  const dirs = { real: path.join(base, 'real'), ours: path.join(base, 'ours') };
  for (const d of Object.values(dirs)) {
    fs.mkdirSync(d);
    tree(d);
  }
  for (const side of ['real', 'ours'] as Side[]) servers.push(await startServer(side, dirs[side]));
  const fail = async (n: number, until: (s: RunningServer) => boolean, what: string): Promise<void> => {
    for (let i = 0; i < n; i++) for (const d of Object.values(dirs)) fs.appendFileSync(path.join(d, 't.log'), `${logTime()} host test: fail from ${IP}\n`);
    for (const s of servers) await waitFor(`${s.side}: ${what}`, () => until(s), 60000);
  };
  const count = (s: RunningServer, re: RegExp): number => rec(s).split('\n').filter((l) => re.test(l)).length;
  // first ban: five failures; the ban expires after 5 s (long enough that a busy fail2ban does not find it expired before banning)
  await fail(5, (s) => count(s, /^UNBAN /) === 1, 'the first ban and its end');
  // second round: each failure now counts twice (ban count 1 → 2 attempts): three reach 5
  await fail(1, (s) => badLines(s).length === 1, 'the first weighted failure');
  await fail(1, (s) => badLines(s).length === 2, 'the second weighted failure');
  for (const s of servers) assert.equal(count(s, /^BAN /), 1, `${s.side}: banned after two weighted failures`);
  await fail(1, (s) => count(s, /^BAN /) === 2, 'the second ban');
  await fail(0, (s) => count(s, /^UNBAN /) === 2, 'the end of the second ban');
  // third round: ban count 2 → each failure counts 3: two reach 5
  await fail(1, (s) => badLines(s).length === 4, 'a failure counted three times');
  for (const s of servers) assert.equal(count(s, /^BAN /), 2, `${s.side}: banned after one failure of weight 3`);
  await fail(1, (s) => count(s, /^BAN /) === 3, 'the third ban');
  const [real, ours] = servers as [RunningServer, RunningServer];
  assert.deepEqual(badLines(ours), badLines(real));
  assert.deepEqual(badLines(ours), [
    `INFO    [t] Found ${IP}, bad - <time>, 1 # -> 2.0`,
    `INFO    [t] Found ${IP}, bad - <time>, 1 # -> 2.0`,
    `INFO    [t] Found ${IP}, bad - <time>, 1 # -> 2.0`,
    `INFO    [t] Found ${IP}, bad - <time>, 2 # -> 3.0`,
    `INFO    [t] Found ${IP}, bad - <time>, 2 # -> 3.0`,
  ]);
  // the recorded ban sequence (ban counts as each side's actionban saw them) has the same shape
  assert.deepEqual(rec(ours).split('\n').map((l) => l.split(' ')[0]), rec(real).split('\n').map((l) => l.split(' ')[0]));
});
