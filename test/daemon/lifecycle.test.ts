/**
 * The server's life cycle side by side with Debian's real fail2ban-server, each on its own copy of
 * the same tree (a recording action that appends one line per start/stop/ban/unban/reload):
 *
 * 1. `fail2ban-client -c DIR reload` after jail.conf changed (a jail added, one removed, a
 *    maxretry changed, a ban kept), `reload JAIL`, `reload --if-exists NOJAIL`, `reload NOJAIL`,
 *    `reload --unban`: client outputs and exit codes (Debian's client and ours, each against both
 *    servers), the servers' state afterwards and the recorded action commands.
 * 2. SIGHUP: fail2ban 1.0.2 installs no handler (a foreground server dies of it, a daemon ignores
 *    it); portcullis reloads, with the same result as `fail2ban-client reload` on Debian's server.
 * 3. `flushlogs` from a real logrotate's postrotate: the rotated file keeps the old lines, the
 *    next ones (`rollover performed`, a ban) go to the new file.
 * 4. `fail2ban-server -b` and `fail2ban-client start`: the launching process returns with the same
 *    output and exit code, the daemon answers, the pid file names it, `stop` removes socket and
 *    pid file. Every daemon is killed at the end whatever happens (by the pids seen in pid files).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { needOracle, ROOT, stripLogPrefix, type RunResult } from '../helpers/oracle.js';
import { appendLines, failLine, writeTree, type JailSpec } from '../helpers/daemonTree.js';
import { clientCommand, runClient, startServer, tempDir, waitFor, type RunningServer, type Side } from '../helpers/servers.js';

const SIDES = ['real', 'ours'] as const;

/** Records every action operation with the jail's name, one file per jail. */
const REC_ACTION = `[Definition]
actionstart = printf 'START %%s\\n' "<name>" >> <recfile>
actionstop = printf 'STOP %%s\\n' "<name>" >> <recfile>
actioncheck =
actionban = printf 'BAN %%s %%s bantime=%%s\\n' "<name>" "<ip>" "<bantime>" >> <recfile>
actionunban = printf 'UNBAN %%s %%s\\n' "<name>" "<ip>" >> <recfile>
actionreload = printf 'RELOAD %%s\\n' "<name>" >> <recfile>

[Init]
recfile = /dev/null
`;

const ENV = { ...process.env, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1' };

interface Pair {
  readonly base: string;
  readonly dirs: Readonly<Record<Side, string>>;
}

/** Two copies of the same tree (`base/real`, `base/ours`), removed at the end of the test. */
function pair(t: TestContext, prefix: string, jails: readonly JailSpec[]): Pair {
  const base = tempDir(prefix);
  const dirs = { real: path.join(base, 'real'), ours: path.join(base, 'ours') };
  for (const d of Object.values(dirs)) writeTree(d, jails, { 'action.d/rec.conf': REC_ACTION });
  t.after(() => fs.rmSync(base, { recursive: true, force: true }));
  return { base, dirs };
}

/** The temp directory names are the only thing the two sides may differ in. */
const norm = (text: string, dir: string): string => text.split(dir).join('<DIR>');

/** stderr log lines without time and pid, directories normalised. */
const normErr = (text: string, dir: string): string => stripLogPrefix(norm(text, dir));

function same(r: { real: RunResult; ours: RunResult }, dirs: Readonly<Record<Side, string>>, what: string, stderr = false): void {
  assert.equal(norm(r.ours.stdout, dirs.ours), norm(r.real.stdout, dirs.real), `stdout of ${what}`);
  assert.equal(r.ours.status, r.real.status, `exit code of ${what}`);
  if (stderr) assert.equal(normErr(r.ours.stderr, dirs.ours), normErr(r.real.stderr, dirs.real), `stderr of ${what}`);
}

const read = (file: string): string => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '');

/** The recorded action lines of each jail, jail by jail (jails act independently of each other). */
function recorded(dir: string, jails: readonly string[]): string {
  return jails.map((j) => `== ${j}\n${read(path.join(dir, `rec-${j}.txt`))}`).join('');
}

/** The messages of a server log (no time, pid or logger), directories normalised. */
function logMessages(file: string, dir: string): string[] {
  return read(file)
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => norm(l, dir).replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} \S+\s*\[\d+\]: /, ''));
}

const currentlyBanned = (s: RunningServer, jail: string): number => Number(/Currently banned:\s*(\d+)/.exec(s.client(['status', jail]).stdout)?.[1] ?? -1);

// ---- 1. reload ------------------------------------------------------------------------------

test('reload: jails added, removed and changed, bans kept, --unban, one jail, unknown jails', { timeout: 240000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  const { dirs } = pair(t, 'pc-hlif-reload-', [{ name: 't1' }, { name: 't2' }]);
  const servers: Record<Side, RunningServer | undefined> = { real: undefined, ours: undefined };
  t.after(async () => {
    for (const s of Object.values(servers)) await s?.stop().catch(() => undefined);
  });
  for (const side of SIDES) servers[side] = await startServer(side, dirs[side]);
  const srv = servers as Record<Side, RunningServer>;
  const jails = ['t1', 't2', 't3'];
  const rec = (side: Side): string => norm(recorded(dirs[side], jails), dirs[side]);
  /** Differences in the recorded action commands (reported together at the end). */
  const recDiffs: string[] = [];
  /** Waits until Debian's side shows `ready`, then (a while) until ours records the same. */
  const compareRec = async (what: string, ready: (r: string) => boolean): Promise<void> => {
    await waitFor(`real: ${what}`, () => ready(rec('real')));
    await waitFor(`ours: ${what}`, () => rec('ours') === rec('real'), 5000).catch(() => undefined);
    if (rec('ours') !== rec('real')) recDiffs.push(`${what}:\n--- real\n${rec('real')}--- ours\n${rec('ours')}`);
  };

  for (const side of SIDES) appendLines(path.join(dirs[side], 't1.log'), ['192.0.2.10', '192.0.2.10', '192.0.2.10', '192.0.2.11'].map((ip, i) => failLine(ip, `u${i}`)));
  for (const side of SIDES) await waitFor(`${side}: ban in t1`, () => currentlyBanned(srv[side], 't1') === 1 && rec(side).includes('BAN t1 192.0.2.10'));
  assert.equal(rec('ours'), rec('real'), 'recorded before the reload');

  // t1's maxretry changes, t2 goes, t3 comes.
  for (const side of SIDES) writeTree(dirs[side], [{ name: 't1', maxretry: 5 }, { name: 't3' }], { 'action.d/rec.conf': REC_ACTION });

  /** Runs `-c DIR ARGS` with the given client against both servers and compares. */
  const both = (args: readonly string[], client: Side): void => {
    const r = {
      real: runClient(srv.real.socket, ['-c', dirs.real, ...args], client),
      ours: runClient(srv.ours.socket, ['-c', dirs.ours, ...args], client),
    };
    same(r, dirs, `${client} client: ${args.join(' ')}`, true);
  };
  const query = (args: readonly string[]): void => {
    const r = { real: srv.real.client(args), ours: srv.ours.client(args) };
    same(r, dirs, args.join(' '));
  };
  const count = (re: RegExp) => (r: string) => (r.match(re) ?? []).length;

  both(['reload'], 'real');
  for (const q of [['status'], ['status', 't1'], ['status', 't3'], ['get', 't1', 'maxretry'], ['get', 't1', 'banip'], ['status', 't2']]) query(q);
  assert.equal(srv.real.client(['get', 't1', 'maxretry']).stdout, '5\n', 'the new maxretry is in effect');
  await compareRec('the first reload', (r) => r.includes('START t3') && r.includes('STOP t2'));
  assert.doesNotMatch(rec('real'), /UNBAN/, 'the ban was kept across the reload');
  assert.doesNotMatch(rec('ours'), /UNBAN/, 'the ban was kept across the reload');

  // The same reload again, now through our client; then one jail, unknown jails, --unban.
  both(['reload'], 'ours');
  await compareRec('the second reload', (r) => count(/RELOAD t1/g)(r) >= 2);

  for (const client of SIDES) {
    both(['reload', 't1'], client);
    both(['reload', '--if-exists', 'nojail'], client);
    both(['reload', 'nojail'], client);
    both(['reload', 't1', 'extra'], client);
  }
  await compareRec('reload t1', (r) => count(/RELOAD t1/g)(r) >= 4);

  both(['reload', '--unban'], 'real');
  query(['status', 't1']);
  await compareRec('reload --unban', (r) => r.includes('UNBAN t1 192.0.2.10'));

  /** What the servers logged about the reloads, in order (the jails' own lines run concurrently). */
  const reloadLog = (side: Side): string[] =>
    logMessages(path.join(dirs[side], 'f2b.log'), dirs[side]).filter((m) => /Reload|reloaded|Removed jail|Stopping jail|Jail 't\d' stopped/.test(m));
  assert.deepEqual(reloadLog('ours'), reloadLog('real'), 'reload lines of the server log');

  for (const side of SIDES) await srv[side].stop();
  await compareRec('stop', (r) => count(/STOP/g)(r) >= 3);
  assert.deepEqual(recDiffs, [], 'recorded action commands');
});

// ---- 2. SIGHUP reloads ----------------------------------------------------------------------

// fail2ban 1.0.2 installs no SIGHUP handler (a foreground server dies of it, a daemon ignores it);
// portcullis reloads on SIGHUP, as the issue asks and admins expect of a daemon. Shown here as
// the same effect as Debian's server given `fail2ban-client reload`.
test('SIGHUP reloads the configuration: the same result as fail2ban-client reload on Debian\'s server', { timeout: 180000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  const { dirs } = pair(t, 'pc-hlif-hup-', [{ name: 't1' }]);
  const servers: RunningServer[] = [];
  t.after(async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
  });
  for (const side of SIDES) servers.push(await startServer(side, dirs[side]));
  const [real, ours] = servers as [RunningServer, RunningServer];
  for (const d of Object.values(dirs)) appendLines(path.join(d, 't1.log'), [0, 1, 2].map((i) => failLine('192.0.2.5', `h${i}`)));
  for (const s of servers) await waitFor(`${s.side}: the ban`, () => currentlyBanned(s, 't1') === 1);
  // the configuration changes: t1's maxretry, a new jail t2
  for (const d of Object.values(dirs)) writeTree(d, [{ name: 't1', maxretry: 5 }, { name: 't2' }], { 'action.d/rec.conf': REC_ACTION });
  const r = spawnSync(clientCommand('real')[0], [...clientCommand('real')[1], '-c', dirs.real, 'reload'], { encoding: 'utf8', env: ENV, timeout: 60000 });
  assert.equal(r.status, 0, r.stderr);
  ours.child.kill('SIGHUP');
  for (const s of servers) await waitFor(`${s.side}: t2 running`, () => s.client(['status']).stdout.includes('t1, t2'));
  assert.ok(ours.child.exitCode === null && ours.child.signalCode === null, 'ours is still running');
  for (const args of [['status'], ['status', 't1'], ['get', 't1', 'maxretry'], ['status', 't2'], ['banned']]) {
    same({ real: real.client(args), ours: ours.client(args) }, dirs, args.join(' '));
  }
  await waitFor('t2 started on both', () => SIDES.every((side) => read(path.join(dirs[side], 'rec-t2.txt')).includes('START t2')));
  assert.equal(norm(recorded(dirs.ours, ['t1', 't2']), dirs.ours), norm(recorded(dirs.real, ['t1', 't2']), dirs.real), 'recorded actions');
  assert.ok(logMessages(path.join(dirs.ours, 'f2b.log'), dirs.ours).includes('INFO    Reloading the configuration on SIGHUP'));
});

// ---- 3. flushlogs from logrotate ------------------------------------------------------------

test('logrotate with postrotate flushlogs: old lines stay in the rotated file, new ones go to the new file', { timeout: 180000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  if (!fs.existsSync('/usr/sbin/logrotate')) assert.fail('/usr/sbin/logrotate is missing: apt-get install logrotate');
  const { dirs } = pair(t, 'pc-hlif-rotate-', [{ name: 't1' }]);
  const servers: Record<Side, RunningServer | undefined> = { real: undefined, ours: undefined };
  t.after(async () => {
    for (const s of Object.values(servers)) await s?.stop().catch(() => undefined);
  });
  for (const side of SIDES) servers[side] = await startServer(side, dirs[side]);
  const srv = servers as Record<Side, RunningServer>;
  const logOf = (side: Side, suffix = ''): string[] => logMessages(path.join(dirs[side], 'f2b.log' + suffix), dirs[side]);
  for (const side of SIDES) await waitFor(`${side}: jail started`, () => logOf(side).includes("INFO    Jail 't1' started"));

  const rotate: Partial<Record<Side, RunResult>> = {};
  for (const side of SIDES) {
    const d = dirs[side];
    const [cmd, pre] = clientCommand(side);
    const conf = path.join(d, 'logrotate.conf');
    fs.writeFileSync(
      conf,
      `${d}/f2b.log {\n  rotate 2\n  create 0600 root root\n  missingok\n  postrotate\n    ${[cmd, ...pre].join(' ')} -s ${d}/f2b.sock flushlogs >${d}/postrotate.out 2>&1\n  endscript\n}\n`,
    );
    const r = spawnSync('/usr/sbin/logrotate', ['-f', '-s', path.join(d, 'logrotate.state'), conf], { encoding: 'utf8', env: ENV, timeout: 60000 });
    rotate[side] = { stdout: r.stdout, stderr: r.stderr, status: r.status };
  }
  same({ real: rotate.real as RunResult, ours: rotate.ours as RunResult }, dirs, 'logrotate -f', true);
  assert.equal(rotate.real?.status, 0, `logrotate: ${rotate.real?.stderr ?? ''}`);
  assert.equal(norm(read(path.join(dirs.ours, 'postrotate.out')), dirs.ours), norm(read(path.join(dirs.real, 'postrotate.out')), dirs.real), 'postrotate flushlogs output');
  assert.equal(read(path.join(dirs.real, 'postrotate.out')), 'logs: rolled over\n');

  // The next lines go to the new file: the rollover note, then a ban.
  for (const side of SIDES) appendLines(path.join(dirs[side], 't1.log'), ['192.0.2.20', '192.0.2.20', '192.0.2.20'].map((ip, i) => failLine(ip, `r${i}`)));
  for (const side of SIDES) await waitFor(`${side}: ban logged in the new file`, () => logOf(side).some((m) => m.endsWith('[t1] Ban 192.0.2.20')));
  for (const side of SIDES) {
    const fresh = logOf(side);
    const old = logOf(side, '.1');
    assert.equal(fresh[0], `INFO    rollover performed on <DIR>/f2b.log`, `${side}: the new file starts with the rollover`);
    assert.ok(old.includes("INFO    Jail 't1' started"), `${side}: the rotated file keeps the old lines`);
    assert.ok(!old.some((m) => m.includes('rollover') || m.includes('Ban 192.0.2.20')), `${side}: nothing new in the rotated file`);
    assert.ok(!fresh.includes("INFO    Jail 't1' started"), `${side}: no old line in the new file`);
    assert.equal((fs.statSync(path.join(dirs[side], 'f2b.log')).mode & 0o777).toString(8), '600', `${side}: logrotate's create mode kept`);
  }
  assert.deepEqual(logOf('ours').slice(0, 4), logOf('real').slice(0, 4), 'the first lines of the new file');

  // flushlogs by hand, with either client against either server.
  for (const client of SIDES) same({ real: srv.real.client(['flushlogs'], client), ours: srv.ours.client(['flushlogs'], client) }, dirs, `${client} client: flushlogs`, true);
  for (const side of SIDES) await waitFor(`${side}: flushes logged`, () => logOf(side).filter((m) => m.includes('rollover performed')).length === 3);
});

// ---- 4. -b and fail2ban-client start --------------------------------------------------------

/** Kills (SIGKILL) every daemon whose pid was seen in one of the pid files and still runs from `base`. */
function daemonReaper(t: TestContext, base: string): (pid: number) => void {
  const pids = new Set<number>();
  t.after(() => {
    for (const pid of pids) if (running(pid) && read(`/proc/${pid}/cmdline`).includes(base)) process.kill(pid, 'SIGKILL');
  });
  return (pid) => void pids.add(pid);
}

/** Alive and not a zombie (a daemon's reaped parent may be pid 1, which need not reap it). */
function running(pid: number): boolean {
  const stat = read(`/proc/${pid}/stat`);
  return stat !== '' && !/^\d+ \(.*\) Z /.test(stat);
}

function readPid(file: string): number | undefined {
  const m = /^(\d+)\n$/.exec(read(file));
  return m ? Number(m[1]) : undefined;
}

function runServerCli(side: Side, args: readonly string[]): RunResult & { pid: number } {
  const [cmd, pre] = side === 'real' ? ['/usr/bin/fail2ban-server', [] as string[]] : [process.execPath, [path.join(ROOT, 'bin', 'fail2ban-server')]];
  const r = spawnSync(cmd, [...pre, ...args], { encoding: 'utf8', env: ENV, timeout: 60000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status, pid: r.pid };
}

test('fail2ban-server -b and fail2ban-client start: same outputs, pid file, SIGHUP ignored, stop cleans up', { timeout: 240000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  const { base, dirs } = pair(t, 'pc-hlif-bg-', [{ name: 't1' }]);
  const reap = daemonReaper(t, base);
  const files = (side: Side): { sock: string; pid: string; args: string[] } => {
    const d = dirs[side];
    return { sock: path.join(d, 'f2b.sock'), pid: path.join(d, 'f2b.pid'), args: ['-c', d, '-s', path.join(d, 'f2b.sock'), '-p', path.join(d, 'f2b.pid')] };
  };
  const daemonPid = async (side: Side): Promise<number> => {
    let pid: number | undefined;
    await waitFor(`${side}: pid file`, () => (pid = readPid(files(side).pid)) !== undefined);
    reap(pid as number);
    return pid as number;
  };

  // -b returns once the server is configured; the daemon is another process.
  const started = { real: runServerCli('real', ['-b', '-x', ...files('real').args]), ours: runServerCli('ours', ['-b', '-x', ...files('ours').args]) };
  for (const side of SIDES) if (fs.existsSync(files(side).pid)) await daemonPid(side);
  same(started, dirs, 'fail2ban-server -b', true);
  assert.equal(started.real.stdout, 'Server ready\n');
  const pids = { real: await daemonPid('real'), ours: await daemonPid('ours') };
  for (const side of SIDES) {
    assert.notEqual(pids[side], started[side].pid, `${side}: the daemon is not the launching process`);
    assert.ok(running(pids[side]), `${side}: the pid file names a running process`);
    assert.match(read(`/proc/${pids[side]}/cmdline`), /fail2ban-server/, `${side}: the pid file names the server`);
  }
  same({ real: runClient(files('real').sock, ['ping'], 'real'), ours: runClient(files('ours').sock, ['ping'], 'real') }, dirs, 'ping');
  same({ real: runClient(files('real').sock, ['status'], 'ours'), ours: runClient(files('ours').sock, ['status'], 'ours') }, dirs, 'status');
  await waitFor('both jails started', () => SIDES.every((s) => read(path.join(dirs[s], 'rec-t1.txt')) === 'START t1\n'));

  // A second -b while the server runs (with and without -x).
  same({ real: runServerCli('real', ['-b', '-x', ...files('real').args]), ours: runServerCli('ours', ['-b', '-x', ...files('ours').args]) }, dirs, 'second -b -x', true);
  same({ real: runServerCli('real', ['-b', ...files('real').args]), ours: runServerCli('ours', ['-b', ...files('ours').args]) }, dirs, 'second -b', true);

  // SIGHUP: Debian's daemon ignores it (nothing logged); ours reloads; both go on answering.
  const before = logMessages(path.join(dirs.real, 'f2b.log'), dirs.real).length;
  for (const side of SIDES) process.kill(pids[side], 'SIGHUP');
  await waitFor('ours reloaded', () => logMessages(path.join(dirs.ours, 'f2b.log'), dirs.ours).some((m) => m.endsWith('Reload finished.')));
  for (const side of SIDES) {
    assert.ok(running(pids[side]), `${side}: alive after SIGHUP`);
    assert.equal(runClient(files(side).sock, ['ping'], 'real').status, 0, `${side}: answers after SIGHUP`);
  }
  assert.deepEqual(logMessages(path.join(dirs.real, 'f2b.log'), dirs.real).slice(before), [], 'real: nothing logged on SIGHUP');

  // stop: the daemon exits and removes its socket and pid file.
  same({ real: runClient(files('real').sock, ['stop'], 'real'), ours: runClient(files('ours').sock, ['stop'], 'ours') }, dirs, 'stop');
  for (const side of SIDES) await waitFor(`${side}: daemon gone`, () => !running(pids[side]));
  const leftovers = (side: Side): string[] => ['f2b.sock', 'f2b.pid'].filter((f) => fs.existsSync(path.join(dirs[side], f)));
  assert.deepEqual(leftovers('ours'), leftovers('real'));
  assert.deepEqual(leftovers('real'), []);

  // fail2ban-client start: the client launches the server in the background and configures it.
  const client = (side: Side, args: readonly string[]): RunResult => {
    const [cmd, pre] = clientCommand(side);
    const r = spawnSync(cmd, [...pre, ...files(side).args, ...args], { encoding: 'utf8', env: ENV, timeout: 60000 });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };
  const start = { real: client('real', ['start']), ours: client('ours', ['start']) };
  for (const side of SIDES) if (fs.existsSync(files(side).pid)) await daemonPid(side);
  same(start, dirs, 'fail2ban-client start', true);
  assert.equal(start.real.stdout, 'Server ready\n');
  const again = { real: await daemonPid('real'), ours: await daemonPid('ours') };
  same({ real: client('real', ['start']), ours: client('ours', ['start']) }, dirs, 'second fail2ban-client start', true);
  same({ real: client('real', ['status']), ours: client('ours', ['status']) }, dirs, 'status after start', true);
  same({ real: client('real', ['stop']), ours: client('ours', ['stop']) }, dirs, 'stop after start', true);
  for (const side of SIDES) await waitFor(`${side}: daemon gone after stop`, () => !running(again[side]));
  assert.deepEqual(leftovers('ours'), leftovers('real'));
  same({ real: client('real', ['status']), ours: client('ours', ['status']) }, dirs, 'status after stop', true);
  const recs = { real: read(path.join(dirs.real, 'rec-t1.txt')), ours: read(path.join(dirs.ours, 'rec-t1.txt')) };
  assert.equal(recs.ours, recs.real, 'recorded actions');
  assert.equal(recs.real, 'START t1\nSTOP t1\nSTART t1\nSTOP t1\n');
});
