/**
 * The daemon side by side with Debian's real fail2ban-server: the same configuration (two jails,
 * a recording action that appends its tags to a file), the same log lines appended to each
 * server's log, then the same client commands against both. Bans (order and tag values), the
 * client outputs of status, status JAIL, banned, get …, manual ban/unban, and what `stop` does
 * must be equal — read through Debian's own fail2ban-client, so the wire protocol is checked too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { needOracle } from '../helpers/oracle.js';
import { logTime, startServer, waitFor, type RunningServer, type Side } from '../helpers/servers.js';

const REC_ACTION = `[Definition]
actionstart = printf 'START fam=%%s\\n' "<family>" >> <recfile>
actionstop = printf 'STOP fam=%%s\\n' "<family>" >> <recfile>
actioncheck =
actionban = printf 'BAN ip=%%s fam=%%s rev=%%s fid=%%s failures=%%s bantime=%%s bancount=%%s restored=%%s user=%%s\\n' "<ip>" "<family>" "<ip-rev>" "<fid>" "<failures>" "<bantime>" "<bancount>" "<restored>" "<F-USER>" >> <recfile>
            printf 'MATCHES %%s\\n' "<matches>" >> <recfile>
actionunban = printf 'UNBAN ip=%%s fam=%%s\\n' "<ip>" "<family>" >> <recfile>

[Init]
recfile = %(here)s/rec.txt
`;

function tree(dir: string): void {
  const files: Record<string, string> = {
    'fail2ban.conf': `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\nsocket = ${dir}/f2b.sock\npidfile = ${dir}/f2b.pid\ndbfile = ${dir}/f2b.sqlite3\n`,
    'jail.conf': `[DEFAULT]
backend = polling
maxretry = 3
findtime = 600
bantime = 600
action = rec[recfile="${dir}/rec-%(__name__)s.txt"]

[t1]
enabled = true
filter = t1
logpath = ${dir}/t1.log

[t2]
enabled = true
filter = t1
logpath = ${dir}/t2.log
maxretry = 2
bantime = 1200
ignoreip = 192.0.2.200 198.51.100.0/24
`,
    'filter.d/t1.conf': `[Definition]\nfailregex = ^\\s*\\S+ test: fail from <HOST> user <F-USER>\\S+</F-USER>$\n`,
    'action.d/rec.conf': REC_ACTION.replace('%(here)s', dir),
    't1.log': '',
    't2.log': '',
  };
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
}

function append(dirs: readonly string[], file: string, lines: readonly string[]): void {
  for (const d of dirs) fs.appendFileSync(path.join(d, file), lines.map((l) => l + '\n').join(''));
}

const failLine = (ip: string, user: string): string => `${logTime()} host test: fail from ${ip} user ${user}`;

/** What the two sides may differ in: their directory names. */
function norm(text: string, dir: string): string {
  return text.split(dir).join('<DIR>');
}

test('same bans, tags and client outputs as Debian fail2ban-server', { timeout: 180000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-sbs-'));
  const dirs: Record<Side, string> = { real: path.join(base, 'real'), ours: path.join(base, 'ours') };
  for (const d of Object.values(dirs)) {
    fs.mkdirSync(d);
    tree(d);
  }
  const servers: RunningServer[] = [];
  try {
    for (const side of ['real', 'ours'] as const) servers.push(await startServer(side, dirs[side]));
    const both = Object.values(dirs);
    // t1: 192.0.2.10 fails three times (banned), 192.0.2.11 twice (not banned); a hostile user name.
    append(both, 't1.log', [failLine('192.0.2.10', 'bob1'), failLine('192.0.2.11', 'x;touch${IFS}/tmp/pc-pwned;')]);
    append(both, 't1.log', [failLine('192.0.2.10', 'bob2'), failLine('192.0.2.10', "it's\"q`id`")]);
    append(both, 't1.log', [failLine('192.0.2.11', 'eve'), 'noise line']);
    // t2: an IPv6 address reaches maxretry 2; an ignored address and an ignored network never do.
    append(both, 't2.log', [failLine('2001:db8::1', 'v6a'), failLine('192.0.2.200', 'ign'), failLine('198.51.100.7', 'net')]);
    append(both, 't2.log', [failLine('2001:db8::1', 'v6b'), failLine('192.0.2.200', 'ign'), failLine('198.51.100.7', 'net')]);
    for (const s of servers) {
      await waitFor(`${s.side}: bans`, () => {
        const a = s.client(['status', 't1']).stdout;
        const b = s.client(['status', 't2']).stdout;
        return a.includes('Currently banned:\t1') && b.includes('Currently banned:\t1');
      });
    }
    const [real, ours] = servers as [RunningServer, RunningServer];
    /** Each jail records into its own file (the two jails run independently, so only each one's order is defined). */
    const rec = (s: RunningServer): string =>
      ['t1', 't2'].map((j) => `== ${j}\n` + norm(fs.readFileSync(path.join(s.dir, `rec-${j}.txt`), 'utf8'), s.dir)).join('');
    await waitFor('recorded bans', () => rec(ours).split('\n').filter((l) => l.startsWith('BAN')).length >= 2 && rec(real).split('\n').filter((l) => l.startsWith('BAN')).length >= 2);
    assert.equal(rec(ours), rec(real), 'recorded action commands and tags');
    assert.ok(!fs.existsSync('/tmp/pc-pwned'), 'a log line ran a command');

    const commands: string[][] = [
      ['status'],
      ['status', 't1'],
      ['status', 't2'],
      ['status', 't1', 'short'],
      ['banned'],
      ['banned', '192.0.2.10', '2001:db8::1', '192.0.2.99'],
      ['get', 't1', 'banned'],
      ['get', 't1', 'banned', '192.0.2.10'],
      ['get', 't1', 'banip'],
      ['get', 't1', 'failregex'],
      ['get', 't2', 'ignoreip'],
      ['get', 't1', 'maxretry'],
      ['get', 't2', 'bantime'],
      ['get', 't1', 'findtime'],
      ['get', 't1', 'logpath'],
      ['get', 't1', 'actions'],
      ['get', 't1', 'usedns'],
      ['get', 'dbfile'],
      ['get', 'dbpurgeage'],
      ['get', 'loglevel'],
      ['get', 'nojail', 'bantime'],
      ['status', 'nojail'],
      ['set', 't1', 'banip', '192.0.2.21', '192.0.2.22'],
      ['set', 't1', 'banip', '192.0.2.21'],
      ['set', 't1', 'unbanip', '192.0.2.21'],
      ['set', 't1', 'unbanip', '192.0.2.77'],
      ['set', 't1', 'unbanip', '--report-absent', '192.0.2.77'],
      ['set', 't1', 'maxretry', '4'],
      ['set', 't1', 'addignoreip', '203.0.113.5'],
      ['echo', 'hello', 'world'],
      ['ping'],
      ['version'],
      ['frobnicate'],
      ['unban', '192.0.2.22'],
      ['unban', '--all'],
      ['status', 't1'],
    ];
    for (const c of commands) {
      const r = real.client(c);
      const o = ours.client(c);
      assert.equal(norm(o.stdout, ours.dir), norm(r.stdout, real.dir), `stdout of ${c.join(' ')}`);
      assert.equal(o.status, r.status, `exit code of ${c.join(' ')}`);
    }
    await waitFor('unbans recorded', () => rec(ours).includes('UNBAN ip=2001:db8::1') && rec(real).includes('UNBAN ip=2001:db8::1'));
    assert.equal(rec(ours), rec(real), 'recorded commands after manual bans and unbans');
    for (const s of servers) await s.stop();
    assert.equal(rec(ours), rec(real), 'recorded commands after stop');
  } finally {
    for (const s of servers) await s.stop().catch(() => undefined);
    fs.rmSync(base, { recursive: true, force: true });
  }
});
