/** Log sources: the files of a jail followed as lines (inotify or polling), rotation-safe. */
export {
  DEFAULT_MAX_LINE_BYTES,
  DEFAULT_READ_BYTES,
  FileContainer,
  LogEncodingError,
  LogFileError,
  firstLineHash,
  type ContainerCounters,
  type FileContainerOptions,
  type ReadResult,
} from './fileContainer.js';
export {
  FileSource,
  LogPatternError,
  type FileBackend,
  type FileSourceOptions,
  type LinesCallback,
  type PositionStore,
} from './fileSource.js';
