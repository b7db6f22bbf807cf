/**
 * Running servers for side-by-side tests: Debian's real `fail2ban-server` and portcullis' own,
 * each in the foreground as a child process with its own configuration tree, socket, log and
 * database, stopped (and killed if need be) by the test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, type RunResult } from './oracle.js';

export type Side = 'real' | 'ours';

export interface RunningServer {
  readonly side: Side;
  readonly dir: string;
  readonly socket: string;
  readonly child: ChildProcess;
  /** `fail2ban-client -s SOCKET ARGS` with the given client (Debian's or ours). */
  client(args: readonly string[], which?: Side): RunResult;
  /** Stops with the client's `stop`, then waits for the process (killing it after the deadline). */
  stop(): Promise<void>;
}

const ENV = { ...process.env, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1' };

export function clientCommand(which: Side): [string, string[]] {
  return which === 'real' ? ['/usr/bin/fail2ban-client', []] : [process.execPath, [path.join(ROOT, 'bin', 'fail2ban-client')]];
}

export function runClient(socket: string, args: readonly string[], which: Side): RunResult {
  const [cmd, pre] = clientCommand(which);
  const r = spawnSync(cmd, [...pre, '-s', socket, ...args], { encoding: 'utf8', env: ENV, timeout: 60000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** Starts a server in the foreground on the configuration in `dir` (socket `dir/f2b.sock`). */
export async function startServer(side: Side, dir: string, extra: readonly string[] = []): Promise<RunningServer> {
  const socket = path.join(dir, 'f2b.sock');
  const pid = path.join(dir, 'f2b.pid');
  const args = ['-f', '-x', '-c', dir, '-s', socket, '-p', pid, ...extra];
  const [cmd, pre] = side === 'real' ? ['/usr/bin/fail2ban-server', [] as string[]] : [process.execPath, [path.join(ROOT, 'bin', 'fail2ban-server')]];
  const out = fs.openSync(path.join(dir, 'server.out'), 'a');
  const child = spawn(cmd, [...pre, ...args], { stdio: ['ignore', out, out], env: ENV });
  fs.closeSync(out);
  let exited = false;
  child.on('exit', () => (exited = true));
  const deadline = Date.now() + 30000;
  for (;;) {
    const r = runClient(socket, ['ping'], 'real');
    if (r.status === 0) break;
    if (exited || Date.now() > deadline) {
      const log = fs.existsSync(path.join(dir, 'server.out')) ? fs.readFileSync(path.join(dir, 'server.out'), 'utf8') : '';
      throw new Error(`${side} server did not start (exited: ${exited}):\n${log}`);
    }
    await sleep(100);
  }
  return {
    side,
    dir,
    socket,
    child,
    client: (a, which = 'real') => runClient(socket, a, which),
    async stop() {
      if (!exited) runClient(socket, ['stop'], 'real');
      const until = Date.now() + 20000;
      while (!exited && Date.now() < until) await sleep(50);
      if (!exited) child.kill('SIGKILL');
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true or the deadline passes (then fails with `what`). */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 30000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** `YYYY-mm-dd HH:MM:SS` in local time (what the test filters' dates look like). */
export function logTime(ms = Date.now()): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Servers started by a test are stopped (or killed) at its end, and the directory removed. */
export function cleanup(t: { after(fn: () => Promise<void> | void): void }, dir: string, servers: RunningServer[]): void {
  t.after(async () => {
    for (const s of servers) await s.stop().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  });
}
