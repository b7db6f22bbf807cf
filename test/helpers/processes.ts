/**
 * Daemons that the scenario tests start inside a private network namespace (`ip netns exec`):
 * output appended to a file, and a stop that ends the whole tree — SIGTERM, then SIGKILL after a
 * deadline, then the children seen before the stop (a session cut by a ban can outlive its
 * master). One copy for sshd, rsyslogd, nginx, postfix and dovecot.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { Netns } from './netns.js';
import { sleep } from './servers.js';

/** A process started by these helpers: SIGTERM, then SIGKILL after a deadline (idempotent). */
export interface Daemon {
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** The pids below `pid` (from /proc; empty once it has exited). */
export function descendants(pid: number | undefined): number[] {
  if (pid === undefined) return [];
  let kids: number[] = [];
  try {
    kids = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

/** The command lines of the processes below `pid`. */
export function descendantCommands(pid: number | undefined): string[] {
  return descendants(pid).map((k) => {
    try {
      return fs.readFileSync(`/proc/${k}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      return ''; // gone
    }
  });
}

export interface StopOptions {
  /** First wait (up to this long) for the children to finish by themselves (sshd's sessions). */
  readonly childrenGraceMs?: number;
  /** How long SIGTERM has before SIGKILL (default 5 s). */
  readonly termMs?: number;
}

/** Ends `child` and what runs below it (see the file comment); `exited` tells whether it has. */
export async function stopTree(child: ChildProcess, exited: () => boolean, opts: StopOptions = {}): Promise<void> {
  for (let i = 0; i < (opts.childrenGraceMs ?? 0) / 50 && !exited() && descendants(child.pid).length > 0; i++) await sleep(50);
  const kids = exited() ? [] : descendants(child.pid);
  if (!exited()) child.kill('SIGTERM');
  for (let i = 0; i < (opts.termMs ?? 5000) / 50 && !exited(); i++) await sleep(50);
  if (!exited()) child.kill('SIGKILL');
  for (let i = 0; i < 100 && !exited(); i++) await sleep(50);
  for (const k of kids) {
    try {
      process.kill(k, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** `ip netns exec NS argv…`, its output appended to `outFile`. */
export function spawnDaemon(ns: Netns, argv: readonly string[], outFile: string, opts: StopOptions = {}): { proc: Daemon; exited: () => boolean } {
  const out = fs.openSync(outFile, 'a');
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns.name, ...argv], { stdio: ['ignore', out, out], env: { ...process.env, LANG: 'C.UTF-8' } });
  fs.closeSync(out);
  let done = false;
  child.on('exit', () => (done = true));
  child.on('error', () => (done = true));
  const exited = (): boolean => done;
  return { proc: { pid: child.pid, stop: () => stopTree(child, exited, opts) }, exited };
}
