/**
 * Compatibility test: `fail2banUsage` must reproduce the help text of the real fail2ban 1.0.2
 * `fail2ban-client -h` and `fail2ban-server -h` byte for byte.
 */

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

import { fail2banUsage } from '../../src/cli/clientHelp.js';

const REAL_CLIENT = '/usr/bin/fail2ban-client';
const REAL_SERVER = '/usr/bin/fail2ban-server';

/** Runs a real fail2ban program with `-h` and returns its standard output. */
function realHelp(program: string): string {
  const result = spawnSync(program, ['-h'], { encoding: 'utf8' });
  if (result.error) throw result.error;
  assert.equal(result.status, 0, `${program} -h exited with ${String(result.status)}: ${result.stderr}`);
  return result.stdout;
}

void test('fail2banUsage matches `fail2ban-client -h` byte for byte', (t) => {
  if (!existsSync(REAL_CLIENT)) {
    t.skip(`${REAL_CLIENT} is not installed`);
    return;
  }
  assert.equal(fail2banUsage('fail2ban-client'), realHelp(REAL_CLIENT));
});

void test('fail2banUsage matches `fail2ban-server -h` byte for byte', (t) => {
  if (!existsSync(REAL_CLIENT)) {
    t.skip(`${REAL_CLIENT} is not installed`);
    return;
  }
  assert.equal(fail2banUsage('fail2ban-server'), realHelp(existsSync(REAL_SERVER) ? REAL_SERVER : 'fail2ban-server'));
});
