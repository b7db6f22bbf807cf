/**
 * The ignore rules in fail2ban's order with their log texts: ignoreself, single addresses,
 * networks, `file:` lists (read again at most once a second) and the ignorecommand.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IgnoreRules, parseIgnoreCache, type IgnoreEnv } from '../../src/daemon/ignore.js';
import { parseIp } from '../../src/shared/ip.js';
import { MemoryLog } from '../../src/testing/memoryLog.js';

function rules(over: Partial<IgnoreEnv> = {}): { r: IgnoreRules; log: MemoryLog; clock: { t: number }; reads: string[] } {
  const log = new MemoryLog();
  const clock = { t: 1000 };
  const reads: string[] = [];
  const files = new Map([['/etc/allow', '# office\n203.0.113.0/24\n198.51.100.9 # gateway\n']]);
  const env: IgnoreEnv = {
    log,
    now: () => clock.t,
    selfIps: () => [parseIp('127.0.0.1')],
    resolve: () => [],
    readList: (p) => {
      reads.push(p);
      return files.get(p);
    },
    runCommand: () => Promise.resolve(false),
    ...over,
  };
  return { r: new IgnoreRules('j', env), log, clock, reads };
}

test('ignoreself, single addresses and networks, with fail2ban\'s log texts', () => {
  const { r, log } = rules();
  r.add('192.0.2.7');
  r.add('10.0.0.0/8');
  assert.equal(r.check(parseIp('127.0.0.1')), true);
  assert.equal(r.check(parseIp('192.0.2.7')), true);
  assert.equal(r.check(parseIp('10.1.2.3')), true);
  assert.equal(r.check(parseIp('192.0.2.8')), false);
  assert.deepEqual(log.messages(), ['[j] Ignore 127.0.0.1 by ignoreself rule', '[j] Ignore 192.0.2.7 by ip', '[j] Ignore 10.1.2.3 by ip']);
  assert.deepEqual(r.list(), ['10.0.0.0/8', '192.0.2.7']);
  r.ignoreSelf = false;
  assert.equal(r.check(parseIp('127.0.0.1')), false);
});

test('a file: list matches addresses and networks and is read again at most once a second', () => {
  const { r, clock, reads } = rules();
  r.add('file:/etc/allow');
  assert.equal(r.check(parseIp('203.0.113.40')), true);
  assert.equal(r.check(parseIp('198.51.100.9')), true);
  assert.equal(r.check(parseIp('198.51.100.10')), false);
  assert.equal(reads.length, 1, 'three checks within a second read the file once');
  clock.t += 1;
  assert.equal(r.check(parseIp('203.0.113.41')), true);
  assert.equal(reads.length, 2, 'read again after a second');
});

test('the ignorecommand decides last; its answer is logged as by command', async () => {
  const { r, log } = rules({ runCommand: (_c, id) => Promise.resolve(id.text === '192.0.2.50') });
  r.ignoreCommand = '/bin/check <ip>';
  assert.equal(await r.check(parseIp('192.0.2.50')), true);
  assert.equal(await r.check(parseIp('192.0.2.51')), false);
  assert.deepEqual(log.messages(), ['[j] Ignore 192.0.2.50 by command']);
});

test('ignorecache options are read with fail2ban\'s option syntax', () => {
  assert.deepEqual(parseIgnoreCache('key="<ip>", max-count=50, max-time=5m', (s) => (s === '5m' ? 300 : Number(s))), { key: '<ip>', maxCount: 50, maxTime: 300 });
  assert.equal(parseIgnoreCache('', Number), undefined);
});

test('a file: entry is listed and removed by its text', () => {
  const { r } = rules();
  r.add('file:/etc/allow');
  assert.deepEqual(r.list(), ['file:/etc/allow']);
  r.remove('file:/etc/allow');
  assert.deepEqual(r.list(), []);
});
