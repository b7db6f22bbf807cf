/**
 * ServerLogger: the server's own log. File lines against fail2ban's own logging setup
 * (`Server.setLogTarget`), reopen after logrotate's move, failures that must not crash, levels,
 * and the SYSLOG target against a real rsyslogd on a private socket.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogLevelError, ServerLogger, levelName, str2LogLevel, verbosityFormat } from '../../src/daemon/logTarget.js';
import { LEVEL } from '../../src/system/log.js';
import { NO_PYTHON, PYTHON, runPython } from '../helpers/python.js';

const SKIP = { skip: PYTHON === undefined ? NO_PYTHON : false };
const RSYSLOGD = ['/usr/sbin/rsyslogd'].find((p) => existsSync(p));
const LOGGER = ['/usr/bin/logger'].find((p) => existsSync(p));

class Buf {
  text = '';
  write(t: string): void {
    this.text += t;
  }
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'pc-logtarget-'));
}

function make(extra: Partial<{ now: () => number }> = {}): { log: ServerLogger; out: Buf; err: Buf } {
  const out = new Buf();
  const err = new Buf();
  return { log: new ServerLogger({ pid: 4242, stdout: out, stderr: err, ...extra }), out, err };
}

const mask = (text: string): string =>
  text.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}/gm, 'TIME').replace(/\[\d+\]/g, '[PID]');

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

test('file lines are byte-identical to fail2ban\'s (time and pid masked), incl. target switches and errors', SKIP, () => {
  const dir = tempDir();
  try {
    const script = (a: string, b: string): string => `
from fail2ban.server.server import Server
from fail2ban.helpers import getLogger
s = Server(daemon=False)
s.setLogTarget(${JSON.stringify(a)})
s.setLogLevel('debug')
getLogger('fail2ban.actions').notice('[sshd] Ban 1.2.3.4')
getLogger('fail2ban.filter').log(7, 'trace msg')
getLogger('fail2ban.filter').log(15, 'level 15')
getLogger('fail2ban.filter').info('[t1] Found 192.0.2.10 - 2026-11-22 02:14:25')
getLogger('fail2ban.database').error('ünïcödé and a\\nsecond line')
s.setLogTarget(${JSON.stringify(b)})
getLogger('fail2ban.jail').warning('after')
s.flushLogs()
s.setLogTarget('/etc/hostname/x.log')
getLogger('fail2ban.observer').log(25, 'done')
print(json.dumps(s.getLogLevel()))`;
    const level = runPython<string>(script(join(dir, 'py-a.log'), join(dir, 'py-b.log')), null);
    const { log } = make();
    const a = join(dir, 'ts-a.log');
    const b = join(dir, 'ts-b.log');
    assert.equal(log.setTarget(a), true);
    log.setLevel('debug');
    log.log('fail2ban.actions', LEVEL.NOTICE, '[sshd] Ban 1.2.3.4');
    log.log('fail2ban.filter', 7, 'trace msg');
    log.log('fail2ban.filter', 15, 'level 15');
    log.log('fail2ban.filter', LEVEL.INFO, '[t1] Found 192.0.2.10 - 2026-11-22 02:14:25');
    log.log('fail2ban.database', LEVEL.ERROR, 'ünïcödé and a\nsecond line');
    assert.equal(log.setTarget(b), true);
    log.log('fail2ban.jail', LEVEL.WARNING, 'after');
    assert.equal(log.flushLogs(), 'rolled over');
    assert.equal(log.setTarget('/etc/hostname/x.log'), false);
    log.log('fail2ban.observer', 25, 'done');
    log.close();
    assert.equal(log.level, level);
    assert.equal(log.target, b);
    for (const [ours, theirs] of [[a, 'py-a.log'], [b, 'py-b.log']] as const) {
      const want = mask(readFileSync(join(dir, theirs), 'utf8')).replaceAll(join(dir, 'py-'), join(dir, 'ts-'));
      assert.equal(mask(readFileSync(ours, 'utf8')), want);
    }
    assert.equal(statSync(a).mode & 0o777, 0o600);
    // The §8.2 example, without masking: time from the clock, pid from the options.
    const fixed = make({ now: () => new Date(2026, 10, 22, 2, 14, 29, 459).getTime() }).log;
    const c = join(dir, 'fixed.log');
    fixed.setTarget(c);
    fixed.log('fail2ban.actions', LEVEL.NOTICE, '[t1] Ban 192.0.2.10');
    fixed.close();
    assert.equal(readFileSync(c, 'utf8'), '2026-11-22 02:14:29,459 fail2ban.actions        [4242]: NOTICE  [t1] Ban 192.0.2.10\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a line reaches the file without an explicit flush (recidive follows this file)', async () => {
  const dir = tempDir();
  try {
    const { log } = make();
    const f = join(dir, 'f.log');
    log.setTarget(f);
    log.log('fail2ban.actions', LEVEL.NOTICE, '[sshd] Ban 192.0.2.1');
    await until(() => readFileSync(f, 'utf8').includes('Ban 192.0.2.1'), 'the ban line');
    log.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('flushlogs after logrotate\'s move writes to the new file; the old one keeps the old lines', () => {
  const dir = tempDir();
  try {
    const { log } = make();
    const f = join(dir, 'fail2ban.log');
    log.setTarget(f);
    log.log('fail2ban.server', LEVEL.INFO, 'one');
    log.flush();
    renameSync(f, f + '.1');
    log.log('fail2ban.server', LEVEL.INFO, 'two');
    assert.equal(log.flushLogs(), 'rolled over');
    log.log('fail2ban.server', LEVEL.INFO, 'three');
    log.close();
    assert.deepEqual(mask(readFileSync(f + '.1', 'utf8')).split('\n'), [
      'TIME fail2ban.server         [PID]: INFO    one',
      'TIME fail2ban.server         [PID]: INFO    two',
      '',
    ]);
    assert.deepEqual(mask(readFileSync(f, 'utf8')).split('\n'), [
      `TIME fail2ban.server         [PID]: INFO    rollover performed on ${f}`,
      'TIME fail2ban.server         [PID]: INFO    three',
      '',
    ]);
    assert.equal(statSync(f).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a removed directory, a full disk and an unopenable path do not crash; dropped lines are counted', () => {
  const dir = tempDir();
  try {
    const { log } = make();
    mkdirSync(join(dir, 'sub'));
    log.setTarget(join(dir, 'sub', 'f.log'));
    rmSync(join(dir, 'sub'), { recursive: true });
    log.log('fail2ban.server', LEVEL.INFO, 'to the unlinked file');
    log.flush();
    assert.equal(log.droppedLines, 0);
    assert.doesNotThrow(() => log.flushLogs());
    log.log('fail2ban.server', LEVEL.INFO, 'lost');
    log.flush();
    assert.ok(log.droppedLines >= 1);
    assert.match(String(log.lastError?.message), /ENOENT/);
    // /dev/full: every write fails with ENOSPC.
    const full = make().log;
    assert.equal(full.setTarget('/dev/full'), true);
    for (let i = 0; i < 5; i++) full.log('fail2ban.server', LEVEL.INFO, `line ${i}`);
    full.flush();
    assert.equal(full.droppedLines, 5);
    assert.match(String(full.lastError?.message), /ENOSPC/);
    full.close();
    // A path whose parent is a file: the target stays, fail2ban's two lines go to it.
    const { log: l3, err } = make();
    l3.setTarget('STDERR');
    assert.equal(l3.setTarget('/etc/hostname/x.log'), false);
    l3.flush();
    assert.equal(l3.target, 'STDERR');
    assert.deepEqual(mask(err.text).split('\n').slice(0, 2), [
      "TIME fail2ban.server         [PID]: ERROR   Unable to log to '/etc/hostname/x.log'",
      "TIME fail2ban.server         [PID]: INFO    Logging to previous target 'STDERR'",
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('levels: names and numbers as str2LogLevel, filtering, get loglevel as stored', () => {
  assert.equal(str2LogLevel('CRITICAL'), 50);
  assert.equal(str2LogLevel('notice'), 25);
  assert.equal(str2LogLevel('MSG'), 18);
  assert.equal(str2LogLevel('TraceDebug'), 7);
  assert.equal(str2LogLevel('HEAVYDEBUG'), 5);
  assert.equal(str2LogLevel('warn'), 30);
  assert.equal(str2LogLevel('15'), 15);
  assert.throws(() => str2LogLevel('TRACE'), (e: unknown) => e instanceof LogLevelError && e.message === "Invalid log level 'TRACE'");
  assert.equal(levelName(15), '#15-Lev.');
  assert.equal(levelName(55), 'Level 55');
  assert.equal(levelName(5), 'HEAVY');
  const { log, out } = make();
  log.setTarget('SYSOUT');
  assert.equal(log.level, 'INFO');
  log.setLevel('warning');
  assert.equal(log.level, 'WARNING');
  assert.equal(log.isEnabledFor(LEVEL.INFO), false);
  log.log('fail2ban.filter', LEVEL.INFO, 'hidden');
  log.log('fail2ban.filter', LEVEL.WARNING, 'shown');
  log.setLevel('20');
  assert.equal(log.level, '20');
  log.log('fail2ban.filter', LEVEL.INFO, 'now shown');
  log.log('fail2ban.filter', LEVEL.MSG, 'below');
  assert.throws(() => log.setLevel('nope'), /Invalid log level 'NOPE'/);
  assert.equal(log.level, '20');
  log.flush();
  assert.equal(out.text, 'fail2ban.filter         [4242]: WARNING shown\nfail2ban.filter         [4242]: INFO    now shown\n');
});

test('switching targets: the Start/Changed lines go to the new target only; formats', () => {
  const { log, out, err } = make({ now: () => new Date(2026, 10, 22, 2, 13, 46, 811).getTime() });
  log.setTarget('STDOUT');
  log.log('fail2ban.server', LEVEL.INFO, 'first');
  log.setTarget('STDERR');
  log.setTarget('STDERR');
  log.flush();
  assert.equal(out.text, '2026-11-22 02:13:46,811 fail2ban.server         [4242]: INFO    first\n');
  assert.equal(
    err.text,
    '2026-11-22 02:13:46,811 fail2ban.server         [4242]: INFO    Start Fail2ban v1.0.2\n' +
      '2026-11-22 02:13:46,811 fail2ban.server         [4242]: INFO    Changed logging target to STDERR for Fail2ban v1.0.2\n',
  );
  assert.equal(log.flushLogs(), 'flushed');
  log.setTarget('STDOUT[format="%(levelname)s|%(message)s"]');
  log.log('fail2ban.server', LEVEL.NOTICE, 'custom');
  log.flush();
  assert.ok(out.text.endsWith('NOTICE|custom\n'));
  assert.equal(log.target, 'STDOUT');
  assert.equal(verbosityFormat(0, false, false), '%(name)s[%(process)d]: %(levelname)s %(message)s');
  assert.equal(verbosityFormat(2, true, true), ' %(asctime)-15s %(thread)X %(levelname)-5.5s %(message)s');
});

test('SYSTEMD-JOURNAL without a running journald is refused with a clear error', () => {
  const out = new Buf();
  const log = new ServerLogger({ pid: 1, stdout: out, stderr: out, journalSocket: '/nonexistent/journal/stdout' });
  log.setTarget('SYSOUT');
  assert.equal(log.setTarget('SYSTEMD-JOURNAL'), false);
  log.flush();
  assert.match(out.text, /ERROR {3}Unable to log to 'SYSTEMD-JOURNAL': journald is not running/);
  assert.equal(log.target, 'SYSOUT');
});

const NO_SYSLOG = RSYSLOGD === undefined || LOGGER === undefined ? 'rsyslogd or logger not installed' : PYTHON === undefined ? NO_PYTHON : false;

test('SYSLOG against a real rsyslogd: the same stored line as fail2ban\'s SysLogHandler', { skip: NO_SYSLOG }, async () => {
  const dir = tempDir();
  const sock = join(dir, 'log.sock');
  writeFileSync(
    join(dir, 'rs.conf'),
    `global(workDirectory="${dir}")
module(load="imuxsock" SysSock.Use="off")
input(type="imuxsock" Socket="${sock}")
template(name="raw" type="string" string="%pri%|%syslogtag%|%msg%\\n")
*.* action(type="omfile" file="${dir}/raw.log" template="raw")
*.* action(type="omfile" file="${dir}/out.log" template="RSYSLOG_TraditionalFileFormat")
`,
  );
  const rs = spawn(RSYSLOGD ?? 'rsyslogd', ['-n', '-f', join(dir, 'rs.conf'), '-i', join(dir, 'rs.pid')], { stdio: 'ignore' });
  try {
    await until(() => existsSync(sock), 'the rsyslog socket');
    const lines = (): string[] => (existsSync(join(dir, 'raw.log')) ? readFileSync(join(dir, 'raw.log'), 'utf8').split('\n').filter(Boolean) : []);
    const py = spawnSync(PYTHON ?? 'python3', ['-c', `
import sys
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from fail2ban.server.server import Server
from fail2ban.helpers import getLogger
s = Server(daemon=False)
s.setLogLevel('INFO')
s.setSyslogSocket(${JSON.stringify(sock)})
s.setLogTarget('SYSLOG')
getLogger('fail2ban.actions').notice('[sshd] Ban 1.2.3.4')
getLogger('fail2ban.filter').info('[sshd] Found 1.2.3.4 - 2026-11-22 02:14:25')
s.setLogTarget('SYSLOG[facility=local3]')
`], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    await until(() => lines().length >= 2, 'fail2ban\'s lines');
    const theirs = lines();
    const { log } = make();
    log.setSyslogSocket(sock);
    assert.equal(log.setTarget('SYSLOG'), true);
    assert.equal(log.syslogSocket, sock);
    log.log('fail2ban.actions', LEVEL.NOTICE, '[sshd] Ban 1.2.3.4');
    log.log('fail2ban.filter', LEVEL.INFO, '[sshd] Found 1.2.3.4 - 2026-11-22 02:14:25');
    await until(() => lines().length >= theirs.length + 2, 'our lines');
    // An unchanged target name keeps the handler (fail2ban returns early), so a facility needs a fresh target.
    assert.equal(log.setTarget('SYSLOG[facility=local3]'), true);
    log.close();
    const { log: l2 } = make();
    l2.setSyslogSocket(sock);
    assert.equal(l2.setTarget('SYSLOG[facility=local3]'), true);
    l2.log('fail2ban.actions', LEVEL.NOTICE, 'local3');
    await until(() => lines().length >= theirs.length + 3, 'the local3 line');
    l2.close();
    const ours = lines().slice(theirs.length).map(mask);
    assert.deepEqual(ours.slice(0, 2).sort(), theirs.map(mask).sort());
    assert.equal(ours[2], '157|fail2ban.actions[PID]:| NOTICE local3');
    const stored = readFileSync(join(dir, 'out.log'), 'utf8').split('\n').filter(Boolean);
    assert.match(stored[stored.length - 1] ?? '', /^\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ fail2ban\.actions\[\d+\]: NOTICE local3$/);
  } finally {
    rs.kill('SIGTERM');
    await new Promise((r) => rs.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
});
