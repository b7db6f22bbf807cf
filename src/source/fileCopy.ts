/**
 * copytruncate recovery: the unread tail of a truncated file is in the copy next to it (same
 * first line, at least as long as what was read). Finds that copy and opens it as a cursor that
 * continues where the truncated one stopped.
 */
import { closeSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fstatBig, openCursor, type Cursor } from './fileCursor.js';
import { firstLineHash } from './fileProbe.js';

/**
 * The newest copy of `path` (a sibling named `<base>…`, not compressed) whose first line hashes to
 * `hash`, as a cursor at `cur`'s position and held bytes, to be closed once drained (`final`);
 * undefined if there is none, or nothing had been read.
 */
export function copyOfTruncated(path: string, cur: Cursor, hash: string): Cursor | undefined {
  if (hash === '' || cur.readPos === 0) return undefined;
  const dir = dirname(path);
  const base = basename(path);
  let best: { cursor: Cursor; mtime: bigint } | undefined;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    if (name === base || !name.startsWith(base) || /\.(gz|bz2|xz|zst|lz4|Z)$/.test(name)) continue;
    const candidate = tryCopy(join(dir, name), cur, hash);
    if (candidate && (!best || candidate.mtime > best.mtime)) {
      if (best) closeSync(best.cursor.fd);
      best = candidate;
    } else if (candidate) closeSync(candidate.cursor.fd);
  }
  if (!best) return undefined;
  const copy = best.cursor;
  copy.pos = cur.pos;
  copy.readPos = cur.readPos;
  copy.carry = cur.carry;
  copy.carryLen = cur.carryLen;
  copy.long = cur.long;
  copy.final = true;
  return copy;
}

function tryCopy(path: string, cur: Cursor, hash: string): { cursor: Cursor; mtime: bigint } | undefined {
  let c: Cursor;
  try {
    c = openCursor(path);
  } catch {
    return undefined;
  }
  const st = fstatBig(c.fd);
  if (st.isFile() && st.ino !== cur.ino && Number(st.size) >= cur.readPos && firstLineHash(c.fd) === hash) {
    return { cursor: c, mtime: st.mtimeNs };
  }
  closeSync(c.fd);
  return undefined;
}
