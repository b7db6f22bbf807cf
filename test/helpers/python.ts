/**
 * Running the system Python (the one Debian's fail2ban is installed for) as an oracle: a batch of
 * inputs goes in as JSON, a script's JSON answer comes back.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const F2B_SITE = '/usr/lib/python3/dist-packages';
const PY_PRELUDE = `import sys, json\nsys.path.insert(0, ${JSON.stringify(F2B_SITE)})\n`;

/** The first python3 that can import fail2ban (the system one; pyenv shims usually cannot). */
function findPython(): string | undefined {
  for (const exe of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(exe, ['-c', PY_PRELUDE + 'import fail2ban'], { encoding: 'utf8' });
    if (r.status === 0) return exe;
  }
  return undefined;
}

export const PYTHON = findPython();
export const NO_PYTHON = 'python3 with fail2ban is not available';
export const F2B_CLIENT = ['/usr/bin/fail2ban-client'].find((p) => existsSync(p));

/** JSON with every non-ASCII UTF-16 unit escaped, so lone surrogates and the locale do not matter. */
export function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

/** Runs `script` (after a prelude that puts the input in DATA) with `input` as JSON; the script prints JSON. */
export function runPython<T>(script: string, input: unknown): T {
  if (PYTHON === undefined) throw new Error(NO_PYTHON);
  const r = spawnSync(PYTHON, ['-c', PY_PRELUDE + 'DATA = json.loads(sys.stdin.buffer.read().decode("ascii"))\n' + script], {
    input: asciiJson(input),
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
