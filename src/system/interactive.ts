/**
 * Long-lived child processes as a port: a command with arguments started without a shell, text
 * written to its standard input, its output and exit delivered through callbacks. The native
 * firewall backends keep one `nft -i` (or similar) running this way, so a batch costs a write
 * instead of a process start; short queries use {@link runToEnd} on the same port.
 */
import { spawn } from 'node:child_process';

export interface ProcessHandlers {
  /** A chunk of standard output (UTF-8; a chunk may end inside a line). */
  onStdout(text: string): void;
  /** A chunk of standard error (UTF-8; a chunk may end inside a line). */
  onStderr(text: string): void;
  /**
   * Called exactly once, after the last output: the exit code (null when killed by a signal), the
   * signal, or `error` when the process could not be started at all (ENOENT, EACCES …).
   */
  onExit(code: number | null, signal: string | null, error?: string): void;
}

export interface InteractiveProcess {
  /** Writes to standard input (buffered while the pipe is full; dropped once the process is gone). */
  write(text: string): void;
  /** Closes standard input. */
  end(): void;
  /** Sends a signal (SIGTERM by default); no error when the process is already gone. */
  kill(signal?: NodeJS.Signals): void;
  readonly pid: number | undefined;
}

/** The port: starts `cmd args…` with piped standard streams. */
export interface ProcessSpawner {
  spawn(cmd: string, args: readonly string[], handlers: ProcessHandlers): InteractiveProcess;
}

/** Node's `child_process.spawn`, no shell, own standard streams. */
export class NodeProcessSpawner implements ProcessSpawner {
  spawn(cmd: string, args: readonly string[], handlers: ProcessHandlers): InteractiveProcess {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } });
    let exited = false;
    const finish = (code: number | null, signal: string | null, error?: string): void => {
      if (exited) return;
      exited = true;
      if (error === undefined) handlers.onExit(code, signal);
      else handlers.onExit(code, signal, error);
    };
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (t: string) => handlers.onStdout(t));
    child.stderr.on('data', (t: string) => handlers.onStderr(t));
    // EPIPE when the process died with input pending: the exit callback reports the death.
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => finish(null, null, e.message));
    child.on('close', (code, signal) => finish(code, signal));
    return {
      pid: child.pid,
      write(text) {
        if (!exited && child.stdin.writable) child.stdin.write(text);
      },
      end() {
        if (child.stdin.writable) child.stdin.end();
      },
      kill(signal = 'SIGTERM') {
        if (!exited) child.kill(signal);
      },
    };
  }
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Set when the command could not be started. */
  readonly error?: string;
}

/** Runs a short command to its end through the port, with `input` on its standard input. */
export function runToEnd(spawner: ProcessSpawner, cmd: string, args: readonly string[], input = ''): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const proc = spawner.spawn(cmd, args, {
      onStdout: (t) => (stdout += t),
      onStderr: (t) => (stderr += t),
      onExit: (code, signal, error) => resolve({ code, signal, stdout, stderr, ...(error === undefined ? {} : { error }) }),
    });
    if (input !== '') proc.write(input);
    proc.end();
  });
}
