/**
 * fail2ban-regex on hostile input: a 1 MB line, invalid UTF-8, NUL bytes, CR inside lines, CRLF
 * ends, a last line without a newline — side by side with Debian's tool (same report, same
 * failures); and a catastrophically backtracking regex cut off by the per-line budget, the line
 * reported as skipped and the run going on.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { test } from 'node:test';
import { LineGuard } from '../../src/cli/regexTool/guard.js';
import { makeTree, needOracle, removeTree, ROOT } from '../helpers/oracle.js';

const OURS = path.join(ROOT, 'bin', 'fail2ban-regex');

function run(cmd: string, args: readonly string[], env: Record<string, string> = {}): { stdout: string; status: number | null } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, LANG: 'C.UTF-8', ...env }, timeout: 120000 });
  return { stdout: r.stdout, status: r.status };
}

const PREFIX = 'Mar  3 00:00:00 server1 sshd[123]: ';

function hostileLog(): Buffer {
  const fail = (ip: string): string => `${PREFIX}Failed password for root from ${ip} port 22 ssh2`;
  return Buffer.concat([
    Buffer.from(fail('192.0.2.1') + '\n'),
    Buffer.from(PREFIX + 'a'.repeat(1 << 20) + '\n'),
    Buffer.from(PREFIX + 'x '.repeat(200000) + 'from 192.0.2.99\n'),
    Buffer.concat([Buffer.from(PREFIX + 'Failed password for '), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]), Buffer.from(' from 192.0.2.2 port 22 ssh2\n')]),
    Buffer.from(PREFIX + 'Failed password for nul\u0000user from 192.0.2.3 port 22 ssh2\n'),
    Buffer.from(PREFIX + 'Failed password for root from 192.0.2.4\r port 22 ssh2\n'),
    Buffer.from(fail('192.0.2.5') + '\r\n'),
    Buffer.from('\u0000\u0000\u0000\n'),
    Buffer.from('\r\n\r\n'),
    Buffer.from(fail('192.0.2.6') + '\n'),
    Buffer.from(fail('192.0.2.7')),
  ]);
}

test('hostile log lines: the same report and failures as Debian\'s fail2ban-regex, no crash', (t) => {
  if (!needOracle(t, 'fail2ban-regex')) return;
  const dir = makeTree({ 'hostile.log': hostileLog() });
  try {
    const log = path.join(dir, 'hostile.log');
    for (const args of [['-r', '-o', '<time> <ip> <F-USER>', log, 'sshd'], ['--print-all-missed', log, 'sshd[mode=aggressive]']]) {
      const real = run('/usr/bin/fail2ban-regex', args);
      const ours = run(process.execPath, [OURS, ...args]);
      const clean = (s: string): string => s.replace(/^\[processed in [\d.]+ sec\]$/m, '').replace(/a{1000,}/g, (m) => `a*${m.length}`).replace(/(x ){1000,}/g, (m) => `(x )*${m.length}`);
      assert.equal(ours.status, real.status, args.join(' '));
      assert.equal(clean(ours.stdout), clean(real.stdout), args.join(' '));
      if (args[0] === '-r') assert.match(ours.stdout, /192\.0\.2\.6/);
      else assert.match(ours.stdout, /^Lines: 9 lines, 0 ignored, \d+ matched, \d+ missed$/m);
    }
  } finally {
    removeTree(dir);
  }
});

test('a regex that backtracks catastrophically is cut off by the per-line budget; later lines still match', () => {
  // The line contains the regex's required literal ("b "), so the pre-check lets the regex run.
  const dir = makeTree({ 'redos.log': `${'a'.repeat(40)}b !\n${'a'.repeat(3)}b 192.0.2.9\n` });
  try {
    const t0 = Date.now();
    const r = run(process.execPath, [OURS, '-r', path.join(dir, 'redos.log'), '^(?:a+)+b <HOST>$'], { PORTCULLIS_REGEX_BUDGET_MS: '300' });
    const wall = Date.now() - t0;
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Lines: 1 lines, 0 ignored, 1 matched, 0 missed$/m, r.stdout);
    assert.match(r.stdout, /^Skipped line\(s\): 1 \(not processed\)$/m);
    assert.match(r.stdout, /regex time budget of 300 ms exceeded: a{40}b !/);
    assert.ok(wall < 60000, `finished (${wall} ms)`);
  } finally {
    removeTree(dir);
  }
});

test('LineGuard: items run in order, a thrown error or a timeout skips only that item', () => {
  const guard = new LineGuard(100);
  const seen: string[] = [];
  const skipped: string[] = [];
  const n = guard.runBatch(['a', 'boom', 'b', 'loop', 'c'], (x) => {
    if (x === 'boom') throw new Error('bad line');
    if (x === 'loop') /^(?:a+)+$/.test('a'.repeat(34) + 'b');
    seen.push(x);
  }, (s) => skipped.push(`${s.item}: ${s.reason}`));
  assert.equal(n, 2);
  assert.deepEqual(seen, ['a', 'b', 'c']);
  assert.deepEqual(skipped, ['boom: bad line', 'loop: regex time budget of 100 ms exceeded']);
});
