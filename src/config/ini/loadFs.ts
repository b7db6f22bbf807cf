/**
 * The file system as one configuration load sees it: every stat, listing and read is done once
 * and remembered for the rest of the load (fail2ban asks again for each filter, for the same
 * `common.local`, `.d` folders and so on; the answers cannot usefully differ within one load).
 */
import type { FileStat, FileSystem } from '../../system/fs.js';

export class LoadFileSystem implements FileSystem {
  private readonly stats = new Map<string, FileStat | undefined>();
  private readonly links = new Map<string, boolean>();
  private readonly dirs = new Map<string, string[]>();

  constructor(private readonly fs: FileSystem) {}

  readFile(path: string): Uint8Array | undefined {
    return this.fs.readFile(path);
  }

  stat(path: string): FileStat | undefined {
    if (!this.stats.has(path)) this.stats.set(path, this.fs.stat(path));
    return this.stats.get(path);
  }

  lexists(path: string): boolean {
    let v = this.links.get(path);
    if (v === undefined) this.links.set(path, (v = this.fs.lexists(path)));
    return v;
  }

  readDir(path: string): string[] {
    let v = this.dirs.get(path);
    if (v === undefined) this.dirs.set(path, (v = this.fs.readDir(path)));
    return v;
  }
}
