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
      const st = fs.statSync(path);
      return { isFile: st.isFile(), isDirectory: st.isDirectory() };
    } catch {
      return undefined;
    }
  }

  lexists(path: string): boolean {
    try {
      fs.lstatSync(path);
      return true;
    } catch {
      return false;
    }
  }

  readDir(path: string): string[] {
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
