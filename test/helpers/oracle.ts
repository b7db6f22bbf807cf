/**
 * Side-by-side helpers: run Debian's real fail2ban tools (the oracle) and portcullis' work-alikes
 * on the same input, and build small configuration trees in temp directories.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** The project root (tests run from dist/test/…). */
export const ROOT = process.env.PORTCULLIS_ROOT ?? fileURLToPath(new URL('../../../', import.meta.url));

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly status: number | null;
}

export function oracleAvailable(tool = 'fail2ban-client'): boolean {
  return fs.existsSync(`/usr/bin/${tool}`);
}

/**
 * True when the oracle can be used. Without it the test fails, unless PORTCULLIS_NO_ORACLE=1
 * says this machine has no Debian fail2ban on purpose (then it is skipped, visibly).
 */
export function needOracle(t: TestContext, tool = 'fail2ban-client'): boolean {
  if (oracleAvailable(tool)) return true;
  if (process.env.PORTCULLIS_NO_ORACLE === '1') {
    t.skip(`no /usr/bin/${tool} (PORTCULLIS_NO_ORACLE=1)`);
    return false;
  }
  assert.fail(`/usr/bin/${tool} is missing: install Debian's fail2ban package (apt-get install fail2ban) to run the side-by-side tests`);
}

const run = (cmd: string, args: readonly string[], cwd: string): RunResult => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LANG: 'C.UTF-8' } });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
};

/** The real tool from Debian's package. */
export function runReal(tool: string, args: readonly string[], cwd = os.tmpdir()): RunResult {
  return run(`/usr/bin/${tool}`, args, cwd);
}

/** portcullis' launcher of the same name. */
export function runOurs(tool: string, args: readonly string[], cwd = os.tmpdir()): RunResult {
  return run(process.execPath, [path.join(ROOT, 'bin', tool), ...args], cwd);
}

/** Log lines without their time and pid, for comparing stderr. */
export function stripLogPrefix(text: string): string {
  return text.replace(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (\S+)\s*\[\d+\]: /gm, '$1: ');
}

/** A fresh temp directory with the given files (relative paths; parents created). */
export function makeTree(files: Readonly<Record<string, string | Uint8Array>>, prefix = 'portcullis-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return dir;
}

export function removeTree(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}
