/**
 * A first start on a log that already holds hours of lines: fail2ban seeks each file (head mode)
 * to the first line within `findtime` before reading, so old lines are neither read nor counted.
 * Both servers on the same log: the same bans, and neither reads the old part (had it been read,
 * the filter would warn "Ignoring all log entries older than …"). A `tail` log path starts at the
 * end instead: even recent lines already there do not count.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { needOracle } from '../helpers/oracle.js';
import { cleanup, logTime, startServer, tempDir, waitFor, type RunningServer, type Side } from '../helpers/servers.js';

const REC = `[Definition]
actionban = printf 'BAN %%s %%s\\n' "<ip>" "<failures>" >> <recfile>
actionunban = printf 'UNBAN %%s\\n' "<ip>" >> <recfile>
[Init]
recfile = rec.txt
`;

function tree(dir: string, lines: string): void {
  const files: Record<string, string> = {
    'fail2ban.conf': `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\ndbfile = ${dir}/f2b.sqlite3\n`,
    'jail.conf': `[DEFAULT]
backend = polling
maxretry = 3
findtime = 600
bantime = 600
action = rec[recfile="${dir}/rec-%(__name__)s.txt"]

[head]
enabled = true
filter = t
logpath = ${dir}/head.log

[tail]
enabled = true
filter = t
logpath = ${dir}/tail.log tail
`,
    'filter.d/t.conf': '[Definition]\nfailregex = ^\\s*\\S+ test: fail from <HOST>$\n',
    'action.d/rec.conf': REC,
    'head.log': lines,
    'tail.log': lines,
  };
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
}

const fail = (ms: number, ip: string): string => `${logTime(ms)} host test: fail from ${ip}\n`;

test('first start: lines older than findtime are skipped unread; tail starts at the end', { timeout: 180000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  const base = tempDir('pc-first-');
  const servers: RunningServer[] = [];
  cleanup(t, base, servers);
  const now = Date.now();
  // Two hours of old failures (3000 lines, 192.0.2.1 .. .50 well over maxretry each), then
  // three recent failures of 192.0.2.77 and two of 192.0.2.78.
  let text = '';
  for (let i = 0; i < 3000; i++) text += fail(now - 7200_000 + i * 1000, `192.0.2.${(i % 50) + 1}`);
  for (let i = 0; i < 3; i++) text += fail(now - 60_000 + i * 1000, '192.0.2.77');
  for (let i = 0; i < 2; i++) text += fail(now - 50_000 + i * 1000, '192.0.2.78');
  const dirs = { real: path.join(base, 'real'), ours: path.join(base, 'ours') };
  for (const d of Object.values(dirs)) {
    fs.mkdirSync(d);
    tree(d, text);
  }
  for (const side of ['real', 'ours'] as Side[]) servers.push(await startServer(side, dirs[side]));
  const rec = (s: RunningServer, jail: string): string => {
    const f = path.join(s.dir, `rec-${jail}.txt`);
    return fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '';
  };
  for (const s of servers) await waitFor(`${s.side}: the recent ban`, () => rec(s, 'head').includes('BAN 192.0.2.77'));
  // one more failure of .78 reaches maxretry in the head jail only; the tail jail saw none of the old ones
  for (const d of Object.values(dirs)) {
    fs.appendFileSync(path.join(d, 'head.log'), fail(Date.now(), '192.0.2.78'));
    fs.appendFileSync(path.join(d, 'tail.log'), fail(Date.now(), '192.0.2.78'));
  }
  for (const s of servers) await waitFor(`${s.side}: the second ban`, () => rec(s, 'head').includes('BAN 192.0.2.78'));
  const [real, ours] = servers as [RunningServer, RunningServer];
  for (const s of servers) {
    const status = s.client(['status', 'tail']).stdout;
    assert.match(status, /Total failed:\t1\n/, `${s.side}: the tail jail counts only the line appended after start\n${status}`);
  }
  assert.equal(rec(ours, 'head'), rec(real, 'head'), 'bans of the head jail');
  assert.equal(rec(ours, 'head'), 'BAN 192.0.2.77 3\nBAN 192.0.2.78 3\n');
  assert.equal(rec(ours, 'tail'), rec(real, 'tail'));
  assert.equal(ours.client(['status', 'head']).stdout, real.client(['status', 'head']).stdout.split(real.dir).join(ours.dir));
  for (const s of servers) {
    const log = fs.readFileSync(path.join(s.dir, 'f2b.log'), 'utf8');
    assert.doesNotMatch(log, /Ignoring all log entries older than/, `${s.side} read the old lines`);
  }
});
