import * as fs from 'node:fs';
import type { FileStat, FileSystem } from './fs.js';

/** The real file system. */
export class NodeFileSystem implements FileSystem {
  readFile(path: string): Uint8Array | undefined {
    try {
      return fs.readFileSync(path);
    } catch {
      return undefined;
    }
  }

  stat(path: string): FileStat | undefined {
    try {
      // throwIfNoEntry: a missing path is common here (.local companions, .d folders) and
      // building an exception for each one is measurably slow.
      const st = fs.statSync(path, { throwIfNoEntry: false });
      return st && { isFile: st.isFile(), isDirectory: st.isDirectory(), size: st.size };
    } catch {
      return undefined;
    }
  }

  readChunks(path: string, size: number): Iterable<Uint8Array> | undefined {
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch {
      return undefined;
    }
    return (function* chunks(): Generator<Uint8Array> {
      const buf = Buffer.allocUnsafe(size);
      try {
        for (;;) {
          const n = fs.readSync(fd, buf, 0, size, null);
          if (n <= 0) return;
          yield buf.subarray(0, n);
        }
      } finally {
        fs.closeSync(fd);
      }
    })();
  }

  lexists(path: string): boolean {
    try {
      return fs.lstatSync(path, { throwIfNoEntry: false }) !== undefined;
    } catch {
      return false;
    }
  }

  readDir(path: string): string[] {
    if (!this.stat(path)?.isDirectory) return [];
    try {
      // opendir yields entries in the kernel's directory order, as Python's scandir does.
      const dir = fs.opendirSync(path);
      const names: string[] = [];
      try {
        for (let d = dir.readSync(); d !== null; d = dir.readSync()) names.push(d.name);
      } finally {
        dir.closeSync();
      }
      return names;
    } catch {
      return [];
    }
  }
}
