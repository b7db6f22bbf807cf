/**
 * The control socket with real peers: our server answering Debian's own client code (`CSocket`
 * and `/usr/bin/fail2ban-client`), our client talking to Debian's real `fail2ban-server`, and the
 * server's behaviour with misbehaving clients (garbage, oversized and partial frames, silent
 * connections, many clients at once), the socket file's mode and its start-up checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ControlClient, ControlServer, ControlServerError, ControlSocketError, PyExceptionError, END, decodePickle, encodePickle, sendCommand, socketErrorText } from '../../src/control/index.js';
import type { ControlHandler } from '../../src/control/index.js';
import { PyException, PyTuple, type PyValue, pyRepr } from '../../src/shared/pyvalue.js';
import { MemoryLog } from '../../src/testing/memoryLog.js';
import { F2B_CLIENT, NO_PYTHON, PYTHON } from '../helpers/python.js';

const F2B_SERVER = existsSync('/usr/bin/fail2ban-server') ? '/usr/bin/fail2ban-server' : undefined;
const skipPy = PYTHON === undefined ? NO_PYTHON : false;
const skipClient = PYTHON === undefined || F2B_CLIENT === undefined ? 'fail2ban-client is not installed' : false;
const skipServer = PYTHON === undefined || F2B_SERVER === undefined ? 'fail2ban-server is not installed' : false;

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'pc-ctl-'));
}

/** A minimal fail2ban configuration so that fail2ban's programs read nothing outside `dir`. */
function writeConf(dir: string): string {
  const conf = join(dir, 'conf');
  mkdirSync(conf);
  writeFileSync(
    join(conf, 'fail2ban.conf'),
    `[Definition]\nloglevel = INFO\nlogtarget = ${join(dir, 'f2b.log')}\nsyslogsocket = auto\nsocket = ${join(dir, 'f2b.sock')}\npidfile = ${join(dir, 'f2b.pid')}\nallowipv6 = auto\ndbfile = None\ndbmaxmatches = 10\ndbpurgeage = 1d\n`,
  );
  writeFileSync(join(conf, 'jail.conf'), '[DEFAULT]\n');
  return conf;
}

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a program without blocking the event loop (our server must keep answering meanwhile). */
function run(file: string, args: readonly string[], input?: string): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: 60_000, maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

/** A handler answering like fail2ban's transmitter for a few commands. */
const f2bHandler: ControlHandler = (args) => {
  const [cmd, ...rest] = args;
  if (cmd === 'ping') return 'pong';
  if (cmd === 'echo') return rest;
  if (cmd === 'status' && rest.length === 0) return [new PyTuple(['Number of jail', 2]), new PyTuple(['Jail list', 't1, t2'])];
  if (cmd === 'status') throw new PyExceptionError(new PyException('fail2ban.exceptions', 'UnknownJailException', [rest[0] ?? null]));
  if (cmd === 'fail') throw new Error('plain failure');
  throw new PyExceptionError(new PyException('builtins', 'Exception', ['Invalid command']));
};

async function startServer(dir: string, handler: ControlHandler = f2bHandler, extra: { maxMessage?: number } = {}): Promise<ControlServer> {
  const server = new ControlServer({ socketPath: join(dir, 'f2b.sock'), handler, log: new MemoryLog(), ...extra });
  await server.listen();
  return server;
}

/** A raw connection that collects everything the server sends and notes when it ends. */
function rawConnect(path: string): Promise<{ sock: Socket; data: () => Buffer; ended: () => boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    const sock = createConnection(path);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('close', () => (ended = true));
    sock.once('error', reject);
    sock.once('connect', () => resolve({ sock, data: () => Buffer.concat(chunks), ended: () => ended }));
  });
}

async function until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// ---------------------------------------------------------------------------------------------
// Our server, Debian's client code

void test('socket: Debian CSocket talks to our server', { skip: skipPy }, async () => {
  const dir = tempDir();
  const server = await startServer(dir);
  try {
    const script = `
import sys, json
sys.path.insert(0, '/usr/lib/python3/dist-packages')
from fail2ban.client.csocket import CSocket
s = CSocket(sys.argv[1])
out = []
for cmd in (['ping'], ['echo', 'a', 'b', 'é😀'], ['status'], ['status', 'nojail'], ['nope'], ['fail']):
    code, value = s.send(cmd)
    if code == 0: out.append([code, repr(value)])
    else: out.append([code, type(value).__module__, type(value).__name__, list(value.args)])
s.close()
print(json.dumps(out))
`;
    const r = await run(PYTHON ?? 'python3', ['-c', script, server.socketPath]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [
      [0, "'pong'"],
      [0, "['a', 'b', 'é😀']"],
      [0, "[('Number of jail', 2), ('Jail list', 't1, t2')]"],
      [1, 'fail2ban.exceptions', 'UnknownJailException', ['nojail']],
      [1, 'builtins', 'Exception', ['Invalid command']],
      [1, 'builtins', 'Exception', ['plain failure']],
    ]);
    assert.equal(server.stats.requests, 6);
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('socket: Debian fail2ban-client talks to our server (stdout and exit codes)', { skip: skipClient }, async () => {
  const dir = tempDir();
  const conf = writeConf(dir);
  const server = await startServer(dir);
  try {
    const client = (...args: string[]): Promise<Ran> => run(F2B_CLIENT ?? '', ['-c', conf, '-s', server.socketPath, ...args]);
    assert.deepEqual(await client('ping'), { code: 0, stdout: 'Server replied: pong\n', stderr: '' });
    assert.deepEqual(await client('echo', 'a', 'b'), { code: 0, stdout: 'a b\n', stderr: '' });
    assert.deepEqual(await client('status'), { code: 0, stdout: 'Status\n|- Number of jail:\t2\n`- Jail list:\tt1, t2\n', stderr: '' });
    const nojail = await client('status', 'nojail');
    assert.equal(nojail.code, 255);
    assert.equal(nojail.stdout, "Sorry but the jail 'nojail' does not exist\n");
    assert.match(nojail.stderr, /ERROR {3}NOK: \('nojail',\)/);
    const invalid = await client('nope');
    assert.equal(invalid.code, 255);
    assert.equal(invalid.stdout, 'Invalid command\n');
  } finally {
    await server.close();
  }
  // With the server gone, fail2ban-client prints its "no server" text.
  const gone = await run(F2B_CLIENT ?? '', ['-c', conf, '-s', server.socketPath, 'ping']);
  assert.equal(gone.code, 255);
  assert.match(gone.stderr, new RegExp(`Failed to access socket path: ${server.socketPath}\\. Is fail2ban running\\?`));
  rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Our client, Debian's server

void test('socket: our client talks to Debian fail2ban-server', { skip: skipServer }, async () => {
  const dir = tempDir();
  const conf = writeConf(dir);
  const sock = join(dir, 'f2b.sock');
  const child = spawn(F2B_SERVER ?? '', ['-f', '-x', '-s', sock, '-p', join(dir, 'f2b.pid'), '--logtarget', join(dir, 'f2b.log'), '-c', conf], { stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    // Wait until it answers (polling; the first tries find no socket yet).
    let first: unknown;
    for (const deadline = Date.now() + 30_000; first === undefined && Date.now() < deadline; ) {
      first = await sendCommand(sock, ['ping'], { timeoutMs: 5000 }).catch((e: unknown) => (e instanceof ControlSocketError && (e.kind === 'missing' || e.kind === 'refused') ? undefined : e));
      if (first === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(first, { code: 0, value: 'pong' });
    assert.equal(statSync(sock).mode & 0o777, 0o700, "fail2ban's own socket is srwx------");
    const client = await ControlClient.connect(sock, { timeoutMs: 10_000 });
    assert.deepEqual(await client.send(['echo', 'a', 'é😀']), { code: 0, value: ['a', 'é😀'] });
    const status = await client.send(['status']);
    assert.equal(pyRepr(status.value), "[('Number of jail', 0), ('Jail list', '')]");
    const bad = await client.send(['nope']);
    assert.equal(bad.code, 1);
    assert.ok(bad.value instanceof PyException);
    assert.deepEqual([bad.value.module, bad.value.name, bad.value.args], ['builtins', 'Exception', ['Invalid command']]);
    const nojail = await client.send(['status', 'nojail']);
    assert.ok(nojail.value instanceof PyException);
    assert.equal(pyRepr(nojail.value), "UnknownJailException('nojail')");
    assert.equal(nojail.value.module, 'fail2ban.exceptions');
    assert.deepEqual(await client.send(['get', 'loglevel']), { code: 0, value: 'INFO' });
    // A request it cannot decode: fail2ban answers the bare string "ERROR: …", a protocol error here.
    await client.close();
    const stopped = await sendCommand(sock, ['stop'], { timeoutMs: 10_000 });
    assert.deepEqual(stopped, { code: 0, value: null });
    await until(() => exited, 'fail2ban-server to exit', 30_000);
  } finally {
    if (!exited) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('socket: undecodable requests get the same "ERROR: …" replies from Debian fail2ban-server and ours', { skip: skipServer }, async () => {
  const dir = tempDir();
  const conf = writeConf(dir);
  const sock = join(dir, 'f2b.sock');
  const child = spawn(F2B_SERVER ?? '', ['-f', '-x', '-s', sock, '-p', join(dir, 'f2b.pid'), '--logtarget', join(dir, 'f2b.log'), '-c', conf], { stdio: 'ignore' });
  let exited = false;
  child.on('exit', () => (exited = true));
  try {
    await until(() => existsSync(sock) || exited, 'the socket');
    const garbage = ['garbage', 'xgarbage', '\x80\x05N', ''].map((g) => Buffer.from(g, 'latin1'));
    /** Sends every garbage message on one connection and returns the replies. */
    const replies = async (path: string): Promise<PyValue[]> => {
      let raw: Awaited<ReturnType<typeof rawConnect>> | undefined;
      for (const deadline = Date.now() + 30_000; raw === undefined && Date.now() < deadline; ) raw = await rawConnect(path).catch(() => undefined);
      assert.ok(raw !== undefined);
      const conn = raw;
      conn.sock.write(Buffer.concat(garbage.flatMap((g) => [g, END])));
      await until(() => countEnds(conn.data()) >= garbage.length, 'the replies');
      conn.sock.destroy();
      return splitReplies(conn.data()).map((b) => decodePickle(b));
    };
    const theirs = await replies(sock);
    mkdirSync(join(dir, 'ours'));
    const ours = await startServer(join(dir, 'ours'), f2bHandler);
    try {
      assert.deepEqual(await replies(ours.socketPath), theirs);
    } finally {
      await ours.close();
    }
    assert.deepEqual(theirs, ['ERROR: pickle data was truncated', "ERROR: invalid load key, 'x'.", 'ERROR: Ran out of input', 'ERROR: Ran out of input']);
    await sendCommand(sock, ['stop'], { timeoutMs: 10_000 }).catch(() => undefined);
    await until(() => exited, 'fail2ban-server to exit', 30_000);
  } finally {
    if (!exited) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Our server with misbehaving clients

void test('socket: mode 0600, malformed and non-list requests, partial frames, errors from handlers', async () => {
  const dir = tempDir();
  const server = await startServer(dir);
  try {
    assert.equal(statSync(server.socketPath).mode & 0o777, 0o600);
    const raw = await rawConnect(server.socketPath);
    let expectEnds = 0;
    const next = async (): Promise<PyValue> => {
      expectEnds++;
      await until(() => countEnds(raw.data()) >= expectEnds, 'a reply');
      const parts = splitReplies(raw.data());
      return decodePickle(parts[expectEnds - 1] ?? Buffer.alloc(0));
    };
    raw.sock.write(Buffer.concat([Buffer.from('xgarbage'), END]));
    assert.equal(await next(), "ERROR: invalid load key, 'x'.");
    raw.sock.write(Buffer.concat([Buffer.from('garbage'), END])); // 'g' is GET, whose argument never ends
    assert.equal(await next(), 'ERROR: pickle data was truncated');
    raw.sock.write(Buffer.concat([encodePickle('ping'), END]));
    const notList = await next();
    assert.ok(notList instanceof PyTuple && notList.items[0] === 1);
    // The same connection still works, and a request may arrive in pieces.
    const ping = Buffer.concat([encodePickle(['ping']), END]);
    raw.sock.write(ping.subarray(0, 5));
    await new Promise((r) => setTimeout(r, 20));
    raw.sock.write(ping.subarray(5));
    assert.equal(pyRepr(await next()), "(0, 'pong')");
    // Two requests in one write are answered in order.
    raw.sock.write(Buffer.concat([encodePickle(['echo', '1']), END, encodePickle(['echo', '2']), END]));
    assert.equal(pyRepr(await next()), "(0, ['1'])");
    assert.equal(pyRepr(await next()), "(0, ['2'])");
    raw.sock.end(Buffer.concat([encodePickle(['echo']), Buffer.from('<F2B_')])); // partial frame, then gone
    assert.equal(server.stats.malformed, 2);

    // A second client, after all that.
    assert.deepEqual(await sendCommand(server.socketPath, ['ping']), { code: 0, value: 'pong' });
    assert.deepEqual(await sendCommand(server.socketPath, ['fail']), { code: 1, value: new PyException('builtins', 'Exception', ['plain failure']) });
    await until(() => server.stats.openConnections === 0, 'connections to close');
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

function countEnds(buf: Buffer): number {
  return splitReplies(buf).length;
}

function splitReplies(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (let at = buf.indexOf(END, from); at !== -1; at = buf.indexOf(END, from)) {
    out.push(buf.subarray(from, at));
    from = at + END.length;
  }
  return out;
}

void test('socket: an oversized request gets an error and the connection is closed', async () => {
  const dir = tempDir();
  const server = await startServer(dir, f2bHandler, { maxMessage: 1024 });
  try {
    const raw = await rawConnect(server.socketPath);
    raw.sock.write(Buffer.concat([encodePickle(['ping']), END]));
    raw.sock.write(Buffer.alloc(5000, 0x41)); // no END at all
    await until(() => raw.ended(), 'the server to close the connection');
    const replies = splitReplies(raw.data()).map((b) => decodePickle(b));
    assert.equal(pyRepr(replies[0] ?? null), "(0, 'pong')");
    assert.equal(replies[1], 'ERROR: request exceeds 1024 bytes');
    assert.equal(server.stats.oversized, 1);
    // An oversized request with its END arriving at once is refused the same way.
    const raw2 = await rawConnect(server.socketPath);
    raw2.sock.write(Buffer.concat([encodePickle(['echo', 'x'.repeat(2000)]), END]));
    await until(() => raw2.ended(), 'the second close');
    assert.equal(server.stats.oversized, 2);
    assert.deepEqual(await sendCommand(server.socketPath, ['echo', 'x'.repeat(900)]), { code: 0, value: ['x'.repeat(900)] });
  } finally {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('socket: 50 concurrent clients, a silent client and a stuck handler do not block others', async () => {
  const dir = tempDir();
  let release: () => void = () => undefined;
  const stuck = new Promise<void>((r) => (release = r));
  const server = await startServer(dir, async (args) => {
    if (args[0] === 'hang') await stuck;
    return f2bHandler(args);
  });
  try {
    const silent = await rawConnect(server.socketPath);
    const partial = await rawConnect(server.socketPath);
    partial.sock.write(encodePickle(['ping']).subarray(0, 4));
    const hanging = sendCommand(server.socketPath, ['hang']);
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => sendCommand(server.socketPath, ['echo', `client ${i}`])));
    replies.forEach((r, i) => assert.deepEqual(r, { code: 0, value: [`client ${i}`] }));
    // A persistent client with several requests in a row.
    const client = await ControlClient.connect(server.socketPath);
    const seq = await Promise.all([client.send(['echo', 'a']), client.send(['ping']), client.send(['echo', 'b'])]);
    assert.deepEqual(
      seq.map((r) => r.value),
      [['a'], 'pong', ['b']],
    );
    await client.close();
    release();
    assert.deepEqual(await hanging, { code: 1, value: new PyException('builtins', 'Exception', ['Invalid command']) });
    assert.equal(silent.ended(), false);
    silent.sock.destroy();
    partial.sock.destroy();
    assert.deepEqual(await sendCommand(server.socketPath, ['ping']), { code: 0, value: 'pong' });
  } finally {
    release();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------------------------------------
// Start-up checks, close, client errors

/** Leaves a stale socket file: a child process listens on `path` and is killed. */
function staleSocket(path: string): void {
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.ok(statSync(path).isSocket());
}

void test('socket: live socket → already running; stale socket → refused, replaced with force; close removes it', async () => {
  const dir = tempDir();
  const servers: ControlServer[] = [];
  try {
    const first = await startServer(dir);
    servers.push(first);
    await assert.rejects(startServer(dir), (e: unknown) => e instanceof ControlServerError && e.code === 'already-running');
    const forced = new ControlServer({ socketPath: first.socketPath, handler: f2bHandler, force: true });
    await assert.rejects(forced.listen(), (e: unknown) => e instanceof ControlServerError && e.code === 'already-running');
    assert.deepEqual(await sendCommand(first.socketPath, ['ping']), { code: 0, value: 'pong' }, 'the first server is untouched');
    const held = await rawConnect(first.socketPath);
    await first.close();
    assert.equal(existsSync(first.socketPath), false);
    await until(() => held.ended(), 'open connections to end on close');

    staleSocket(first.socketPath);
    await assert.rejects(sendCommand(first.socketPath, ['ping']), (e: unknown) => e instanceof ControlSocketError && e.kind === 'refused' && e.pythonText === '[Errno 111] Connection refused');
    await assert.rejects(startServer(dir), (e: unknown) => e instanceof ControlServerError && e.code === 'stale-socket');
    const log = new MemoryLog();
    const second = new ControlServer({ socketPath: first.socketPath, handler: f2bHandler, force: true, log });
    servers.push(second);
    await second.listen();
    assert.deepEqual(log.messages(), ['Fail2ban seems to be already running', 'Forcing execution of the server']);
    assert.deepEqual(await sendCommand(first.socketPath, ['ping']), { code: 0, value: 'pong' });
    assert.equal(statSync(first.socketPath).mode & 0o777, 0o600);
    await second.close();

    writeFileSync(first.socketPath, 'not a socket');
    await assert.rejects(new ControlServer({ socketPath: first.socketPath, handler: f2bHandler, force: true }).listen(), (e: unknown) => e instanceof ControlServerError && e.code === 'not-a-socket');
  } finally {
    for (const server of servers) await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('socket: client errors are typed: missing, reset, timeout, protocol; fail2ban texts', async () => {
  const dir = tempDir();
  const path = join(dir, 'x.sock');
  try {
    const missing = await sendCommand(path, ['ping']).catch((e: unknown) => e);
    assert.ok(missing instanceof ControlSocketError);
    assert.equal(missing.kind, 'missing');
    assert.equal(missing.pythonText, '[Errno 2] No such file or directory');
    assert.equal(socketErrorText(missing, path, { exists: false, writable: false }), `Failed to access socket path: ${path}. Is fail2ban running?`);
    assert.equal(socketErrorText(missing, path, { exists: true, writable: false }), `Permission denied to socket: ${path}, (you must be root)`);
    const refused = new ControlSocketError('refused', 'x', '[Errno 111] Connection refused');
    assert.equal(socketErrorText(refused, path, { exists: true, writable: true }), '[[Errno 111] Connection refused] Unable to contact server. Is it running?');
    assert.equal(socketErrorText(refused, path, { exists: true, writable: true }, true), '[Errno 111] Connection refused');

    // A peer that reads and hangs up, one that never answers, one that answers garbage.
    let mode: 'reset' | 'silent' | 'garbage' = 'reset';
    const peer = createServer((s) =>
      s.on('data', () => {
        if (mode === 'reset') s.destroy();
        else if (mode === 'garbage') s.write(Buffer.concat([encodePickle('ERROR: nope'), END]));
      }),
    );
    await new Promise<void>((r) => peer.listen(path, r));
    try {
      await assert.rejects(sendCommand(path, ['ping']), (e: unknown) => e instanceof ControlSocketError && e.kind === 'reset' && e.pythonText === '[Errno 104] Connection reset by peer');
      mode = 'silent';
      await assert.rejects(sendCommand(path, ['ping'], { timeoutMs: 200 }), (e: unknown) => e instanceof ControlSocketError && e.kind === 'timeout' && e.pythonText === 'timed out');
      mode = 'garbage';
      await assert.rejects(sendCommand(path, ['ping'], { timeoutMs: 5000 }), (e: unknown) => e instanceof ControlSocketError && e.kind === 'protocol' && e.reply === 'ERROR: nope');
    } finally {
      await new Promise((r) => peer.close(r));
    }

    // A reply whose string holds the END marker is still read whole.
    const server = await startServer(dir, (args) => (args[0] === 'marker' ? 'a<F2B_END_COMMAND>b' : f2bHandler(args)));
    try {
      assert.deepEqual(await sendCommand(server.socketPath, ['marker']), { code: 0, value: 'a<F2B_END_COMMAND>b' });
      // A request holding it is cut there, like fail2ban's asynchat server does: the first part is undecodable.
      const client = await ControlClient.connect(server.socketPath, { timeoutMs: 5000 });
      await assert.rejects(client.send(['echo', 'a<F2B_END_COMMAND>b']), (e: unknown) => e instanceof ControlSocketError && e.kind === 'protocol' && e.reply === 'ERROR: pickle data was truncated');
      await client.close();
    } finally {
      await server.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
