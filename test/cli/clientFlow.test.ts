/**
 * fail2ban-client's command flows with a fake server behind the transport and launcher ports, and
 * side by side with Debian's real client: without a server (missing socket, a plain file), and
 * against a scripted fake server in Python that speaks fail2ban's socket protocol and records what
 * the real client sends.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ClientConnectionError, shlexSplit, type ClientEnv, type ClientReply, type ClientTransport, type LineReader } from '../../src/cli/clientFlow.js';
import { runFail2banClient } from '../../src/cli/fail2banClient.js';
import type { CliIo } from '../../src/cli/io.js';
import { PyException, PyTuple, pyRepr, type PyValue } from '../../src/shared/pyvalue.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { makeTree, needOracle, removeTree, stripLogPrefix } from '../helpers/oracle.js';
import { PYTHON } from '../helpers/python.js';

const T = (...items: PyValue[]): PyTuple => new PyTuple(items);
const ok = (value: PyValue): ClientReply => ({ code: 0, value });
const nok = (name: string, ...args: PyValue[]): ClientReply => ({ code: 1, value: new PyException(name.endsWith('JailException') ? 'fail2ban.exceptions' : 'builtins', name, args) });

const DIR = makeTree({ 't1.log': '', 'filter.d/t.conf': '[Definition]\nfailregex = ^fail <HOST>$\n', 'action.d/rec.conf': '[Definition]\nactionban = true\n' }, 'pc-clientflow-');
after(() => removeTree(DIR));
const SOCK = join(DIR, 'f2b.sock');
writeFileSync(
  join(DIR, 'fail2ban.conf'),
  `[Definition]\nloglevel = INFO\nlogtarget = ${DIR}/f2b.log\nsyslogsocket = auto\nsocket = ${SOCK}\npidfile = ${DIR}/f2b.pid\nallowipv6 = auto\ndbfile = :memory:\ndbpurgeage = 1d\n`,
);
writeFileSync(join(DIR, 'jail.conf'), `[DEFAULT]\nbackend = polling\naction = rec\n[t1]\nenabled = true\nfilter = t\nlogpath = ${DIR}/t1.log\n[t2]\nenabled = true\nfilter = t\nlogpath = ${DIR}/t1.log\n`);

interface TestIo extends CliIo {
  out: string;
  err: string;
  now: number;
}

function testIo(): TestIo {
  const io: TestIo = {
    out: '',
    err: '',
    now: Date.UTC(2026, 10, 22, 3, 0, 0),
    stdout: (t) => void (io.out += t),
    stderr: (t) => void (io.err += t),
    fs: new NodeFileSystem(),
    clock: { nowMs: () => io.now },
    pid: 4242,
    isTty: false,
  };
  return io;
}

/** A server behind the ports: answers like fail2ban's transmitter; its "socket" is a plain file. */
class FakeServer {
  running = false;
  readonly sent: PyValue[][] = [];
  readonly launches: Array<{ argv: readonly string[]; foreground: boolean }> = [];
  private stopped: (() => void) | undefined;
  constructor(
    private readonly replies: (cmd: readonly PyValue[]) => ClientReply | undefined = () => undefined,
    private readonly startsOnLaunch = true,
  ) {}

  reply(cmd: readonly PyValue[]): ClientReply {
    const custom = this.replies(cmd);
    if (custom) return custom;
    if (cmd[0] === 'ping') return ok('pong');
    if (cmd[0] === 'server-status') return ok('Server ready');
    if (cmd[0] === 'reload') return ok('OK');
    if (cmd[0] === 'stop' && cmd.length === 1) this.stop();
    return ok(null);
  }

  stop(): void {
    this.running = false;
    rmSync(SOCK, { force: true });
    this.stopped?.();
  }

  readonly transport: ClientTransport = {
    send: (socket, commands) => {
      assert.equal(socket, SOCK);
      this.sent.push(...commands.map((c) => [...c]));
      if (!this.running) return Promise.reject(new ClientConnectionError(existsSync(socket) ? 'refused' : 'missing'));
      return Promise.resolve(commands.map((c) => this.reply(c)));
    },
  };

  env(io: TestIo, lines?: string[]): ClientEnv {
    const input: LineReader = { readLine: () => Promise.resolve(lines?.shift()) };
    return {
      transport: this.transport,
      launcher: {
        launch: (argv, foreground) => {
          this.launches.push({ argv, foreground });
          if (this.startsOnLaunch) {
            this.running = true;
            writeFileSync(SOCK, '');
          }
          return foreground ? new Promise((resolve) => (this.stopped = resolve)) : Promise.resolve();
        },
      },
      sleep: (ms) => {
        io.now += ms;
        return Promise.resolve();
      },
      ...(lines ? { input } : {}),
    };
  }
}

async function ours(server: FakeServer, args: readonly string[], lines?: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = testIo();
  const code = await runFail2banClient('fail2ban-client', ['-c', DIR, ...args], io, server.env(io, lines));
  return { code, out: io.out, err: stripLogPrefix(io.err) };
}

/** The stream `-d` prints, as the values the client sends. */
async function dumpedStream(): Promise<string[]> {
  const r = await ours(new FakeServer(), ['-d']);
  return r.out.trimEnd().split('\n');
}

describe('start', () => {
  test('fresh: launches fail2ban-server with its arguments, sends the stream, prints Server ready', async () => {
    rmSync(SOCK, { force: true });
    const server = new FakeServer();
    const r = await ours(server, ['start']);
    assert.deepEqual(r, { code: 0, out: 'Server ready\n', err: '' });
    assert.deepEqual(server.launches, [
      { argv: ['fail2ban-server', '--async', '-b', '-s', SOCK, '-p', `${DIR}/f2b.pid`, '--loglevel', 'INFO', '--logtarget', `${DIR}/f2b.log`, '--syslogsocket', 'auto'], foreground: false },
    ]);
    const stream = server.sent.find((c) => c[0] === 'server-stream');
    assert.ok(stream);
    assert.deepEqual((stream[1] as PyValue[]).map((c) => pyRepr(c)), await dumpedStream());
    assert.deepEqual(server.sent.at(-1), ['server-status']);
    assert.equal(pyRepr(server.sent[0] ?? null), "['ping', 0.1]");
    server.stop();
  });

  test('already running: "Server already running", 255, nothing launched', async () => {
    const server = new FakeServer();
    server.running = true;
    const r = await ours(server, ['start']);
    assert.deepEqual(r, { code: 255, out: '', err: 'fail2ban: ERROR   Server already running\n' });
    assert.equal(server.launches.length, 0);
  });

  test('socket file without a server: unexpected state, 255; -x forces and passes -x on', async () => {
    writeFileSync(SOCK, '');
    const server = new FakeServer();
    const r = await ours(server, ['start']);
    assert.deepEqual(r, { code: 255, out: '', err: 'fail2ban: ERROR   Fail2ban seems to be in unexpected state (not running but the socket exists)\n' });
    assert.equal(server.launches.length, 0);
    const forced = await ours(server, ['-x', '-vv', 'start']);
    assert.equal(forced.code, 0);
    assert.deepEqual(server.launches[0]?.argv.slice(7, 9), ['-x', '-vv']);
    server.stop();
  });

  test('an error reply inside the stream: still "Server ready", the NOK line, 255', async () => {
    const server = new FakeServer((c) => (c[0] === 'server-stream' ? nok('ValueError', "No failure-id group in '^XX'") : undefined));
    const r = await ours(server, ['start']);
    assert.deepEqual(r, { code: 255, out: 'Server ready\n', err: `fail2ban: ERROR   NOK: ("No failure-id group in '^XX'",)\n` });
    server.stop();
  });

  test('the server never comes up: waits --timeout seconds of the clock, then fail2ban\'s text, 255', async () => {
    rmSync(SOCK, { force: true });
    const server = new FakeServer(undefined, false);
    const r = await ours(server, ['--timeout', '3', 'start']);
    assert.equal(r.code, 255);
    assert.equal(r.out, '');
    assert.equal(
      r.err,
      `fail2ban: ERROR   Could not start server. Maybe an old socket file is still present. Try to remove ${SOCK}. If you used fail2ban-client to start the server, adding the -x option will do it\n`,
    );
    assert.equal(server.launches.length, 1);
  });

  test('-f: the server runs in the foreground through the launcher; exit 0 after it stops', async () => {
    rmSync(SOCK, { force: true });
    const server = new FakeServer();
    const io = testIo();
    const run = runFail2banClient('fail2ban-client', ['-c', DIR, '-f', 'start'], io, server.env(io));
    while (!server.sent.some((c) => c[0] === 'server-status')) await new Promise((r) => setImmediate(r));
    assert.equal(server.launches[0]?.foreground, true);
    assert.equal(server.launches[0]?.argv[2], '-f');
    server.stop();
    assert.equal(await run, 0);
    assert.equal(io.out, 'Server ready\n');
  });
});

describe('stop, restart, reload, errors', () => {
  test('stop → Shutdown successful; restart = stop, wait, start', async () => {
    const server = new FakeServer();
    server.running = true;
    writeFileSync(SOCK, '');
    assert.deepEqual(await ours(server, ['stop']), { code: 0, out: 'Shutdown successful\n', err: '' });
    server.running = true;
    writeFileSync(SOCK, '');
    assert.deepEqual(await ours(server, ['restart']), { code: 0, out: 'Shutdown successful\nServer ready\n', err: '' });
    server.stop();
  });

  test('reload variants send ["reload", jail|--all, opts, stream] and print OK', async () => {
    const server = new FakeServer();
    server.running = true;
    assert.deepEqual(await ours(server, ['reload']), { code: 0, out: 'OK\n', err: '' });
    assert.deepEqual(await ours(server, ['reload', '--unban', '--restart', 't1']), { code: 0, out: 'OK\n', err: '' });
    assert.deepEqual(await ours(server, ['restart', '--if-exists', 't2']), { code: 0, out: 'OK\n', err: '' });
    const reloads = server.sent.filter((c) => c[0] === 'reload').map((c) => [c[1], c[2], (c[3] as PyValue[]).length]);
    assert.deepEqual(reloads, [['--all', [], 18], ['t1', ['--unban', '--restart'], 12], ['t2', ['--restart', '--if-exists'], 12]]);
    assert.deepEqual(await ours(server, ['reload', 'nojail']), { code: 255, out: '', err: "fail2ban: ERROR   Failed during configuration: No section: 'nojail'\n" });
    assert.deepEqual(await ours(server, ['reload', '--unban', 'x', 'y']), { code: 255, out: '', err: "fail2ban: ERROR   Unexpected argument(s) for reload: ['x', 'y']\n" });
    server.running = false;
    assert.deepEqual(await ours(server, ['reload']), { code: 255, out: '', err: 'fail2ban: ERROR   Could not find server\n' });
  });

  test('a server error reply: beautified on stdout, NOK line on stderr, 255', async () => {
    const server = new FakeServer((c) => (c[1] === 'nojail' ? nok('UnknownJailException', 'nojail') : undefined));
    server.running = true;
    assert.deepEqual(await ours(server, ['status', 'nojail']), { code: 255, out: "Sorry but the jail 'nojail' does not exist\n", err: "fail2ban: ERROR   NOK: ('nojail',)\n" });
  });

  test('ping N sends the command as it is with N seconds of timeout; a bad N is Python\'s float() error', async () => {
    const server = new FakeServer();
    server.running = true;
    assert.deepEqual(await ours(server, ['ping', '5']), { code: 0, out: 'Server replied: pong\n', err: '' });
    assert.deepEqual(server.sent.at(-1), ['ping', '5']);
    assert.deepEqual(await ours(server, ['ping', 'abc']), { code: 255, out: '', err: "fail2ban: ERROR   could not convert string to float: 'abc'\n" });
  });

  test('-i: intro, prompt, commands split as shlex does, help, errors logged, exit', async () => {
    const server = new FakeServer((c) => (c[0] === 'echo' ? ok(c.slice(1)) : undefined));
    server.running = true;
    const r = await ours(server, ['-i'], ['ping', '', 'echo "a b" c\\ d', '"open', 'exit']);
    assert.equal(r.code, 0);
    assert.equal(
      r.out,
      'Fail2Ban v1.0.2 reads log file that contains password failure report\nand bans the corresponding IP addresses using firewall rules.\n\n' +
        'fail2ban> Server replied: pong\nfail2ban> fail2ban> a b c d\nfail2ban> fail2ban> ',
    );
    assert.equal(r.err, 'fail2ban: ERROR   No closing quotation\n');
    const eof = await ours(server, ['-i'], ['ping']);
    assert.equal(eof.code, 255);
    assert.match(eof.out, /fail2ban> Server replied: pong\nfail2ban> \n$/);
    assert.equal(eof.err, 'fail2ban: ERROR   EOF when reading a line\n');
  });

  test('shlex.split', () => {
    assert.deepEqual(shlexSplit(`set t1 addfailregex '^x <HOST> "y"$'  a"b c"\\ d "\\q\\"" ''`), ['set', 't1', 'addfailregex', '^x <HOST> "y"$', 'ab c d', '\\q"', '']);
    assert.throws(() => shlexSplit('a \\'), /No escaped character/);
  });
});

/** Connects for real; only the failures matter here (there is no server). */
const connectOnly: ClientTransport = {
  send: (socket) =>
    new Promise((_resolve, reject) => {
      const s = connect(socket);
      s.on('connect', () => {
        s.destroy();
        reject(new Error('unexpected server'));
      });
      s.on('error', (e: NodeJS.ErrnoException) => reject(new ClientConnectionError(e.code === 'ENOENT' ? 'missing' : e.code === 'EACCES' ? 'denied' : 'refused')));
    }),
};

function realClient(args: readonly string[], input = ''): { code: number; out: string; err: string } {
  const r = spawnSync('/usr/bin/fail2ban-client', ['-c', DIR, ...args], { input, encoding: 'utf8', env: { ...process.env, LANG: 'C.UTF-8' } });
  return { code: r.status ?? -1, out: r.stdout, err: stripLogPrefix(r.stderr) };
}

describe('side by side with the real fail2ban-client, no server', () => {
  // Never `start`/`restart` here: the real client would start a real server.
  const commands = [['ping'], ['status'], ['status', 't1'], ['stop'], ['echo', 'a', 'b'], ['reload'], ['reload', 't1'], ['reload', '--unban', 'x', 'y'], ['ping', '2'], ['ping', 'abc']];
  for (const [label, sock] of [['missing socket', join(DIR, 'none.sock')], ['plain file as socket', join(DIR, 'plain.sock')]] as const) {
    for (const cmd of commands) {
      test(`${label}: ${cmd.join(' ')}`, async (t) => {
        if (!needOracle(t)) return;
        writeFileSync(join(DIR, 'plain.sock'), '');
        const real = realClient(['-s', sock, ...cmd]);
        const io = testIo();
        const env: ClientEnv = { transport: connectOnly, launcher: { launch: () => Promise.reject(new Error('no')) }, sleep: () => Promise.resolve() };
        const code = await runFail2banClient('fail2ban-client', ['-c', DIR, '-s', sock, ...cmd], io, env);
        assert.deepEqual({ code, out: io.out, err: stripLogPrefix(io.err) }, real);
      });
    }
  }
});

const FAKE_SERVER_PY = String.raw`
import sys, os, socket, pickle
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from fail2ban.exceptions import UnknownJailException, DuplicateJailException
from fail2ban.protocol import CSPROTO
sock_path, replies = sys.argv[1], [l.split(' ', 1) for l in sys.argv[2].split('\n') if l]
NS = {'UnknownJailException': UnknownJailException, 'DuplicateJailException': DuplicateJailException}
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.bind(sock_path + '.tmp'); s.listen(5)
os.rename(sock_path + '.tmp', sock_path)
log = open(sock_path + '.log', 'w')
i = 0
while i < len(replies):
    c, _ = s.accept()
    buf = b''
    done = False
    while not done:
        chunk = c.recv(4096)
        if not chunk: break
        buf += chunk
        while CSPROTO.END in buf:
            msg, buf = buf.split(CSPROTO.END, 1)
            if msg == CSPROTO.CLOSE: done = True; break
            log.write(repr(pickle.loads(msg)) + '\n'); log.flush()
            code, expr = replies[i] if i < len(replies) else ('0', 'None'); i += 1
            c.sendall(pickle.dumps((int(code), eval(expr, NS)), pickle.HIGHEST_PROTOCOL) + CSPROTO.END)
    c.close()
os.unlink(sock_path)
`;

/** The real client against a scripted Python server; returns its output and what it sent. */
async function realAgainstFake(args: readonly string[], replies: readonly ClientReply[], input?: string): Promise<{ result: ReturnType<typeof realClient>; sent: string[] }> {
  const sock = join(DIR, 'fake.sock');
  rmSync(sock, { force: true });
  const script = replies.map((r) => `${r.code} ${pyRepr(r.value)}`).join('\n');
  const child = spawn(PYTHON ?? 'python3', ['-c', FAKE_SERVER_PY, sock, script], { stdio: 'ignore' });
  try {
    const deadline = Date.now() + 20000;
    while (!existsSync(sock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const result = realClient(['-s', sock, ...args], input);
    const sent = readFileSync(sock + '.log', 'utf8').trimEnd().split('\n').filter((l) => l !== '');
    return { result, sent };
  } finally {
    child.kill();
    rmSync(sock + '.log', { force: true });
    if (existsSync(sock)) unlinkSync(sock);
  }
}

describe('side by side with the real fail2ban-client against a scripted server', () => {
  const cases: ReadonlyArray<readonly [string, readonly string[], readonly ClientReply[], string[]?]> = [
    ['unknown jail', ['status', 'nojail'], [nok('UnknownJailException', 'nojail')]],
    ['jail status', ['status', 't1'], [ok([T('Filter', [T('Currently failed', 0), T('Total failed', 3), T('File list', ['/a'])]), T('Actions', [T('Currently banned', 1), T('Total banned', 1), T('Banned IP list', ['192.0.2.10'])])])]],
    ['server status', ['status'], [ok([T('Number of jail', 2), T('Jail list', 't1, t2')])]],
    ['a reply the beautifier trips over', ['ping'], [ok(5)]],
    ['echo', ['echo', 'a', 'b'], [ok(['a', 'b'])]],
    ['stop', ['stop'], [ok(null)]],
    ['invalid command', ['bogus'], [nok('Exception', 'Invalid command')]],
    ['IndexError', ['get'], [nok('IndexError', 'list index out of range')]],
    ['report-absent', ['set', 't1', 'unbanip', '--report-absent', 'X'], [nok('ValueError', "not banned: ['X']")]],
    ['banip --with-time', ['get', 't1', 'banip', '--with-time'], [ok(['192.0.2.10 \t2026-11-22 02:14:29 + 30 = 2026-11-22 02:14:59'])]],
    ['an error reply that is no exception', ['status', 't1'], [{ code: 1, value: 'ERROR: bad' }]],
    ['reload all', ['reload'], [ok('pong'), ok('OK')]],
    ['reload a jail with options', ['reload', '--restart', '--unban', 't1'], [ok('pong'), ok('OK')]],
    ['reload an unknown jail', ['reload', 'nojail'], [ok('pong')]],
    ['reload error reply', ['reload', 't2'], [ok('pong'), nok('Exception', 'boom')]],
    ['ping with timeout', ['ping', '3'], [ok('pong')]],
    ['-i session', ['-i'], [ok('pong'), nok('UnknownJailException', 't9')], ['ping', 'status t9', '"open', '', 'help', 'quit']],
    ['-i with a first command that fails', ['-i', 'status', 'x'], [nok('UnknownJailException', 'x')], ['exit']],
  ];
  for (const [label, args, replies, lines] of cases) {
    test(label, async (t) => {
      if (!needOracle(t)) return;
      const { result: real, sent } = await realAgainstFake(args, replies, lines?.map((l) => l + '\n').join(''));
      const queue = [...replies];
      const mine: string[] = [];
      const io = testIo();
      const env: ClientEnv = {
        transport: {
          send: (_sock, cmds) => {
            mine.push(...cmds.map((c) => pyRepr([...c])));
            return Promise.resolve(cmds.map(() => queue.shift() ?? ok(null)));
          },
        },
        launcher: { launch: () => Promise.reject(new Error('no')) },
        sleep: () => Promise.resolve(),
        ...(lines ? { input: { readLine: () => Promise.resolve(lines.shift()) } } : {}),
      };
      const code = await runFail2banClient('fail2ban-client', ['-c', DIR, '-s', join(DIR, 'fake.sock'), ...args], io, env);
      assert.deepEqual({ code, out: io.out, err: stripLogPrefix(io.err) }, real);
      assert.deepEqual(mine, sent);
    });
  }
});
