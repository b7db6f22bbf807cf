/**
 * fail2ban-regex `-D/--debuggex` links and the order of argument errors, side by side with
 * Debian's tool; the URL encoding on its own.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { debuggexUrl, encodeIgnore, pyQuotePlus } from '../../src/cli/regexTool/debuggex.js';
import { makeTree, needOracle, removeTree, ROOT } from '../helpers/oracle.js';

const OURS = path.join(ROOT, 'bin', 'fail2ban-regex');
const LOGS = '/usr/lib/python3/dist-packages/fail2ban/tests/files/logs';

function run(cmd: string, args: readonly string[]): { stdout: string; status: number | null } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, LANG: 'C.UTF-8' }, timeout: 120000 });
  return { stdout: r.stdout, status: r.status };
}

const clean = (s: string): string => s.replace(/^\[processed in [\d.]+ sec\]$/m, '');

test('pyQuotePlus / encodeIgnore: Python quote_plus of bytes and encode(errors="ignore")', () => {
  assert.equal(pyQuotePlus(Buffer.from('a b+c/d~e_f.g-h\u00e9\n', 'utf8')), 'a+b%2Bc%2Fd~e_f.g-h%C3%A9%0A');
  assert.deepEqual([...encodeIgnore('a\u00e9\u20ac', 'latin-1')], [0x61, 0xe9]);
  assert.deepEqual([...encodeIgnore('a\u00e9', 'ascii')], [0x61]);
  assert.deepEqual([...encodeIgnore('a\ud800b\u{1f600}', 'utf-8')], [0x61, 0x62, 0xf0, 0x9f, 0x98, 0x80]);
  const url = debuggexUrl(Buffer.from('x'), 'from <HOST>', true, 'no');
  assert.match(url, /^https:\/\/www\.debuggex\.com\/\?re=from\+%5C%5B%3F%28%3F%3A.*%28%3FP%3Cip4%3E.*&str=x&flavor=python&flags=m$/);
});

test('-D with the line lists: the same links as Debian\'s fail2ban-regex', (t) => {
  if (!needOracle(t, 'fail2ban-regex')) return;
  const dir = makeTree({
    'u.log': Buffer.concat([
      Buffer.from('Mar  3 00:00:00 h sshd[1]: Failed password for j\u00f6rg from 192.0.2.1 port 1 ssh2\n', 'utf8'),
      Buffer.from('Mar  3 00:00:01 h sshd[1]: caf\u00e9 '),
      Buffer.from([0xff]),
      Buffer.from(' bad\n'),
    ]),
  });
  try {
    const u = path.join(dir, 'u.log');
    const cases: string[][] = [
      ['-D', `${LOGS}/sshd`, 'sshd'],
      ['-D', '--print-all-matched', `${LOGS}/sshd`, 'sshd'],
      ['-D', '--print-all-missed', '--print-all-ignored', `${LOGS}/sshd`, 'sshd[mode=aggressive]'],
      ['-D', '--usedns', 'no', '--print-all-missed', `${LOGS}/dovecot`, 'dovecot'],
      ['-D', '--print-all-matched', '--print-all-missed', '-e', 'latin-1', `${LOGS}/sendmail-reject`, 'sendmail-reject'],
      // multi-line filters: the matched buffer lines are handed over joined, without their dates
      ['-D', '--print-all-matched', '--print-all-missed', `${LOGS}/guacamole`, 'guacamole'],
      ['-D', '--print-all-matched', '--print-all-missed', `${LOGS}/mongodb-auth`, 'mongodb-auth'],
      ['-D', '--print-all-matched', u, 'sshd'],
      ['-D', '--print-all-matched', '-e', 'ascii', u, 'sshd'],
      ['-D', '--print-all-ignored', u, 'from <HOST>', 'rg'],
    ];
    let links = 0;
    for (const args of cases) {
      const real = run('/usr/bin/fail2ban-regex', args);
      const ours = run(process.execPath, [OURS, ...args]);
      assert.equal(ours.status, real.status, args.join(' '));
      assert.equal(clean(ours.stdout), clean(real.stdout), args.join(' '));
      links += (ours.stdout.match(/https:\/\/www\.debuggex\.com\//g) ?? []).length;
    }
    assert.ok(links > 1000, `links compared: ${links}`);
  } finally {
    removeTree(dir);
  }
});

test('argument errors come in fail2ban-regex\'s order, with its texts', (t) => {
  if (!needOracle(t, 'fail2ban-regex')) return;
  const dir = makeTree({
    'u.log': 'Mar  3 00:00:00 h sshd[1]: Failed password for x from 192.0.2.1 port 1 ssh2\n',
    'ff/bad.conf': 'garbage line\n[Definition]\n',
    'cf/filter.d/bad.conf': 'garbage line\n[Definition]\n',
  });
  try {
    const u = path.join(dir, 'u.log');
    const cases: string[][] = [
      [u, 'j.rg', 'caf'], // the failregex error before the ignoreregex header
      [u, path.join(dir, 'ff', 'bad.conf')], // a filter file outside filter.d: the real path in the message
      ['-c', path.join(dir, 'cf'), u, 'bad'],
      [u, 'from <HOST>', '('],
      ['-l', 'bogus', u, 'sshd'], // fail2ban: a ValueError traceback, exit 1; ours: a message, exit 1
      ['-l', '', u, 'sshd'],
      ['-l', 'WARNING', u, 'sshd'],
    ];
    for (const args of cases) {
      const real = run('/usr/bin/fail2ban-regex', args);
      const ours = run(process.execPath, [OURS, ...args]);
      assert.equal(ours.status, real.status, args.join(' '));
      assert.equal(clean(ours.stdout), clean(real.stdout), args.join(' '));
    }
  } finally {
    removeTree(dir);
  }
});
