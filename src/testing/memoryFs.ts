import { posix as path } from 'node:path';
import type { FileStat, FileSystem } from '../system/fs.js';

/** An in-memory file system for unit tests: files by absolute path, directories implied. */
export class MemoryFileSystem implements FileSystem {
  private readonly files = new Map<string, Uint8Array>();

  constructor(files: Record<string, string | Uint8Array> = {}) {
    for (const [p, content] of Object.entries(files)) this.write(p, content);
  }

  write(p: string, content: string | Uint8Array): void {
    this.files.set(path.normalize(p), typeof content === 'string' ? new TextEncoder().encode(content) : content);
  }

  readFile(p: string): Uint8Array | undefined {
    return this.files.get(path.normalize(p));
  }

  private isDir(p: string): boolean {
    const prefix = path.normalize(p).replace(/\/?$/, '/');
    for (const f of this.files.keys()) if (f.startsWith(prefix)) return true;
    return false;
  }

  stat(p: string): FileStat | undefined {
    const file = this.files.get(path.normalize(p));
    if (file) return { isFile: true, isDirectory: false, size: file.length };
    if (this.isDir(p)) return { isFile: false, isDirectory: true };
    return undefined;
  }

  lexists(p: string): boolean {
    return this.stat(p) !== undefined;
  }

  readDir(p: string): string[] {
    const prefix = path.normalize(p).replace(/\/?$/, '/');
    const names = new Set<string>();
    for (const f of this.files.keys()) {
      if (f.startsWith(prefix)) names.add(f.slice(prefix.length).split('/')[0] ?? '');
    }
    names.delete('');
    return [...names];
  }
}
