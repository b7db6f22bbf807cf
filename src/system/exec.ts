/**
 * Running action commands: `/bin/sh -c SCRIPT ARG…` (values from log lines arrive as positional
 * arguments, see action/dynamicTags.ts) in a process group of its own, with a timeout after which
 * the whole group gets SIGTERM and, 200 ms later, SIGKILL — as fail2ban does. Output is captured
 * up to a limit so that a chatty command cannot grow the daemon's memory.
 */
import { spawn } from 'node:child_process';

export interface ShellInvocation {
  readonly script: string;
  readonly args: readonly string[];
}

export interface CommandResult {
  /** Exit status; null when killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
  /** The shell could not be started at all (ENOENT, EAGAIN …). */
  readonly spawnError?: string;
}

/** The port the daemon runs commands through (a fake in unit tests). */
export interface CommandRunner {
  run(cmd: ShellInvocation, timeoutMs: number): Promise<CommandResult>;
}

const OUTPUT_LIMIT = 64 * 1024;
const KILL_GRACE_MS = 200;

export class ShellRunner implements CommandRunner {
  constructor(private readonly shell = '/bin/sh') {}

  run(cmd: ShellInvocation, timeoutMs: number): Promise<CommandResult> {
    return new Promise((resolve) => {
      const child = spawn(this.shell, ['-c', cmd.script, ...cmd.args], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let outLen = 0;
      let errLen = 0;
      let timedOut = false;
      let killTimer: NodeJS.Timeout | undefined;
      child.stdout.on('data', (b: Buffer) => {
        if (outLen < OUTPUT_LIMIT) out.push(b.subarray(0, OUTPUT_LIMIT - outLen));
        outLen += b.length;
      });
      child.stderr.on('data', (b: Buffer) => {
        if (errLen < OUTPUT_LIMIT) err.push(b.subarray(0, OUTPUT_LIMIT - errLen));
        errLen += b.length;
      });
      const killGroup = (sig: NodeJS.Signals): void => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, sig);
        } catch {
          // the group is already gone
        }
      };
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      }, timeoutMs);
      let spawnError: string | undefined;
      child.on('error', (e) => {
        spawnError = e.message;
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        resolve({
          code,
          signal,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
          timedOut,
          ...(spawnError !== undefined ? { spawnError } : {}),
        });
      });
    });
  }
}
