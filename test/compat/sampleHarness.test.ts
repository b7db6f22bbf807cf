/**
 * The sample-log harness walks Debian's sample logs exactly as fail2ban's own test does: the same
 * (test, combination, options, file, line, expectation, skipped) records as the golden file
 * recorded from the real harness (test/fixtures/spec/golden-debian.jsonl), in the same order.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { NodeFileSystem } from '../../src/system/nodeFs.js';
import { evalCondition, sampleCases, sampleTests } from '../../src/testing/sampleLog.js';
import { ROOT } from '../helpers/oracle.js';

const LOGS = '/usr/lib/python3/dist-packages/fail2ban/tests/files/logs';
const GOLDEN = path.join(ROOT, 'test', 'fixtures', 'spec', 'golden-debian.jsonl');

interface Golden {
  test: string;
  combo: string;
  opts: Record<string, unknown>;
  file: string;
  ln: number;
  faildata: Record<string, unknown>;
  skipped?: boolean;
  /** Set when fail2ban could not even read the test's filter (the Debian `zzz-*` tests). */
  fatal?: string;
}

test('the harness enumerates the same cases as fail2ban recorded in golden-debian.jsonl', (t) => {
  if (!fs.existsSync(LOGS)) {
    // Always there in CI: scripts/test.sh installs Debian's fail2ban.
    assert.equal(process.env.PORTCULLIS_NO_ORACLE, '1', `needs ${LOGS} (Debian's fail2ban)`);
    t.skip(`needs ${LOGS} (PORTCULLIS_NO_ORACLE=1)`);
    return;
  }
  const all = fs.readFileSync(GOLDEN, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Golden);
  const golden = all.filter((g) => g.fatal === undefined);
  assert.deepEqual(all.filter((g) => g.fatal !== undefined).map((g) => g.test), ['zzz-generic-example', 'zzz-sshd-obsolete-multiline']);
  const nfs = new NodeFileSystem();
  const tests = [...new Set(golden.map((g) => g.test))];
  const ours = tests.flatMap((name) => sampleCases(nfs, LOGS, name));
  const key = (c: Golden): string => JSON.stringify([c.test, c.combo, c.opts, c.file, c.ln, c.faildata, c.skipped ?? false]);
  assert.equal(ours.length, golden.length);
  golden.forEach((g, i) => {
    const o = ours[i];
    assert.ok(o, `missing case ${i}`);
    assert.equal(key(o), key(g), `case ${i}`);
  });
  const onDisk = sampleTests(nfs, '/etc/fail2ban/filter.d', LOGS);
  t.diagnostic(`${golden.length} cases in ${tests.length} tests; ${onDisk.length} sample tests on disk`);
});

test('conditions: only the forms the stock logs use; anything else is an error', () => {
  assert.equal(evalCondition("name == 'sshd'", 'sshd', {}), true);
  assert.equal(evalCondition("name=='sshd'", 'dropbear', {}), false);
  assert.equal(evalCondition("opts.get('mode') != 'aggressive'", 'x', { mode: 'aggressive' }), false);
  assert.equal(evalCondition("opts.get('mode') == 'aggressive'", 'x', { mode: 'aggressive' }), true);
  assert.throws(() => evalCondition('__import__("os")', 'x', {}), /Unsupported condition/);
});
