/**
 * The running server against bad input:
 *
 * 4. Malformed control-socket requests over raw connections (garbage, a pickle that is not a
 *    list, a truncated pickle then a disconnect, an oversized request, 50 concurrent clients, an
 *    idle client): error replies, and the server keeps answering and banning. Socket mode 0600,
 *    the pid file holds the pid.
 * 5. Unknown jails, a non-IP `banip`, a broken `addfailregex`, a Python action — side by side with
 *    Debian's fail2ban-server on the same configuration.
 * 6. Hostile log lines (shell syntax and quotes in `<F-USER>`, a 1 MiB line, invalid UTF-8): no
 *    command runs, the values reach the action intact (as with fail2ban), counting stays right.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { decodePickle, encodePickle } from '../../src/control/pickle.js';
import { PyException, PyTuple, type PyValue } from '../../src/shared/pyvalue.js';
import { appendLines, failLine, readIf, recordedBans, serverLog, statusNumber, writeTree } from '../helpers/daemonTree.js';
import { needOracle } from '../helpers/oracle.js';
import { cleanup, runClient, startServer, waitFor, type RunningServer, type Side, tempDir } from '../helpers/servers.js';

const END = Buffer.from('<F2B_END_COMMAND>', 'latin1');


const alive = (s: RunningServer): boolean => s.child.exitCode === null && s.child.signalCode === null && s.client(['ping']).stdout.includes('pong');

interface Exchange {
  /** The decoded replies, in order. */
  readonly replies: PyValue[];
  /** The server closed the connection. */
  readonly closed: boolean;
}

/**
 * Connects to `socket`, writes `data`, and collects `want` replies (or until the server closes,
 * or `idleMs` after the last byte received when `want` is 0). Write errors (the server closed
 * while we were still writing) are not failures.
 */
function exchange(socket: string, data: Buffer, want: number, opts: { end?: boolean; timeoutMs?: number } = {}): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(socket);
    let buf = Buffer.alloc(0);
    const replies: PyValue[] = [];
    let closed = false;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`no reply within ${opts.timeoutMs ?? 30000} ms (got ${replies.length} of ${want})`));
    }, opts.timeoutMs ?? 30000);
    const finish = (): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ replies, closed });
    };
    sock.on('connect', () => {
      sock.write(data, () => undefined);
      if (opts.end === true) sock.end();
    });
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      for (let at = buf.indexOf(END); at !== -1; at = buf.indexOf(END)) {
        replies.push(decodePickle(buf.subarray(0, at)));
        buf = buf.subarray(at + END.length);
      }
      if (want > 0 && replies.length >= want) finish();
    });
    sock.on('error', () => undefined);
    sock.on('close', () => {
      closed = true;
      finish();
    });
  });
}

const req = (...args: PyValue[]): Buffer => Buffer.concat([encodePickle(args), END]);

/** A value for a message (bigints and Python objects as JSON). */
const show = (v: PyValue | undefined): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)) ?? 'undefined';

function okReply(v: PyValue | undefined, value: PyValue): void {
  assert.ok(v instanceof PyTuple, `a (code, value) tuple: ${show(v)}`);
  assert.deepEqual(v.items, [0, value]);
}

function errorString(v: PyValue | undefined): void {
  assert.equal(typeof v, 'string', `an "ERROR: …" string reply: ${show(v)}`);
  assert.match(v as string, /^ERROR: /);
}

test('malformed control requests: error replies, the server keeps answering and banning', { timeout: 180000 }, async (t) => {
  const dir = tempDir('pc-rob-sock-');
  const servers: RunningServer[] = [];
  cleanup(t, dir, servers);
  writeTree(dir, [{ name: 'j1', maxretry: 1 }]);
  const s = await startServer('ours', dir);
  servers.push(s);

  // Socket 0600, pid file = the server's pid.
  assert.equal(fs.statSync(s.socket).mode & 0o777, 0o600, 'socket file mode');
  assert.ok(fs.statSync(s.socket).isSocket());
  assert.equal(fs.readFileSync(path.join(dir, 'f2b.pid'), 'utf8').trim(), String(s.child.pid), 'pid file');

  // A client that connects and never sends anything stays connected throughout.
  const idle = net.createConnection(s.socket);
  idle.on('error', () => undefined);
  t.after(() => {
    idle.destroy();
  });
  await new Promise<void>((r) => idle.once('connect', () => r()));

  // A well-formed request first, as the reference.
  okReply((await exchange(s.socket, req('ping'), 1)).replies[0], 'pong');

  // Garbage bytes + END: an error string; the same connection still answers the next request.
  const garbage = await exchange(s.socket, Buffer.concat([Buffer.from('\x00\xffthis is not a pickle\x80\x05', 'latin1'), END, req('ping')]), 2);
  errorString(garbage.replies[0]);
  okReply(garbage.replies[1], 'pong');

  // Pickles that are not a list: an int, a string, a dict-free tuple of the wrong kind.
  for (const v of [5, 'ping', null] as PyValue[]) {
    const r = await exchange(s.socket, Buffer.concat([encodePickle(v), END]), 1);
    const reply = r.replies[0];
    if (typeof reply === 'string') errorString(reply);
    else {
      assert.ok(reply instanceof PyTuple, `reply to ${show(v)}`);
      assert.equal(reply.items[0], 1, `error code in the reply to ${show(v)}`);
      assert.ok(reply.items[1] instanceof PyException);
    }
  }

  // A list with non-string items / an empty list: an error reply, not a crash.
  for (const v of [[], [1, 2, 3], [['nested']], ['set', 'nojail', 'banip', '192.0.2.1'], ['frobnicate']] as PyValue[][]) {
    const r = await exchange(s.socket, req(...v), 1);
    const reply = r.replies[0];
    assert.ok(reply instanceof PyTuple, `reply to ${JSON.stringify(v)}`);
    assert.equal(reply.items[0], 1, `error code in the reply to ${JSON.stringify(v)}`);
  }

  // A truncated pickle with END: error string. A truncated pickle then a disconnect: nothing to answer.
  const whole = encodePickle(['status', 'j1']);
  errorString((await exchange(s.socket, Buffer.concat([whole.subarray(0, whole.length - 3), END]), 1)).replies[0]);
  const cut = net.createConnection(s.socket);
  cut.on('error', () => undefined);
  await new Promise<void>((r) => cut.once('connect', () => r()));
  cut.write(whole.subarray(0, 7));
  cut.destroy();
  // A half-written request then end of input (half-close): no reply expected, connection closed.
  const half = await exchange(s.socket, whole.subarray(0, 7), 0, { end: true });
  assert.equal(half.replies.length, 0);
  assert.ok(half.closed);
  assert.ok(alive(s), 'server answers after truncated requests');

  // Oversized: more than 16 MiB without an END marker → an error reply and the connection closed.
  const big = await exchange(s.socket, Buffer.alloc((16 << 20) + 4096, 0x41), 1, { timeoutMs: 60000 });
  errorString(big.replies[0]);
  assert.match(big.replies[0] as string, /exceeds/);
  // Oversized with an END marker at the end (the message itself is too large).
  const big2 = await exchange(s.socket, Buffer.concat([Buffer.alloc((16 << 20) + 10, 0x42), END]), 1, { timeoutMs: 60000 });
  errorString(big2.replies[0]);
  assert.ok(alive(s), 'server answers after oversized requests');

  // 50 concurrent clients, each with three pipelined requests.
  const many = await Promise.all(
    Array.from({ length: 50 }, (_, i) => exchange(s.socket, Buffer.concat([req('ping'), req('echo', `c${i}`), req('status', 'j1')]), 3)),
  );
  many.forEach((r, i) => {
    okReply(r.replies[0], 'pong');
    okReply(r.replies[1], [`c${i}`]);
    const st = r.replies[2];
    assert.ok(st instanceof PyTuple && st.items[0] === 0, `status reply of client ${i}`);
  });

  // Still there: the idle client is connected, ping answers through both clients, bans happen.
  assert.ok(!idle.destroyed, 'the idle client was not dropped while others were served');
  assert.ok(alive(s));
  assert.equal(runClient(s.socket, ['ping'], 'ours').status, 0);
  appendLines(path.join(dir, 'j1.log'), [failLine('192.0.2.44', 'after')]);
  await waitFor('a ban after the bad requests', () => recordedBans(dir, 'j1').some((r) => r.ip === '192.0.2.44'));
  const st = s.client(['status', 'j1']).stdout;
  assert.equal(statusNumber(st, 'Total failed'), 1, st);
  assert.match(serverLog(dir), /PROTO-error/, 'malformed requests are logged');
  await s.stop();
  assert.ok(!fs.existsSync(s.socket), 'socket removed at stop');
});

const PY_ACTION = (dir: string): string => `from fail2ban.server.action import ActionBase


class XAction(ActionBase):
    def start(self):
        pass

    def stop(self):
        pass

    def ban(self, aInfo):
        with open('${dir}/py-ban.txt', 'a') as f:
            f.write(str(aInfo['ip']) + '\\n')

    def unban(self, aInfo):
        pass


Action = XAction
`;

/** The same tree for both sides under `base/real` and `base/ours`. */
function pair(base: string, make: (dir: string) => void): Record<Side, string> {
  const dirs: Record<Side, string> = { real: path.join(base, 'real'), ours: path.join(base, 'ours') };
  for (const d of Object.values(dirs)) {
    fs.mkdirSync(d, { recursive: true });
    make(d);
  }
  return dirs;
}

const norm = (text: string, dir: string): string => text.split(dir).join('<DIR>');

test('unknown jails, a non-IP banip, a broken regex: as Debian fail2ban-server, and the server stays up', { timeout: 180000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  const base = tempDir('pc-rob-cmd-');
  const servers: RunningServer[] = [];
  cleanup(t, base, servers);
  const dirs = pair(base, (d) => writeTree(d, [{ name: 'j1', maxretry: 1 }]));
  for (const side of ['real', 'ours'] as const) servers.push(await startServer(side, dirs[side]));
  const [real, ours] = servers as [RunningServer, RunningServer];

  const commands: string[][] = [
    ['status', 'nojail'],
    ['set', 'nojail', 'banip', '1.2.3.4'],
    ['get', 'nojail', 'banip'],
    ['set', 'j1', 'banip', '1.2.3.999'],
    ['set', 'j1', 'banip', '::ffff:1.2.3.4'],
    ['set', 'j1', 'addfailregex', '^(unclosed'],
    ['set', 'j1', 'addfailregex', '^no host here$'],
    ['set', 'j1', 'maxretry', 'many'],
    ['set', 'j1', 'bantime', '-x'],
    ['get', 'j1', 'banip'],
    ['status', 'j1'],
  ];
  for (const c of commands) {
    for (const which of ['real', 'ours'] as const) {
      const r = real.client(c, which);
      const o = ours.client(c, which);
      assert.equal(norm(o.stdout, ours.dir), norm(r.stdout, real.dir), `stdout of ${c.join(' ')} (${which} client)`);
      assert.equal(o.status, r.status, `exit code of ${c.join(' ')} (${which} client)`);
    }
    assert.ok(alive(ours), `the server is up after ${c.join(' ')}`);
  }
  const unknown = ours.client(['status', 'nojail']);
  assert.equal(unknown.status, 255);
  assert.match(unknown.stdout + unknown.stderr, /Sorry but the jail 'nojail' does not exist/);

  // What the ban action received: the same values as with fail2ban (which passes 1.2.3.999 on too).
  await waitFor('recorded bans', () => recordedBans(ours.dir, 'j1').length >= 2 && recordedBans(real.dir, 'j1').length >= 2);
  const values = (d: string): string[] => recordedBans(d, 'j1').map((r) => r.ip);
  assert.deepEqual(values(ours.dir), values(real.dir), 'values the action got');

  // banip values with shell syntax (no '/': that would make them a CIDR): never evaluated. Whether
  // they are banned at all is as fail2ban does; if the action gets them, it gets them literally.
  const hostile = ['$(echo${IFS}INJECTED)', '`echo${IFS}INJECTED`', 'x;echo${IFS}INJECTED'];
  for (const v of hostile) {
    const r = real.client(['set', 'j1', 'banip', v]);
    const o = ours.client(['set', 'j1', 'banip', v]);
    assert.equal(o.stdout, r.stdout, `stdout of set j1 banip ${v}`);
    assert.equal(o.status, r.status, `exit code of set j1 banip ${v}`);
  }
  await waitFor('the hostile banip values reached the actions', () => {
    const got = (d: string): number => recordedBans(d, 'j1').filter((b) => b.ip.includes('INJECTED')).length;
    return got(ours.dir) === got(real.dir) && got(real.dir) > 0;
  }).catch(() => undefined);
  t.diagnostic(`real recorded: ${JSON.stringify(recordedBans(real.dir, 'j1').map((b) => b.ip))}`);
  const oursIps = recordedBans(ours.dir, 'j1').map((b) => b.ip);
  assert.ok(!oursIps.includes('INJECTED') && !oursIps.includes('x'), `a banip value was evaluated by the shell: ${JSON.stringify(oursIps)}`);
  for (const ip of oursIps.filter((i) => i.includes('INJECTED'))) assert.ok(hostile.includes(ip), `recorded ${ip}`);
  assert.deepEqual(oursIps, recordedBans(real.dir, 'j1').map((b) => b.ip), 'the values the actions got, in order');
  assert.ok(alive(ours));

  appendLines(path.join(ours.dir, 'j1.log'), [failLine('192.0.2.60', 'late')]);
  await waitFor('still banning', () => recordedBans(ours.dir, 'j1').some((r) => r.ip === '192.0.2.60'));
  for (const s of servers) await s.stop();
});

test('a Python action: a clear error naming the jail, the jail not started, the others unaffected', { timeout: 180000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  const base = tempDir('pc-rob-pyact-');
  const servers: RunningServer[] = [];
  cleanup(t, base, servers);
  const dirs = pair(base, (d) =>
    writeTree(d, [{ name: 'j1', maxretry: 1 }, { name: 'pyj', maxretry: 1, action: 'x.py' }, { name: 'j3', maxretry: 1 }], { 'action.d/x.py': PY_ACTION(d) }),
  );
  for (const side of ['real', 'ours'] as const) servers.push(await startServer(side, dirs[side]));
  const [real, ours] = servers as [RunningServer, RunningServer];
  for (const s of servers) for (const j of ['j1', 'pyj', 'j3']) appendLines(path.join(s.dir, `${j}.log`), [failLine('192.0.2.70', j)]);

  // Debian's server runs the Python action (shown for the record).
  await waitFor('real: python action banned', () => readIf(path.join(real.dir, 'py-ban.txt')).includes('192.0.2.70'));
  await waitFor('real: j1 and j3 banned', () => recordedBans(real.dir, 'j1').length === 1 && recordedBans(real.dir, 'j3').length === 1);

  // portcullis: an error that names the jail and the Python file …
  await waitFor('ours: error naming the jail', () => /ERROR .*pyj.*x\.py|ERROR .*x\.py.*pyj/.test(serverLog(ours.dir)));
  const log = serverLog(ours.dir);
  const errors = log
    .split('\n')
    .filter((l) => l.includes('ERROR'))
    .map((l) => (l.length > 300 ? l.slice(0, 150) + ' … ' + l.slice(-150) : l))
    .join('\n');
  t.diagnostic(errors);
  assert.doesNotMatch(log, /Jail 'pyj' started/, 'the jail with the Python action started');
  assert.ok(!fs.existsSync(path.join(ours.dir, 'py-ban.txt')));
  // … and the other jails are either running and banning, or the server refused to run at all
  // (as fail2ban does when a jail's configuration fails on the server): never up with jails silently idle.
  if (ours.child.exitCode === null && ours.child.signalCode === null) {
    const st = ours.client(['status']).stdout;
    t.diagnostic(`ours status:\n${st}`);
    await waitFor(
      'ours: j1 and j3 banning although pyj failed',
      () => recordedBans(ours.dir, 'j1').length === 1 && recordedBans(ours.dir, 'j3').length === 1,
      15000,
    ).catch((e: Error) => {
      const j1 = ours.client(['status', 'j1']).stdout;
      assert.fail(`${e.message}: the server is up but the other jails do not work.\nstatus j1:\n${j1}\nerrors:\n${errors}`);
    });
    assert.doesNotMatch(st, /pyj/, 'the jail that failed is listed as a running jail');
  }
  for (const s of servers) await s.stop();
});

test('hostile log lines: no command runs, values intact, counting right (as Debian fail2ban-server)', { timeout: 180000 }, async (t) => {
  if (!needOracle(t, 'fail2ban-server')) return;
  const base = tempDir('pc-rob-hostile-');
  const servers: RunningServer[] = [];
  cleanup(t, base, servers);
  const dirs = pair(base, (d) => writeTree(d, [{ name: 'j1', maxretry: 1 }]));
  for (const side of ['real', 'ours'] as const) servers.push(await startServer(side, dirs[side]));
  const [real, ours] = servers as [RunningServer, RunningServer];

  /** The user values of the failure lines (per side: the markers live in the side's directory). */
  const users = (d: string): string[] => [
    `$(touch ${d}/m1)`,
    `\`touch ${d}/m2\``,
    `x;touch ${d}/m3;`,
    `x && touch ${d}/m4 || touch ${d}/m4`,
    `x|touch ${d}/m5`,
    `"dq" 'sq' "unclosed`,
    `it's "q" \\" \\' \\\\`,
    `%s %% %(x)s <ip> <F-USER> $HOME \${IFS}`,
    `a\tb  two  spaces `,
    `x > ${d}/m6 < /dev/null`,
    `-n`,
    `--help`,
  ];
  const lines = new Map<Side, Buffer[]>();
  for (const s of servers) {
    const out: Buffer[] = [];
    users(s.dir).forEach((u, i) => out.push(Buffer.from(failLine(`192.0.2.${i + 1}`, u) + '\n')));
    // A 1 MiB noise line, then a normal failure right after it.
    out.push(Buffer.from('x'.repeat(1 << 20) + '\n'));
    out.push(Buffer.from(failLine('192.0.2.50', 'after-long-line') + '\n'));
    // Invalid UTF-8 in the user and around the host.
    out.push(Buffer.concat([Buffer.from(failLine('192.0.2.51', 'bad')), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]), Buffer.from('end\n')]));
    const [date, rest] = failLine('192.0.2.52', 'x\xe9').split(' host ') as [string, string];
    out.push(Buffer.concat([Buffer.from(date + ' '), Buffer.from([0xc0, 0xaf]), Buffer.from(' ' + rest, 'latin1'), Buffer.from('\n')]));
    // A line cut by a newline in the middle of a value: two lines, the first a failure.
    out.push(Buffer.from(failLine('192.0.2.53', 'first-half') + '\nsecond half $(touch ' + s.dir + '/m7)\n'));
    out.push(Buffer.from(failLine('192.0.2.54', 'last') + '\n'));
    lines.set(s.side, out);
    const file = path.join(s.dir, 'j1.log');
    for (const b of out) fs.appendFileSync(file, b);
  }
  const expected = users('').length + 5;
  for (const s of servers) {
    await waitFor(`${s.side}: the last ban recorded`, () => recordedBans(s.dir, 'j1').some((r) => r.ip === '192.0.2.54'), 60000).catch((e: Error) => {
      t.diagnostic(`${s.side}: ${s.client(['status', 'j1']).stdout}\n${readIf(path.join(s.dir, 'rec-j1.txt'))}\n${serverLog(s.dir).slice(-5000)}`);
      throw e;
    });
  }
  for (const s of servers) {
    const markers = fs.readdirSync(s.dir).filter((f) => /^m\d$/.test(f));
    if (s.side === 'ours') assert.deepEqual(markers, [], 'a log line ran a command');
    else if (markers.length > 0) t.diagnostic(`real fail2ban created ${markers.join(' ')}`);
  }
  assert.ok(alive(ours));
  const st = ours.client(['status', 'j1']).stdout;
  assert.equal(statusNumber(st, 'Total failed'), expected, st);
  assert.equal(statusNumber(st, 'Currently banned'), expected, st);

  // The values the action got: intact (the ASCII ones exactly as written), and as Debian's.
  const got = (s: RunningServer): Map<string, string> => new Map(recordedBans(s.dir, 'j1').map((r) => [r.ip, r.user]));
  const o = got(ours);
  users(ours.dir).forEach((u, i) => assert.equal(o.get(`192.0.2.${i + 1}`), u, `user of 192.0.2.${i + 1}`));
  assert.equal(o.get('192.0.2.50'), 'after-long-line');
  assert.equal(o.get('192.0.2.53'), 'first-half');
  const r = got(real);
  for (const [ip, user] of r) assert.equal(norm(o.get(ip) ?? '<none>', ours.dir), norm(user, real.dir), `user of ${ip} as fail2ban records it`);
  assert.equal(o.size, r.size, 'as many bans as fail2ban');
  assert.equal(statusNumber(st, 'Total failed'), statusNumber(real.client(['status', 'j1']).stdout, 'Total failed'), 'Total failed as fail2ban');
  for (const s of servers) await s.stop();
});
