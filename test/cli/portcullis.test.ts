/** `portcullis` CLI: help, version, config check/dump, exit codes, the built-in fallback. */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { runPortcullis } from '../../src/cli/portcullis.js';
import { hidingFs, recordingIo } from '../helpers/io.js';
import { makeTree, removeTree, ROOT, runOurs } from '../helpers/oracle.js';
import { tree } from '../config/fixture.js';

const BUILTIN = path.join(ROOT, 'config');
const env = { builtinConfigDir: BUILTIN };

describe('portcullis CLI', () => {
  test('--help lists the real subcommands; no command is a usage error', () => {
    const io = recordingIo();
    assert.equal(runPortcullis(['--help'], io, env), 0);
    for (const c of ['config check', 'config dump', 'version']) assert.ok(io.out.includes(c), c);
    const bare = recordingIo();
    assert.equal(runPortcullis([], bare, env), 64);
  });

  test('--version names portcullis and the fail2ban release it follows', () => {
    const io = recordingIo();
    assert.equal(runPortcullis(['--version'], io, env), 0);
    assert.match(io.out, /^portcullis \d+\.\d+\.\d+ \(fail2ban 1\.0\.2 compatible\)\n$/);
  });

  test('unknown commands and arguments exit 64', () => {
    assert.equal(runPortcullis(['frobnicate'], recordingIo(), env), 64);
    assert.equal(runPortcullis(['config', 'check', '--bogus'], recordingIo(), env), 64);
    assert.equal(runPortcullis(['config', 'check', '-c'], recordingIo(), env), 64);
    assert.equal(runPortcullis(['config', 'lint'], recordingIo(), env), 64);
  });

  test('config check: exit 0 and a summary for a good tree', () => {
    const dir = tree({});
    try {
      const io = recordingIo();
      assert.equal(runPortcullis(['config', 'check', '-c', dir], io, env), 0);
      assert.equal(io.out, `${dir}: 1 jail enabled (t1), 0 errors, 0 warnings\n`);
    } finally {
      removeTree(dir);
    }
  });

  test('config check: exit 78 and every problem with file:line and jail, across jails and files', () => {
    const dir = tree({
      'jail.conf': '[DEFAULT]\nbackend = polling\nlogpath = @DIR@/t.log\n\n[t1]\nenabled = true\nfilter = f1\naction = a1\nmaxretry = many\n\n[t2]\nenabled = true\nfilter = nosuch\naction = a1\n\n[t3]\nenabled = true\nfilter = f1\naction = a1\nbantime = forever\n',
      'filter.d/broken.conf': '[Definition]\nfailregex = a\nfailregex = b\n',
    });
    try {
      const io = recordingIo();
      assert.equal(runPortcullis(['config', 'check', '-c', dir], io, env), 78);
      const jail = path.join(dir, 'jail.conf');
      assert.match(io.out, /2 jails enabled \(t1, t3\), 4 errors/);
      assert.ok(io.out.includes(`error: ${jail}:9 (jail "t1", option "maxretry"): maxretry must be a whole number of at least 1, got "many"`), io.out);
      assert.ok(io.out.includes(`error: ${jail}:13 (jail "t2", option "filter"): Jail "t2": filter "nosuch" not found`), io.out);
      assert.ok(io.out.includes(`error: ${jail}:20 (jail "t3", option "bantime"): bantime = "forever" is not a time`), io.out);
      assert.ok(io.out.includes(`error: ${path.join(dir, 'filter.d/broken.conf')}:3 (section [Definition], option "failregex"): Option "failregex" is set twice`), io.out);
    } finally {
      removeTree(dir);
    }
  });

  test('config dump --json: the typed jails and server settings', () => {
    const dir = tree({ 'jail.conf': '[DEFAULT]\nbackend = polling\nlogpath = @DIR@/t.log\n\n[t1]\nenabled = true\nfilter = f1\naction = a1[name=x]\nbantime = 1h 30m\nfindtime = -1\nignoreip = 10.0.0.0/8 ::1\nbantime.increment = true\nbantime.multipliers = 1 2 4\n' });
    try {
      const io = recordingIo();
      assert.equal(runPortcullis(['config', 'dump', '--json', '-c', dir], io, env), 0);
      const data = JSON.parse(io.out) as { jails: Array<Record<string, unknown>>; server: Record<string, unknown> };
      const j = data.jails[0] ?? {};
      assert.equal(j.name, 't1');
      assert.equal(j.bantimeSec, 5400);
      assert.equal(j.findtimeSec, -1);
      assert.deepEqual(j.ignoreip, ['10.0.0.0/8', '::1']);
      assert.deepEqual((j.bantimeIncrement as Record<string, unknown>).multipliers, [1, 2, 4]);
      assert.equal((j.bantimeIncrement as Record<string, unknown>).enabled, true);
      assert.deepEqual(j.logpaths, [{ path: path.join(dir, 't.log'), tail: false }]);
      assert.deepEqual(j.logpathPatterns, [{ pattern: path.join(dir, 't.log'), tail: false }]);
      const action = (j.actions as Array<Record<string, unknown>>)[0] ?? {};
      assert.equal(action.name, 'a1-x');
      assert.equal((action.properties as Record<string, unknown>).actionban, 'echo ban <ip>');
      assert.equal(data.server.dbfile, ':memory:');
      assert.equal(data.server.dbpurgeageSec, 86400);
    } finally {
      removeTree(dir);
    }
  });

  test('without /etc/fail2ban, check and dump use the built-in configuration', () => {
    const io = recordingIo(hidingFs(['/etc/fail2ban']));
    assert.equal(runPortcullis(['config', 'check'], io, env), 0);
    assert.equal(io.out, `${BUILTIN}: 1 jail enabled (sshd), 0 errors, 0 warnings\n`);
    const dump = recordingIo(hidingFs(['/etc/fail2ban']));
    assert.equal(runPortcullis(['config', 'dump'], dump, env), 0);
    assert.match(dump.out, /\[sshd\]\n {2}backend {8}systemd/);
  });

  test('the installed launcher finds the built-in configuration', () => {
    const r = runOurs('portcullis', ['config', 'check', '-c', BUILTIN]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `${BUILTIN}: 1 jail enabled (sshd), 0 errors, 0 warnings\n`);
  });

  test('a directory that does not exist is a located error, not a crash', () => {
    const io = recordingIo();
    const dir = makeTree({});
    removeTree(dir);
    assert.equal(runPortcullis(['config', 'check', '-c', dir], io, env), 78);
    assert.ok(io.out.includes(`error: ${dir}: Configuration directory ${dir} does not exist`), io.out);
  });
});
