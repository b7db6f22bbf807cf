/** A minimal configuration tree for dialect tests; `@DIR@` in any file becomes the tree's path. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { makeTree } from '../helpers/oracle.js';

export const BASE: Readonly<Record<string, string>> = {
  'fail2ban.conf': '[Definition]\nloglevel = INFO\nlogtarget = STDERR\nsocket = @DIR@/f2b.sock\npidfile = @DIR@/f2b.pid\ndbfile = :memory:\n',
  'filter.d/f1.conf': '[Definition]\nfailregex = ^fail from <HOST>$\n',
  'action.d/a1.conf': '[Definition]\nactionban = echo ban <ip>\nactionunban = echo unban <ip>\n',
  'jail.conf': '[DEFAULT]\nbackend = polling\nlogpath = @DIR@/t.log\n\n[t1]\nenabled = true\nfilter = f1\naction = a1\n',
  't.log': '',
};

/** Writes BASE overridden by `files` (a null value removes a BASE file). */
export function tree(files: Readonly<Record<string, string | Uint8Array | null>>): string {
  const merged: Record<string, string | Uint8Array> = {};
  for (const [k, v] of Object.entries({ ...BASE, ...files })) if (v !== null) merged[k] = v;
  const dir = makeTree({});
  for (const [rel, content] of Object.entries(merged)) {
    const p = path.join(dir, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, typeof content === 'string' ? content.replaceAll('@DIR@', dir) : content);
  }
  return dir;
}
