/**
 * `portcullis status|bans|ban|unban|stop|reload|server|start`: formatting and errors against a
 * scripted transport, then the real thing — the launchers against a portcullis server started
 * by the test (two jails, a recording action), bans made from log lines and by hand.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ClientConnectionError, type ClientEnv, type ClientReply, type ConnectionFailure } from '../../src/cli/clientFlow.js';
import type { ServerCliEnv } from '../../src/cli/fail2banServer.js';
import { runPortcullis } from '../../src/cli/portcullis.js';
import { parseBanLine, table } from '../../src/cli/portcullisDaemon.js';
import { PyException, PyTuple, pyStr, type PyValue } from '../../src/shared/pyvalue.js';
import { recordingIo, type RecordingIo } from '../helpers/io.js';
import { makeTree, needOracle, removeTree, ROOT } from '../helpers/oracle.js';
import { logTime, startServer, waitFor, type RunningServer } from '../helpers/servers.js';

// ---- a scripted server ------------------------------------------------------------------------

/** What the scripted server raises: the exception it sends back. */
class Refusal extends Error {
  constructor(readonly exc: PyException) {
    super(String(exc));
  }
}

const refuse = (module: string, name: string, arg: string): Refusal => new Refusal(new PyException(module, name, [arg]));

interface FakeJail {
  files?: string[];
  journal?: string;
  failed: [number, number];
  banned: Map<string, string>;
  total: number;
}

/** Answers the commands the CLI sends, from a little in-memory model; records every batch. */
class FakeServer {
  readonly batches: Array<{ socket: string; cmds: string[][] }> = [];
  down: ConnectionFailure | undefined;
  stopped = false;
  constructor(readonly jails: Map<string, FakeJail>) {}

  env(): { client: ClientEnv; server: ServerCliEnv } {
    const client: ClientEnv = {
      transport: { send: (socket, cmds) => this.send(socket, cmds) },
      launcher: { launch: () => Promise.reject(new Error('no launcher here')) },
      sleep: () => Promise.resolve(),
    };
    const server: ServerCliEnv = { run: () => Promise.resolve(0), client: () => Promise.resolve(0), selfArgv: [], ping: () => Promise.resolve(false) };
    return { client, server };
  }

  private send(socket: string, cmds: readonly (readonly PyValue[])[]): Promise<ClientReply[]> {
    const words = cmds.map((c) => c.map((w) => pyStr(w)));
    this.batches.push({ socket, cmds: words });
    if (this.down) return Promise.reject(new ClientConnectionError(this.down));
    return Promise.resolve(words.map((c) => this.answer(c)));
  }

  private jail(name: string): FakeJail {
    const j = this.jails.get(name);
    if (!j) throw refuse('fail2ban.exceptions', 'UnknownJailException', name);
    return j;
  }

  private answer(c: string[]): ClientReply {
    try {
      return { code: 0, value: this.value(c) };
    } catch (e) {
      if (e instanceof Refusal) return { code: 1, value: e.exc };
      throw e;
    }
  }

  private value(c: string[]): PyValue {
    const [w0, w1, w2, w3] = c;
    const T = (k: string, v: PyValue): PyTuple => new PyTuple([k, v]);
    if (w0 === 'ping') {
      if (this.stopped) throw refuse('builtins', 'Exception', 'gone');
      return 'pong';
    }
    if (w0 === 'stop') {
      this.down = 'missing';
      return null;
    }
    if (w0 === 'status' && w1 === undefined) return [T('Number of jail', this.jails.size), T('Jail list', [...this.jails.keys()].join(', '))];
    if (w0 === 'status' && w1 !== undefined) {
      const j = this.jail(w1);
      const logs = j.journal !== undefined ? T('Journal matches', [j.journal]) : T('File list', j.files ?? []);
      return [
        T('Filter', [T('Currently failed', j.failed[0]), T('Total failed', j.failed[1]), logs]),
        T('Actions', [T('Currently banned', j.banned.size), T('Total banned', BigInt(j.total)), T('Banned IP list', [...j.banned.keys()])]),
      ];
    }
    if (w0 === 'get' && w2 === 'banip' && w3 === '--with-time') return [...this.jail(w1 ?? '').banned.values()];
    if (w0 === 'set' && w2 === 'banip') {
      const j = this.jail(w1 ?? '');
      if (j.banned.has(w3 ?? '')) return 0;
      j.banned.set(w3 ?? '', `${w3} \t2026-11-22 04:00:00 + 600 = 2026-11-22 04:10:00`);
      j.total++;
      return 1;
    }
    if (w0 === 'set' && w2 === 'unbanip') return this.jail(w1 ?? '').banned.delete(w3 ?? '') ? 1 : 0;
    if (w0 === 'banned') return [[...this.jails].filter(([, j]) => j.banned.has(w1 ?? '')).map(([n]) => n)];
    if (w0 === 'unban') {
      let n = 0;
      for (const j of this.jails.values()) {
        if (w1 === '--all') {
          n += j.banned.size;
          j.banned.clear();
        } else if (j.banned.delete(w1 ?? '')) n++;
      }
      return n;
    }
    throw refuse('builtins', 'Exception', 'Invalid command');
  }
}

function twoJails(): FakeServer {
  return new FakeServer(
    new Map<string, FakeJail>([
      ['sshd', { files: ['/var/log/auth.log'], failed: [2, 40], banned: new Map([['192.0.2.1', '192.0.2.1 \t2026-11-22 03:50:00 + 600 = 2026-11-22 04:00:00']]), total: 7 }],
      ['recidive', { journal: '_SYSTEMD_UNIT=sshd.service + _COMM=sshd', failed: [0, 3], banned: new Map([['2001:db8::7', '2001:db8::7 \t2026-11-20 10:00:00 + -1 = 9999-12-31 23:59:59']]), total: 1 }],
    ]),
  );
}

const BUILTIN = path.join(ROOT, 'config');

async function run(server: FakeServer, args: readonly string[], io: RecordingIo = recordingIo()): Promise<{ code: number; out: string; err: string }> {
  const code = await runPortcullis(args, io, { builtinConfigDir: BUILTIN, daemon: server.env() });
  return { code, out: io.out, err: io.err };
}

const S = ['-s', '/run/test.sock'];

describe('portcullis server commands, scripted server', () => {
  test('status: one row per jail, numbers right-aligned, files or journal', async () => {
    const r = await run(twoJails(), ['status', ...S]);
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      [
        'Jail      Failed now  Failed total  Banned now  Banned total  Logs',
        'sshd               2            40           1             7  /var/log/auth.log',
        'recidive           0             3           1             1  journal: _SYSTEMD_UNIT=sshd.service + _COMM=sshd',
        '',
      ].join('\n'),
    );
  });

  test('status --json and status JAIL [--json]', async () => {
    const all = JSON.parse((await run(twoJails(), ['status', '--json', ...S])).out) as { jails: unknown[] };
    assert.deepEqual(all.jails[0], { name: 'sshd', failed: { current: 2, total: 40 }, banned: { current: 1, total: 7, addresses: ['192.0.2.1'] }, files: ['/var/log/auth.log'], journal: null });
    assert.deepEqual(all.jails[1], { name: 'recidive', failed: { current: 0, total: 3 }, banned: { current: 1, total: 1, addresses: ['2001:db8::7'] }, files: [], journal: '_SYSTEMD_UNIT=sshd.service + _COMM=sshd' });
    const one = await run(twoJails(), ['status', 'sshd', ...S]);
    assert.equal(one.out, 'Jail sshd\n  Currently failed: 2\n  Total failed:     40\n  Log files:        /var/log/auth.log\n  Currently banned: 1\n  Total banned:     7\n  Banned addresses: 192.0.2.1\n');
    assert.deepEqual(JSON.parse((await run(twoJails(), ['status', 'recidive', '--json', ...S])).out), all.jails[1]);
  });

  test('bans: address, jail, since, until (permanent); JSON; nothing banned', async () => {
    const srv = twoJails();
    const r = await run(srv, ['bans', ...S]);
    // a server without portcullis' `baninfo` (fail2ban's own): times from `banip --with-time`, no count
    assert.equal(r.out, ['Address      Jail      Since                Until                Count', '192.0.2.1    sshd      2026-11-22 03:50:00  2026-11-22 04:00:00      -', '2001:db8::7  recidive  2026-11-20 10:00:00  permanent                -', ''].join('\n'));
    assert.deepEqual(srv.batches.slice(1).map((b) => b.cmds.map((c) => c.slice(2).join(' '))), [['baninfo', 'baninfo'], ['banip --with-time', 'banip --with-time']]);
    const j = JSON.parse((await run(twoJails(), ['bans', '--json', ...S])).out) as unknown;
    assert.deepEqual(j, {
      bans: [
        { ip: '192.0.2.1', jail: 'sshd', since: '2026-11-22 03:50:00', until: '2026-11-22 04:00:00', bantimeSec: 600, count: null },
        { ip: '2001:db8::7', jail: 'recidive', since: '2026-11-20 10:00:00', until: null, bantimeSec: -1, count: null },
      ],
    });
    const empty = new FakeServer(new Map());
    assert.equal((await run(empty, ['bans', ...S])).out, 'No addresses are banned.\n');
    assert.equal((await run(empty, ['status', ...S])).out, 'No jails are running.\n');
  });

  test('ban: --jail needed with several jails; the one jail otherwise; already banned', async () => {
    const srv = twoJails();
    const several = await run(srv, ['ban', '192.0.2.9', ...S]);
    assert.equal(several.code, 64);
    assert.equal(several.err, 'portcullis: more than one jail (sshd, recidive): say which with --jail\n');
    assert.equal((await run(srv, ['ban', '192.0.2.9', '--jail', 'sshd', ...S])).out, '192.0.2.9 banned in sshd\n');
    assert.equal((await run(srv, ['ban', '192.0.2.9', '--jail=sshd', ...S])).out, '192.0.2.9 was already banned in sshd\n');
    assert.deepEqual(srv.batches.at(-1)?.cmds, [['set', 'sshd', 'banip', '192.0.2.9']]);
    srv.jails.delete('recidive');
    assert.equal((await run(srv, ['ban', '[2001:DB8::1]', ...S])).out, '2001:db8::1 banned in sshd\n');
  });

  test('unban: in every jail, in one jail, --all', async () => {
    const srv = twoJails();
    assert.equal((await run(srv, ['unban', '2001:db8::7', ...S])).out, '2001:db8::7 unbanned in recidive\n');
    assert.equal((await run(srv, ['unban', '2001:db8::7', ...S])).out, '2001:db8::7 was not banned\n');
    assert.equal((await run(srv, ['unban', '192.0.2.1', '--jail', 'recidive', ...S])).out, '192.0.2.1 was not banned in recidive\n');
    assert.equal((await run(srv, ['unban', '--all', ...S])).out, '1 ban lifted\n');
    assert.equal((await run(srv, ['unban', '--all', '192.0.2.1', ...S])).code, 64);
  });

  test('an invalid address is refused before the server is asked (64)', async () => {
    for (const [cmd, bad] of [
      ['ban', '1.2.3.999'],
      ['unban', 'example.org'],
      ['ban', '10.0.0.1/abc'],
    ] as const) {
      const srv = twoJails();
      const r = await run(srv, [cmd, bad, '--jail', 'sshd', ...S]);
      assert.equal(r.code, 64);
      assert.equal(r.err, `portcullis: not an IP address: ${bad}\n`);
      assert.equal(srv.batches.length, 0);
    }
  });

  test('an unknown jail names the jails there are (64)', async () => {
    for (const args of [['status', 'x'], ['ban', '192.0.2.3', '--jail', 'x'], ['unban', '192.0.2.3', '--jail', 'x']]) {
      const r = await run(twoJails(), [...args, ...S]);
      assert.equal(r.code, 64, args.join(' '));
      assert.equal(r.err, 'portcullis: no jail named "x" (jails: sshd, recidive)\n');
    }
  });

  test('no server: one sentence per failure kind, 69 (77 for permission)', async () => {
    const cases: Array<[ConnectionFailure, number, string]> = [
      ['missing', 69, 'the server is not running (no socket at /run/test.sock)'],
      ['refused', 69, 'the server is not running (/run/test.sock refuses connections; a stale socket?)'],
      ['denied', 77, "permission denied on /run/test.sock (the server's socket usually needs root)"],
      ['timeout', 69, 'the server did not answer on /run/test.sock in time'],
    ];
    for (const [kind, code, text] of cases) {
      const srv = twoJails();
      srv.down = kind;
      const r = await run(srv, ['status', ...S]);
      assert.deepEqual([r.code, r.err], [code, `portcullis: ${text}\n`], kind);
    }
  });

  test('a malformed reply is an internal error (70)', async () => {
    const srv = twoJails();
    srv.jails.get('sshd')?.banned.set('x', 'garbage');
    const r = await run(srv, ['bans', ...S]);
    assert.equal(r.code, 70);
    assert.match(r.err, /^portcullis: unexpected reply from the server \(ban line "garbage"\)\n$/);
  });

  test('stop waits until the socket is gone; reload needs a running server', async () => {
    const srv = twoJails();
    const r = await run(srv, ['stop', ...S]);
    assert.deepEqual([r.code, r.out], [0, 'the server stopped\n']);
    const again = await run(srv, ['reload', ...S]);
    assert.deepEqual([again.code, again.err], [69, 'portcullis: the server is not running (no answer on /run/test.sock)\n']);
  });

  test('the socket comes from -c DIR/fail2ban.conf when -s is not given', async () => {
    const dir = makeTree({ 'fail2ban.conf': '[Definition]\nsocket = /run/from-conf.sock\n' });
    try {
      const srv = twoJails();
      await run(srv, ['status', '-c', dir]);
      assert.equal(srv.batches[0]?.socket, '/run/from-conf.sock');
    } finally {
      removeTree(dir);
    }
  });

  test('usage errors: unknown option, extra argument, missing address (64)', async () => {
    const cases: Array<[string[], string]> = [
      [['status', '--bogus'], 'portcullis: status: unknown option "--bogus"; see portcullis --help\n'],
      [['status', 'a', 'b'], 'portcullis: status: unexpected argument "b"; see portcullis --help\n'],
      [['ban'], 'portcullis: ban: which address? (portcullis ban IP [--jail JAIL])\n'],
      [['bans', '--jail', 'x'], 'portcullis: bans: unknown option "--jail"; see portcullis --help\n'],
      [['ban', '1.2.3.4', '--jail'], 'portcullis: ban: --jail needs a value\n'],
    ];
    for (const [args, err] of cases) {
      const r = await run(twoJails(), [args[0] ?? '', ...S, ...args.slice(1)]);
      assert.deepEqual([r.code, r.err], [64, err], args.join(' '));
    }
  });

  test('without a daemon environment the server commands fail at once; help lists them', () => {
    const io = recordingIo();
    assert.equal(runPortcullis(['status'], io, { builtinConfigDir: BUILTIN }), 70);
    const help = recordingIo();
    assert.equal(runPortcullis(['--help'], help, { builtinConfigDir: BUILTIN }), 0);
    for (const c of ['server [-f]', 'start', 'stop', 'reload [JAIL]', 'status [JAIL] [--json]', 'bans [--json]', 'ban IP [--jail JAIL]', 'unban --all']) assert.ok(help.out.includes(c), c);
    assert.ok(!help.out.includes('help and version only'));
  });

  test('parseBanLine and table', () => {
    assert.deepEqual(parseBanLine('j', '::1 \t2026-01-01 00:00:00 + 60 = 2026-01-01 00:01:00'), { ip: '::1', jail: 'j', since: '2026-01-01 00:00:00', until: '2026-01-01 00:01:00', bantimeSec: 60, count: null });
    assert.equal(table(['a', 'n'], [['xyz', '5'], ['q', '10']], [false, true]), 'a     n\nxyz   5\nq    10\n');
  });
});

// ---- a real portcullis server -----------------------------------------------------------------

const REC_ACTION = `[Definition]
actionban = printf 'BAN %%s\\n' "<ip>" >> <recfile>
actionunban = printf 'UNBAN %%s\\n' "<ip>" >> <recfile>
`;

function serverTree(): string {
  const dir = makeTree({ 'filter.d/t1.conf': '[Definition]\nfailregex = ^\\s*\\S+ test: fail from <HOST>$\n', 'action.d/rec.conf': REC_ACTION, 't1.log': '', 't2.log': '' }, 'pc-pcli-');
  fs.writeFileSync(path.join(dir, 'fail2ban.conf'), `[Definition]\nloglevel = INFO\nlogtarget = ${dir}/f2b.log\nsocket = ${dir}/f2b.sock\npidfile = ${dir}/f2b.pid\ndbfile = :memory:\n`);
  fs.writeFileSync(
    path.join(dir, 'jail.conf'),
    `[DEFAULT]\nbackend = polling\nmaxretry = 3\nfindtime = 600\nbantime = 600\naction = rec[recfile="${dir}/rec.txt"]\n\n[t1]\nenabled = true\nfilter = t1\nlogpath = ${dir}/t1.log\n\n[t2]\nenabled = true\nfilter = t1\nlogpath = ${dir}/t2.log\nbantime = -1\n`,
  );
  return dir;
}

/** `bin/portcullis ARGS` as a separate process (the launcher, main.ts and the socket transport included). */
function pc(args: readonly string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'bin', 'portcullis'), ...args], { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const recorded = (dir: string): string => (fs.existsSync(path.join(dir, 'rec.txt')) ? fs.readFileSync(path.join(dir, 'rec.txt'), 'utf8') : '');

interface StatusJson {
  jails: Array<{ name: string; failed: { current: number; total: number }; banned: { current: number; total: number; addresses: string[] }; files: string[] }>;
}

describe('portcullis server commands, real server', () => {
  test('status, bans, ban/unban round trip, errors, reload, stop', { timeout: 120000 }, async (t) => {
    if (!needOracle(t, 'fail2ban-client')) return; // startServer pings with Debian's client
    const dir = serverTree();
    const C = ['-c', dir];
    let server: RunningServer | undefined;
    try {
      server = await startServer('ours', dir);
      const line = (ip: string): string => `${logTime()} host test: fail from ${ip}\n`;
      fs.appendFileSync(path.join(dir, 't1.log'), line('192.0.2.10') + line('192.0.2.11') + line('192.0.2.10') + line('192.0.2.10'));
      await waitFor('the ban from the log', () => recorded(dir).includes('BAN 192.0.2.10'));

      const st = JSON.parse(pc(['status', '--json', ...C]).out) as StatusJson;
      assert.deepEqual(
        st.jails.map((j) => [j.name, j.failed.total, j.failed.current, j.banned.current, j.banned.addresses, j.files]),
        [
          ['t1', 4, 1, 1, ['192.0.2.10'], [path.join(dir, 't1.log')]],
          ['t2', 0, 0, 0, [], [path.join(dir, 't2.log')]],
        ],
      );
      const text = pc(['status', ...C]);
      assert.equal(text.code, 0, text.err);
      assert.equal(
        text.out,
        [
          'Jail  Failed now  Failed total  Banned now  Banned total  Logs',
          `t1             1             4           1             1  ${dir}/t1.log`,
          `t2             0             0           0             0  ${dir}/t2.log`,
          '',
        ].join('\n'),
      );
      // portcullis' server also says what each action's bans go through (the recording action: its own commands)
      assert.match(pc(['status', 't1', '-s', server.socket]).out, /^Jail t1\n(.*\n)* {2}Banned addresses: 192\.0\.2\.10\n {2}Actions:\n {4}rec {2}the action's own commands\n$/);

      // ban by hand: --jail needed with two jails; a permanent ban in t2
      const several = pc(['ban', '192.0.2.20', ...C]);
      assert.deepEqual([several.code, several.err], [64, 'portcullis: more than one jail (t1, t2): say which with --jail\n']);
      assert.equal(pc(['ban', '192.0.2.20', '--jail', 't2', ...C]).out, '192.0.2.20 banned in t2\n');
      assert.equal(pc(['ban', '2001:db8::5', '--jail', 't1', ...C]).out, '2001:db8::5 banned in t1\n');
      await waitFor('the manual bans', () => recorded(dir).includes('BAN 192.0.2.20') && recorded(dir).includes('BAN 2001:db8::5'));

      const bans = pc(['bans', ...C]);
      assert.equal(bans.code, 0, bans.err);
      const rows = bans.out.trimEnd().split('\n');
      assert.match(rows[0] ?? '', /^Address +Jail +Since +Until +Count$/);
      assert.equal(rows.length, 4);
      assert.ok(rows.some((r) => /^192\.0\.2\.20 +t2 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +permanent +1$/.test(r)), bans.out);
      const bj = JSON.parse(pc(['bans', '--json', ...C]).out) as { bans: Array<{ ip: string; jail: string; since: string; until: string | null; bantimeSec: number; count: number }> };
      assert.deepEqual(bj.bans.map((b) => [b.ip, b.jail, b.until === null, b.bantimeSec, b.count]).sort(), [
        ['192.0.2.10', 't1', false, 600, 1],
        ['192.0.2.20', 't2', true, -1, 1],
        ['2001:db8::5', 't1', false, 600, 1],
      ]);
      // the times are those fail2ban-client's `get JAIL banip --with-time` shows
      const withTime = ['t1', 't2'].flatMap((j) => server?.client(['get', j, 'banip', '--with-time']).stdout.trim().split('\n') ?? []);
      for (const b of bj.bans) assert.ok(withTime.some((l) => l.includes(`${b.ip} \t${b.since} + ${b.bantimeSec} = ${b.until ?? '9999-12-31 23:59:59'}`)), `${JSON.stringify(b)} in ${withTime.join('|')}`);

      // errors
      const bad = pc(['ban', '1.2.3.999', '--jail', 't1', ...C]);
      assert.deepEqual([bad.code, bad.err], [64, 'portcullis: not an IP address: 1.2.3.999\n']);
      const nojail = pc(['unban', '192.0.2.20', '--jail', 'x', ...C]);
      assert.deepEqual([nojail.code, nojail.err], [64, 'portcullis: no jail named "x" (jails: t1, t2)\n']);

      // unban round trip, then --all
      assert.equal(pc(['unban', '192.0.2.20', ...C]).out, '192.0.2.20 unbanned in t2\n');
      await waitFor('the unban', () => recorded(dir).includes('UNBAN 192.0.2.20'));
      assert.equal(pc(['unban', '192.0.2.20', ...C]).out, '192.0.2.20 was not banned\n');
      assert.equal(pc(['unban', '--all', ...C]).out, '2 bans lifted\n');
      assert.equal(pc(['bans', ...C]).out, 'No addresses are banned.\n');

      const reload = pc(['reload', ...C]);
      assert.deepEqual([reload.code, reload.out], [0, 'OK\n'], reload.err);
      const stop = pc(['stop', ...C]);
      assert.deepEqual([stop.code, stop.out], [0, 'the server stopped\n'], stop.err);
      const gone = pc(['status', ...C]);
      assert.deepEqual([gone.code, gone.err], [69, `portcullis: the server is not running (no socket at ${dir}/f2b.sock)\n`]);
    } finally {
      await server?.stop();
      removeTree(dir);
    }
  });

  test('portcullis server runs the server in the background; stop ends it', { timeout: 120000 }, () => {
    const dir = serverTree();
    try {
      const started = pc(['server', '-x', '-c', dir]);
      assert.equal(started.code, 0, started.err);
      assert.match(pc(['status', '-c', dir]).out, /^Jail .*\nt1 .*\nt2 .*\n$/);
      assert.equal(pc(['stop', '-c', dir]).out, 'the server stopped\n');
    } finally {
      pc(['stop', '-c', dir]);
      removeTree(dir);
    }
  });

  test('portcullis start sends the configuration to a new server', { timeout: 120000 }, () => {
    const dir = serverTree();
    try {
      const started = pc(['start', '-c', dir]);
      assert.equal(started.code, 0, started.err);
      // what is protected, as the running server says: rule, log, action, who is never banned
      const summary = started.out.slice(started.out.indexOf('portcullis is'));
      assert.equal(
        summary,
        `portcullis is protecting this machine with 2 jails (configuration ${dir})\n` +
          `  t1  3 failures within 10m → banned for 10m\n      watches ${dir}/t1.log\n      bans with rec (the action's own commands)\n      never bans this machine's own addresses\n` +
          `  t2  3 failures within 10m → banned for good\n      watches ${dir}/t2.log\n      bans with rec (the action's own commands)\n      never bans this machine's own addresses\n` +
          `See what it does: portcullis status [JAIL], portcullis bans (fail2ban-client -s ${dir}/f2b.sock status works too)\n`,
      );
      assert.match(pc(['status', '-c', dir]).out, /\nt1 .*\nt2 /);
      const again = pc(['start', '-c', dir]);
      assert.deepEqual([again.code, again.out], [0, `the server is already running (socket ${dir}/f2b.sock)\n${summary}`], 'a second start says so and what runs');
    } finally {
      pc(['stop', '-c', dir]);
      removeTree(dir);
    }
  });
});
