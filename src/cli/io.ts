/** What a CLI run may touch, passed in by the composition root. */
import type { Clock } from '../system/clock.js';
import type { FileSystem } from '../system/fs.js';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly fs: FileSystem;
  readonly clock: Clock;
  readonly pid: number;
  readonly isTty: boolean;
}
