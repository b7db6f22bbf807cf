/**
 * Python's `glob.glob(pattern)` (non-recursive: `**` acts as `*`), over the FileSystem port.
 * Results come in directory order, unsorted, as Python returns them; names starting with `.`
 * are matched only by a pattern starting with `.`.
 */
import type { FileSystem } from '../../system/fs.js';
import { pyJoin, pySplit } from './pypath.js';

const MAGIC = /[*?[]/;

/** `fnmatch.translate`: a shell pattern as an anchored RegExp. */
export function fnmatchRegExp(pattern: string): RegExp {
  let re = '';
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i++] ?? '';
    if (c === '*') {
      re += '.*';
      while (pattern[i] === '*') i++;
    } else if (c === '?') re += '.';
    else if (c === '[') {
      let j = i;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) re += '\\[';
      else {
        let stuff = pattern.slice(i, j).replace(/\\/g, '\\\\');
        i = j + 1;
        if (stuff.startsWith('!')) stuff = '^' + stuff.slice(1);
        else if (stuff.startsWith('^')) stuff = '\\' + stuff;
        re += `[${stuff.replace(/[\]]/g, '\\]')}]`;
      }
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^(?:${re})$`, 's');
}

function listNames(fs: FileSystem, dir: string, dirsOnly: boolean): string[] {
  const names = fs.readDir(dir === '' ? '.' : dir);
  return dirsOnly ? names.filter((n) => fs.stat(pyJoin(dir, n))?.isDirectory === true) : names;
}

function glob1(fs: FileSystem, dir: string, pattern: string, dirsOnly: boolean): string[] {
  const re = fnmatchRegExp(pattern);
  const hiddenOk = pattern.startsWith('.');
  return listNames(fs, dir, dirsOnly).filter((n) => (hiddenOk || !n.startsWith('.')) && re.test(n));
}

function glob0(fs: FileSystem, dir: string, base: string): string[] {
  if (base !== '') return fs.lexists(pyJoin(dir, base)) ? [base] : [];
  return fs.stat(dir)?.isDirectory ? [base] : [];
}

function iglob(fs: FileSystem, pattern: string, dirsOnly: boolean): string[] {
  const [dir, base] = pySplit(pattern);
  if (!MAGIC.test(pattern)) {
    if (base !== '') return fs.lexists(pattern) ? [pattern] : [];
    return fs.stat(dir)?.isDirectory ? [pattern] : [];
  }
  if (dir === '') return glob1(fs, '', base, dirsOnly);
  const dirs = dir !== pattern && MAGIC.test(dir) ? iglob(fs, dir, true) : [dir];
  const out: string[] = [];
  for (const d of dirs) {
    const names = MAGIC.test(base) ? glob1(fs, d, base, dirsOnly) : glob0(fs, d, base);
    for (const n of names) out.push(pyJoin(d, n));
  }
  return out;
}

/** `glob.glob(pattern)`. */
export function pyGlob(fs: FileSystem, pattern: string): string[] {
  return iglob(fs, pattern, false);
}
