/** A CliIo that records output, over any FileSystem, for in-process CLI tests. */
import type { CliIo } from '../../src/cli/io.js';
import type { FileSystem } from '../../src/system/fs.js';
import { NodeFileSystem } from '../../src/system/nodeFs.js';

export interface RecordingIo extends CliIo {
  out: string;
  err: string;
}

export function recordingIo(fs: FileSystem = new NodeFileSystem()): RecordingIo {
  const io: RecordingIo = {
    out: '',
    err: '',
    stdout: (t) => void (io.out += t),
    stderr: (t) => void (io.err += t),
    fs,
    clock: { nowMs: () => Date.UTC(2026, 10, 22, 3, 0, 0) },
    pid: 4242,
    isTty: false,
  };
  return io;
}

/** The real file system, but with some paths hidden (as if they did not exist). */
export function hidingFs(hidden: readonly string[]): FileSystem {
  const real = new NodeFileSystem();
  const isHidden = (p: string): boolean => hidden.some((h) => p === h || p.startsWith(`${h}/`));
  return {
    readFile: (p) => (isHidden(p) ? undefined : real.readFile(p)),
    stat: (p) => (isHidden(p) ? undefined : real.stat(p)),
    lexists: (p) => !isHidden(p) && real.lexists(p),
    readDir: (p) => (isHidden(p) ? [] : real.readDir(p)),
  };
}
