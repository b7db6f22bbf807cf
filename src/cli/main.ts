/**
 * Composition root of the command-line programs: builds the real adapters, runs the program the
 * launcher names, writes its output and sets the exit code. Nothing else touches `process`.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { NodeFileSystem } from '../system/nodeFs.js';
import { SystemClock } from '../system/clock.js';
import { GetentResolver } from '../system/resolver.js';
import { createDemoLab, type DemoLab } from '../system/demoLab.js';
import { runFail2banClient } from './fail2banClient.js';
import { runPortcullis, type PortcullisEnv } from './portcullis.js';
import { processZone, runFail2banRegex } from './fail2banRegex.js';
import { runFail2banServerCli, type ServerCliEnv } from './fail2banServer.js';
import { runServer } from '../daemon/run.js';
import { ControlClient, ControlSocketError, sendCommand, type ControlSocketErrorKind } from '../control/client.js';
import { ClientConnectionError, type ClientEnv, type ClientTransport, type ConnectionFailure } from './clientFlow.js';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { CliIo } from './io.js';
import type { PyValue } from '../shared/pyvalue.js';

export type ProgramName = 'portcullis' | 'fail2ban-client' | 'fail2ban-server' | 'fail2ban-regex';

/** Writes through Node's streams (which retry on EAGAIN); a closed pipe (`| head`) is not our error. */
function writer(stream: NodeJS.WriteStream): (text: string) => void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
  return (text) => void stream.write(text);
}

function realIo(): CliIo {
  return {
    stdout: writer(process.stdout),
    stderr: writer(process.stderr),
    fs: new NodeFileSystem(),
    clock: new SystemClock(),
    pid: process.pid,
    isTty: process.stdout.isTTY,
  };
}

/**
 * Short runs that only read the configuration finish before TurboFan's optimised code pays for
 * its compilation: measured on the stock tree with every jail, `--no-opt` halves the CPU time of
 * a cold resolve (bench/RESULTS.md). Long runs (the daemon, fail2ban-regex on big logs) keep it.
 */
function isShortRun(program: ProgramName, args: readonly string[]): boolean {
  return program === 'fail2ban-client' || (program === 'portcullis' && args[0] === 'config');
}

/** `config/` of the installation: found upwards from this file (dist/cli.mjs or dist/src/cli/main.js). */
function builtinConfigDir(io: CliIo): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!io.fs.stat(path.join(dir, 'package.json'))?.isFile) {
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'config');
    dir = up;
  }
  return path.join(dir, 'config');
}

/**
 * The launcher's path as it was invoked, which Python shows as `sys.argv[0]` (fail2ban-regex puts
 * it in its usage line). Node makes `process.argv[1]` absolute; bash's `$_` still holds the path
 * as typed (`./fail2ban-regex`), used when it names the same file.
 */
function scriptAsInvoked(): string {
  const script = process.argv[1] ?? 'fail2ban-regex';
  const typed = process.env._;
  return typed !== undefined && typed !== '' && path.resolve(typed) === script ? typed : script;
}

/**
 * What `portcullis` needs from the host; `regex` also gets the zone, DNS, stderr's terminal and the
 * environment; the server commands the socket transport and the server (whose detached copy must
 * re-enter `portcullis server`).
 */
function portcullisEnv(io: CliIo, args: readonly string[]): PortcullisEnv & Required<Pick<PortcullisEnv, 'daemon'>> {
  const selfArgv = [process.execPath, process.argv[1] ?? 'portcullis', 'server'];
  const configDir = builtinConfigDir(io);
  const demo = (): DemoLab => createDemoLab({ selfArgv: selfArgv.slice(0, 2), builtinConfigDir: configDir });
  const base = { builtinConfigDir: configDir, daemon: { client: clientEnv(io), server: { ...serverEnv(io), selfArgv } }, demo };
  if (args[0] !== 'regex') return base;
  return {
    ...base,
    zone: processZone(),
    resolver: new GetentResolver(() => io.clock.nowMs() / 1000),
    stderrIsTty: process.stderr.isTTY === true,
    envVars: process.env,
  };
}

/** Runs one program with the process' arguments and exits with its code. */
export function main(program: ProgramName, invokedAs: string): void {
  const io = realIo();
  const args = process.argv.slice(2);
  if (isShortRun(program, args)) setFlagsFromString('--no-opt');
  let code: number | Promise<number>;
  try {
    switch (program) {
      case 'portcullis':
        code = runPortcullis(args, io, portcullisEnv(io, args));
        break;
      case 'fail2ban-client':
        code = runFail2banClient(invokedAs, args, io, clientEnv(io));
        break;
      case 'fail2ban-server':
        code = runFail2banServerCli(invokedAs, args, io, serverEnv(io));
        break;
      case 'fail2ban-regex':
        code = runFail2banRegex(scriptAsInvoked(), args, io, process.env);
        break;
    }
  } catch (e) {
    io.stderr(`${invokedAs}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    code = program === 'portcullis' ? 70 : 255;
  }
  void Promise.resolve(code).then(
    (c) => (process.exitCode = c),
    (e: unknown) => {
      io.stderr(`${invokedAs}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = program === 'portcullis' ? 70 : 255;
    },
  );
}

const CONNECTION_KIND: Readonly<Record<ControlSocketErrorKind, ConnectionFailure>> = {
  missing: 'missing',
  permission: 'denied',
  refused: 'refused',
  reset: 'reset',
  timeout: 'timeout',
  protocol: 'reset',
  other: 'reset',
};

/** The client's socket transport: one connection per batch of commands. */
const socketTransport: ClientTransport = {
  async send(socket, commands, timeoutMs) {
    let client: ControlClient | undefined;
    try {
      client = await ControlClient.connect(socket, timeoutMs !== undefined ? { timeoutMs } : {});
      const replies = [];
      for (const c of commands) replies.push(await client.send(c));
      return replies;
    } catch (e) {
      if (e instanceof ControlSocketError) throw new ClientConnectionError(CONNECTION_KIND[e.kind], e.pythonText);
      throw e;
    } finally {
      await client?.close().catch(() => undefined);
    }
  },
};

/** What `fail2ban-client` needs: the socket, a way to start the server, stdin for `-i`. */
function clientEnv(io: CliIo): ClientEnv {
  let lines: AsyncIterator<string> | undefined;
  return {
    transport: socketTransport,
    launcher: {
      // argv[0] names the program (fail2ban's client passes the whole command line).
      launch([, ...argv], foreground) {
        if (foreground) return runFail2banServerCli('fail2ban-server', argv, io, serverEnv(io)).then(() => undefined);
        const server = path.join(path.dirname(process.argv[1] ?? '.'), 'fail2ban-server');
        return new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [server, ...argv], { stdio: ['ignore', 'inherit', 'inherit'] });
          child.on('error', reject);
          child.on('exit', () => resolve());
        });
      },
    },
    input: {
      async readLine() {
        lines ??= createInterface({ input: process.stdin })[Symbol.asyncIterator]();
        const r = await lines.next();
        return r.done === true ? undefined : r.value;
      },
    },
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
  };
}

/** Whether a server answers `ping` on the socket. */
async function pingServer(socket: string, timeoutMs: number): Promise<boolean> {
  try {
    const r = await sendCommand(socket, ['ping'], { timeoutMs });
    return r.code === 0;
  } catch {
    return false;
  }
}

/** What `fail2ban-server` needs: the server itself, a detached copy of this program for `-b`, the client. */
function serverEnv(io: CliIo): ServerCliEnv {
  return {
    run: (opts, stream, _io, reloadStream) =>
      runServer(opts, stream, { zone: processZone(), stdout: io.stdout, stderr: io.stderr, reloadStream: () => reloadStream() as readonly PyValue[] | undefined }),
    client: (argv) => runFail2banClient('fail2ban-client', argv, io, clientEnv(io)),
    selfArgv: [process.execPath, process.argv[1] ?? 'fail2ban-server'],
    ping: pingServer,
  };
}
