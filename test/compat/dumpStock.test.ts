/**
 * The stock Debian configuration with every jail of jail.conf enabled: `fail2ban-client -d`,
 * `--dp` and `-t` of portcullis against Debian's fail2ban 1.0.2, line for line.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeTree, needOracle, oracleAvailable, removeTree, runOurs, runReal, stripLogPrefix } from '../helpers/oracle.js';

const STOCK = '/etc/fail2ban';
let dir = '';
let jails: string[] = [];

/** Jail sections of the stock jail.conf, found independently of portcullis' reader. */
function stockJailNames(): string[] {
  const text = fs.readFileSync(path.join(STOCK, 'jail.conf'), 'utf8');
  return [...text.matchAll(/^\[([^\]\n]+)\]/gm)].map((m) => m[1] ?? '').filter((n) => n !== 'INCLUDES' && n !== 'DEFAULT');
}

function firstDifference(a: string, b: string): string {
  const x = a.split('\n');
  const y = b.split('\n');
  const i = x.findIndex((l, k) => l !== y[k]);
  return i === -1 ? `lengths ${x.length} vs ${y.length}` : `line ${i + 1}:\n  real: ${x[i]?.slice(0, 400)}\n  ours: ${y[i]?.slice(0, 400)}`;
}

describe('stock jail.conf, every jail enabled', () => {
  before(() => {
    if (!oracleAvailable()) return;
    dir = makeTree({});
    fs.cpSync(STOCK, dir, { recursive: true });
    jails = stockJailNames();
    fs.mkdirSync(path.join(dir, 'logs'));
    const local = jails.map((j) => {
      fs.writeFileSync(path.join(dir, 'logs', `${j}.log`), '');
      return `[${j}]\nenabled = true\nbackend = polling\nlogpath = ${path.join(dir, 'logs', `${j}.log`)}\n`;
    });
    fs.writeFileSync(path.join(dir, 'jail.d', 'zz-all.local'), local.join('\n'));
  });
  after(() => dir && removeTree(dir));

  test('enables all jails of the stock jail.conf', (t) => {
    if (!needOracle(t)) return;
    assert.ok(jails.length >= 80, `found only ${jails.length} jails in the stock jail.conf`);
  });

  for (const flag of ['-d', '--dp']) {
    test(`fail2ban-client -c DIR ${flag} is identical to Debian's`, (t) => {
      if (!needOracle(t)) return;
      const real = runReal('fail2ban-client', ['-c', dir, flag]);
      const ours = runOurs('fail2ban-client', ['-c', dir, flag]);
      assert.equal(real.status, 0, real.stderr);
      assert.equal(ours.status, real.status, ours.stderr);
      assert.ok(real.stdout.length > 100_000, 'the real dump is unexpectedly small');
      assert.ok(ours.stdout === real.stdout, firstDifference(real.stdout, ours.stdout));
      assert.equal(stripLogPrefix(ours.stderr), stripLogPrefix(real.stderr));
      for (const j of jails) assert.ok(ours.stdout.includes(`['start', '${j}']`) || flag === '--dp', `jail ${j} not started`);
    });
  }

  test('fail2ban-client -c DIR -t succeeds as Debian\'s does', (t) => {
    if (!needOracle(t)) return;
    const real = runReal('fail2ban-client', ['-c', dir, '-t']);
    const ours = runOurs('fail2ban-client', ['-c', dir, '-t']);
    assert.equal(ours.stdout, real.stdout);
    assert.equal(ours.status, real.status);
    assert.equal(ours.stdout, 'OK: configuration test is successful\n');
  });

  test('a missing log file: -t fails and -d warns, both as Debian\'s', (t) => {
    if (!needOracle(t)) return;
    fs.rmSync(path.join(dir, 'logs', 'sshd.log'));
    try {
      for (const flag of ['-t', '-d']) {
        const real = runReal('fail2ban-client', ['-c', dir, flag]);
        const ours = runOurs('fail2ban-client', ['-c', dir, flag]);
        assert.equal(ours.status, real.status, flag);
        assert.equal(ours.stdout, real.stdout, flag);
        assert.equal(stripLogPrefix(ours.stderr), stripLogPrefix(real.stderr), flag);
      }
    } finally {
      fs.writeFileSync(path.join(dir, 'logs', 'sshd.log'), '');
    }
  });
});
