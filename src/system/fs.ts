/** The file system as the configuration reader and log sources see it (a port). */
export interface FileStat {
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  /** Size in bytes, where the file system knows it. */
  readonly size?: number;
}

export interface FileSystem {
  /** The bytes of a file, or undefined if it cannot be read. */
  readFile(path: string): Uint8Array | undefined;
  /** What `stat` says (following links), or undefined if the path does not exist. */
  stat(path: string): FileStat | undefined;
  /** True if the path exists as a link, even a dangling one (`os.path.lexists`). */
  lexists(path: string): boolean;
  /** Entry names of a directory in the order the OS gives them; empty if unreadable. */
  readDir(path: string): string[];
  /** The bytes of a file in chunks of at most `size` bytes (big logs); undefined if it cannot be opened. */
  readChunks?(path: string, size: number): Iterable<Uint8Array> | undefined;
}
