/** `fail2ban-client` options outside the configuration dump, side by side with Debian's. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClientConnectionError, type ClientEnv } from '../../src/cli/clientFlow.js';
import { runFail2banClient } from '../../src/cli/fail2banClient.js';
import { recordingIo } from '../helpers/io.js';
import { needOracle, runOurs, runReal, stripLogPrefix } from '../helpers/oracle.js';

const SAME_AS_REAL: ReadonlyArray<readonly string[]> = [
  ['-V'],
  ['--version'],
  ['--str2sec', '1d12h30m'],
  ['--str2sec', '1.5h'],
  ['--str2sec', '1y-6mo'],
  ['--str2sec', 'abc'],
  ['--bogus'],
  ['-c', '/nonexistent/portcullis', '-d'],
  ['--loglevel', 'LOUD', '-d'],
  ['--d'],
  ['-t', '-c'],
];

describe('fail2ban-server and fail2ban-regex launchers: version and help, side by side', () => {
  for (const [tool, args] of [['fail2ban-server', ['-V']], ['fail2ban-server', ['--version']], ['fail2ban-server', ['-h']], ['fail2ban-regex', ['-V']], ['fail2ban-regex', ['--version']]] as const) {
    test(`${tool} ${args.join(' ')}`, (t) => {
      if (!needOracle(t, tool)) return;
      const real = runReal(tool, args);
      const ours = runOurs(tool, args);
      assert.equal(ours.stdout, real.stdout);
      assert.equal(ours.status, real.status);
    });
  }
});

describe('fail2ban-client options, side by side', () => {
  for (const args of SAME_AS_REAL) {
    test(`fail2ban-client ${args.join(' ')}`, (t) => {
      if (!needOracle(t)) return;
      const real = runReal('fail2ban-client', args);
      const ours = runOurs('fail2ban-client', args);
      assert.equal(ours.stdout, real.stdout);
      assert.equal(ours.status, real.status);
      assert.equal(stripLogPrefix(ours.stderr), stripLogPrefix(real.stderr));
    });
  }

  /** No server listening: every connection fails as on a missing socket; nothing may be launched. */
  const noServer: ClientEnv = {
    transport: { send: () => Promise.reject(new ClientConnectionError('missing')) },
    launcher: { launch: () => Promise.reject(new Error('no launch in this test')) },
    sleep: () => Promise.resolve(),
  };

  test('a server command without a server says so as fail2ban does, exit 255', async () => {
    const io = recordingIo();
    assert.equal(await runFail2banClient('fail2ban-client', ['-c', '/etc/fail2ban', '-s', '/nonexistent/f2b.sock', 'status'], io, noServer), 255);
    assert.equal(io.out, '');
    assert.match(io.err, /ERROR {3}Failed to access socket path: \/nonexistent\/f2b\.sock\. Is fail2ban running\?\n$/);
  });

  test('no command prints the usage and fails, as fail2ban does', async () => {
    const io = recordingIo();
    assert.equal(await runFail2banClient('fail2ban-client', ['-c', '/etc/fail2ban'], io, noServer), 255);
    assert.match(io.out, /^Usage: fail2ban-client \[OPTIONS\] <COMMAND>/);
  });
});
