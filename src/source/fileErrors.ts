/** The errors of opening a followed log file: Python's `OSError` text, and an unknown `logencoding`. */
import { constants as osConstants } from 'node:os';
import { PortcullisError } from '../shared/errors.js';
import { pyReprString } from '../shared/pyvalue.js';

const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  EMFILE: 'Too many open files',
};

/** A log file that cannot be opened; `message` is Python's `OSError` text (`[Errno 2] No such file or directory: '/x'`). */
export class LogFileError extends PortcullisError {
  readonly path: string;
  readonly errno: number;

  constructor(path: string, code: string, options?: { cause?: unknown }) {
    const errno = (osConstants.errno as Record<string, number | undefined>)[code] ?? 0;
    super(code, `[Errno ${errno}] ${STRERROR[code] ?? code}: ${pyReprString(path)}`, options);
    this.path = path;
    this.errno = errno;
  }
}

/** A log encoding fail2ban would reject (`codecs.lookup` raising LookupError). */
export class LogEncodingError extends PortcullisError {
  constructor(encoding: string) {
    super('LOOKUP_ERROR', `unknown encoding: ${encoding}`);
  }
}

export function asLogFileError(path: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? new LogFileError(path, code, { cause: err }) : (err as Error);
}
