/**
 * The port trap's pure parts: the `porttrap` value, the line a connection becomes, the trap's
 * life cycle on an injected listener, and how the option travels from jail.conf to the server
 * (portcullis' own `set JAIL porttrap` command, never in fail2ban's `-d` dump, never inherited
 * from `[DEFAULT]`). The real sockets and firewall are in test/e2e/portTrap.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Configurator, readConfigStream } from '../../src/config/configurator.js';
import { CollectingLog } from '../../src/config/log.js';
import { parsePortTrap, PortTrap, PortTrapSpecError, trapLine, type TrapListen } from '../../src/daemon/portTrap.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { NULL_LOG } from '../../src/system/log.js';

test('porttrap values: ports, HOST:PORT, [V6]:PORT, separated by commas or blanks', () => {
  assert.deepEqual(parsePortTrap('22'), [{ host: undefined, port: 22 }]);
  assert.deepEqual(parsePortTrap(' 22, 2323  127.0.0.1:23,[::1]:24 '), [
    { host: undefined, port: 22 },
    { host: undefined, port: 2323 },
    { host: '127.0.0.1', port: 23 },
    { host: '::1', port: 24 },
  ]);
  assert.deepEqual(parsePortTrap(''), []);
  for (const bad of ['0', '65536', 'ssh', '22-25', '::1:22', 'host:22', '1.2.3.4:']) {
    assert.throws(() => parsePortTrap(bad), PortTrapSpecError, bad);
  }
});

test('a connection is one SRC= line, dated now, for the jail', async () => {
  assert.equal(trapLine('192.0.2.7', 40000, 22), 'SRC=192.0.2.7 SPT=40000 DPT=22 PROTO=TCP');
  const hits: Array<(a: string) => void> = [];
  const opened: string[] = [];
  let closed = 0;
  const listen: TrapListen = (host, port, onHit) => {
    if (port === 23) return Promise.reject(new Error('listen EADDRINUSE: address already in use :::23'));
    opened.push(`${host ?? '*'}:${port}`);
    hits.push((a) => onHit({ address: a, remotePort: 5555, localPort: port }));
    return Promise.resolve({ close: () => Promise.resolve(void closed++) });
  };
  const lines: Array<[string, number]> = [];
  const messages: string[] = [];
  const log = { ...NULL_LOG, log: (_n: string, _l: number, m: string) => void messages.push(m) };
  const trap = new PortTrap('t', parsePortTrap('22, 23, 127.0.0.1:24'), { listen, log, now: () => 1000 }, (l, t) => lines.push([l, t]));
  await trap.start();
  assert.deepEqual(opened, ['*:22', '127.0.0.1:24']);
  assert.equal(trap.listening, 2, 'a port that cannot be opened does not stop the others');
  assert.ok(messages.some((m) => m.includes('[t] port trap cannot listen on 23: listen EADDRINUSE')), messages.join('\n'));
  hits[0]?.('198.51.100.1');
  hits[1]?.('2001:db8::1');
  assert.deepEqual(lines, [
    ['SRC=198.51.100.1 SPT=5555 DPT=22 PROTO=TCP', 1000],
    ['SRC=2001:db8::1 SPT=5555 DPT=24 PROTO=TCP', 1000],
  ]);
  assert.equal(trap.caught, 2);
  await trap.stop();
  assert.equal(closed, 2);
  assert.equal(trap.listening, 0);
});

function tree(jailConf: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pc-trapconf-'));
  fs.mkdirSync(path.join(dir, 'filter.d'));
  fs.mkdirSync(path.join(dir, 'action.d'));
  fs.writeFileSync(path.join(dir, 'fail2ban.conf'), '[Definition]\nloglevel = INFO\n');
  fs.writeFileSync(path.join(dir, 'filter.d', 'trap.conf'), '[Definition]\nfailregex = SRC=<HOST>\n');
  fs.writeFileSync(path.join(dir, 'jail.conf'), jailConf);
  return dir;
}

function streamOf(dir: string, extensions: boolean): string[] {
  const c = new Configurator(new NodeFileSystem(), dir, new CollectingLog());
  const r = readConfigStream(c, { overrides: new Map(), ignoreWrong: true, allowNoFiles: true, extensions });
  assert.ok(r.stream, String(r.error));
  return r.stream.map((cmd) => JSON.stringify(cmd));
}

test('porttrap reaches portcullis\' server before the jails start, and stays out of fail2ban\'s stream', (t) => {
  const dir = tree('[DEFAULT]\nmaxretry = 2\n\n[trap]\nenabled = true\nfilter = trap\nporttrap = %(trapports)s\ntrapports = 22, 23\n\n[other]\nenabled = true\nfilter = trap\n');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const plain = streamOf(dir, false);
  assert.ok(!plain.some((c) => c.includes('porttrap')), `fail2ban's stream (-d) has no porttrap:\n${plain.join('\n')}`);
  const ours = streamOf(dir, true);
  const at = ours.indexOf(JSON.stringify(['set', 'trap', 'porttrap', '22, 23']));
  assert.ok(at >= 0, `interpolated value sent:\n${ours.join('\n')}`);
  assert.ok(at < ours.indexOf(JSON.stringify(['start', 'trap'])), 'set before the jail starts');
  assert.equal(ours.filter((c) => c.includes('porttrap')).length, 1, 'only the jail that has it');
  assert.deepEqual(ours.filter((c) => !c.includes('porttrap')), plain, 'nothing else changes');
});

test('a [DEFAULT] porttrap is not inherited by every jail (they would all open the same port)', (t) => {
  const dir = tree('[DEFAULT]\nporttrap = 22\n\n[trap]\nenabled = true\nfilter = trap\n');
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  assert.ok(!streamOf(dir, true).some((c) => c.includes('porttrap')));
});
