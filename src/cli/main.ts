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
import { runFail2banClient } from './fail2banClient.js';
import { runPortcullis, type PortcullisEnv } from './portcullis.js';
import { processZone, runFail2banRegex } from './fail2banRegex.js';
import { runFail2banServer } from './notYet.js';
import type { CliIo } from './io.js';

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

/** What `portcullis` needs from the host; `regex` also gets the zone, DNS, stderr's terminal and the environment. */
function portcullisEnv(io: CliIo, args: readonly string[]): PortcullisEnv {
  const base = { builtinConfigDir: builtinConfigDir(io) };
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
  let code: number;
  try {
    switch (program) {
      case 'portcullis':
        code = runPortcullis(args, io, portcullisEnv(io, args));
        break;
      case 'fail2ban-client':
        code = runFail2banClient(invokedAs, args, io);
        break;
      case 'fail2ban-server':
        code = runFail2banServer(invokedAs, args, io);
        break;
      case 'fail2ban-regex':
        code = runFail2banRegex(scriptAsInvoked(), args, io, process.env);
        break;
    }
  } catch (e) {
    io.stderr(`${invokedAs}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    code = program === 'portcullis' ? 70 : 255;
  }
  process.exitCode = code;
}
