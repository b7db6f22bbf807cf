/**
 * Private network namespaces for tests that touch the real firewall: `ip netns add`, commands
 * run inside with `ip netns exec`, and portcullis' server started inside one, so every nft
 * command its actions run changes only that namespace's ruleset.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROOT, type RunResult } from './oracle.js';
import { runClient, sleep } from './servers.js';

const ENV = { ...process.env, LANG: 'C.UTF-8' };

export interface Netns {
  readonly name: string;
  /** Runs `cmd ARGS` inside the namespace (synchronously). */
  run(cmd: string, args: readonly string[]): RunResult;
  /** The same, without blocking the event loop. */
  runAsync(cmd: string, args: readonly string[]): Promise<RunResult>;
  /** Deletes the namespace (idempotent). */
  remove(): void;
}

/**
 * Creates `pc-<prefix>-<random>` with `lo` up. Fails the test with a clear message when network
 * namespaces cannot be created here (no root, no CAP_SYS_ADMIN, no `ip`): never skips silently.
 */
export function createNetns(prefix: string): Netns {
  const name = `pc-${prefix}-${randomBytes(4).toString('hex')}`;
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8', env: ENV });
  if (add.error !== undefined || add.status !== 0) {
    assert.fail(
      `cannot create a network namespace (\`ip netns add ${name}\`: ${add.error?.message ?? `exit ${String(add.status)}: ${add.stderr.trim()}`}); ` +
        'this test needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and iproute2 to run the firewall end to end',
    );
  }
  let removed = false;
  const ns: Netns = {
    name,
    run(cmd, args) {
      const r = spawnSync('ip', ['netns', 'exec', name, cmd, ...args], { encoding: 'utf8', env: ENV, timeout: 30000 });
      return { stdout: r.stdout, stderr: r.stderr, status: r.status };
    },
    runAsync(cmd, args) {
      return new Promise((resolve) => {
        execFile('ip', ['netns', 'exec', name, cmd, ...args], { encoding: 'utf8', env: ENV, timeout: 30000 }, (err, stdout, stderr) => {
          const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
          resolve({ stdout, stderr, status: code });
        });
      });
    },
    remove() {
      if (removed) return;
      removed = true;
      spawnSync('ip', ['netns', 'delete', name], { env: ENV });
    },
  };
  const up = ns.run('ip', ['link', 'set', 'lo', 'up']);
  if (up.status !== 0) {
    ns.remove();
    assert.fail(`cannot bring up lo in network namespace ${name}: ${up.stderr.trim()}`);
  }
  return ns;
}

export interface NsServer {
  readonly socket: string;
  readonly child: ChildProcess;
  /** The exit code once the process has exited (null while it runs, or when killed by a signal). */
  exitCode(): number | null;
  exited(): boolean;
  client(args: readonly string[]): RunResult;
  /** Waits for the process to exit (true) or the deadline to pass (false). */
  waitExit(timeoutMs: number): Promise<boolean>;
  /** Last resort: SIGKILL (used in cleanup only). */
  kill(): void;
}

/**
 * Starts portcullis' `fail2ban-server -f -x -c DIR -s DIR/f2b.sock -p DIR/f2b.pid` inside the
 * namespace (`ip netns exec` execs, so the child is the server itself and its exit code is the
 * server's); waits until it answers `ping` through portcullis' client.
 */
export async function startServerInNetns(ns: Netns, dir: string): Promise<NsServer> {
  const socket = path.join(dir, 'f2b.sock');
  const pid = path.join(dir, 'f2b.pid');
  const out = fs.openSync(path.join(dir, 'server.out'), 'a');
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, path.join(ROOT, 'bin', 'fail2ban-server'), '-f', '-x', '-c', dir, '-s', socket, '-p', pid], {
    stdio: ['ignore', out, out],
    env: ENV,
  });
  fs.closeSync(out);
  return serverReady(child, socket, dir, `portcullis' server did not start in ${ns.name}`);
}

/**
 * The handle of a server process spawned with its output in DIR/server.out, once it answers
 * `ping` (through portcullis' client) on `socket`; within 30 s, or it is killed and `failure`
 * thrown with its output.
 */
export async function serverReady(child: ChildProcess, socket: string, dir: string, failure: string): Promise<NsServer> {
  let done = false;
  let code: number | null = null;
  child.on('exit', (c) => {
    done = true;
    code = c;
  });
  const server: NsServer = {
    socket,
    child,
    exitCode: () => code,
    exited: () => done,
    client: (args) => runClient(socket, args, 'ours'),
    async waitExit(timeoutMs) {
      const until = Date.now() + timeoutMs;
      while (!done && Date.now() < until) await sleep(20);
      return done;
    },
    kill() {
      if (!done) child.kill('SIGKILL');
    },
  };
  const deadline = Date.now() + 30000;
  for (;;) {
    if (server.client(['ping']).status === 0) return server;
    if (done || Date.now() > deadline) {
      server.kill();
      const log = fs.readFileSync(path.join(dir, 'server.out'), 'utf8');
      throw new Error(`${failure} (exited: ${String(done)}, code ${String(code)}):\n${log}`);
    }
    await sleep(100);
  }
}
