/** Python's `os.path` string functions (posix), pure. */

export function pyIsAbs(p: string): boolean {
  return p.startsWith('/');
}

/** `os.path.join(a, b)` for two parts. */
export function pyJoin(a: string, b: string): string {
  if (pyIsAbs(b)) return b;
  if (a === '' || a.endsWith('/')) return a + b;
  return `${a}/${b}`;
}

/** `os.path.split`: (head, tail), head without trailing slashes unless it is all slashes. */
export function pySplit(p: string): [string, string] {
  const i = p.lastIndexOf('/') + 1;
  let head = p.slice(0, i);
  const tail = p.slice(i);
  if (head !== '' && head !== '/'.repeat(head.length)) head = head.replace(/\/+$/, '');
  return [head, tail];
}

export function pyDirname(p: string): string {
  return pySplit(p)[0];
}

/** `os.path.splitext(p)[0]`: the path without its extension (leading dots of the name are not one). */
export function pyStripExt(p: string): string {
  const slash = p.lastIndexOf('/');
  const dot = p.lastIndexOf('.');
  if (dot <= slash) return p;
  let i = slash + 1;
  while (i < dot && p[i] === '.') i++;
  return i < dot ? p.slice(0, dot) : p;
}
