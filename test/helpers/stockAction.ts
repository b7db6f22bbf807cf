/**
 * Debian's stock action files as installed on this machine, copied into a test's configuration
 * tree when the test runs (never into the repository).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const STOCK = '/etc/fail2ban/action.d';

/**
 * Copies a stock action file and, recursively, what its `[INCLUDES]` before/after name (optional
 * `.local` files only when they exist), so the action definition is Debian's as installed now.
 */
export function copyStockAction(name: string, destDir: string, seen = new Set<string>()): void {
  if (seen.has(name)) return;
  seen.add(name);
  const src = path.join(STOCK, name);
  if (!fs.existsSync(src)) {
    if (name.endsWith('.local')) return;
    assert.fail(`${src} is missing: install Debian's fail2ban package (apt-get install fail2ban) to run the nftables test`);
  }
  const text = fs.readFileSync(src, 'utf8');
  fs.writeFileSync(path.join(destDir, name), text);
  let inIncludes = false;
  for (const line of text.split('\n')) {
    const section = /^\[([^\]]+)\]/.exec(line);
    if (section) {
      inIncludes = section[1] === 'INCLUDES';
      continue;
    }
    const inc = inIncludes ? /^(before|after)\s*=\s*(.*)$/.exec(line) : null;
    if (inc) for (const f of (inc[2] ?? '').trim().split(/\s+/).filter(Boolean)) copyStockAction(f, destDir, seen);
  }
}

